"""What the explorer's routers share: the per-app :class:`Explorer`, the dependency that hands it to a route, the
JSON response class, and the few helpers two routers need (an example by split and index, upload names and files).

Not for: anything a single router needs (it lives in that router).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict

from glassnet._support.jsonsafe import dumps as json_dumps
from glassnet.server.session import Session

STATIC_DIR = Path(__file__).parent.parent / "static"
#: Threads for the heavy views, apart from the shared pool that serves /api/state, the event stream and the controls.
VIEW_THREADS = 2
#: Heavy views that may wait for a view thread (a waiting one holds only its request: the memory is spent by the
#: VIEW_THREADS running); a request beyond the running and waiting ones is answered at once
#: with 503 and ``Retry-After`` (:class:`Busy`) instead of queueing without bound.
VIEW_QUEUE = 64
#: Seconds a refused heavy view is told to wait before asking again.
RETRY_AFTER_S = 1


class Busy(Exception):
    """Every view thread is busy and the queue is full: answered 503 with ``Retry-After`` (see :class:`HeavyViews`)."""

    def __init__(self, admitted: int):
        super().__init__(f"the explorer is busy computing {admitted} views; this one was not started: ask again in "
                         f"{RETRY_AFTER_S} s")


class HeavyViews:
    """Bounded concurrency for the views whose cost grows with the network or the resolution (the example's trace and
    diagram, backpropagation's steps, the plane's maps, galleries, hidden units, what-if steps).

    They run on their own ``threads`` threads, never on the shared pool that answers ``/api/state``, the event stream
    and the controls, so that no number of them delays those. At most ``threads + queue`` are admitted at once (running
    or waiting for a thread); one more is refused at once with :class:`Busy` (503, ``Retry-After``), so a storm costs
    a bounded amount of memory and time. A slot is freed when its computation ends, not when its client goes away: a
    request abandoned while waiting is dropped from the queue, one abandoned while running still holds its thread.
    """

    def __init__(self, threads: int = VIEW_THREADS, queue: int = VIEW_QUEUE):
        self.limit = threads + queue
        self.pool = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="glassnet-view")
        self._admitted = 0
        self._lock = threading.Lock()  # the count is freed from the view threads (a future's done callback)

    @property
    def admitted(self) -> int:
        """Heavy views running or waiting now."""
        return self._admitted

    def _release(self, _future) -> None:
        with self._lock:
            self._admitted -= 1

    def submit(self, fn: Callable, *args) -> asyncio.Future:
        """Run ``fn(*args)`` on a view thread (from the event loop); :class:`Busy` when the limit is reached."""
        with self._lock:
            if self._admitted >= self.limit:
                raise Busy(self._admitted)
            self._admitted += 1
        try:
            future = self.pool.submit(fn, *args)
        except BaseException:
            self._release(None)
            raise
        future.add_done_callback(self._release)
        return asyncio.wrap_future(future)

    async def run(self, fn: Callable, *args):
        """``await`` :meth:`submit`."""
        return await self.submit(fn, *args)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


class SafeJSONResponse(JSONResponse):
    """JSON that a browser's ``JSON.parse`` always accepts: NaN and ±inf (e.g. J of weights near 1e308) become null,
    which the page shows as "–" (:mod:`glassnet._support.jsonsafe`)."""

    def render(self, content) -> bytes:
        return json_dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class StrictBody(BaseModel):
    """A JSON request body that refuses unknown fields (a typo is a 422, not silently ignored)."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class Explorer:
    """One app's state besides the session: where uploads go, the request-body limit, and the shared caches.

    Heavy views run through ``heavy`` (:class:`HeavyViews`: their own threads and a bounded queue), never on the
    shared threads /api/state needs; identical requests at one state share one computation (``view_cache`` is keyed
    by the session's version, as is ``state_cache``).
    """

    session: Session
    upload_dir: Path
    max_body_bytes: int
    heavy: HeavyViews = field(default_factory=HeavyViews)
    view_cache: dict[tuple, asyncio.Future] = field(default_factory=dict)
    state_cache: dict[tuple, tuple[bytes, int, int, int]] = field(default_factory=dict)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def cached_state(self, history_from: int = 0, gen: int | None = None) -> tuple[bytes, int, int, int] | None:
        """:meth:`state_payload` when it is already made for the session's version, else None (nothing computed)."""
        return self.state_cache.get((self.session.version, gen, history_from))

    def state_payload(self, history_from: int = 0, gen: int | None = None) -> tuple[bytes, int, int, int]:
        """(JSON, version, history generation, history length), shared by all clients at the same point."""
        key = (self.session.version, gen, history_from)
        hit = self.state_cache.get(key)
        if hit is None:
            st = self.session.state(history_from, gen)
            hit = (json_dumps(st).encode(), st["version"], st["history"]["gen"], st["history"]["total"])
            if len(self.state_cache) > 64:
                self.state_cache.clear()
            self.state_cache[key] = hit
        return hit

    async def shared_view(self, key: tuple, fn: Callable[..., bytes], *args) -> Response:
        """The JSON bytes ``fn(*args)`` computed on a view thread, shared by identical requests (same ``key``,
        which starts with the session's version) while it runs and after."""
        future = self.view_cache.get(key)
        if future is None:
            if len(self.view_cache) > 32:
                self.view_cache.clear()
            future = self.heavy.submit(fn, *args)
            self.view_cache[key] = future
        try:
            body = await asyncio.shield(future)
        except Exception:
            self.view_cache.pop(key, None)
            raise
        return Response(body, media_type="application/json")

    def state_response(self) -> Response:
        """The whole state as the answer of a control (reset, play, ...): what the page shows next."""
        return Response(self.state_payload()[0], media_type="application/json", headers={"cache-control": "no-store"})

    def file_path(self, prefix: str, suffix: str) -> Path:
        """A new server-chosen file name in the upload folder (the client never names a server-side path)."""
        return self.upload_dir / f"{prefix}-{next(self.counter)}{suffix}"


