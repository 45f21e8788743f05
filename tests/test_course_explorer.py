"""The course's network in the explorer, numbered as the course numbers it: ``ex4weights.mat`` with a course-format
data file (X m × 400, y m × 1 with labels 1..10, 10 = digit 0), built here as tests/test_course_flow.py builds it.

The explorer keeps the model's own unit order (the output layer's, :class:`glassnet.outputs.OutputLayer`): unit 10 is
digit 0 and is labelled so, and the edge Θ₁ⱼ⁽²⁾ a student clicks is ``Theta2(1, j)`` of the course's file.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from scipy.io import loadmat, savemat

from conftest import EX4_WEIGHTS
from glassnet.server import TrainConfig
from server_helpers import api_client, open_session


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def course_h(Theta1, Theta2, X):
    """The course's forward pass: h (m × 10), column k for the course's label k + 1."""
    m = X.shape[0]
    a2 = _sigmoid(np.hstack([np.ones((m, 1)), X]) @ Theta1.T)
    return _sigmoid(np.hstack([np.ones((m, 1)), a2]) @ Theta2.T)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    if not EX4_WEIGHTS.exists():
        pytest.skip(f"reference weights not found at {EX4_WEIGHTS}")
    w = loadmat(EX4_WEIGHTS)
    Theta1, Theta2 = np.asarray(w["Theta1"], float), np.asarray(w["Theta2"], float)
    rng = np.random.default_rng(27)
    X = rng.uniform(-0.1, 1.0, (60, 400))
    y = np.arange(60) % 10 + 1  # the course's labels 1..10, 10 = digit 0
    path = tmp_path_factory.mktemp("course") / "course.mat"
    savemat(path, {"X": X, "y": y.reshape(-1, 1).astype(np.uint8)})
    return {"Theta1": Theta1, "Theta2": Theta2, "X": X, "y": y, "data": path}


def test_the_course_network_keeps_the_course_unit_order(course, tmp_path):
    with open_session(TrainConfig(dataset="digits", hidden=(25,), delay_ms=0)) as session, \
            api_client(session, tmp_path) as client:
        st = client.post("/api/dataset?filename=course.mat", content=course["data"].read_bytes()).json()
        assert st["dataset"]["name"] == "upload:course.mat"
        r = client.post("/api/model?filename=ex4weights.mat", content=EX4_WEIGHTS.read_bytes())
        assert r.status_code == 200, r.text
        # Θ as in the student's file: no rows moved
        _, thetas, _, data, parts = session.snapshot_view()
        np.testing.assert_array_equal(thetas[1], course["Theta2"])
        assert data.classes == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"]

        # a training example whose file label is 10 (digit 0): its target is unit 10, labelled digit 0
        t = int(np.flatnonzero(course["y"][session.train_idx] == 10)[0])
        row = int(session.train_idx[t])
        j = 7
        v = client.get(f"/api/view?split=train&index={t}&edge=2:1:{j}").json()
        assert v["label"] == 9 and v["label_name"] == "0" and v["classes"][9] == "0"
        assert v["unit_names"][9] == "h₁₀ · digit 0" and v["unit_names"][0] == "h₁ · digit 1"
        # the diagram's title names the classes too, not the units' indices
        assert f"label 0, predicted {v['classes'][v['prediction']]} ·" in v["svg"]
        h = course_h(course["Theta1"], course["Theta2"], course["X"][row:row + 1])[0]
        np.testing.assert_allclose(v["output"], h, rtol=1e-12, atol=0)
        # a clicked Θ₁ⱼ⁽²⁾ is Theta2(1, j); Θ₁₀,ⱼ⁽²⁾ is Theta2(10, j), digit 0's row
        assert v["edge"]["theta"] == course["Theta2"][0, j]
        v10 = client.get(f"/api/view?split=train&index={t}&edge=2:10:{j}").json()
        assert v10["edge"]["theta"] == course["Theta2"][9, j]
        # the same numbering in the galleries and the targets: the misclassified list names the course's digits
        ex = client.get("/api/examples?split=train&which=all").json()
        assert ex["classes"][9] == "0"
        labels = {it["index"]: ex["classes"][it["label"]] for it in ex["items"]}
        assert labels[t] == "0"
        assert int(parts[1][t]) == 9


def _cli_cost(course, lam: float) -> float:
    """``glassnet evaluate --model ex4weights.mat --data <file> --lam λ --test-size 0 --json``: its J."""
    import contextlib
    import io
    import json

    from glassnet.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["evaluate", "--model", str(EX4_WEIGHTS), "--data", str(course["data"]), "--lam", str(lam),
                     "--test-size", "0", "--json"])
    assert code == 0
    d = json.loads(out.getvalue())
    assert d["n_examples"] == 60 and d["lam"] == lam
    return float(d["cost"])


def test_lambda_and_validation_share_apply_to_the_current_weights(course, tmp_path):
    with open_session(TrainConfig(dataset="digits", hidden=(25,), delay_ms=0)) as session, \
            api_client(session, tmp_path) as client:
        client.post("/api/dataset?filename=course.mat", content=course["data"].read_bytes())
        client.post("/api/model?filename=ex4weights.mat", content=EX4_WEIGHTS.read_bytes())
        st = client.post("/api/settings", json={"lam": 0}).json()
        assert st["config"]["lam"] == 0 and st["iteration"] == 0 and st["status"] == "idle"
        assert st["dataset"]["m_val"] == 12  # the validation share still 0.2: J on the 48 training examples
        st = client.post("/api/settings", json={"validation_fraction": 0}).json()
        assert (st["dataset"]["m_train"], st["dataset"]["m_val"]) == (60, 0)
        assert st["config"]["validation_fraction"] == 0 and st["config"]["lam"] == 0
        assert st["snapshots"]["label"] == "validation share 0, the same weights"
        np.testing.assert_array_equal(session.snapshot_view()[1][1], course["Theta2"])  # nothing trained
        ex = client.get("/api/examples?split=val&which=misclassified").json()  # the gallery of an empty split
        assert (ex["which"], ex["total"], ex["items"]) == ("misclassified", 0, [])
        assert st["current"]["J"] == pytest.approx(_cli_cost(course, 0.0), rel=1e-12)
        # λ = 1: J and the gradient D of every view follow at once
        before = client.get("/api/view?edge=2:1:3").json()["edge"]["D"]
        st = client.post("/api/settings", json={"lam": 1}).json()
        assert st["current"]["J"] == pytest.approx(_cli_cost(course, 1.0), rel=1e-12)
        after = client.get("/api/view?edge=2:1:3").json()["edge"]["D"]
        assert after == pytest.approx(before + course["Theta2"][0, 3] / 60, rel=1e-9)  # D gains (λ/m)Θ
        r = client.post("/api/settings", json={"validation_fraction": 0.7})
        assert r.status_code == 422 and "validation_fraction" in r.json()["detail"]


def test_the_course_network_in_a_real_browser(course, tmp_path):
    """The page: upload the course's data, import ex4weights.mat, set λ = 0 and validation share 0; the header's J
    is glassnet evaluate's, output unit 10 reads digit 0, and the edge Θ₁ⱼ⁽²⁾ clicked in the diagram is Theta2(1, j)."""
    import os

    chromium = os.environ.get("GLASSNET_CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(chromium):
        pytest.skip(f"browser tests need Chromium at {chromium}: run scripts/install-browser.sh")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
    from glassnet.server import ExplorerServer, Session

    session = Session(TrainConfig(dataset="digits", hidden=(25,), delay_ms=0))
    server = ExplorerServer(session, port=0).start()
    errors: list[str] = []
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.goto(server.url)
            page.wait_for_selector("#conn.live")
            page.set_input_files("#upload-data", str(course["data"]))
            page.wait_for_function("() => location.hash.includes('dataset=upload%3Acourse.mat')")
            page.set_input_files("#import-model", str(EX4_WEIGHTS))
            page.wait_for_selector("#net svg[data-sizes='400-25-10']")
            page.wait_for_function("() => document.querySelector('#toast').textContent === 'loaded ex4weights.mat'")
            page.fill("#lam", "0")
            page.dispatch_event("#lam", "change")
            page.wait_for_function("() => location.hash.includes('lam=0&')")
            page.fill("#val-share", "0")
            page.dispatch_event("#val-share", "change")
            page.wait_for_function("() => document.querySelector('#sizes').textContent.includes('60 training / 0 "
                                   "validation')")
            page.wait_for_function("() => document.querySelector('#examples').textContent.includes("
                                   "'the validation share is 0')")
            assert page.text_content("#examples-title") == "Misclassified validation examples: 0"
            J = float(page.inner_text("#J"))
            assert J == pytest.approx(_cli_cost(course, 0.0), abs=1e-6)
            assert page.input_value("#lam") == "0" and page.input_value("#val-share") == "0"
            # output unit 10 is digit 0, as the CLI names it
            page.wait_for_function("() => document.querySelectorAll('#outputs > span').length === 20")
            names = page.eval_on_selector_all("#outputs > span:nth-child(3n+1)", "els => els.map(e => e.textContent)")
            assert names[9] == "h₁₀ · digit 0" and names[0] == "h₁ · digit 1"
            # the edge Θ₁₇⁽²⁾ clicked in the diagram is the student's Theta2(1, 7)
            j = 7
            page.dispatch_event(f"#net svg #edge-2-1-{j}", "click")
            page.wait_for_selector("#theta-value")
            assert page.inner_text("#detail-title") == "Weight Θ₁₇⁽²⁾"
            assert float(page.input_value("#theta-value")) == course["Theta2"][0, j]
            browser.close()
    finally:
        server.stop()
        session.close()
    assert not errors, errors
