"""The explorer's JSON API, one router per resource; :func:`glassnet.server.app.create_app` includes them all.

- ``page`` — the page itself (``/``).
- ``state`` — the session's state and its changes: state, events (server-sent), reset, play, step, pause, rewind.
- ``data`` — datasets: the choices and limits, the built-ins' settings, uploading a data file.
- ``views`` — looking at the current network: one example (view, steps), examples, hidden units, the 2-D plane.
- ``model`` — changing or moving the weights: one weight, a what-if step, export and import of model files.
- ``check`` — checking a hand calculation of the current example (the worksheets' checker).
- ``training`` — the network over training and its gradient: the per-unit timeline, the gradient check per weight.

Each route reaches the app's ``_shared.Explorer`` (the session, the upload folder, the caches) through FastAPI's
dependency injection, never through globals. Not here: the guard (:mod:`glassnet.server.guard`), numerics
(:mod:`glassnet.server.bridge`) or training state (:mod:`glassnet.server.session`).
"""

from __future__ import annotations

from glassnet.server.routes import check, data, model, page, state, training, views

#: Every router, in the order the app includes them.
ROUTERS = [page.router, state.router, data.router, views.router, model.router, check.router,
           training.router]

__all__ = ["ROUTERS"]
