"""The glassnet explorer: a local web app to watch a network learn on real data, with the lecture's numbers.

``glassnet serve`` starts it. The pieces, each thin:

- :mod:`.bridge` — the only contact with the library (datasets, traces, optimizers); stateless.
- :mod:`.session` — the state of one explorer: data, Θ, history, snapshots, and the background training worker.
- :mod:`.app` — the app factory: the guard, the exception handlers, the page's static files and the routers.
- :mod:`.guard` — the one middleware: Host/Origin allow-list, per-launch token, body-size limit, security headers.
- :mod:`.routes` — the JSON API and server-sent events, one router per resource (state, data, views, model).
- :mod:`.run` — binds 127.0.0.1 and runs the app under uvicorn.
- ``static/`` — the page: plain HTML, CSS and JavaScript with SVG and canvas, no network access needed.

Needs the ``server`` extra (FastAPI, uvicorn): ``pip install 'glassnet[server]'``. Nothing in the library imports
this package.

>>> from glassnet.server import Session, TrainConfig
>>> s = Session(TrainConfig(dataset="xor", hidden=(2,), lam=0.0))
>>> s.state()["sizes"]
[2, 2, 1]
>>> s.close()
"""

from __future__ import annotations

from glassnet.server.session import Session, SessionClosed, TrainConfig

__all__ = ["Session", "SessionClosed", "TrainConfig", "create_app", "ExplorerServer"]


def __getattr__(name: str):
    # The web framework is imported only when the app is wanted, with an install hint when it is missing.
    if name in ("create_app", "ExplorerServer"):
        try:
            from glassnet.server.app import create_app
            from glassnet.server.run import ExplorerServer
        except ImportError as exc:
            raise ImportError(f"the glassnet explorer needs FastAPI and uvicorn ({exc.name} is missing): "
                              "pip install 'glassnet[server]'") from None
        return {"create_app": create_app, "ExplorerServer": ExplorerServer}[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
