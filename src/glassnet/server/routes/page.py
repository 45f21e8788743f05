"""The explorer's page: ``/`` serves ``static/index.html`` (its scripts and styles come from ``/static/``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from glassnet.server.routes._shared import STATIC_DIR, SafeJSONResponse

router = APIRouter(default_response_class=SafeJSONResponse)


@router.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"cache-control": "no-store"})
