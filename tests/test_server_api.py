"""The explorer's HTTP API: security guard, validation, training control, numbers, files, streams, CLI.

Most tests drive the FastAPI app in-process with its test client; the concurrency and CLI tests start a real uvicorn
server on 127.0.0.1 port 0 (in a thread or a subprocess) and always stop it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

import glassnet
import glassnet.io as gio
from glassnet.backprop import deltas
from glassnet.explain.text import format_number
from glassnet.forward import propagate
from glassnet.outputs import encode_labels
from glassnet.server import ExplorerServer, Session, TrainConfig, bridge, create_app
from glassnet.server.session import wait_for
from server_helpers import TOKEN, TestClient, api_client, detail, open_session

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def session():
    with open_session(TrainConfig(dataset="digits", hidden=(25,), lam=1.0, max_iter=400, delay_ms=0)) as s:
        yield s


@pytest.fixture
def client(session, tmp_path):
    with api_client(session, tmp_path, max_body_bytes=200_000) as c:
        yield c


# ------------------------------------------------------------------------------------------------ security


def test_token_is_required_on_the_page_and_every_api_call(session, tmp_path):
    app = create_app(session, token=TOKEN, allowed_hosts={"testserver"}, upload_dir=tmp_path)
    with TestClient(app) as anon:
        for method, path in [("GET", "/"), ("GET", "/api/state"), ("GET", "/api/events"), ("POST", "/api/play"),
                             ("GET", "/api/model"), ("POST", "/api/weight")]:
            r = anon.request(method, path)
            assert r.status_code == 403, path
            assert "missing access token" in detail(r)
        r = anon.get("/api/state", headers={"X-Glassnet-Token": "not-the-token"})
        assert r.status_code == 403 and "wrong access token" in detail(r)
        r = anon.get(f"/api/state?token={TOKEN}x")
        assert r.status_code == 403
        r = anon.get(f"/api/state?token={TOKEN}")  # what the page's event stream uses
        assert r.status_code == 200 and r.json()["sizes"] == [64, 25, 10]
        page = anon.get(f"/?token={TOKEN}")
        assert page.status_code == 200 and "glassnet explorer" in page.text
        # Static assets are public code: no token, but still the Host check.
        assert anon.get("/static/explorer.js").status_code == 200
        assert anon.get("/static/explorer.js", headers={"Host": "evil.example"}).status_code == 403
    assert session.status == "idle"  # nothing was started by the refused POST


def test_dns_rebinding_host_and_foreign_origin_are_refused(client):
    r = client.get("/api/state", headers={"Host": "attacker.example:8000"})
    assert r.status_code == 403 and "Host 'attacker.example:8000' is not allowed" in detail(r)
    r = client.get("/api/state", headers={"Host": "127.0.0.1:9"})  # right address, wrong served host
    assert r.status_code == 403
    r = client.post("/api/play", headers={"Origin": "http://attacker.example"})
    assert r.status_code == 403 and "Origin" in detail(r)
    r = client.post("/api/pause", headers={"Origin": "null"})
    assert r.status_code == 403
    assert client.post("/api/pause", headers={"Origin": "http://testserver"}).status_code == 200


def test_security_headers_and_no_docs(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["referrer-policy"] == "no-referrer"  # the token in the URL must not leak
    assert r.headers["x-content-type-options"] == "nosniff"
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 404
    # Nothing from a CDN or any other host: the page works offline (the SVG namespace is a name, not a fetch). Every
    # ES module of the page is served and checked, not only the entry.
    static = Path(bridge.__file__).parent / "static"
    modules = sorted(p.name for p in static.glob("*.js"))
    assert "explorer.js" in modules and "api.js" in modules
    pages = [client.get(f"/static/{name}") for name in [*modules, "explorer.css"]]
    assert all(page.status_code == 200 for page in pages)
    for text in (r.text, *(page.text for page in pages)):
        text = text.replace("http://www.w3.org/2000/svg", "")
        assert "http://" not in text and "https://" not in text and "//cdn" not in text


def test_request_body_limit_gives_413(client, tmp_path):
    big = b"1,2,0\n" * 40_000  # 240 kB > 200 kB
    r = client.post("/api/dataset?filename=big.csv", content=big)
    assert r.status_code == 413
    assert "request body too large: 240000 bytes; the limit is 200000 bytes" in detail(r)

    def chunks():  # no Content-Length: counted while it streams in
        for _ in range(40):
            yield b"1,2,0\n" * 1000

    r = client.post("/api/dataset?filename=big.csv", content=chunks())
    assert r.status_code == 413 and "the limit is 200000 bytes" in detail(r)
    assert list(tmp_path.iterdir()) == []  # nothing was written


# ------------------------------------------------------------------------------------------------ validation


@pytest.mark.parametrize("body, message", [
    ({"hidden": [0]}, "hidden.0: Input should be greater than or equal to 1 (got 0)"),
    ({"hidden": [5000]}, "hidden.0: Input should be less than or equal to 1024 (got 5000)"),
    ({"hidden": [10, 10, 10, 10, 10]}, "hidden: List should have at most 4 items"),
    ({"hidden": ["ten"]}, "hidden.0: Input should be a valid integer"),
    ({"hidden": [1024, 1024, 1024]}, "hidden: the network 64-1024-1024-1024-10 has 2176010 weights; the explorer "
                                     "allows at most 2000000"),
    ({"lam": -1}, "lam: Input should be greater than or equal to 0 (got -1)"),
    ({"lam": 1e9}, "lam: Input should be less than or equal to 1000000"),
    ({"optimizer": "newton"}, "optimizer: Input should be 'lbfgs', 'cg', 'sgd' or 'adam'"),
    ({"learning_rate": 0}, "learning_rate: Input should be greater than 0"),
    ({"max_iter": 10**9}, "max_iter: Input should be less than or equal to 100000"),
    ({"dataset": "../../etc/passwd"}, "dataset: expected one of"),
    ({"dataset": "/srv/course/data/ex4weights.mat"}, "dataset: expected one of"),
    ({"colour": "red"}, "colour: Extra inputs are not permitted"),
])
def test_bad_settings_are_422_with_a_message(client, session, body, message):
    before = session.version
    r = client.post("/api/reset", json=body)
    assert r.status_code == 422
    assert message in detail(r)
    assert session.version == before  # nothing changed


def test_nan_and_inf_are_refused(client):
    r = client.post("/api/reset", content=b'{"lam": NaN}', headers={"content-type": "application/json"})
    assert r.status_code == 422 and detail(r).startswith("lam: Input should be a finite number")
    r = client.post("/api/weight", content=b'{"l": 1, "i": 1, "j": 1, "value": Infinity}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 422 and "value" in detail(r)


@pytest.mark.parametrize("path, message", [
    # ⌈0.2·1797⌉ = 360 held out
    ("/api/view?index=1437", "index: expected an example 0..1436 of the train set, got 1437"),
    ("/api/view?split=val&index=360", "index: expected an example 0..359 of the val set, got 360"),
    ("/api/view?index=-1", "index: Input should be greater than or equal to 0"),
    ("/api/view?unit=4:1", "unit: expected l:j with l in 1..3"),
    ("/api/view?unit=2:26", "unit: expected l:j"),
    ("/api/view?unit=2;3", "unit: String should match pattern"),
    ("/api/view?edge=3:1:1", "edge: expected l:i:j with l in 1..2"),
    ("/api/view?edge=1:1:65", "edge: expected l:i:j"),
    ("/api/view?split=test", "split: Input should be 'train' or 'val'"),
    ("/api/examples?limit=100000", "limit: Input should be less than or equal to 200"),
])
def test_bad_query_parameters_are_422(client, path, message):
    r = client.get(path)
    assert r.status_code == 422
    assert message in detail(r)


@pytest.mark.parametrize("body, message", [
    ({"l": 3, "i": 1, "j": 1, "value": 1.0}, "l: expected a layer 1..2"),
    ({"l": 2, "i": 11, "j": 1, "value": 1.0}, "i: expected a unit 1..10 of layer 3, got 11"),
    ({"l": 1, "i": 1, "j": 65, "value": 1.0}, "j: expected a unit 0..64 of layer 1 (0 = bias), got 65"),
    ({"l": 1, "i": 1, "j": 1, "value": 1e7}, "value: Input should be less than or equal to 1000000"),
])
def test_bad_weight_edits_are_422(client, body, message):
    r = client.post("/api/weight", json=body)
    assert r.status_code == 422 and message in detail(r)


# ------------------------------------------------------------------------------------------------ numbers


def _lecture_deltas(session, split, index):
    _, thetas, _, _, parts = session.snapshot_view()
    X, y = (parts[0], parts[1]) if split == "train" else (parts[2], parts[3])
    cache = propagate(thetas, X[index:index + 1])
    return thetas, cache, deltas(thetas, cache, encode_labels(y[index:index + 1], 10, 1))


def test_view_shows_the_backprop_deltas_and_the_equation(client, session):
    r = client.get("/api/view?split=val&index=5&unit=2:3&mode=backward")
    assert r.status_code == 200
    v = r.json()
    thetas, cache, delta = _lecture_deltas(session, "val", 5)
    np.testing.assert_allclose(v["layers"][1]["delta"], delta[1][0], rtol=1e-12)
    np.testing.assert_allclose(v["layers"][2]["delta"], delta[2][0], rtol=1e-12)
    np.testing.assert_allclose(v["output"], cache.output[0], rtol=1e-12)
    u = v["unit"]
    assert u["kind"] == "hidden"
    assert u["delta"] == pytest.approx(delta[1][0, 2], rel=1e-12)
    assert u["z"] == pytest.approx(cache.z[1][0, 2], rel=1e-12)
    assert u["gprime"] == pytest.approx(cache.activations[1][0, 2] * (1 - cache.activations[1][0, 2]), rel=1e-12)
    # Edge terms Θ_i3^(2)·δ_i^(3) over the 10 outgoing edges; their sum times g′(z) is δ_3^(2).
    terms = [t["term"] for t in u["terms"]]
    np.testing.assert_allclose(terms, thetas[1][:, 3] * delta[2][0], rtol=1e-12)
    assert u["sum"] * u["gprime"] == pytest.approx(u["delta"], rel=1e-12)
    assert u["equation"].startswith("δ₃⁽²⁾ = Θ₁₃⁽²⁾·δ₁⁽³⁾ + Θ₂₃⁽²⁾·δ₂⁽³⁾")
    assert u["equation"].endswith(format_number(u["delta"]))
    # The diagram is the explain package's SVG, with clickable ids.
    assert v["svg"].startswith("<svg") and 'id="unit-2-3"' in v["svg"] and 'id="edge-2-1-3"' in v["svg"]
    assert len(v["pixels"]) == 64 and v["image_shape"] == [8, 8]


def test_output_unit_and_edge_details(client, session):
    v = client.get("/api/view?index=7&unit=3:4&edge=2:4:3").json()
    thetas, cache, delta = _lecture_deltas(session, "train", 7)
    label = v["label"]
    assert v["unit"]["target"] == (1.0 if label == 3 else 0.0)
    assert v["unit"]["delta"] == pytest.approx(cache.output[0, 3] - v["unit"]["target"], rel=1e-12)
    e = v["edge"]
    assert e["theta"] == thetas[1][3, 3]
    assert e["term"] == pytest.approx(thetas[1][3, 3] * delta[2][0, 3], rel=1e-12)
    assert e["example_gradient"] == pytest.approx(delta[2][0, 3] * cache.activations[1][0, 2], rel=1e-12)
    _, _, _, _, parts = session.snapshot_view()
    _, grads = glassnet.cost_and_gradient(thetas, parts[0], parts[1], 1.0)
    assert e["D"] == pytest.approx(grads[1][3, 3], rel=1e-12)


def test_editing_a_weight_changes_J_and_every_delta(client, session):
    before = client.get("/api/view?index=2&unit=2:3").json()
    J0 = client.get("/api/state").json()["current"]["J"]
    J_theta_old = float(session.snapshot_view()[1][1][3, 3])
    r = client.post("/api/weight", json={"l": 2, "i": 4, "j": 3, "value": 5.0})
    assert r.status_code == 200
    _, thetas, _, _, parts = session.snapshot_view()
    assert thetas[1][3, 3] == 5.0
    J1 = r.json()["current"]["J"]
    assert J1 == pytest.approx(glassnet.cost(thetas, parts[0], parts[1], 1.0), rel=1e-12)
    assert abs(J1 - J0) > 1e-3
    after = client.get("/api/view?index=2&unit=2:3").json()
    assert after["unit"]["delta"] != before["unit"]["delta"]
    assert after["layers"][2]["delta"] != before["layers"][2]["delta"]
    st = client.get("/api/state").json()
    assert st["snapshots"]["count"] == 2
    assert st["snapshots"]["label"] == "edit Θ₄₃⁽²⁾: " + format_number(J_theta_old) + " → 5"
    # Time travel undoes it.
    st = client.post("/api/rewind", json={"index": 0}).json()
    assert st["current"]["J"] == pytest.approx(J0, rel=1e-15)


def test_whatif_preview_lowers_the_example_cost_and_apply_takes_the_step(client, session):
    v0 = session.version
    r = client.post("/api/whatif", json={"split": "val", "index": 3, "alpha": 0.5})
    assert r.status_code == 200
    w = r.json()
    assert w["cost_after"] < w["cost_before"]
    assert len(w["h_after"]) == 10 and w["label"] in range(10)
    assert session.version == v0  # a preview changes nothing
    r = client.post("/api/whatif", json={"split": "val", "index": 3, "alpha": 0.5, "apply": True})
    assert r.json()["current"]["J"] == pytest.approx(w["J_after"], rel=1e-12)
    v = client.get("/api/view?split=val&index=3").json()
    assert v["cost"] == pytest.approx(w["cost_after"], rel=1e-12)
    assert session.state()["snapshots"]["count"] == 2


def test_examples_and_hidden_units(client, session):
    ex = client.get("/api/examples?split=val&which=misclassified&limit=20").json()
    _, thetas, _, _, parts = session.snapshot_view()
    pred = propagate(thetas, parts[2]).output.argmax(axis=1)
    assert ex["total"] == int(np.sum(pred != parts[3]))
    assert len(ex["items"]) == min(20, ex["total"])
    confidences = [it["confidence"] for it in ex["items"]]
    assert confidences == sorted(confidences, reverse=True)
    for it in ex["items"]:
        assert it["prediction"] == pred[it["index"]] != it["label"] == parts[3][it["index"]]
        assert len(it["pixels"]) == 64
    h = client.get("/api/hidden").json()
    assert h["image_shape"] == [8, 8] and len(h["units"]) == 25
    row = thetas[0][0, 1:]
    expected = np.rint((row / np.abs(row).max() + 1) * 127.5)
    np.testing.assert_array_equal(h["units"][0], expected)


def test_a_cut_gallery_says_how_much_it_shows(client, session):
    """The untrained network gets most validation examples wrong: the gallery shows the library's 48 of them and
    says so; a gallery that shows everything says nothing about a cut."""
    from glassnet.explain.text import GALLERY_LIMIT

    ex = client.get("/api/examples?split=val&which=misclassified").json()
    _, thetas, _, _, parts = session.snapshot_view()
    wrong = int(np.sum(propagate(thetas, parts[2]).output.argmax(axis=1) != parts[3]))
    assert wrong > GALLERY_LIMIT == 48 and ex["total"] == wrong
    assert len(ex["items"]) == 48 and ex["shown"] == f"48 of {wrong} shown"
    page2 = client.get("/api/examples?split=val&which=misclassified&limit=10&offset=48").json()
    assert page2["shown"] == f"49–58 of {wrong} shown"
    everything = client.get("/api/examples?split=val&which=misclassified&limit=200&offset=0").json()
    assert everything["shown"] == ("" if wrong <= 200 else f"200 of {wrong} shown")


# ------------------------------------------------------------------------------------------------ training control


def test_step_play_pause_rewind_and_reset(client, session):
    st = client.post("/api/step").json()
    assert wait_for(lambda: session.iteration == 1 and session.status == "paused")
    st = client.get("/api/state").json()
    assert st["history"]["total"] == 1 and st["history"]["rows"][0]["iteration"] == 1
    assert st["current"]["J"] < client.get("/api/state").json()["history"]["rows"][0]["J"] + 1e-12
    client.post("/api/step")
    assert wait_for(lambda: session.iteration == 2 and session.status == "paused")
    time.sleep(0.05)
    assert session.iteration == 2  # a step is exactly one iteration

    client.post("/api/play", json={"delay_ms": 5})
    assert wait_for(lambda: session.iteration >= 12)
    client.post("/api/pause")
    assert wait_for(lambda: session.status == "paused")
    n = session.iteration
    time.sleep(0.1)
    assert session.iteration == n
    J = [row["J"] for row in session.state()["history"]["rows"]]
    assert J[-1] < J[0] < 6.3  # the cost falls

    st = client.post("/api/rewind", json={"index": 2}).json()
    assert st["iteration"] == 2 and st["snapshots"]["cursor"] == 2
    assert st["current"]["J"] == pytest.approx(J[1], rel=1e-12)
    st = client.post("/api/rewind", json={"offset": -1}).json()
    assert st["snapshots"]["cursor"] == 1 and st["current"]["J"] == pytest.approx(J[0], rel=1e-12)
    r = client.post("/api/rewind", json={"offset": -5})
    assert r.status_code == 422 and "offset: no snapshot 5 before the current one (snapshot 1 of 0.." in detail(r)
    r = client.post("/api/rewind", json={"index": 1, "offset": 1})
    assert r.status_code == 422 and "exactly one of index" in detail(r)
    st = client.post("/api/rewind", json={"offset": 1}).json()
    assert st["snapshots"]["cursor"] == 2 and st["snapshots"]["count"] == n + 1
    # Training from a rewound point drops the abandoned future.
    client.post("/api/step")
    assert wait_for(lambda: session.iteration == 3 and session.status == "paused")
    assert session.state()["history"]["total"] == 3

    st = client.post("/api/reset", json={"hidden": [10, 5], "seed": 3, "dataset": "iris"}).json()
    assert st["sizes"] == [4, 10, 5, 3] and st["iteration"] == 0 and st["history"]["total"] == 0
    assert st["status"] == "idle"


def test_optimizers_each_train(client, session):
    client.post("/api/reset", json={"dataset": "xor", "hidden": [3], "lam": 0.0})
    for opt, rate in [("lbfgs", 0.5), ("cg", 0.5), ("sgd", 0.5), ("adam", 0.05)]:
        J0 = session.state()["current"]["J"]
        client.post("/api/play", json={"optimizer": opt, "learning_rate": rate, "max_iter": 5, "delay_ms": 0})
        assert wait_for(lambda: session.status == "done", 20), (opt, session.status, session.error)
        assert session.state()["current"]["J"] < J0, opt


def test_a_crashed_job_reports_its_error_and_the_server_stays_up(client, session, monkeypatch):
    def broken_train(*args, **kwargs):
        raise FloatingPointError("training diverged: the batch cost is nan; lower learning_rate (now 100)")

    monkeypatch.setattr(bridge, "train", broken_train)
    client.post("/api/play")
    assert wait_for(lambda: session.status == "error")
    st = client.get("/api/state").json()
    assert st["status"] == "error"
    assert st["error"] == ("training failed: FloatingPointError: training diverged: the batch cost is nan; "
                           "lower learning_rate (now 100)")
    assert client.get("/api/view").status_code == 200
    monkeypatch.undo()
    client.post("/api/step")
    assert wait_for(lambda: session.iteration == 1 and session.status == "paused")
    assert client.get("/api/state").json()["error"] is None


# ------------------------------------------------------------------------------------------------ files


def test_upload_a_csv_dataset(client, session, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    text = "a,b,c,label\n" + "".join(f"{r[0]},{r[1]},{r[2]},{t}\n" for r, t in zip(X, y))
    r = client.post("/api/dataset?filename=..%2F..%2Fmy%20data.csv", content=text.encode())
    assert r.status_code == 200, r.text
    st = r.json()
    assert st["dataset"]["name"] == "upload:my_data.csv"
    assert st["sizes"] == [3, 25, 1]  # two classes: one output unit
    assert list(tmp_path.iterdir()) == []  # the temporary copy is gone
    assert "upload:my_data.csv" in client.get("/api/datasets").json()["datasets"]


@pytest.mark.parametrize("name, content, message", [
    ("bad.csv", b"a,b,label\n1,2,0\n3,oops,1\n", "bad.csv: line 3, column 'b': expected a number, found text 'oops'"),
    ("bad.npz", b"PK\x03\x04 this is not a zip", "bad.npz"),
    ("bad.mat", b"MATLAB 5.0 MAT-file" + b"\x00" * 200, "bad.mat"),
    ("empty.csv", b"", "file: the upload is empty"),
    ("notes.exe", b"MZ", "filename: expected a file ending in .csv, .txt, .npz, .mat, got 'notes.exe'"),
])
def test_bad_uploads_are_422_naming_the_file_not_the_server_path(client, session, tmp_path, name, content, message):
    r = client.post(f"/api/dataset?filename={name}", content=content)
    assert r.status_code == 422
    assert message in detail(r)
    assert str(tmp_path) not in detail(r) and "upload-" not in detail(r)
    assert session.state()["dataset"]["name"] == "digits"


def test_model_export_is_the_cli_format_and_imports_back(client, session, tmp_path):
    client.post("/api/step")
    assert wait_for(lambda: session.iteration == 1 and session.status == "paused")
    r = client.get("/api/model")
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="glassnet-digits-64-25-10.npz"'
    path = tmp_path / "m.npz"
    path.write_bytes(r.content)
    model = gio.load(path)  # what `glassnet train --save` writes and `glassnet evaluate` reads
    _, thetas, _, _, parts = session.snapshot_view()
    for a, b in zip(model.thetas_, thetas):
        np.testing.assert_array_equal(a, b)
    assert model.alpha == 1.0 and list(model.classes_) == list(range(10))
    np.testing.assert_array_equal(model.predict(parts[2]), propagate(thetas, parts[2]).output.argmax(axis=1))

    client.post("/api/reset", json={"seed": 5})
    st = client.post("/api/model?filename=m.npz", content=r.content).json()
    assert st["snapshots"]["label"] == "loaded m.npz" and st["iteration"] == 0
    np.testing.assert_array_equal(session.snapshot_view()[1][0], thetas[0])

    tampered = bytearray(r.content)
    tampered[len(tampered) // 2] ^= 0xFF
    r = client.post("/api/model?filename=m.npz", content=bytes(tampered))
    assert r.status_code == 422 and detail(r).startswith("m.npz: ")
    r = client.post("/api/model?filename=m.npz", content=r.content[:10])
    assert r.status_code == 422
    # The same weights as the course's .mat file or Nielsen's JSON import alike (recognised by content).
    from glassnet.io import interop

    # A .mat file carries no labels: it is read as the course's (units 1..9 are digits 1..9, unit 10 is digit 0), so
    # this export's unit 1 (digit 0) is read as digit 1. The explorer keeps every model's own unit order (Θ's rows as
    # in the file) and numbers the dataset's classes that way.
    course_order = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"]
    for name, writer, classes in (("weights.mat", interop.save_mat, course_order),
                                  ("net.json", interop.save_nielsen, [str(c) for c in range(10)])):
        exported = writer(model, tmp_path / name)
        st = client.post(f"/api/model?filename={name}", content=exported.read_bytes()).json()
        assert st["snapshots"]["label"] == f"loaded {name}"
        np.testing.assert_allclose(session.snapshot_view()[1][1], thetas[1], rtol=0, atol=1e-12)
        assert session.snapshot_view()[3].classes == classes
    # A model for another dataset is refused with the reason.
    client.post("/api/reset", json={"dataset": "iris", "hidden": [4]})
    r = client.post("/api/model?filename=m.npz", content=path.read_bytes())
    assert r.status_code == 422 and "classes" in detail(r)


def _course_file(tmp_path, m: int = 40) -> Path:
    """A small data file in the course's format: X (m × 400, 20×20 images), y (m × 1) labels 1..10, 10 = digit 0."""
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    y = np.arange(m) % 10 + 1
    path = tmp_path / "course.mat"
    savemat(path, {"X": rng.uniform(-0.1, 1.0, (m, 400)), "y": y.reshape(-1, 1).astype(np.uint8)})
    return path


