"""The explorer inside a notebook: a live widget (anywidget) for JupyterLab, Jupyter Notebook, VS Code, Colab and
marimo, drawn by the web page's own ES modules and answered by the web explorer's own routes, in this process.

In a notebook cell (a live widget needs a notebook front end, so this is shown, not run here)::

    w = glassnet.widget(clf, X, y)      # or clf.explore(X, y); the last line of a cell shows it
    clf.fit(X, y)                       # the widget follows (it watches clf.thetas_)
    w.selected, w.thetas, w.model       # what the student picked, Θ now, the Classifier itself

How it is built (the one home of each part):

- Python side, :class:`ExplorerWidget`: a :class:`glassnet.server.Session` (data, Θ, history, the training worker)
  and a :class:`glassnet.server.local.LocalClient`, which sends the page's requests through the server's routes in
  this process: no HTTP server, no port, no token. A watcher thread pushes each new state to the views (the page's
  server-sent events) and keeps the Classifier and the session at the same Θ, both ways.
- Browser side, ``static/widget.js``: one module built by ``scripts/build-widget.mjs`` from ``front/`` and the page's
  modules (``server/static``); each view imports its own copy and mounts it in a shadow root.
- Where widgets do not run (nbconvert's HTML, GitHub's viewer) the output's ``text/html`` is the static picture of
  the selected example's trace, the one a :class:`glassnet.explain.Trace` shows in a notebook.

Needs the ``notebook`` extra: ``pip install 'glassnet[notebook]'`` (anywidget, and FastAPI for the routes).
"""

from __future__ import annotations

import sys
import types

from glassnet.widget.explorer import ExplorerWidget, widget

__all__ = ["ExplorerWidget", "widget"]


class _CallableModule(types.ModuleType):
    """``glassnet.widget(...)`` is the function, also once Python has bound this package to the attribute of the
    same name on ``glassnet`` (importing a submodule does that): calling the package calls :func:`widget`."""

    def __call__(self, *args, **kwargs) -> ExplorerWidget:
        return widget(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
