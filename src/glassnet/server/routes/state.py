"""The session's state and the controls that change it: ``/api/state``, ``/api/events`` (server-sent events),
``/api/reset``, ``/api/settings``, ``/api/play``, ``/api/step``, ``/api/pause``, ``/api/rewind``.

Every control answers with the whole new state, as ``/api/state`` does. Parameters are validated by the pydantic
bodies here plus the session's own checks (a ``ValueError`` becomes a 422 naming the field).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from glassnet.server.routes._shared import ExplorerDep, SafeJSONResponse, StrictBody
from glassnet.server.session import LIMITS

router = APIRouter(default_response_class=SafeJSONResponse)


class Settings(StrictBody):
    """Training settings sent with play / step; they apply without a reset (all optional)."""

    lam: Annotated[float, Field(ge=0, le=LIMITS["lam"], allow_inf_nan=False)] | None = None
    optimizer: Literal["lbfgs", "cg", "sgd", "adam"] | None = None
    learning_rate: Annotated[float, Field(gt=0, le=LIMITS["learning_rate"], allow_inf_nan=False)] | None = None
    batch_size: Annotated[int, Field(ge=1, le=LIMITS["batch_size"])] | None = None
    max_iter: Annotated[int, Field(ge=1, le=LIMITS["max_iter"])] | None = None
    delay_ms: Annotated[int, Field(ge=0, le=LIMITS["delay_ms"])] | None = None

    def changes(self) -> dict:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class AppliedSettings(Settings):
    """Settings that apply at once to the current weights (``/api/settings``), the validation share among them."""

    validation_fraction: Annotated[float, Field(ge=0, le=0.5, allow_inf_nan=False)] | None = None


class ResetBody(StrictBody):
    """Everything a reset may change; missing fields keep their current values."""

    dataset: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    hidden: Annotated[list[Annotated[int, Field(ge=1, le=LIMITS["units"])]],
                      Field(max_length=LIMITS["hidden_layers"])] | None = None
    lam: Annotated[float, Field(ge=0, le=LIMITS["lam"], allow_inf_nan=False)] | None = None
    optimizer: Literal["lbfgs", "cg", "sgd", "adam"] | None = None
    learning_rate: Annotated[float, Field(gt=0, le=LIMITS["learning_rate"], allow_inf_nan=False)] | None = None
    batch_size: Annotated[int, Field(ge=1, le=LIMITS["batch_size"])] | None = None
    max_iter: Annotated[int, Field(ge=1, le=LIMITS["max_iter"])] | None = None
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = None
    delay_ms: Annotated[int, Field(ge=0, le=LIMITS["delay_ms"])] | None = None
    noise: Annotated[float, Field(ge=0, le=LIMITS["noise"], allow_inf_nan=False)] | None = None
    validation_fraction: Annotated[float, Field(ge=0, le=0.5, allow_inf_nan=False)] | None = None
    # a 2-D dataset's network inputs (glassnet.datasets.features keys); another dataset starts from its own columns
    features: Annotated[list[Annotated[str, Field(max_length=20)]], Field(min_length=1, max_length=7)] | None = None
    # the hidden units and the output/loss pair: names checked by the session (bridge.check_kinds lists the choices)
    activation: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    output: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    loss: Annotated[str, Field(min_length=1, max_length=40)] | None = None


class RewindBody(StrictBody):
    """A snapshot by number, or relative to the current one (offset -1 = one step back)."""

    index: Annotated[int, Field(ge=0)] | None = None
    offset: Annotated[int, Field(ge=-100_000, le=100_000)] | None = None


@router.get("/api/state")
async def get_state(ex: ExplorerDep) -> Response:
    """The whole state. Answered on the event loop when it is already made for the current version (the common case
    under load: every client shares one JSON per version), without the hop to a worker thread that most of a
    request's cost was; made on a worker thread otherwise (the history may be long)."""
    hit = ex.cached_state()
    if hit is None:
        return await run_in_threadpool(ex.state_response)
    return Response(hit[0], media_type="application/json", headers={"cache-control": "no-store"})


@router.get("/api/events")
async def events(request: Request, ex: ExplorerDep) -> StreamingResponse:
    """Server-sent events: a ``state`` event whenever the session changes (with only the new history rows)."""
    session = ex.session

    async def stream():
        sent_version, gen, total = -1, None, 0
        last = time.monotonic()
        yield b"retry: 2000\n\n"
        while not session.closed.is_set():
            if session.version != sent_version:
                data, sent_version, gen, total = ex.state_payload(total, gen)
                yield b"event: state\ndata: " + data + b"\n\n"
                last = time.monotonic()
            elif time.monotonic() - last > 15:
                yield b": keep-alive\n\n"
                last = time.monotonic()
            if await request.is_disconnected():
                break
            await asyncio.sleep(0.1)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})


@router.post("/api/reset")
def reset(body: ResetBody, ex: ExplorerDep) -> Response:
    changes = {k: v for k, v in body.model_dump().items() if v is not None}
    if "hidden" in changes:
        changes["hidden"] = tuple(changes["hidden"])
    if "features" in changes:
        changes["features"] = tuple(changes["features"])
    elif changes.get("dataset", ex.session.config.dataset) != ex.session.config.dataset:
        changes["features"] = None  # chosen features belong to the dataset they were chosen for
    ex.session.reset(replace(ex.session.config, **changes))
    return ex.state_response()


@router.post("/api/settings")
def apply_settings(body: AppliedSettings, ex: ExplorerDep) -> Response:
    """λ, the other training settings and the validation share, applied now to the current Θ without training: J,
    δ, D and every view are recomputed; a new validation share splits the examples anew (Θ kept, history anew)."""
    ex.session.apply_settings(**body.changes())
    return ex.state_response()


@router.post("/api/play")
def play(ex: ExplorerDep, body: Settings | None = None) -> Response:
    ex.session.play(**(body.changes() if body else {}))
    return ex.state_response()


@router.post("/api/step")
def step(ex: ExplorerDep, body: Settings | None = None) -> Response:
    ex.session.step(**(body.changes() if body else {}))
    return ex.state_response()


@router.post("/api/pause")
def pause(ex: ExplorerDep) -> Response:
    ex.session.pause()
    return ex.state_response()


@router.post("/api/rewind")
def rewind(body: RewindBody, ex: ExplorerDep) -> Response:
    ex.session.rewind(index=body.index, offset=body.offset)
    return ex.state_response()