def test_course_weights_on_digits_say_to_upload_the_course_data_then_import(client, session, tmp_path):
    from conftest import EX4_WEIGHTS

    if not EX4_WEIGHTS.exists():
        pytest.skip(f"reference weights not found at {EX4_WEIGHTS}")
    weights = EX4_WEIGHTS.read_bytes()
    r = client.post("/api/model?filename=ex4weights.mat", content=weights)
    assert r.status_code == 422
    message = detail(r)
    assert message.startswith("ex4weights.mat: its layers 400-25-10 need data with 400 features and 10 classes, "
                              "but dataset 'digits' has 64 features and 10 classes.")
    assert "upload the course's data" in message and "ex4data1.mat" in message and "labels 1..10" in message
    assert "import the weights again" in message and str(tmp_path) not in message
    assert session.state()["sizes"] == [64, 25, 10] and session.state()["dataset"]["upload"] is None

    st = client.post("/api/dataset?filename=course.mat", content=_course_file(tmp_path).read_bytes()).json()
    assert st["dataset"]["name"] == "upload:course.mat" and st["dataset"]["upload"] == "course.mat"
    st = client.post("/api/model?filename=ex4weights.mat", content=weights).json()
    assert st["sizes"] == [400, 25, 10] and st["snapshots"]["label"] == "loaded ex4weights.mat"
    # Another model that does not fit says what to upload, without the course's hint.
    client.post("/api/reset", json={"dataset": "iris", "hidden": [4]})
    r = client.post("/api/model?filename=ex4weights.mat", content=weights)
    assert r.status_code == 422 and "but dataset 'iris' has 4 features and 3 classes" in detail(r)
    bare = tmp_path / "bare.npz"
    gio.save_thetas(bare, glassnet.random_init([5, 3, 4], rng=0))
    r = client.post("/api/model?filename=bare.npz", content=bare.read_bytes())
    assert r.status_code == 422 and detail(r).endswith("First upload a data file with 5 features and 4 classes with "
                                                       "\"Upload a data file\", then import the model again.")


