"""The explorer's HTTP face: a FastAPI app over one :class:`~glassnet.server.session.Session`.

:func:`create_app` builds the app; :mod:`glassnet.server.run` binds it to 127.0.0.1 under uvicorn. Every request
passes :class:`Guard` first, which refuses (403) a Host or Origin other than the served one (DNS rebinding), a missing
or wrong per-launch token, and (413) a body over the size limit. Parameters are validated by pydantic models plus the
session's own checks; any bad value is a 422 whose ``detail`` is one readable sentence naming the field. The page
receives state changes as server-sent events (``/api/events``); everything else is plain JSON.

Not here: any numerics (:mod:`.bridge`) or training state (:mod:`.session`). The client never names a server-side
path: datasets are chosen by name, and uploads are written to a private temporary folder under server-chosen names.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hmac
import itertools
import json
import re
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import parse_qs

import numpy as np
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from glassnet._support.jsonsafe import dumps as json_dumps
from glassnet.server import bridge
from glassnet.server.session import LIMITS, Session, SessionClosed

__all__ = ["create_app", "Guard", "STATIC_DIR", "DEFAULT_MAX_BODY"]

STATIC_DIR = Path(__file__).with_name("static")
#: Default request-body limit: enough for MNIST-sized CSV uploads and model files.
DEFAULT_MAX_BODY = 64 * 2**20
TOKEN_HEADER = "x-glassnet-token"
UPLOAD_SUFFIXES = (".csv", ".txt", ".npz", ".mat")
#: Model files the import takes (recognised by content, see glassnet.io.load_any): glassnet, course .mat, Nielsen JSON.
MODEL_SUFFIXES = (".npz", ".mat", ".json")

_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"content-security-policy",
     b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
     b"form-action 'none'; frame-ancestors 'none'; base-uri 'none'"),
]


class BodyTooLarge(HTTPException):
    """A request body over the limit (raised while it is being read, so nothing more is buffered)."""

    def __init__(self, limit: int, size: int | None = None):
        got = f"{size} bytes" if size is not None else "more bytes than allowed"
        super().__init__(413, f"request body too large: {got}; the limit is {limit} bytes ({limit / 2**20:.3g} MiB, "
                              f"set by glassnet serve --max-upload-mb)")


class Guard:
    """ASGI middleware: Host/Origin allow-list, per-launch token, body-size limit and security headers.

    Static assets (``/static/...``, public code) need no token; every other path does, given as the
    ``X-Glassnet-Token`` header or the ``token`` query parameter (the page's event stream cannot set headers).
    """

    def __init__(self, app, *, hosts: Iterable[str], token: str, max_body: int):
        self.app = app
        self.hosts = {h.lower() for h in hosts}
        self.origins = {f"http://{h}" for h in self.hosts}
        self.token = token.encode()
        self.max_body = int(max_body)

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "").lower()
        if host not in self.hosts:
            return await self._reject(scope, send, 403, f"Host {host!r} is not allowed: this explorer only answers "
                                                        f"to {', '.join(sorted(self.hosts))}")
        origin = headers.get("origin")
        if origin is not None and origin.lower() not in self.origins:
            return await self._reject(scope, send, 403, f"Origin {origin!r} is not allowed: requests must come "
                                                        f"from the explorer's own page")
        path = scope.get("path", "")
        if not path.startswith("/static/"):
            given = headers.get(TOKEN_HEADER)
            if not given:
                given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [None])[0]
            if not given or not hmac.compare_digest(given.encode(), self.token):
                what = "missing" if not given else "wrong"
                return await self._reject(scope, send, 403, f"{what} access token: open the full URL that "
                                                            f"`glassnet serve` printed (it ends in ?token=...)")
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return await self._reject(scope, send, 400, f"bad Content-Length header {length!r}")
            if int(length) > self.max_body:
                return await self._reject(scope, send, 413, BodyTooLarge(self.max_body, int(length)).detail)
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge(self.max_body)
            return message

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = dict(message)
                message["headers"] = list(message.get("headers", [])) + _SECURITY_HEADERS
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge as exc:  # raised outside a route (e.g. while parsing a form)
            if not started:
                await self._reject(scope, send, 413, exc.detail)

    @staticmethod
    async def _reject(scope, send, status: int, detail: str):
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
            return
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                *_SECURITY_HEADERS]})
        await send({"type": "http.response.body", "body": body})


# ------------------------------------------------------------------------------------------------ request bodies

class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Settings(_Body):
    """Training settings sent with play / step; they apply without a reset (all optional)."""

    lam: Annotated[float, Field(ge=0, le=LIMITS["lam"], allow_inf_nan=False)] | None = None
    optimizer: Literal["lbfgs", "cg", "sgd", "adam"] | None = None
    learning_rate: Annotated[float, Field(gt=0, le=LIMITS["learning_rate"], allow_inf_nan=False)] | None = None
    batch_size: Annotated[int, Field(ge=1, le=LIMITS["batch_size"])] | None = None
    max_iter: Annotated[int, Field(ge=1, le=LIMITS["max_iter"])] | None = None
    delay_ms: Annotated[int, Field(ge=0, le=LIMITS["delay_ms"])] | None = None

    def changes(self) -> dict:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class ResetBody(_Body):
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
    # the hidden units and the output/loss pair: names checked by the session (bridge.check_kinds lists the choices)
    activation: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    output: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    loss: Annotated[str, Field(min_length=1, max_length=40)] | None = None


class WeightBody(_Body):
    l: Annotated[int, Field(ge=1, le=LIMITS["hidden_layers"] + 1)]
    i: Annotated[int, Field(ge=1, le=LIMITS["units"] * 1000)]
    j: Annotated[int, Field(ge=0, le=LIMITS["units"] * 1000)]
    value: Annotated[float, Field(ge=-LIMITS["weight"], le=LIMITS["weight"], allow_inf_nan=False)]


class RewindBody(_Body):
    """A snapshot by number, or relative to the current one (offset -1 = one step back)."""

    index: Annotated[int, Field(ge=0)] | None = None
    offset: Annotated[int, Field(ge=-100_000, le=100_000)] | None = None


class WhatIfBody(_Body):
    split: Literal["train", "val"] = "train"
    index: Annotated[int, Field(ge=0)]
    alpha: Annotated[float, Field(gt=0, le=LIMITS["learning_rate"], allow_inf_nan=False)] = 1.0
    apply: bool = False


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or "request"
        got = err.get("input")
        got_s = "" if isinstance(got, dict) or got is None else f" (got {json.dumps(got, default=str)[:60]})"
        parts.append(f"{field}: {err.get('msg', 'invalid')}{got_s}")
    return "; ".join(parts)


# ------------------------------------------------------------------------------------------------ the app


class SafeJSONResponse(JSONResponse):
    """JSON that a browser's ``JSON.parse`` always accepts: NaN and ±inf (e.g. J of weights near 1e308) become null,
    which the page shows as "–" (:mod:`glassnet._support.jsonsafe`)."""

    def render(self, content) -> bytes:
        return json_dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


#: Threads for the heavy per-example views, apart from the shared pool that serves /api/state and the controls.
VIEW_THREADS = 2


def create_app(session: Session, *, token: str, allowed_hosts: Iterable[str],
               max_body_bytes: int = DEFAULT_MAX_BODY, upload_dir: Path | None = None) -> FastAPI:
    """The explorer app for ``session``.

    Parameters
    ----------
    session : Session
        The state the app shows and drives (the caller closes it).
    token : str
        The per-launch secret every request must carry (header ``X-Glassnet-Token`` or query ``token``).
    allowed_hosts : iterable of str
        Accepted ``Host`` headers, e.g. ``{"127.0.0.1:8765", "localhost:8765"}`` (``{"testserver"}`` for FastAPI's
        test client); ``Origin``, when sent, must be ``http://`` + one of them.
    max_body_bytes : int
        Larger request bodies (uploads) are refused with 413.
    upload_dir : Path, optional
        Where uploaded files are written while they are read (default: a new private temporary folder).
    """
    if not token or len(token) < 16:
        raise ValueError("token: expected a secret of at least 16 characters")
    own_upload_dir = upload_dir is None
    upload_dir = Path(tempfile.mkdtemp(prefix="glassnet-uploads-")) if upload_dir is None else Path(upload_dir)

    # Heavy views (a trace and a diagram of one example) run on their own small pool, so that any number of them
    # queue there instead of taking the shared threads /api/state needs; identical requests at one state share one
    # computation (the cache is keyed by the session's version).
    view_pool = concurrent.futures.ThreadPoolExecutor(VIEW_THREADS, thread_name_prefix="glassnet-view")
    view_cache: dict[tuple, asyncio.Future] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        view_pool.shutdown(wait=False, cancel_futures=True)
        if own_upload_dir:
            shutil.rmtree(upload_dir, ignore_errors=True)

    app = FastAPI(title="glassnet explorer", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan,
                  default_response_class=SafeJSONResponse)
    app.state.session = session
    app.state.upload_dir = upload_dir
    app.add_middleware(Guard, hosts=allowed_hosts, token=token, max_body=max_body_bytes)
    counter = itertools.count(1)
    state_cache: dict[tuple, tuple[bytes, int, int, int]] = {}

    @app.exception_handler(RequestValidationError)
    async def _on_validation(request: Request, exc: RequestValidationError):
        return SafeJSONResponse({"detail": _validation_message(exc)}, status_code=422)

    @app.exception_handler(ValueError)
    async def _on_value_error(request: Request, exc: ValueError):
        # The library's and the session's checks: each message names the argument and what was expected.
        return SafeJSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(SessionClosed)
    async def _on_closed(request: Request, exc: SessionClosed):
        return SafeJSONResponse({"detail": str(exc)}, status_code=503)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
        return HTMLResponse(html, headers={"cache-control": "no-store"})

    # ------------------------------------------------------------------ state and control
    def _state_payload(history_from: int = 0, gen: int | None = None) -> tuple[bytes, int, int, int]:
        """(JSON, version, history generation, history length), shared by all clients at the same point."""
        key = (session.version, gen, history_from)
        hit = state_cache.get(key)
        if hit is None:
            st = session.state(history_from, gen)
            hit = (json_dumps(st).encode(), st["version"], st["history"]["gen"], st["history"]["total"])
            if len(state_cache) > 64:
                state_cache.clear()
            state_cache[key] = hit
        return hit

    def _state_response() -> Response:
        return Response(_state_payload()[0], media_type="application/json", headers={"cache-control": "no-store"})

    @app.get("/api/state")
    def get_state() -> Response:
        return _state_response()

    @app.get("/api/events")
    async def events(request: Request) -> StreamingResponse:
        """Server-sent events: a ``state`` event whenever the session changes (with only the new history rows)."""

        async def stream():
            sent_version, gen, total = -1, None, 0
            last = time.monotonic()
            yield b"retry: 2000\n\n"
            while not session.closed.is_set():
                if session.version != sent_version:
                    data, sent_version, gen, total = _state_payload(total, gen)
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

    @app.get("/api/datasets")
    def datasets() -> dict:
        return {"datasets": session.dataset_names(), "optimizers": list(bridge.OPTIMIZERS), "limits": LIMITS,
                "max_body_bytes": max_body_bytes, **bridge.kind_choices()}

    @app.post("/api/reset")
    def reset(body: ResetBody) -> Response:
        changes = {k: v for k, v in body.model_dump().items() if v is not None}
        if "hidden" in changes:
            changes["hidden"] = tuple(changes["hidden"])
        session.reset(replace(session.config, **changes))
        return _state_response()

    @app.post("/api/play")
    def play(body: Settings | None = None) -> Response:
        session.play(**(body.changes() if body else {}))
        return _state_response()

    @app.post("/api/step")
    def step(body: Settings | None = None) -> Response:
        session.step(**(body.changes() if body else {}))
        return _state_response()

    @app.post("/api/pause")
    def pause() -> Response:
        session.pause()
        return _state_response()

    @app.post("/api/rewind")
    def rewind(body: RewindBody) -> Response:
        session.rewind(index=body.index, offset=body.offset)
        return _state_response()

    @app.post("/api/weight")
    def weight(body: WeightBody) -> dict:
        current = session.set_weight(body.l, body.i, body.j, body.value)
        return {"current": current, "version": session.version}

    # ------------------------------------------------------------------ looking at examples
    def _example(parts, split: str, index: int):
        X, y = (parts[0], parts[1]) if split == "train" else (parts[2], parts[3])
        if not 0 <= index < X.shape[0]:
            raise ValueError(f"index: expected an example 0..{X.shape[0] - 1} of the {split} set, got {index}")
        return X[index], int(y[index])

    @app.get("/api/view")
    async def view(split: Literal["train", "val"] = "train", index: Annotated[int, Query(ge=0)] = 0,
                   mode: Literal["forward", "backward"] = "forward",
                   unit: Annotated[str | None, Query(max_length=20, pattern=r"^\d{1,3}:\d{1,5}$")] = None,
                   edge: Annotated[str | None, Query(max_length=30, pattern=r"^\d{1,3}:\d{1,5}:\d{1,5}$")] = None
                   ) -> Response:
        """One example through the current network: every unit's values, the edges to draw, and the selection."""
        key = (session.version, split, index, mode, unit, edge)
        future = view_cache.get(key)
        if future is None:
            if len(view_cache) > 32:
                view_cache.clear()
            future = asyncio.get_running_loop().run_in_executor(view_pool, _view, split, index, mode, unit, edge)
            view_cache[key] = future
        try:
            body = await asyncio.shield(future)
        except Exception:
            view_cache.pop(key, None)
            raise
        return Response(body, media_type="application/json")

    def _view(split: str, index: int, mode: Literal["forward", "backward"], unit: str | None,
              edge: str | None) -> bytes:
        version, thetas, cfg, data, parts = session.snapshot_view()
        x, label = _example(parts, split, index)
        m = parts[0].shape[0]
        kinds = bridge.kinds(cfg)
        tr = bridge.trace(thetas, x, label, m, **kinds)
        out = {
            "version": version, "split": split, "index": index, "sizes": tr.sizes, "label": label,
            "label_name": data.classes[label], "classes": data.classes, "prediction": tr.prediction,
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
        return json_dumps(out, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @app.get("/api/examples")
    def examples(split: Literal["train", "val"] = "val", which: Literal["misclassified", "all"] = "misclassified",
                 limit: Annotated[int, Query(ge=1, le=200)] = 48, offset: Annotated[int, Query(ge=0)] = 0) -> dict:
        """Examples as thumbnails: the misclassified ones (most confident mistakes first) or all, in order."""
        version, thetas, cfg, data, parts = session.snapshot_view()
        X, y = (parts[0], parts[1]) if split == "train" else (parts[2], parts[3])
        if X.shape[0] == 0:
            return {"version": version, "split": split, "total": 0, "items": []}
        pred, conf = bridge.predictions(thetas, X, activation=cfg.activation, output=cfg.output)
        if which == "misclassified":
            idx = np.flatnonzero(pred != y)
            idx = idx[np.argsort(-conf[idx], kind="stable")]
        else:
            idx = np.arange(X.shape[0])
        page = idx[offset:offset + limit]
        items = [{"index": int(t), "label": int(y[t]), "prediction": int(pred[t]), "confidence": float(conf[t]),
                  "pixels": bridge.pixels(X[t], data.image_shape, data.order) if data.image_shape else None,
                  "x": None if data.image_shape else [round(float(v), 4) for v in X[t][:8]]} for t in page]
        return {"version": version, "split": split, "which": which, "total": int(idx.size), "items": items,
                "image_shape": list(data.image_shape) if data.image_shape else None, "classes": data.classes}

    @app.get("/api/hidden")
    def hidden(limit: Annotated[int, Query(ge=1, le=400)] = 100) -> dict:
        """Θ^(1) rows as images (one per first-hidden-layer unit), when the inputs are images."""
        version, thetas, _cfg, data, _parts = session.snapshot_view()
        if data.image_shape is None:
            return {"version": version, "image_shape": None, "units": [], "total": int(thetas[0].shape[0])}
        return {"version": version, "image_shape": list(data.image_shape), "total": int(thetas[0].shape[0]),
                "units": bridge.hidden_images(thetas[0], data.image_shape, data.order, limit)}

    @app.post("/api/whatif")
    def whatif(body: WhatIfBody) -> dict:
        """Preview (or apply) one gradient step on the chosen example alone."""
        _version, thetas, cfg, _data, parts = session.snapshot_view()
        x, label = _example(parts, body.split, body.index)
        out = bridge.whatif_step(thetas, x, label, cfg.lam, parts[0].shape[0], body.alpha, parts[0], parts[1],
                                 **bridge.kinds(cfg))
        new = out.pop("thetas")
        if body.apply:
            out["current"] = session.apply_thetas(new, f"what-if step on {body.split} example {body.index}")
        out["label"] = label
        return out

    # ------------------------------------------------------------------ 2-D maps and backprop step by step
    @app.get("/api/builtins")
    def builtins() -> dict:
        """Each built-in's default noise and training settings (the registry's), and the pictures' colour scales."""
        return {"datasets": bridge.builtin_settings(), "colors": bridge.color_scales()}

    @app.get("/api/plane")
    def plane(resolution: Annotated[int, Query(ge=8, le=100)] = 40) -> dict:
        """The decision map and one map per hidden unit over the input plane (datasets of 2 features only)."""
        version, thetas, cfg, data, parts = session.snapshot_view()
        if data.n != 2:
            return {"version": version, "available": False, "n": data.n}
        return {"version": version, "available": True,
                **bridge.plane(thetas, data, parts, resolution, **bridge.kinds(cfg))}

    @app.get("/api/steps")
    def steps(split: Literal["train", "val"] = "train", index: Annotated[int, Query(ge=0)] = 0) -> dict:
        """Backpropagation of one example as steps (forward, δ^(L), each hidden δ_j, Δ, the batch's D)."""
        version, thetas, cfg, _data, parts = session.snapshot_view()
        x, label = _example(parts, split, index)
        return {"version": version, "split": split, "index": index, "label": label,
                "sizes": bridge.sizes_of(thetas),
                "steps": bridge.backprop_steps(thetas, x, label, parts, cfg.lam, **bridge.kinds(cfg))}

    # ------------------------------------------------------------------ files
    def _safe_name(filename: str, suffixes: tuple[str, ...]) -> tuple[str, str]:
        base = re.sub(r"[^A-Za-z0-9._-]", "_", filename.replace("\\", "/").rsplit("/", 1)[-1]).lstrip(".")[:80]
        suffix = Path(base).suffix.lower()
        if suffix not in suffixes:
            raise ValueError(f"filename: expected a file ending in {', '.join(suffixes)}, got {filename!r}")
        return base or f"upload{suffix}", suffix

    async def _save_body(request: Request, suffix: str) -> Path:
        body = await request.body()
        if not body:
            raise ValueError("file: the upload is empty")
        path = upload_dir / f"upload-{next(counter)}{suffix}"
        path.write_bytes(body)
        return path

    @app.post("/api/dataset")
    async def upload_dataset(request: Request,
                             filename: Annotated[str, Query(min_length=1, max_length=200)]) -> Response:
        """Upload a CSV / .npz / .mat data file (raw body); it becomes the current dataset."""
        name, suffix = _safe_name(filename, UPLOAD_SUFFIXES)
        path = await _save_body(request, suffix)
        try:
            data = await run_in_threadpool(bridge.load_user_file, path, name)
        finally:
            path.unlink(missing_ok=True)
        data = replace(data, name=f"upload:{name}")
        session.add_upload(data)
        await run_in_threadpool(session.reset, replace(session.config, dataset=data.name))
        return _state_response()

    @app.get("/api/model")
    def export_model() -> Response:
        """The current network as a glassnet model file (the format of ``glassnet train --save``)."""
        thetas, cfg, data, history = session.export_view()
        path = upload_dir / f"export-{next(counter)}.npz"
        try:
            bridge.save_model(path, thetas, data, cfg, history)
            content = path.read_bytes()
        finally:
            path.unlink(missing_ok=True)
        sizes = "-".join(str(s) for s in bridge.sizes_of(thetas))
        stem = re.sub(r"[^A-Za-z0-9_-]", "_", data.name)
        return Response(content, media_type="application/octet-stream", headers={
            "content-disposition": f'attachment; filename="glassnet-{stem}-{sizes}.npz"', "cache-control": "no-store"})

    @app.post("/api/model")
    async def import_model(request: Request,
                           filename: Annotated[str, Query(min_length=1, max_length=200)] = "model.npz") -> Response:
        """Load a model file (raw body: glassnet .npz, the course's .mat weights, Nielsen JSON) for the current dataset.

        Training history starts over.
        """
        name, suffix = _safe_name(filename, MODEL_SUFFIXES)
        path = await _save_body(request, suffix)
        try:
            _v, _t, cfg, data, _p = session.snapshot_view()
            thetas, settings = await run_in_threadpool(bridge.load_model, path, name, data)
        finally:
            path.unlink(missing_ok=True)
        await run_in_threadpool(session.reset, replace(cfg, **settings), thetas, f"loaded {name}")
        return _state_response()

    return app
