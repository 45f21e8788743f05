"""The explorer under local abuse: idle and trickling connections, huge weights, long class names, heavy views.

Real servers on 127.0.0.1 in a background thread; every wait is bounded.
"""

from __future__ import annotations

import json
import socket
import threading
import warnings

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from glassnet.server import ExplorerServer, Session, TrainConfig, bridge
from glassnet.server import run as server_run
from glassnet.server import session as session_module
from server_helpers import api_client, open_session


def strict_json(text: str):
    """What a browser's JSON.parse accepts: no NaN or Infinity."""

    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def session():
    with open_session(TrainConfig(dataset="xor", hidden=(2,), delay_ms=0, max_iter=5)) as s:
        yield s


@pytest.fixture
def client(session, tmp_path):
    with api_client(session, tmp_path) as c:
        yield c


def test_1000_idle_connections_do_not_lock_out_the_token_holder(monkeypatch):
    monkeypatch.setattr(server_run._GuardedH11, "header_timeout", 60.0)  # the idle sockets stay for the whole test
    session = Session(TrainConfig(dataset="xor", hidden=(2,), delay_ms=0))
    server = ExplorerServer(session, port=0).start()
    idle = []
    try:
        for _ in range(1000):
            idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=10))
        with httpx.Client(base_url=server.base_url, headers={"X-Glassnet-Token": server.token}, timeout=20) as c:
            for _ in range(3):
                r = c.get("/api/state")
                assert r.status_code == 200 and r.json()["sizes"] == [2, 2, 1]
        assert len(server.server.server_state.connections) <= server_run.MAX_CONNECTIONS + 1
    finally:
        for s in idle:
            s.close()
        server.stop()


def test_a_connection_without_a_complete_request_head_is_closed(monkeypatch):
    monkeypatch.setattr(server_run._GuardedH11, "header_timeout", 0.5)
    session = Session(TrainConfig(dataset="xor", hidden=(2,), delay_ms=0))
    server = ExplorerServer(session, port=0).start()
    try:
        for first in (b"", b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n"):  # idle; trickling headers
            s = socket.create_connection(("127.0.0.1", server.port), timeout=20)
            s.sendall(first)
            assert s.recv(100) == b""  # closed by the server (a timeout of the recv raises instead)
            s.close()
    finally:
        server.stop()


def test_the_url_is_printed_only_once_the_server_accepts_connections():
    session = Session(TrainConfig(dataset="xor", hidden=(2,), delay_ms=0))
    server = ExplorerServer(session, port=0)
    ready = threading.Event()
    seen = {}

    def on_ready():  # runs in the server's event loop: what `glassnet serve` does here is print the URL
        with socket.create_connection(("127.0.0.1", server.port), timeout=5):
            seen["connected"] = True  # the socket listens already: the printed URL is never refused
        ready.set()

    thread = threading.Thread(target=server.serve_forever, kwargs={"on_ready": on_ready}, daemon=True)
    thread.start()
    try:
        assert ready.wait(30) and seen["connected"]
        r = httpx.get(f"{server.base_url}/api/state", headers={"X-Glassnet-Token": server.token}, timeout=20)
        assert r.status_code == 200
    finally:
        server.server.should_exit = True
        thread.join(30)
    assert not thread.is_alive()


def test_huge_weights_give_valid_json_with_null_costs(session, client):
    big = [np.full((2, 3), 1e308), np.full((1, 3), -1e308)]
    with warnings.catch_warnings():  # the overflows are what a served page meets: J = inf
        warnings.simplefilter("ignore", RuntimeWarning)
        session.reset(session.config, big, "huge")
        r = client.get("/api/state")
        v = client.get("/api/view?split=train&index=0")
    assert r.status_code == 200 and v.status_code == 200
    state, view = strict_json(r.text), strict_json(v.text)  # no Infinity, which JSON.parse rejects
    assert state["sizes"] == [2, 2, 1] and "Infinity" in json.dumps(session.state(), allow_nan=True)
    assert view["cost"] is None


def test_class_names_are_sent_once_per_event_stream(session):
    full = session.state()
    assert full["dataset"]["classes"] == ["0", "1"]
    later = session.state(full["history"]["total"], full["history"]["gen"])
    assert later["dataset"]["classes"] is None
    assert session.state(0, full["history"]["gen"] + 1)["dataset"]["classes"] == ["0", "1"]


def test_kept_uploads_are_bounded_in_bytes(session, monkeypatch):
    monkeypatch.setitem(session_module.LIMITS, "upload_bytes", 15_000)
    X = np.zeros((300, 2))
    names = []
    for k in range(3):
        data = bridge.Dataset(f"upload:d{k}.csv", X, np.arange(300) % 2, ["a", "b"], "test")
        names.append(session.add_upload(data))  # 7.2 KB each (X and y): two fit, the third pushes out the first
    assert [n for n in names if n in session.dataset_names()] == names[1:]
    with pytest.raises(ValueError, match="more than the explorer keeps for uploads"):
        session.add_upload(bridge.Dataset("upload:big.csv", np.zeros((1000, 2)), np.arange(1000) % 2, ["a", "b"], ""))


def _small_npz(m: int = 300) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, X=np.random.default_rng(0).normal(size=(m, 2)), y=np.arange(m) % 2)
    return buf.getvalue()