def test_a_setup_naming_an_upload_this_explorer_lacks_says_to_upload_it(client, session):
    r = client.post("/api/reset", json={"dataset": "upload:ex4data1.mat"})
    assert r.status_code == 422
    assert detail(r) == ("dataset: 'upload:ex4data1.mat' is an uploaded data file that this explorer does not hold "
                         "(any more): upload ex4data1.mat with \"Upload a data file\" first")
    assert session.state()["dataset"]["name"] == "digits"


# ------------------------------------------------------------------------------------------------ real server


def test_64_concurrent_event_streams_and_requests_on_a_real_server():
    session = Session(TrainConfig(dataset="digits", delay_ms=0, max_iter=50))
    server = ExplorerServer(session, port=0).start()
    headers = {"X-Glassnet-Token": server.token}

    async def stream(client: httpx.AsyncClient, seen: list) -> int:
        events = 0
        async with client.stream("GET", f"/api/events?token={server.token}") as r:
            assert r.status_code == 200
            async for line in r.aiter_lines():
                if line.startswith("data: "):
                    st = json.loads(line[6:])
                    events += 1
                    seen.append(st["iteration"])
                    if st["iteration"] >= 1:
                        return events
        return events

    async def main():
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers, limits=limits,
                                     timeout=30) as client:
            seen: list[int] = []
            streams = [asyncio.create_task(stream(client, seen)) for _ in range(64)]
            for _ in range(400):  # until every stream has its first event (bounded: 20 s)
                if len(seen) == 64:
                    break
                await asyncio.sleep(0.05)
            assert len(seen) == 64 and set(seen) == {0}
            views = await asyncio.gather(*[client.get(f"/api/view?index={k}") for k in range(64)])
            assert all(v.status_code == 200 for v in views)
            assert {v.json()["index"] for v in views} == set(range(64))
            r = await client.post("/api/step")
            assert r.status_code == 200
            counts = await asyncio.wait_for(asyncio.gather(*streams), timeout=30)
            assert all(c >= 2 for c in counts)  # each client saw the state change pushed
            assert (await client.get("/api/state")).json()["iteration"] == 1

    try:
        asyncio.run(asyncio.wait_for(main(), timeout=60))
        # Host check on the real socket: a rebinding name is refused even with the token.
        r = httpx.get(f"{server.base_url}/api/state", headers={**headers, "Host": f"evil.example:{server.port}"})
        assert r.status_code == 403
        assert httpx.get(f"{server.base_url}/api/state", headers=headers).status_code == 200
    finally:
        server.stop(timeout=60)  # returns once the server thread ends; the bound only matters if it never does
        assert not server._thread.is_alive()  # it ended: 64 open event streams did not keep it running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.base_url}/api/state", headers=headers, timeout=2)


