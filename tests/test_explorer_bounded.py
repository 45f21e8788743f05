"""The explorer stays bounded: repeated uploads hold one copy, and a storm of heavy views neither grows without bound
nor keeps ``/api/state`` from answering.

Heavy views run on their own threads with a bounded queue (``glassnet.server.routes._shared.HeavyViews``): beyond it
a request is answered at once with 503 and ``Retry-After``. The storm test is a liveness check with a loose bound
(median under a second, each under ten), not a speed benchmark: ``benchmarks/redteam.py`` measures the latencies.
"""

from __future__ import annotations

import io
import statistics
import threading
import time
import tracemalloc

import numpy as np
import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from glassnet.server import ExplorerServer, Session, TrainConfig, bridge  # noqa: E402
from glassnet.server.routes import _shared  # noqa: E402
from server_helpers import api_client, open_session  # noqa: E402

#: The largest network the explorer's limits allow on a 2-feature dataset (params under LIMITS["params"]).
LARGEST = (1024, 1, 1024, 1024)


def test_the_same_upload_ten_times_keeps_memory_bounded(tmp_path):
    m = 50_000
    buf = io.BytesIO()
    np.savez(buf, X=np.random.default_rng(0).normal(size=(m, 2)), y=np.arange(m) % 2)
    body = buf.getvalue()  # 1.2 MB: X and y as loaded are 1.2 MB
    with open_session(TrainConfig(dataset="xor")) as s, api_client(s, tmp_path) as c:
        tracemalloc.start()
        try:
            assert c.post("/api/dataset", params={"filename": "d.npz"}, content=body).status_code == 200
            after_one = tracemalloc.get_traced_memory()[0]
            for k in range(9):
                r = c.post("/api/dataset", params={"filename": "d.npz"}, content=body)
                assert r.status_code == 200, f"upload {k + 2}: {r.text[:300]}"
            after_ten = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
    # nine more uploads held would be 9 × 1.2 MB more; one upload's worth of slack for caches and the allocator
    assert after_ten - after_one < len(body), (after_one, after_ten)


def test_heavy_views_beyond_the_queue_are_refused_with_retry_after(tmp_path, monkeypatch):
    """One view thread and a queue of one: a plane held computing, a walk waiting, and the third heavy view is a 503
    with Retry-After at once, while /api/state answers; once the plane is let go both finish and the slots are free."""
    gate, real_plane = threading.Event(), bridge.plane

    def held_plane(*args, **kwargs):
        gate.wait(60)
        return real_plane(*args, **kwargs)

    monkeypatch.setattr(bridge, "plane", held_plane)
    with open_session(TrainConfig(dataset="xor", hidden=(3,))) as s, api_client(s, tmp_path) as c:
        c.app.state.explorer.heavy.shutdown()
        heavy = c.app.state.explorer.heavy = _shared.HeavyViews(threads=1, queue=1)
        results: dict[str, object] = {}

        def get(name: str, path: str) -> threading.Thread:
            thread = threading.Thread(target=lambda: results.__setitem__(name, c.get(path)))
            thread.start()
            return thread

        def admitted(n: int) -> bool:
            deadline = time.monotonic() + 30
            while heavy.admitted < n and time.monotonic() < deadline:
                time.sleep(0.01)
            return heavy.admitted == n

        try:
            running = get("plane", "/api/plane?resolution=9")
            assert admitted(1)
            waiting = get("steps", "/api/steps?split=train&index=0")
            assert admitted(2)
            r = c.get("/api/view?index=1")
            assert r.status_code == 503 and r.headers["retry-after"] == str(_shared.RETRY_AFTER_S)
            assert r.json()["detail"] == ("the explorer is busy computing 2 views; this one was not started: ask "
                                          f"again in {_shared.RETRY_AFTER_S} s")
            assert c.get("/api/state").status_code == 200  # not queued behind the heavy views
        finally:
            gate.set()
        running.join(60)
        waiting.join(60)
        assert results["plane"].status_code == 200 and results["plane"].json()["resolution"] == 9
        assert results["steps"].status_code == 200
        assert admitted(0) and c.get("/api/view?index=1").status_code == 200


def test_a_storm_of_heavy_views_leaves_state_answering(tmp_path):
    """Eight clients ask for full-resolution maps, backpropagation's steps and traces of the largest network the
    limits allow, as fast as they can, while another asks for /api/state: every state request answers, the median
    in under a second; every heavy request is answered (200, a 422 naming a budget, or a 503 with Retry-After)."""
    session = Session(TrainConfig(dataset="xor", hidden=LARGEST))
    server = ExplorerServer(session, port=0).start()
    headers = {"X-Glassnet-Token": server.token}
    stop = threading.Event()
    statuses: list[int] = []
    errors: list[str] = []

    def storm(k: int) -> None:
        paths = [f"/api/plane?resolution={100 - k}", f"/api/view?index={k}", "/api/steps?split=train&index=0",
                 f"/api/examples?which=all&offset={k}"]
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=120) as client:
            i = 0
            while not stop.is_set():
                try:
                    r = client.get(paths[i % len(paths)])
                except httpx.HTTPError as exc:  # reported below, not swallowed
                    errors.append(repr(exc))
                    return
                statuses.append(r.status_code)
                if r.status_code == 503 and r.headers.get("retry-after") != str(_shared.RETRY_AFTER_S):
                    errors.append("503 without Retry-After")
                i += 1

    try:
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
            assert client.get("/api/state").status_code == 200
            threads = [threading.Thread(target=storm, args=(k,)) for k in range(8)]
            for t in threads:
                t.start()
            time.sleep(1.0)  # the storm under way
            latencies = []
            for _ in range(15):
                t0 = time.perf_counter()
                r = client.get("/api/state")
                latencies.append(time.perf_counter() - t0)
                assert r.status_code == 200 and r.json()["sizes"] == [2, *LARGEST, 1]
                time.sleep(0.1)
            stop.set()
            for t in threads:
                t.join(timeout=180)
    finally:
        stop.set()
        server.stop()
        session.close()
    assert not errors, errors[:5]
    assert statuses and set(statuses) <= {200, 422, 503}, sorted(set(statuses))
    assert statuses.count(200) > 0
    assert statistics.median(latencies) < 1.0 and max(latencies) < 10.0, latencies
