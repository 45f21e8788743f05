"""The notebook widget: :func:`widget` builds an :class:`ExplorerWidget` from a model and data; see the package
docstring for how it is put together. Not here: any route, numeric or training rule (the server's session, bridge and
routes hold them; this module only carries requests and states between them and the views).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import weakref
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

try:
    import anywidget
    import traitlets
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(f"glassnet.widget needs anywidget ({exc.name} is missing): pip install 'glassnet[notebook]'"
                      ) from None
try:
    from glassnet.server import bridge
    from glassnet.server.local import LocalClient, Reply
    from glassnet.server.session import Session, TrainConfig
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(f"glassnet.widget answers the explorer's requests with its routes, which need FastAPI "
                      f"({exc.name} is missing): pip install 'glassnet[notebook]'") from None

from glassnet._validation import check_thetas
from glassnet.datasets import Dataset as LibDataset
from glassnet.estimator import Classifier

__all__ = ["ExplorerWidget", "widget"]

log = logging.getLogger("glassnet.widget")

#: The widget's one ES module, built by scripts/build-widget.mjs (committed, shipped in the wheel).
ESM = Path(__file__).parent / "static" / "widget.js"
#: How often the watcher looks for a new state of the session and a new Θ of the Classifier (seconds).
POLL = 0.1
#: Name of the user's own arrays among the explorer's datasets.
ARRAYS = "your data"


def _data(X, y, image_shape, order) -> tuple[bridge.Dataset, str | None]:
    """(the explorer's Dataset, a built-in's name or None) from what the caller gave as X and y."""
    if isinstance(X, LibDataset):
        name = X.name or ARRAYS
        return bridge.from_arrays(name, X.X, X.y if y is None else y, X.description or name,
                                  image_shape=image_shape or X.image_shape, order=X.image_order), None
    if isinstance(X, (str, Path)):
        path = Path(X)
        if path.suffix.lower() in bridge.DATA_SUFFIXES and path.is_file():
            if y is not None:
                raise ValueError(f"y: a data file ({path.name}) holds its labels; give y only with an array X")
            return bridge.load_user_file(path, path.name), None
        name = bridge.canonical(str(X))
        if name not in bridge.available_datasets():
            raise ValueError(f"X: expected an array, a data file ({', '.join(bridge.DATA_SUFFIXES)}) or a built-in "
                             f"dataset ({', '.join(bridge.available_datasets())}), got {str(X)!r}")
        return bridge.load_builtin(name), name
    if y is None:
        raise ValueError("y: expected the labels of X, one per row (an array X needs its y)")
    return bridge.from_arrays(ARRAYS, X, y, f"{ARRAYS}: arrays from Python", image_shape=image_shape, order=order), None


def _model(model, data: bridge.Dataset) -> tuple[list[np.ndarray] | None, dict, Classifier | None, str | None]:
    """(Θ, settings, the Classifier to keep in step, its name) for what the caller gave as the model."""
    if model is None:
        return None, {}, None, None
    if isinstance(model, (str, Path)):  # any file glassnet.load reads: glassnet .npz, the course's .mat, Nielsen JSON
        path = Path(model)
        thetas, settings = bridge.load_model(path, path.name, data)
        return thetas, settings, None, path.name
    if isinstance(model, Classifier):
        thetas, settings = bridge.model_settings(model, "the model", data)
        return thetas, settings, model, "your model"
    if isinstance(model, (list, tuple)):
        thetas = [np.asarray(t, dtype=np.float64) for t in check_thetas(list(model), name="thetas")[0]]
        sizes = bridge.sizes_of(thetas)
        if (sizes[0], sizes[-1]) != (data.n, data.K):
            raise ValueError(f"thetas: the layers {'-'.join(map(str, sizes))} need {sizes[0]} features and "
                             f"{sizes[-1]} output units, but {data.name!r} has {data.n} features and {data.K} "
                             f"output units")
        return thetas, {}, None, "your weights"
    raise TypeError(f"model_or_thetas: expected a glassnet.Classifier, a list of Θ arrays or a model file's path, got "
                    f"{type(model).__name__}")


def widget(model_or_thetas=None, X=None, y=None, *, hidden=None, lam: float | None = None,
           optimizer: str | None = None, max_iter: int | None = None, learning_rate: float | None = None,
           batch_size: int | None = None, validation_fraction: float = 0.2, seed: int = 0, delay_ms: int = 20,
           image_shape=None, image_order: str = "C") -> ExplorerWidget:
    """The explorer as a live notebook widget.

    Parameters
    ----------
    model_or_thetas : Classifier, list of arrays, path, or None
        A fitted :class:`glassnet.Classifier` (kept in step with the widget both ways), Θ as a list
        (``thetas[l-1]``: (s_{l+1}, s_l + 1), bias column first), any model file :func:`glassnet.load` reads (the
        course's ``ex4weights.mat`` included), or None for a fresh network (``hidden``, ``seed``).
    X : array (m, n), path, str, Dataset or None
        The examples: an array (with ``y``), a data file glassnet reads (CSV, ``.npz``, the course's ``.mat``), a
        built-in dataset's name (``"xor"``, ``"digits"``, ...) or a :class:`glassnet.datasets.Dataset`. Default: the
        ``digits`` built-in (without a model).
    y : array (m,), optional
        The labels of an array X.
    hidden, lam, optimizer, max_iter, learning_rate, batch_size, validation_fraction, seed, delay_ms
        The explorer's settings (its controls show and change them); the model's own λ and sizes when given.
    image_shape : (rows, cols), optional
        Draw each row of an array X as an image of this shape (``image_order``: "C" row by row, "F" column by
        column as in MATLAB files).

    Returns
    -------
    ExplorerWidget
    """
    if X is None:
        if model_or_thetas is not None:
            raise ValueError("X: a model needs its data: widget(model, X, y) with arrays, a data file or a built-in "
                             "dataset's name")
        X = "digits"
    data, builtin = _data(X, y, image_shape, image_order)
    thetas, settings, clf, model_name = _model(model_or_thetas, data)
    if "classes" in settings:  # the model's unit order in every view (the course's unit 10 = digit 0)
        data = bridge.in_unit_order(data, settings.pop("classes"))
    scaling = settings.pop("feature_scaling", None)
    if scaling is not None:
        raise ValueError(f"model: it scales its inputs first ({scaling['kind']}); give the widget X scaled the "
                         f"model's way (the model's own transform), so that its numbers are the model's")
    defaults = bridge.builtin_settings()[builtin]["training"] if builtin and thetas is None else {}
    given = {"hidden": None if hidden is None else tuple(int(h) for h in hidden), "lam": lam, "optimizer": optimizer,
             "max_iter": max_iter, "learning_rate": learning_rate, "batch_size": batch_size}
    cfg = TrainConfig(dataset=data.name, seed=int(seed), delay_ms=int(delay_ms),
                      validation_fraction=float(validation_fraction))
    changes: dict[str, Any] = {k: (tuple(v) if k == "hidden" else v) for k, v in defaults.items()
                               if k in TrainConfig.__annotations__}
    changes.update(settings)
    changes.update({k: v for k, v in given.items() if v is not None})
    cfg = replace(cfg, **changes)
    session = Session(cfg, thetas=thetas, extra_datasets={data.name: data}, model_name=model_name)
    return ExplorerWidget(session, model=clf)


class ExplorerWidget(anywidget.AnyWidget):
    """The explorer in a notebook (see :func:`widget`, which builds it).

    Attributes for the Python side: :attr:`selected` (the example, unit and edge picked in the widget),
    :attr:`thetas` (Θ now), :attr:`model` (a fitted :class:`glassnet.Classifier` at Θ now: the one given to
    :func:`widget`, kept in step), :attr:`session` (the explorer's state), :meth:`on_change` (a callback),
    :meth:`refresh` (read the Classifier's Θ now), :meth:`close`.

    The Classifier and the widget follow each other: a ``fit`` / ``partial_fit`` that gives the Classifier new
    ``thetas_`` shows in the widget within a moment (a new point on its timeline, "fit in Python"), and every change
    of Θ in the widget (a weight edited, Play, a what-if step, going back in time) becomes the Classifier's
    ``thetas_``. Changing ``clf.thetas_`` in place is not seen: call :meth:`refresh` after it. Choosing another
    dataset or network shape in the widget lets the Classifier go (it keeps its weights; :attr:`model` is then a new
    Classifier of the widget's network).
    """

    _esm = ESM
    #: The selection in the widget: split, index, mode, unit (l, j) and edge (l, i, j), lecture numbering.
    selected = traitlets.Dict(read_only=True)
    #: The session's version: it grows with every change of Θ, settings or training status.
    version = traitlets.Int(0, read_only=True)

    def __init__(self, session: Session, model: Classifier | None = None, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self._client = LocalClient(session)
        self._clf = model
        self._clf_data = session.data.name  # the dataset the Classifier is kept in step on
        self._callbacks: list[Callable[[dict], Any]] = []
        self._lock = threading.RLock()
        self._written = session.thetas  # the Θ list the Classifier was last given (or given us)
        self._seen = model.thetas_ if model is not None else None
        self._cursor: tuple[int | None, int] = (None, 0)  # (history generation, rows sent) of the state pushes
        self._pushed = -1
        self._stop = threading.Event()
        self.set_trait("selected", {"split": "train", "index": 0, "mode": "forward", "unit": None, "edge": None})
        self.set_trait("version", session.version)
        self.on_msg(self._on_msg)
        me = weakref.ref(self)
        self._watcher = threading.Thread(target=_watch, args=(me, self._stop), name="glassnet-widget", daemon=True)
        self._watcher.start()
        weakref.finalize(self, _shutdown, self._stop, self._client, session)

    # ------------------------------------------------------------------------------------------- the Python side
    @property
    def thetas(self) -> list[np.ndarray]:
        """Θ now, copies: ``thetas[l-1]`` = Θ^(l), shape (s_{l+1}, s_l + 1), bias column first."""
        return [t.copy() for t in self.session.snapshot_view()[1]]

    @property
    def model(self) -> Classifier:
        """A fitted :class:`glassnet.Classifier` at Θ now (the one given to :func:`widget`, else one made here and
        kept in step from now on); it predicts in the dataset's own labels."""
        with self._lock:
            _v, thetas, cfg, data, _p = self.session.snapshot_view()
            if self._clf is None:
                classes = np.asarray(data.labels) if data.labels is not None else np.arange(len(data.classes))
                self._clf = Classifier.from_weights(
                    thetas, classes, hidden_layer_sizes=tuple(cfg.hidden), alpha=float(cfg.lam),
                    solver=cfg.optimizer, max_iter=int(cfg.max_iter), random_state=int(cfg.seed), **bridge.kinds(cfg))
                self._written = self._seen = None
                self._clf_data = data.name
            self._sync_model()
            return self._clf

    def on_change(self, callback: Callable[[dict], Any]) -> Callable[[dict], Any]:
        """Call ``callback(change)`` after each change: ``{"what": "weights", "version": v}`` when Θ or the state
        changed (in the widget or by a fit here), ``{"what": "selected", "selected": {...}}`` when the widget's
        selection changed. Returns ``callback`` (usable as a decorator). Runs on a background thread."""
        self._callbacks.append(callback)
        return callback

    def refresh(self) -> None:
        """Show the Classifier's Θ now (after changing ``clf.thetas_`` in place; a new ``fit`` is seen by itself)."""
        with self._lock:
            self._seen = None
        self._pull_model()

    def close(self) -> None:
        """Stop training and the watcher, and close the views."""
        _shutdown(self._stop, self._client, self.session)
        super().close()

    def _repr_mimebundle_(self, **kwargs):
        """The live view, and for where widgets do not run (nbconvert, GitHub) the static picture of the selected
        example, as :class:`glassnet.explain.Trace` shows it."""
        data = super()._repr_mimebundle_(**kwargs)
        bundle, meta = data if isinstance(data, tuple) else (data, {})
        try:
            bundle["text/html"] = self._static_html()
        except Exception as exc:  # the live view still works; say why the picture is missing
            log.warning("glassnet.widget: no static picture (%s: %s)", type(exc).__name__, exc)
        return bundle, meta

    def _static_html(self) -> str:
        _v, thetas, cfg, _data, parts = self.session.snapshot_view()
        sel = self.selected
        X, y = (parts[0], parts[1]) if sel.get("split") != "val" or parts[2].shape[0] == 0 else (parts[2], parts[3])
        index = min(int(sel.get("index", 0)), X.shape[0] - 1)
        tr = bridge.trace(thetas, X[index], int(y[index]), parts[0].shape[0], **bridge.kinds(cfg))
        html = tr._repr_html_()
        return f'<div class="glassnet-static">{html}</div>' if html else ""

    # ------------------------------------------------------------------------------------- the views' requests
    def _on_msg(self, _widget, content, buffers) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "subscribe":  # a new view: the whole state, history from the start
            with self._lock:
                self._cursor, self._pushed = (None, 0), -1
            self._push()
            return
        if kind != "request":
            return
        rid = str(content.get("id", ""))[:100]
        path = str(content.get("path", ""))[:2000]
        method = str(content.get("method", "GET")).upper()
        if method not in ("GET", "POST"):
            self._send_reply(rid, None, ValueError(f"method: expected GET or POST, got {method!r}"))
            return
        body, ctype = b"", None
        if "json" in content:
            body, ctype = json.dumps(content["json"]).encode(), "application/json"
        elif buffers:
            body, ctype = bytes(buffers[0]), "application/octet-stream"
        if urlsplit(path).path == "/api/view":
            self._note_selection(path)
        future = self._client.submit(method, path, body=body, content_type=ctype)
        future.add_done_callback(lambda f: self._send_reply(rid, f.result() if not f.exception() else None,
                                                            f.exception()))

    def _send_reply(self, rid: str, reply: Reply | None, error: BaseException | None) -> None:
        if reply is None:
            self.send({"type": "reply", "id": rid, "ok": False, "status": 500,
                       "detail": f"{type(error).__name__}: {error}"})
            return
        if not reply.ok:
            try:
                detail = json.loads(reply.body).get("detail", "")
            except ValueError:
                detail = reply.body.decode("utf-8", "replace")[:500]
            self.send({"type": "reply", "id": rid, "ok": False, "status": reply.status, "detail": str(detail)})
        elif reply.media == "application/json":
            self.send({"type": "reply", "id": rid, "ok": True, "text": reply.body.decode("utf-8")})
        else:  # a file (the model's export): its bytes as the message's buffer
            name = re.search(r'filename="([^"]+)"', reply.headers.get("content-disposition", ""))
            self.send({"type": "reply", "id": rid, "ok": True, "binary": True, "media": reply.media,
                       "filename": name.group(1) if name else "glassnet-model.npz"}, buffers=[reply.body])
        if self.session.version != self._pushed:
            self._push()  # a control's new state: the other views see it at once too

    def _note_selection(self, path: str) -> None:
        q = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
        try:
            unit = tuple(int(v) for v in q["unit"].split(":")) if q.get("unit") else None
            edge = tuple(int(v) for v in q["edge"].split(":")) if q.get("edge") else None
            sel = {"split": q.get("split", "train"), "index": int(q.get("index", 0)),
                   "mode": q.get("mode", "forward"), "unit": unit, "edge": edge}
        except ValueError:
            return  # the route refuses it with a clear message
        if sel != self.selected:
            self.set_trait("selected", sel)
            self._tell({"what": "selected", "selected": dict(sel)})

    # --------------------------------------------------------------------------- states and the Classifier's Θ
    def _push(self) -> None:
        """Send the session's state to the views when it changed (only the new history rows, as the page's event
        stream does), and give the Classifier the new Θ."""
        with self._lock:
            version = self.session.version
            if version == self._pushed:
                return
            gen, total = self._cursor
            data, version, gen, total = self._client.explorer.state_payload(total, gen)
            self._cursor, self._pushed = (gen, total), version
            self._sync_model()
        self.send({"type": "state", "text": data.decode("utf-8")})
        if version != self.version:
            self.set_trait("version", version)
            self._tell({"what": "weights", "version": version})

    def _sync_model(self) -> None:
        """The Classifier's Θ := the session's (copies: the session's lists are never changed in place; a fit may
        change the Classifier's)."""
        if self._clf is None:
            return
        _v, thetas, _cfg, data, _p = self.session.snapshot_view()
        if thetas is self._written:
            return
        if data.name != self._clf_data or [t.shape for t in thetas] != [t.shape for t in self._clf.thetas_]:
            # another dataset or network chosen in the widget: the Classifier keeps its own; w.model makes a new one
            log.warning("glassnet.widget: the widget now shows %s, network %s; the Classifier given to it is no "
                        "longer kept in step (w.model is a new Classifier)", data.name,
                        "-".join(map(str, bridge.sizes_of(thetas))))
            self._clf = None
            return
        dtype = self._clf.thetas_[0].dtype if getattr(self._clf, "thetas_", None) else np.float64
        self._clf.thetas_ = [np.array(t, dtype=dtype, copy=True) for t in thetas]
        self._written, self._seen = thetas, self._clf.thetas_

    def _pull_model(self) -> None:
        """A new ``clf.thetas_`` (a fit in Python): it becomes the session's Θ, a new point on the timeline."""
        with self._lock:
            clf = self._clf
            current = getattr(clf, "thetas_", None) if clf is not None else None
            if current is None or current is self._seen:
                return
            self._seen = current
            thetas = [np.asarray(t, dtype=np.float64).copy() for t in current]
        n_iter = getattr(clf, "n_iter_", None)
        label = "fit in Python" + (f" ({n_iter} iterations)" if n_iter else "")
        try:
            if [t.shape for t in thetas] == [t.shape for t in self.session.snapshot_view()[1]]:
                self.session.apply_thetas(thetas, label)
            else:  # another architecture: the explorer starts over with it
                self.session.reset(replace(self.session.config, hidden=tuple(bridge.sizes_of(thetas)[1:-1])),
                                   thetas, label)
        except ValueError as exc:
            log.warning("glassnet.widget: the model's new weights cannot be shown: %s", exc)
            return
        with self._lock:
            self._written = self.session.snapshot_view()[1]

    def _tell(self, change: dict) -> None:
        for fn in list(self._callbacks):
            try:
                fn(change)
            except Exception:  # one broken callback must not stop the widget
                log.exception("glassnet.widget: on_change callback %r failed", fn)


def _watch(ref: weakref.ref, stop: threading.Event) -> None:
    """The watcher thread: new states to the views, a new ``clf.thetas_`` to the session (holds no strong
    reference between rounds, so a forgotten widget is collected)."""
    while not stop.wait(POLL):
        w = ref()
        if w is None:
            return
        try:
            w._pull_model()
            w._push()
        except Exception:  # e.g. the kernel is shutting down; the next round tries again
            log.debug("glassnet.widget: watcher round failed", exc_info=True)
        del w


def _shutdown(stop: threading.Event, client: LocalClient, session: Session) -> None:
    stop.set()
    session.close()
    client.close()

