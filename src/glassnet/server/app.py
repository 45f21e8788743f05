"""The explorer's HTTP face: a FastAPI app over one :class:`~glassnet.server.session.Session`.

:func:`create_app` builds the app; :mod:`glassnet.server.run` binds it to 127.0.0.1 under uvicorn. Every request
passes :class:`~glassnet.server.guard.Guard` first, which refuses (403) a Host or Origin other than the served one
(DNS rebinding), a missing or wrong per-launch token, and (413) a body over the size limit. The routes live in
:mod:`glassnet.server.routes`, one router per resource. Parameters are validated by pydantic models plus the
session's own checks; any bad value is a 422 whose ``detail`` is one readable sentence naming the field. The page
receives state changes as server-sent events (``/api/events``); everything else is plain JSON.

Not here: any numerics (:mod:`.bridge`), training state (:mod:`.session`) or the routes themselves. The client never
names a server-side path: datasets are chosen by name, and uploads are written to a private temporary folder under
server-chosen names.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles

from glassnet.server.guard import Guard
from glassnet.server.routes import ROUTERS
from glassnet.server.routes._shared import RETRY_AFTER_S, STATIC_DIR, Busy, Explorer, SafeJSONResponse
from glassnet.server.session import Session, SessionClosed

__all__ = ["create_app", "create_api", "Guard", "STATIC_DIR", "DEFAULT_MAX_BODY"]

#: Default request-body limit: enough for MNIST-sized CSV uploads and model files.
DEFAULT_MAX_BODY = 64 * 2**20


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
    app = create_api(session, max_body_bytes=max_body_bytes, upload_dir=upload_dir)
    explorer = app.state.explorer

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        explorer.heavy.shutdown()
        if own_upload_dir:
            shutil.rmtree(explorer.upload_dir, ignore_errors=True)

    app.router.lifespan_context = lifespan
    app.add_middleware(Guard, hosts=allowed_hosts, token=token, max_body=max_body_bytes)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def create_api(session: Session, *, max_body_bytes: int = DEFAULT_MAX_BODY, upload_dir: Path | None = None
               ) -> FastAPI:
    """The explorer's routes and error handling for ``session``, without the served page's face (no guard, no static
    files, no lifespan): what :func:`create_app` serves over HTTP and :class:`glassnet.server.local.LocalClient` calls
    in the same process (the notebook widget). ``upload_dir``: default a new private temporary folder, which the
    caller removes (``app.state.upload_dir``).
    """
    upload_dir = Path(tempfile.mkdtemp(prefix="glassnet-uploads-")) if upload_dir is None else Path(upload_dir)
    explorer = Explorer(session, upload_dir, max_body_bytes)
    app = FastAPI(title="glassnet explorer", docs_url=None, redoc_url=None, openapi_url=None,
                  default_response_class=SafeJSONResponse)
    app.state.explorer = explorer
    app.state.session = session
    app.state.upload_dir = upload_dir
    app.exception_handler(RequestValidationError)(_on_validation)
    app.exception_handler(ValueError)(_on_value_error)
    app.exception_handler(SessionClosed)(_on_closed)
    app.exception_handler(Busy)(_on_busy)
    for router in ROUTERS:
        app.include_router(router)
    return app


async def _on_validation(request: Request, exc: RequestValidationError) -> SafeJSONResponse:
    return SafeJSONResponse({"detail": _validation_message(exc)}, status_code=422)


async def _on_value_error(request: Request, exc: ValueError) -> SafeJSONResponse:
    # The library's and the session's checks: each message names the argument and what was expected.
    return SafeJSONResponse({"detail": str(exc)}, status_code=422)


async def _on_closed(request: Request, exc: SessionClosed) -> SafeJSONResponse:
    return SafeJSONResponse({"detail": str(exc)}, status_code=503)


async def _on_busy(request: Request, exc: Busy) -> SafeJSONResponse:
    # heavy views beyond their threads and queue (routes._shared.HeavyViews): refused at once, never queued unbounded
    return SafeJSONResponse({"detail": str(exc)}, status_code=503, headers={"retry-after": str(RETRY_AFTER_S)})


def _validation_message(exc: RequestValidationError) -> str:
    """Pydantic's errors as one readable sentence: ``field: what was wrong (got value)`` per error."""
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or "request"
        got = err.get("input")
        got_s = "" if isinstance(got, dict) or got is None else f" (got {json.dumps(got, default=str)[:60]})"
        parts.append(f"{field}: {err.get('msg', 'invalid')}{got_s}")
    return "; ".join(parts)
