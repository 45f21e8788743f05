"""Run the explorer under uvicorn on 127.0.0.1: bind, print nothing, serve in this thread or a background one.

:class:`ExplorerServer` binds the socket itself *before* building the app, so the actual port (``port=0`` picks a
free one) is known to the Host/Origin allow-list, and so that the printed URL is right. The bind address is always
127.0.0.1: the explorer is a local tool and is never exposed on other interfaces.

Used by ``glassnet serve`` (:meth:`ExplorerServer.serve_forever`, which handles Ctrl-C) and by tests
(:meth:`ExplorerServer.start` / :meth:`ExplorerServer.stop`, a server in a background thread).

Any local process can connect, so connections are handled such that none can lock the token holder out
(:class:`_GuardedH11`): a connection must send a complete request head within :data:`HEADER_TIMEOUT` seconds of
connecting (and of its previous response), idle keep-alive connections close after 5 s, and when
:data:`MAX_CONNECTIONS` are open the oldest connections without a request in progress are closed to make room, so
a crowd of idle sockets never makes a real request wait or fail.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from glassnet.server.app import DEFAULT_MAX_BODY, create_app
from glassnet.server.session import Session

__all__ = ["ExplorerServer", "HOST", "HEADER_TIMEOUT", "MAX_CONNECTIONS"]

HOST = "127.0.0.1"
#: Seconds a connection may take to send a complete request head (after connecting or after its last response).
HEADER_TIMEOUT = 10.0
#: Open connections at most; beyond this the oldest ones without a request in progress are closed.
MAX_CONNECTIONS = 256


class _GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with a request-head timeout and eviction of idle connections (see the module doc)."""

    header_timeout = HEADER_TIMEOUT
    max_connections = MAX_CONNECTIONS

    def connection_made(self, transport) -> None:
        self._opened = time.monotonic()
        self._head_gen = 0
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self._evict_idle()
        self._arm_head_timer()

    def _busy(self) -> bool:
        """A request is in progress on this connection (its head was received, its response is not complete)."""
        return self.cycle is not None and not self.cycle.response_complete

    def _evict_idle(self) -> None:
        idle = sorted((c for c in self.connections if c is not self and isinstance(c, _GuardedH11) and not c._busy()),
                      key=lambda c: c._opened)
        for conn in idle[: len(self.connections) - self.max_connections]:
            conn.transport.close()

    def _arm_head_timer(self) -> None:
        self._head_gen += 1
        gen = self._head_gen
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timeout, gen)

    def _head_timeout(self, gen: int) -> None:
        if gen == self._head_gen and not self._busy() and not self.transport.is_closing():
            self.transport.close()  # no complete request head in time: an idle or trickling client

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_timer()  # the next request head, if any, must come in time too

    def connection_lost(self, exc) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)


class _Uvicorn(uvicorn.Server):
    """uvicorn's server, but a shutdown signal first closes the session, which ends the open event streams."""

    def __init__(self, config: uvicorn.Config, session: Session):
        super().__init__(config)
        self._session = session
        self.on_ready: Callable[[], None] | None = None

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        if self.on_ready is not None and self.started:  # listening now: connections are accepted from here on
            self.on_ready()

    def handle_exit(self, sig, frame) -> None:
        self._session.closed.set()
        super().handle_exit(sig, frame)


class ExplorerServer:
    """The explorer for ``session`` on http://127.0.0.1:PORT/ with a fresh per-launch token.

    Parameters
    ----------
    session : Session
    port : int
        0 (default) lets the OS choose a free port; see :attr:`port` and :attr:`url` afterwards.
    token : str, optional
        The access token (default: 32 random URL-safe characters).
    max_body_bytes : int
        Request-body limit (uploads).
    limit_concurrency : int
        Requests in progress beyond this get HTTP 503 instead of exhausting the process (64 pages need ~2 each).
        Open connections are kept below :data:`MAX_CONNECTIONS` by closing idle ones, so idle sockets never count
        against this limit.
    """

    def __init__(self, session: Session, *, port: int = 0, token: str | None = None,
                 max_body_bytes: int = DEFAULT_MAX_BODY, limit_concurrency: int = 512, log_level: str = "warning"):
        if not 0 <= int(port) <= 65535:
            raise ValueError(f"port: expected 0..65535 (0 = any free port), got {port!r}")
        self.session = session
        self.token = token or secrets.token_urlsafe(24)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind((HOST, int(port)))
        except OSError as exc:
            self.sock.close()
            raise OSError(f"port: cannot listen on {HOST}:{port} ({exc.strerror or exc})") from None
        self.port = int(self.sock.getsockname()[1])
        hosts = {f"{HOST}:{self.port}", f"localhost:{self.port}"}
        self.app = create_app(session, token=self.token, allowed_hosts=hosts, max_body_bytes=max_body_bytes)
        config = uvicorn.Config(self.app, log_level=log_level, access_log=False, lifespan="on",
                                timeout_graceful_shutdown=3, limit_concurrency=limit_concurrency,
                                timeout_keep_alive=5, http=_GuardedH11)
        self.server = _Uvicorn(config, session)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The page's address, token included (what ``glassnet serve`` prints)."""
        return f"http://{HOST}:{self.port}/?token={self.token}"

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def serve_forever(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve in this thread until Ctrl-C / SIGTERM, then stop training and close; returns normally.

        ``on_ready()`` is called once the server accepts connections (``glassnet serve`` prints its URL then).
        """
        self.server.on_ready = on_ready
        # uvicorn re-raises the signal that stopped it once it has shut down; let that be a no-op for SIGTERM and
        # catch the KeyboardInterrupt of SIGINT, so that stopping the explorer is a normal exit.
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, lambda sig, frame: None) if main else None
        try:
            self.server.run(sockets=[self.sock])
        except KeyboardInterrupt:
            pass
        finally:
            if main:
                signal.signal(signal.SIGTERM, previous)
            self.session.close()
            self.sock.close()

    def start(self, timeout: float = 20.0) -> ExplorerServer:
        """Serve from a background thread; returns once the server accepts connections."""
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                        name="glassnet-explorer", daemon=True)
        self._thread.start()
        end = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > end:
                raise RuntimeError(f"the explorer did not start on {self.base_url}")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 20.0) -> None:
        """Stop training, end the event streams and shut the server down (from any thread)."""
        self.session.close()
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self.sock.close()

    def __enter__(self) -> ExplorerServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
