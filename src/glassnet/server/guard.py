"""The explorer's one gate: every request passes :class:`Guard` before any route sees it.

It refuses (403) a Host or Origin other than the served one (DNS rebinding) and a missing or wrong per-launch token,
refuses (413) a body over the size limit, also while the body is being read, and adds the security headers to every
response. Static assets (``/static/...``, public code) need no token.

Not here: routes (:mod:`glassnet.server.routes`) or the app factory (:mod:`glassnet.server.app`).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable
from urllib.parse import parse_qs

from fastapi import HTTPException

__all__ = ["Guard", "BodyTooLarge", "TOKEN_HEADER", "SECURITY_HEADERS"]

TOKEN_HEADER = "x-glassnet-token"

SECURITY_HEADERS = [
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
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
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
                                *SECURITY_HEADERS]})
        await send({"type": "http.response.body", "body": body})