async def explorer(request: Request) -> Explorer:
    """The dependency every route takes: the app's :class:`Explorer` (``app.state.explorer``)."""
    return request.app.state.explorer


ExplorerDep = Annotated[Explorer, Depends(explorer)]


def example(parts, split: str, index: int):
    """``(x, label)``: row ``index`` of the ``split`` ("train" or "val") part of ``parts``.

    parts: (X_train, y_train, X_val, y_val), the session's snapshot; x: (n,), label: the class index (a float: the
    target of a regression set)."""
    X, y = (parts[0], parts[1]) if split == "train" else (parts[2], parts[3])
    if not 0 <= index < X.shape[0]:
        raise ValueError(f"index: expected an example 0..{X.shape[0] - 1} of the {split} set, got {index}")
    return X[index], (float(y[index]) if y.dtype.kind == "f" else int(y[index]))


def safe_name(filename: str, suffixes: tuple[str, ...]) -> tuple[str, str]:
    """``(name, suffix)``: the client's file name reduced to safe characters; a suffix not in ``suffixes`` is a
    ``ValueError`` (422)."""
    base = re.sub(r"[^A-Za-z0-9._-]", "_", filename.replace("\\", "/").rsplit("/", 1)[-1]).lstrip(".")[:80]
    suffix = Path(base).suffix.lower()
    if suffix not in suffixes:
        raise ValueError(f"filename: expected a file ending in {', '.join(suffixes)}, got {filename!r}")
    return base or f"upload{suffix}", suffix


async def save_body(request: Request, ex: Explorer, suffix: str) -> Path:
    """The raw request body written to a new file in the upload folder (the caller removes it)."""
    body = await request.body()
    if not body:
        raise ValueError("file: the upload is empty")
    path = ex.file_path("upload", suffix)
    path.write_bytes(body)
    return path
