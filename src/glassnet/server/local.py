"""The explorer's API called in the same process, with no socket: :class:`LocalClient` sends a request through the
very routes the web page reaches over HTTP (:func:`glassnet.server.app.create_api`) and returns the reply.

The notebook widget (:mod:`glassnet.widget`) is its caller: the page's ES modules ask for ``/api/...`` paths, the
widget hands each request to :meth:`LocalClient.request`, and every parameter check, error message and number is the
one the web page gets. There is no HTTP server, port or token here: nothing outside this Python process can reach
these routes, so the guard that protects the served page (:mod:`.guard`) has nothing to guard.

The routes run on one asyncio loop in a background thread (the heavy views on the app's own pool, as in the server);
:meth:`LocalClient.request` may be called from any thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from glassnet.server.app import DEFAULT_MAX_BODY, create_api
from glassnet.server.routes._shared import Explorer
from glassnet.server.session import Session

__all__ = ["LocalClient", "Reply"]


@dataclass(frozen=True)
class Reply:
    """What a route answered: the HTTP status, its media type, the body's bytes (JSON for every ``/api`` route
    except the model file's download) and the headers (lower-case names)."""

    status: int
    media: str
    body: bytes
    headers: dict[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class LocalClient:
    """The explorer's routes for ``session``, called in this process (see the module docstring).

    Parameters
    ----------
    session : Session
        The state the routes show and drive (the caller closes it).
    max_body_bytes : int
        Larger request bodies (uploads of data or model files) are refused with 413, as by the server.
    """

    def __init__(self, session: Session, *, max_body_bytes: int = DEFAULT_MAX_BODY):
        self.session = session
        self.max_body_bytes = int(max_body_bytes)
        self._upload_dir = Path(tempfile.mkdtemp(prefix="glassnet-widget-"))
        self.app = create_api(session, max_body_bytes=self.max_body_bytes, upload_dir=self._upload_dir)
        self.explorer: Explorer = self.app.state.explorer
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="glassnet-local-api", daemon=True)
        self._thread.start()

    def submit(self, method: str, path: str, *, body: bytes = b"",
               content_type: str | None = None) -> concurrent.futures.Future[Reply]:
        """Start one request (``path`` may carry a query string); the future's result is the :class:`Reply`."""
        if len(body) > self.max_body_bytes:
            detail = (f'{{"detail":"request body too large: {len(body)} bytes; the limit is '
                      f'{self.max_body_bytes} bytes"}}').encode()
            done: concurrent.futures.Future[Reply] = concurrent.futures.Future()
            done.set_result(Reply(413, "application/json", detail, {}))
            return done
        return asyncio.run_coroutine_threadsafe(self._call(method.upper(), path, body, content_type), self._loop)

    def request(self, method: str, path: str, *, body: bytes = b"", content_type: str | None = None,
                timeout: float | None = 120.0) -> Reply:
        """One request, waited for: :meth:`submit`'s result."""
        return self.submit(method, path, body=body, content_type=content_type).result(timeout)

    async def _call(self, method: str, path: str, body: bytes, content_type: str | None) -> Reply:
        parts = urlsplit(path)
        if not parts.path.startswith("/api/") or parts.scheme or parts.netloc:
            return Reply(404, "application/json", b'{"detail":"path: not an explorer API path"}', {})
        headers = [(b"host", b"glassnet.local"), (b"content-length", str(len(body)).encode())]
        if content_type:
            headers.append((b"content-type", content_type.encode("latin-1")))
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": parts.path, "raw_path": parts.path.encode(),
                 "query_string": parts.query.encode(), "root_path": "", "headers": headers,
                 "client": ("local", 0), "server": ("glassnet.local", 80), "state": {}}
        sent = False
        status, chunks, got = 500, [], {}

        async def receive():
            nonlocal sent
            if sent:  # the body was read: what a server sends when the client goes away
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                got.update((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        media = got.get("content-type", "application/json").split(";")[0].strip()
        return Reply(status, media, b"".join(chunks), got)

    def close(self) -> None:
        """Stop the loop and the heavy-view threads and remove the upload folder (the session is the caller's to
        close)."""
        self.explorer.heavy.shutdown()
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            if threading.current_thread() is not self._thread:  # (a widget collected by the loop's own thread)
                self._thread.join(5.0)
        if not self._loop.is_running():
            self._loop.close()  # its selector's sockets too (closing twice is a no-op)
        shutil.rmtree(self._upload_dir, ignore_errors=True)
