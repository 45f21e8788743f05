"""Changing or moving the weights: ``/api/weight`` (set one Θ entry), ``/api/whatif`` (preview or apply one gradient
step on one example), ``GET /api/model`` (export a glassnet model file) and ``POST /api/model`` (import a model file).

Model files go through the app's private folder under server-chosen names and are removed once read or sent.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from glassnet._support.jsonsafe import dumps as json_dumps
from glassnet.server import bridge
from glassnet.server.routes._shared import (
    Explorer,
    ExplorerDep,
    SafeJSONResponse,
    StrictBody,
    example,
    safe_name,
    save_body,
)
from glassnet.server.session import LIMITS

router = APIRouter(default_response_class=SafeJSONResponse)

#: Model files the import takes (recognised by content, see glassnet.io.load_any): glassnet, course .mat, Nielsen JSON.
MODEL_SUFFIXES = (".npz", ".mat", ".json")


class WeightBody(StrictBody):
    l: Annotated[int, Field(ge=1, le=LIMITS["hidden_layers"] + 1)]
    i: Annotated[int, Field(ge=1, le=LIMITS["units"] * 1000)]
    j: Annotated[int, Field(ge=0, le=LIMITS["units"] * 1000)]
    value: Annotated[float, Field(ge=-LIMITS["weight"], le=LIMITS["weight"], allow_inf_nan=False)]


class WhatIfBody(StrictBody):
    split: Literal["train", "val"] = "train"
    index: Annotated[int, Field(ge=0)]
    alpha: Annotated[float, Field(gt=0, le=LIMITS["learning_rate"], allow_inf_nan=False)] = 1.0
    apply: bool = False


@router.post("/api/weight")
def weight(body: WeightBody, ex: ExplorerDep) -> dict:
    current = ex.session.set_weight(body.l, body.i, body.j, body.value)
    return {"current": current, "version": ex.session.version}


@router.post("/api/whatif")
async def whatif(body: WhatIfBody, ex: ExplorerDep) -> Response:
    """Preview (or apply) one gradient step on the chosen example alone (a heavy view: on the view threads)."""
    return Response(await ex.heavy.run(_whatif, body, ex), media_type="application/json")


def _whatif(body: WhatIfBody, ex: Explorer) -> bytes:
    _version, thetas, cfg, _data, parts = ex.session.snapshot_view()
    x, label = example(parts, body.split, body.index)
    out = bridge.whatif_step(thetas, x, label, cfg.lam, parts[0].shape[0], body.alpha, parts[0], parts[1],
                             **bridge.kinds(cfg))
    new = out.pop("thetas")
    if body.apply:
        out["current"] = ex.session.apply_thetas(new, f"what-if step on {body.split} example {body.index}")
    out["label"] = label
    return json_dumps(out, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@router.get("/api/model")
def export_model(ex: ExplorerDep) -> Response:
    """The current network as a glassnet model file (the format of ``glassnet train --save``)."""
    thetas, cfg, data, history = ex.session.export_view()
    path = ex.file_path("export", ".npz")
    try:
        bridge.save_model(path, thetas, data, cfg, history)
        content = path.read_bytes()
    finally:
        path.unlink(missing_ok=True)
    sizes = "-".join(str(s) for s in bridge.sizes_of(thetas))
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", data.name)
    return Response(content, media_type="application/octet-stream", headers={
        "content-disposition": f'attachment; filename="glassnet-{stem}-{sizes}.npz"', "cache-control": "no-store"})


@router.post("/api/model")
async def import_model(request: Request, ex: ExplorerDep,
                       filename: Annotated[str, Query(min_length=1, max_length=200)] = "model.npz") -> Response:
    """Load a model file (raw body: glassnet .npz, the course's .mat weights, Nielsen JSON) for the current dataset.

    Training history starts over.
    """
    name, suffix = safe_name(filename, MODEL_SUFFIXES)
    path = await save_body(request, ex, suffix)
    try:
        _v, _t, cfg, data, _p = ex.session.snapshot_view()
        thetas, settings = await run_in_threadpool(bridge.load_model, path, name, data)
    finally:
        path.unlink(missing_ok=True)
    scaling = settings.pop("feature_scaling", None)
    if scaling is not None:  # the page's data is not scaled the model's way: its numbers would be silently wrong
        raise ValueError(f"model: {name} scales its inputs first ({scaling['kind']}, glassnet train --scale), "
                         f"which the page's data is not; open it with: glassnet serve --model {name} --data <its "
                         "data>, which scales the data as the model does")
    data = bridge.in_unit_order(data, settings.pop("classes"))  # the model's unit order in every view
    # a model file's network takes the data's own columns (features=None)
    await run_in_threadpool(ex.session.reset, replace(cfg, **settings, features=None), thetas, f"loaded {name}", data)
    return ex.state_response()