def test_the_same_upload_ten_times_is_held_once(tmp_path):
    import gc
    import weakref

    body = _small_npz()
    with open_session(TrainConfig(dataset="xor")) as s, api_client(s, tmp_path) as c:
        first = None
        for k in range(10):
            r = c.post("/api/dataset", params={"filename": "d.npz"}, content=body)
            assert r.status_code == 200, f"upload {k + 1}: {r.text[:300]}"
            if first is None:
                first = weakref.ref(s.data.X)
            uploads = [n for n in s.dataset_names() if n.startswith("upload:")]
            assert uploads == ["upload:d.npz"], f"upload {k + 1}: {uploads}"
        assert r.json()["config"]["dataset"] == "upload:d.npz"
        gc.collect()
        assert first() is None  # the replaced upload's arrays were released


def test_replaced_and_evicted_uploads_are_freed_and_not_counted(tmp_path, monkeypatch):
    """Uploads of other files, each larger than half the byte budget: the upload it replaces as the current dataset
    is forgotten once replaced (it was taken off the count while current, and then kept for as long as the server
    ran: six uploads of a small file that inflates to 1 GB held 6 GB)."""
    import gc
    import weakref

    body = _small_npz()  # 7.2 KB as loaded (X and y): with a budget of 10 KB, one is kept once the next is current
    monkeypatch.setitem(session_module.LIMITS, "upload_bytes", 10_000)
    with open_session(TrainConfig(dataset="xor")) as s, api_client(s, tmp_path) as c:
        refs = []
        for k in range(10):
            r = c.post("/api/dataset", params={"filename": f"d{k}.npz"}, content=body)
            assert r.status_code == 200, f"upload {k + 1}: {r.text[:300]}"
            refs.append(weakref.ref(s.data.X))
            held = [n for n in s._datasets if n.startswith("upload:")]
            assert held == [f"upload:d{k}.npz"] and held == [n for n in s.dataset_names() if n.startswith("upload:")]
        assert s.config.dataset == "upload:d9.npz"
        gc.collect()
        assert [ref() is not None for ref in refs] == [False] * 9 + [True]


def test_identical_heavy_views_share_one_computation_off_the_shared_pool(session, client, monkeypatch):
    threads, real = [], bridge.trace

    def counting(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(bridge, "trace", counting)
    first = client.get("/api/view?split=train&index=1")
    again = client.get("/api/view?split=train&index=1")
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert len(threads) == 1 and threads[0].startswith("glassnet-view")
    assert client.get("/api/view?split=train&index=99999").status_code == 422


def test_heavy_views_of_a_big_network_keep_to_their_cost_budget(tmp_path):
    """The largest network the limits allow on xor: the maps come on a coarser grid with a note saying so, and the
    step-by-step walk (a million terms) is refused before any work, naming the budget."""
    with open_session(TrainConfig(dataset="xor", hidden=(1024, 1, 1024, 1024))) as s, api_client(s, tmp_path) as c:
        r = c.get("/api/plane?resolution=50")
        assert r.status_code == 200
        p = r.json()
        res, units = p["resolution"], len(p["units"]) + p["K"]
        assert units == 3074 and 8 <= res < 50 and p["requested_resolution"] == 50
        assert res**2 * units <= bridge.PLANE_VALUES < (res + 1) ** 2 * units  # the finest grid within the budget
        assert len(p["output"][0]) == res and all(len(u["values"]) == res for u in p["units"])
        assert f"maps on a {res} × {res} grid instead of 50 × 50" in p["note"] and "3,074" in p["note"]
        assert len(r.content) < 4 << 20  # was 44 MiB at resolution 50, 177 MiB at 100
        r = c.get("/api/steps?split=train&index=0")
        assert r.status_code == 422
        assert "1,051,648 terms" in r.json()["detail"] and f"more than the {bridge.STEPS_TERMS:,}" in r.json()["detail"]
        assert c.get("/api/state").status_code == 200


def test_heavy_views_of_a_small_network_are_as_requested(tmp_path):
    with open_session(TrainConfig(dataset="xor", hidden=(4,))) as s, api_client(s, tmp_path) as c:
        p = c.get("/api/plane?resolution=50").json()
        assert p["resolution"] == p["requested_resolution"] == 50 and p["note"] == ""
        assert c.get("/api/steps?split=train&index=0").status_code == 200
