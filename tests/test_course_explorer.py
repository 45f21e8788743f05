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