def test_server_binds_loopback_only():
    session = Session(TrainConfig(dataset="xor", hidden=(2,)))
    server = ExplorerServer(session, port=0)
    try:
        assert server.sock.getsockname()[0] == "127.0.0.1"
        assert server.url.startswith(f"http://127.0.0.1:{server.port}/?token=") and len(server.token) >= 32
    finally:
        server.sock.close()
        session.close()


# ------------------------------------------------------------------------------------------------ CLI


def test_cli_serve_prints_the_url_serves_and_stops_on_ctrl_c(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "glassnet", "serve", "--port", "0", "--data", "xor",
                             "--hidden", "3", "--lam", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith("glassnet explorer: http://127.0.0.1:"), line + proc.stderr.read()
        url = line.split(": ", 1)[1].strip()
        base, token = url.split("/?token=")
        st = httpx.get(f"{base}/api/state", headers={"X-Glassnet-Token": token}, timeout=10).json()
        assert st["sizes"] == [2, 3, 1] and st["config"]["lam"] == 0.0
        assert httpx.get(f"{base}/api/state", timeout=10).status_code == 403
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{base}/api/state", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_cli_serve_bad_inputs_exit_with_a_message(tmp_path, capsys):
    from glassnet.cli import main

    assert main(["serve", "--data", str(tmp_path / "missing.csv")]) == 2
    assert "--data: " in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("a,label\n1,0\nx,1\n")
    assert main(["serve", "--data", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: bad.csv: line 3") and "expected a number" in err
    assert main(["serve", "--hidden", "2x"]) == 2
    model = tmp_path / "m.npz"
    model.write_bytes(b"not a model")
    assert main(["serve", "--data", "xor", "--model", str(model)]) == 1
    assert str(model) in capsys.readouterr().err
    assert main(["serve", "--help"]) == 0
    assert "--max-upload-mb" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------------------------
# 2-D data: noise and split controls, maps over the plane, backprop step by step


def test_2d_reset_with_noise_and_split_then_maps_of_the_current_network(client, session):
    builtins = client.get("/api/builtins").json()
    assert builtins["datasets"]["xor"]["training"] == {"hidden": [4], "lam": 0.1, "max_iter": 400}
    assert builtins["datasets"]["digits"]["noise"] is None
    assert builtins["colors"]["sequential"][0] == [0.0, [247, 251, 255]]
    st = client.post("/api/reset", json={"dataset": "moons", "hidden": [3], "noise": 0.25,
                                         "validation_fraction": 0.4}).json()
    assert st["dataset"]["noise"] == 0.25 and st["dataset"]["m_val"] == 120 and st["dataset"]["m_train"] == 180
    _, thetas, _, data, parts = session.snapshot_view()
    np.testing.assert_array_equal(data.X, glassnet.datasets.REGISTRY["moons"].load(noise=0.25).X)
    p = client.get("/api/plane?resolution=12").json()
    assert p["available"] and len(p["output"][0]) == 12 and len(p["units"]) == 3
    assert len(p["train"]) == 180 and len(p["val"]) == 120
    x1, x2 = p["x1"][4], p["x2"][9]
    h = glassnet.forward(thetas, np.array([[x1, x2]])).output[0, 0]
    assert p["output"][0][9][4] == pytest.approx(h, abs=1e-4)
    assert client.post("/api/reset", json={"noise": 99}).status_code == 422


def test_plane_is_unavailable_without_2_features_and_steps_match_the_trace(client, session):
    assert client.get("/api/plane").json()["available"] is False
    r = client.get("/api/steps?split=val&index=2").json()
    _, thetas, _, _, parts = session.snapshot_view()
    tr = bridge.trace(thetas, parts[2][2], int(parts[3][2]), parts[0].shape[0])
    hidden = [s for s in r["steps"] if s["phase"] == "hidden"]
    assert len(hidden) == 25 and all(s["value"] == tr.delta[s["unit"][0]][s["unit"][1]] for s in hidden)
    assert r["steps"][-1]["phase"] == "batch" and f"m = {parts[0].shape[0]}" in r["steps"][-1]["lines"][0]
