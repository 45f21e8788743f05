"""Looking at the current network: ``/api/view`` (one example through it, with the diagram), ``/api/examples``
(thumbnails, the misclassified first), ``/api/hidden`` (Θ^(1) rows as images), ``/api/plane`` (the 2-D maps) and
``/api/steps`` (backpropagation of one example as steps).

Each reads one consistent snapshot of the session; none changes it. All of them are heavy (their cost grows with the
network, the examples or the resolution): each is computed, JSON included, on the app's own view threads with a
bounded queue (:class:`glassnet.server.routes._shared.HeavyViews`; beyond it a 503 with ``Retry-After``), never on
the threads that answer ``/api/state`` and the event stream, and identical requests at one state share one
computation.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Query
from fastapi.responses import Response

from glassnet._support.jsonsafe import dumps as json_dumps
from glassnet.server import bridge
from glassnet.server.routes._shared import ExplorerDep, SafeJSONResponse, example
from glassnet.server.session import Session

router = APIRouter(default_response_class=SafeJSONResponse)


@router.get("/api/view")
async def view(ex: ExplorerDep, split: Literal["train", "val"] = "train", index: Annotated[int, Query(ge=0)] = 0,
               mode: Literal["forward", "backward"] = "forward",
               unit: Annotated[str | None, Query(max_length=20, pattern=r"^\d{1,3}:\d{1,5}$")] = None,
               edge: Annotated[str | None, Query(max_length=30, pattern=r"^\d{1,3}:\d{1,5}:\d{1,5}$")] = None
               ) -> Response:
    """One example through the current network: every unit's values, the edges to draw, and the selection."""
    key = (ex.session.version, "view", split, index, mode, unit, edge)
    return await ex.shared_view(key, _view, ex.session, split, index, mode, unit, edge)


def _view(session: Session, split: str, index: int, mode: Literal["forward", "backward"], unit: str | None,
          edge: str | None) -> bytes:
    """The JSON of ``/api/view``, computed on the view pool."""
    version, thetas, cfg, data, parts = session.snapshot_view()
    x, label = example(parts, split, index)
    m = parts[0].shape[0]
    kinds = bridge.kinds(cfg)
    tr = bridge.trace(thetas, x, label, m, **kinds)
    out = {
        "version": version, "split": split, "index": index, "sizes": tr.sizes, "label": label,
        "label_name": bridge.label_name(data, label), "classes": data.classes, "prediction": tr.prediction,
        "output": [float(v) for v in tr.output], "cost": float(tr.cost), "layers": bridge.trace_layers(tr),
        "svg": bridge.diagram(tr, mode, data),
        "pixels": bridge.pixels(x, data.image_shape, data.order) if data.image_shape else None,
        "image_shape": list(data.image_shape) if data.image_shape else None, "unit": None, "edge": None,
        "x": None if data.image_shape else [float(v) for v in x[:64]],
        "unit_names": bridge.unit_names(data, tr.K),
        "setup": tr.setup,
    }
    if unit:
        l, j = (int(v) for v in unit.split(":"))
        if not 1 <= l <= tr.L or not 1 <= j <= tr.sizes[l - 1]:
            raise ValueError(f"unit: expected l:j with l in 1..{tr.L} and j in 1..s_l (layer sizes {tr.sizes}), "
                             f"got {unit!r}")
        out["unit"] = bridge.unit_details(tr, l, j)
    if edge:
        l, i, j = (int(v) for v in edge.split(":"))
        if not 1 <= l < tr.L or not 1 <= i <= tr.sizes[l] or not 0 <= j <= tr.sizes[l - 1]:
            raise ValueError(f"edge: expected l:i:j with l in 1..{tr.L - 1}, i in 1..s_(l+1), j in 0..s_l "
                             f"(layer sizes {tr.sizes}), got {edge!r}")
        grads = bridge.gradient(thetas, parts, cfg.lam, **kinds)
        out["edge"] = bridge.edge_details(tr, l, i, j, grads[l - 1])
    return _json(out)


