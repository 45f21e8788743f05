"""Datasets: ``/api/datasets`` (the choices and limits), ``/api/builtins`` (each built-in's settings and the
pictures' colour scales) and ``POST /api/dataset`` (upload a data file, which becomes the current dataset).

Datasets are chosen by name; an upload is written to the app's private folder under a server-chosen name, read by
the bridge and removed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from glassnet.server import bridge
from glassnet.server.routes._shared import ExplorerDep, SafeJSONResponse, safe_name, save_body
from glassnet.server.session import LIMITS, UPLOAD_PREFIX

router = APIRouter(default_response_class=SafeJSONResponse)

UPLOAD_SUFFIXES = bridge.DATA_SUFFIXES


@router.get("/api/datasets")
def datasets(ex: ExplorerDep) -> dict:
    return {"datasets": ex.session.dataset_names(), "optimizers": list(bridge.OPTIMIZERS), "limits": LIMITS,
            "max_body_bytes": ex.max_body_bytes, "features": bridge.feature_choices(), **bridge.kind_choices()}


@router.get("/api/builtins")
def builtins() -> dict:
    """Each built-in's default noise and training settings (the registry's), and the pictures' colour scales."""
    return {"datasets": bridge.builtin_settings(), "colors": bridge.color_scales()}


@router.post("/api/dataset")
async def upload_dataset(request: Request, ex: ExplorerDep,
                         filename: Annotated[str, Query(min_length=1, max_length=200)]) -> Response:
    """Upload a CSV / .npz / .mat data file (raw body); it becomes the current dataset."""
    name, suffix = safe_name(filename, UPLOAD_SUFFIXES)
    path = await save_body(request, ex, suffix)
    try:
        data = await run_in_threadpool(bridge.load_user_file, path, name)
    finally:
        path.unlink(missing_ok=True)
    data = replace(data, name=f"{UPLOAD_PREFIX}{name}")
    ex.session.add_upload(data)
    await run_in_threadpool(ex.session.reset, replace(ex.session.config, dataset=data.name, features=None))
    return ex.state_response()