def _json(out: dict) -> bytes:
    return json_dumps(out, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@router.get("/api/examples")
async def examples(ex: ExplorerDep, split: Literal["train", "val"] = "val",
                   which: Literal["misclassified", "all"] = "misclassified",
                   limit: Annotated[int, Query(ge=1, le=200)] = bridge.GALLERY_LIMIT,
                   offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    """Examples as thumbnails: the misclassified ones (most confident mistakes first) or all, in order.

    ``shown`` says what the page shows of ``total`` when the gallery is cut ("48 of 1353 shown"; empty otherwise).
    """
    key = (ex.session.version, "examples", split, which, limit, offset)
    return await ex.shared_view(key, _examples, ex.session, split, which, limit, offset)


def _examples(session: Session, split: str, which: str, limit: int, offset: int) -> bytes:
    version, thetas, cfg, data, parts = session.snapshot_view()
    X, y = (parts[0], parts[1]) if split == "train" else (parts[2], parts[3])
    if X.shape[0] == 0 or data.regression:  # a regression set has no classes to get wrong: its map shows the errors
        return _json({"version": version, "split": split, "which": which, "total": 0, "items": [], "shown": "",
                      "classes": data.classes, "regression": data.regression})
    pred, conf = bridge.predictions(thetas, X, activation=cfg.activation, output=cfg.output)
    if which == "misclassified":
        idx = np.flatnonzero(pred != y)
        idx = idx[np.argsort(-conf[idx], kind="stable")]
    else:
        idx = np.arange(X.shape[0])
    page = idx[offset:offset + limit]
    if cfg.features is not None:  # the network's inputs are features of the points: the points are what is shown
        points = session.points_view()
        X = points[0] if split == "train" else points[2]
    items = [{"index": int(t), "label": int(y[t]), "prediction": int(pred[t]), "confidence": float(conf[t]),
              "pixels": bridge.pixels(X[t], data.image_shape, data.order) if data.image_shape else None,
              "x": None if data.image_shape else [round(float(v), 4) for v in X[t][:8]]} for t in page]
    return _json({"version": version, "split": split, "which": which, "total": int(idx.size), "items": items,
                  "shown": bridge.shown_text(len(items), int(idx.size), offset),
                  "image_shape": list(data.image_shape) if data.image_shape else None, "classes": data.classes})


@router.get("/api/hidden")
async def hidden(ex: ExplorerDep, limit: Annotated[int, Query(ge=1, le=400)] = 100) -> Response:
    """Θ^(1) rows as images (one per first-hidden-layer unit), when the inputs are images."""
    return await ex.shared_view((ex.session.version, "hidden", limit), _hidden, ex.session, limit)


def _hidden(session: Session, limit: int) -> bytes:
    version, thetas, _cfg, data, _parts = session.snapshot_view()
    if data.image_shape is None:
        return _json({"version": version, "image_shape": None, "units": [], "total": int(thetas[0].shape[0])})
    return _json({"version": version, "image_shape": list(data.image_shape), "total": int(thetas[0].shape[0]),
                  "units": bridge.hidden_images(thetas[0], data.image_shape, data.order, limit)})


@router.get("/api/plane")
async def plane(ex: ExplorerDep, resolution: Annotated[int, Query(ge=8, le=100)] = 40) -> Response:
    """The decision map and one map per hidden unit over the input plane (datasets of 2 features only)."""
    return await ex.shared_view((ex.session.version, "plane", resolution), _plane, ex.session, resolution)


def _plane(session: Session, resolution: int) -> bytes:
    version, thetas, cfg, data, parts = session.snapshot_view()
    if data.n != 2:
        return _json({"version": version, "available": False, "n": data.n})
    return _json({"version": version, "available": True,
                  **bridge.plane(thetas, data, parts, resolution, **bridge.kinds(cfg), features=cfg.features,
                                 points=session.points_view() if cfg.features is not None else None)})


@router.get("/api/steps")
async def steps(ex: ExplorerDep, split: Literal["train", "val"] = "train", index: Annotated[int, Query(ge=0)] = 0,
                examples: Annotated[int, Query(ge=1, le=bridge.WALK_EXAMPLES)] = 1) -> Response:
    """Backpropagation of one example as steps (forward, δ^(L), each hidden δ_j, Δ, the batch's D); with
    ``examples`` > 1, of the examples index, index + 1, ... with Δ adding up over them, then their D."""
    return await ex.shared_view((ex.session.version, "steps", split, index, examples), _steps, ex.session, split,
                                index, examples)


def _steps(session: Session, split: str, index: int, examples: int) -> bytes:
    version, thetas, cfg, _data, parts = session.snapshot_view()
    x, label = example(parts, split, index)
    out = {"version": version, "split": split, "index": index, "label": label, "examples": examples,
           "sizes": bridge.sizes_of(thetas)}
    if examples == 1:
        return _json({**out, "steps": bridge.backprop_steps(thetas, x, label, parts, cfg.lam, **bridge.kinds(cfg))})
    example(parts, split, index + examples - 1)  # the last one walked exists (else: a 422 naming the index)
    X, y = (parts[0], parts[1]) if split == "train" else (parts[2], parts[3])
    return _json({**out, "steps": bridge.walk_steps(thetas, X[index:index + examples], y[index:index + examples],
                                                    cfg.lam, **bridge.kinds(cfg))})
