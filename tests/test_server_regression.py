"""The explorer on Playground's regression sets (plane, multi-gaussian): identity output, squared cost, R².

Every number the API returns is compared with the library's own function for the same Θ (``glassnet.cost`` with
``output="identity", loss="squared"``, scikit-learn's ``r2_score`` as ``glassnet.Regressor.score`` uses it).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

import glassnet
from glassnet import datasets
from glassnet.datasets.regression import BUMPS, multi_gaussian_target, plane_target
from glassnet.server import TrainConfig
from glassnet.server.session import wait_for
from server_helpers import api_client, detail, open_session

PLANE = TrainConfig(dataset="plane", hidden=(4,), lam=0.01, max_iter=30, delay_ms=0)
KW = {"activation": "sigmoid", "output": "identity", "loss": "squared"}


@pytest.fixture
def session():
    with open_session(PLANE) as s:
        yield s


@pytest.fixture
def client(session, tmp_path):
    with api_client(session, tmp_path) as c:
        yield c


# ------------------------------------------------------------------------------------------------ the data


def test_the_generators_follow_playground():
    ds = datasets.make_plane(500, random_state=1)
    assert ds.X.shape == (500, 2) and np.abs(ds.X).max() <= 6 and ds.extra["regression"]
    np.testing.assert_allclose(ds.y, (ds.X[:, 0] + ds.X[:, 1]) / 10)
    noisy = datasets.make_plane(500, noise=0.5, random_state=1)
    assert not np.allclose(noisy.y, plane_target(noisy.X)) and np.abs(noisy.y - plane_target(noisy.X)).max() <= 0.6
    # the bumps: +1 at an up-bump's centre, −1 at a down-bump's, 0 far from all (d ≥ 2), linear in between
    centres = np.array([b[:2] for b in BUMPS])
    np.testing.assert_allclose(multi_gaussian_target(centres), [b[2] for b in BUMPS])
    assert multi_gaussian_target(np.array([[-4.0, 1.5], [-2.0, 0.0], [6.0, 6.0]])).tolist() == [0.5, 0.0, 0.0]
    mg = datasets.load("multi-gaussian")
    assert mg.name == "multi_gaussian" and mg.X.shape == (300, 2) and np.abs(mg.y).max() <= 1
    assert datasets.REGISTRY["plane"].is_regression and not datasets.REGISTRY["xor"].is_regression


def test_the_explainer_names_a_real_target_and_the_predicted_value():
    from glassnet.explain.diagram import diagram_svg
    from glassnet.explain.text import render_text

    thetas = glassnet.random_init([2, 3, 1], rng=0)
    tr = glassnet.explain(thetas, np.array([0.5, -1.0]), 0.3, **KW)
    h = glassnet.forward(thetas, np.array([[0.5, -1.0]]), output="identity").output[0, 0]
    number = glassnet.explain.text.format_number
    text = render_text(tr)
    assert "target y = 0.3" in text and f"h_Θ(x) = {number(h)} (the prediction of y)" in text
    assert "predicted" not in text.split("Gradient")[0]
    svg = diagram_svg(tr, "forward")
    assert "target y = 0.3" in svg and f"h = {number(h, 4)}" in svg and "predicted" not in svg


def test_the_cli_says_a_regression_set_is_for_the_explorer(capsys):
    from glassnet.cli import main

    assert main(["train", "--data", "plane"]) == 2
    err = capsys.readouterr().err
    assert "'plane' is a regression set" in err and "glassnet serve --data plane" in err


# ------------------------------------------------------------------------------------------------ the explorer


def test_plane_builds_an_identity_output_with_the_squared_cost(client, session):
    st = client.get("/api/state").json()
    assert (st["config"]["output"], st["config"]["loss"]) == ("identity", "squared")
    assert st["dataset"]["task"] == "regression" and st["dataset"]["score"] == "R²" and st["dataset"]["K"] == 1
    assert st["kinds"]["pair"]["delta"] == glassnet.outputs.output_loss("identity", "squared").delta_text == "a − y"
    builtins = client.get("/api/builtins").json()["datasets"]
    assert builtins["plane"]["task"] == "regression" and builtins["xor"]["task"] == "classification"
    assert client.get("/api/datasets").json()["regression_pair"]["output"] == "identity"


def test_J_and_R2_are_the_librarys_before_and_after_training(client, session):
    from sklearn.metrics import r2_score

    def check(row):
        _, thetas, cfg, _, parts = session.snapshot_view()
        assert row["J"] == pytest.approx(glassnet.cost(thetas, parts[0], parts[1], cfg.lam, **KW), rel=1e-12)
        h = glassnet.forward(thetas, parts[0], output="identity").output[:, 0]
        assert row["acc"] == pytest.approx(r2_score(parts[1], h), rel=1e-12)
        assert row["J_val"] == pytest.approx(glassnet.cost(thetas, parts[2], parts[3], 0.0, **KW), rel=1e-12)
        reg = glassnet.Regressor.from_weights(thetas, activation="sigmoid")
        assert row["acc_val"] == pytest.approx(reg.score(parts[2], parts[3]), rel=1e-12)

    st = client.get("/api/state").json()
    check(st["current"])
    J0 = st["current"]["J"]
    # the page's Play sends its settings: they apply to the regression network as to any other
    assert client.post("/api/play", json={"lam": 0.01, "optimizer": "lbfgs", "max_iter": 30}).status_code == 200
    assert wait_for(lambda: session.status == "done", timeout=60)
    st = client.get("/api/state").json()
    rows = st["history"]["rows"]
    assert len(rows) == 30 and rows[-1]["J"] < 0.1 * J0 and rows[-1]["acc"] > 0.95
    check(st["current"])


def test_the_map_walk_delta_timeline_and_gradient_check_are_the_librarys(client, session):
    client.post("/api/step")
    assert wait_for(lambda: session.iteration == 1 and session.status == "paused")
    _, thetas, cfg, _, parts = session.snapshot_view()
    p = client.get("/api/plane?resolution=12").json()
    X = session.data.X  # the map covers the data's square (Playground's [−6, 6]²), not a padded box
    assert p["regression"] and p["extent"] == pytest.approx([X[:, 0].min(), X[:, 0].max(), X[:, 1].min(),
                                                              X[:, 1].max()], abs=1e-9)
    assert -6 < p["extent"][0] < -5.9 and 5.9 < p["extent"][3] < 6
    cache = glassnet.forward(thetas, np.array([[p["x1"][3], p["x2"][7]]]), output="identity")
    assert p["output"][0][7][3] == pytest.approx(cache.output[0, 0], abs=1e-4)
    x1, x2, target, h = p["train"][5]
    assert target == pytest.approx(parts[1][5], abs=1e-4)
    assert h == pytest.approx(glassnet.forward(thetas, parts[0][5:6], output="identity").output[0, 0], abs=1e-4)
    # δ^(L) = a^(L) − y for the identity output with the squared cost, and the view is explain's
    v = client.get("/api/view?split=train&index=5&mode=backward").json()
    tr = glassnet.explain(thetas, parts[0][5], parts[1][5], m=parts[0].shape[0], **KW)
    assert v["layers"][-1]["delta"] == [float(tr.a[3][1] - parts[1][5])]
    assert v["label_name"] == glassnet.explain.text.format_number(parts[1][5]) and v["unit_names"] == ["h · ŷ"]
    assert v["cost"] == tr.cost
    neg = int(np.flatnonzero(parts[1] < 0)[0])  # a negative target: written "a − (−y)"
    steps = client.get(f"/api/steps?split=train&index={neg}").json()["steps"]
    out = next(s for s in steps if s["phase"] == "output")["lines"]
    assert out[0].startswith("δ⁽³⁾ = a⁽³⁾ − y") and "− −" not in " ".join(out) and "− (−" in " ".join(out)
    walk = client.get("/api/steps?split=train&index=0&examples=3").json()["steps"]
    assert walk and {s["example"] for s in walk if s.get("example")} >= {1, 2, 3}
    tl = client.get("/api/timeline").json()
    mine = glassnet.explain.timeline.unit_timeline([session.snapshots[0].thetas, thetas], [0, 1], parts[0], parts[1],
                                                   **KW).to_dict()
    assert tl["snapshots"] == [0, 1] and tl["layers"] == mine["layers"] and len(tl["layers"][0]["delta"][1]) == 4
    gc = client.get("/api/gradcheck").json()
    lib = glassnet.gradcheck.gradient_check(thetas, parts[0][:100], parts[1][:100], cfg.lam, **KW)
    assert gc["relative_difference"] == lib.relative_difference < 1e-6 and gc["checked"] == 17
    assert [r["analytic"] for r in gc["rows"]] == [r.analytic for r in lib.rows]
    ex = client.get("/api/examples?split=val&which=misclassified").json()
    assert ex["regression"] and ex["items"] == []


def test_back_to_a_classifier_and_bad_pairs(client, session):
    st = client.post("/api/reset", json={"dataset": "multi_gaussian", "hidden": [6]}).json()
    assert (st["config"]["output"], st["config"]["loss"]) == ("identity", "squared")
    assert st["dataset"]["name"] == "multi_gaussian"
    st = client.post("/api/reset", json={"dataset": "xor", "hidden": [3], "output": "sigmoid", "loss": "log"}).json()
    assert (st["config"]["output"], st["dataset"]["task"], st["dataset"]["score"]) == ("sigmoid", "classification",
                                                                                        "accuracy")
    r = client.post("/api/reset", json={"dataset": "xor", "output": "identity", "loss": "squared"})
    assert r.status_code == 422 and detail(r).startswith("output, loss: expected one of sigmoid+log")


def test_export_then_import_a_regression_network(client, session, tmp_path):
    import glassnet.io as gio

    client.post("/api/step")
    assert wait_for(lambda: session.iteration == 1 and session.status == "paused")
    _, thetas, cfg, _, parts = session.snapshot_view()
    J = session.state()["current"]["J"]
    r = client.get("/api/model")
    assert r.status_code == 200
    path = tmp_path / "plane.npz"
    path.write_bytes(r.content)
    model = gio.load(path)  # a Regressor: `glassnet.io.load` and scikit-learn's contract read the same network
    assert isinstance(model, glassnet.Regressor) and model.get_params()["alpha"] == cfg.lam
    np.testing.assert_allclose(model.predict(parts[2]),
                               glassnet.forward(thetas, parts[2], output="identity").output[:, 0], rtol=1e-12)
    assert client.post("/api/reset", json={}).json()["current"]["J"] != J  # fresh weights, the same split
    st = client.post("/api/model?filename=plane.npz", content=r.content).json()
    assert st["current"]["J"] == J and (st["config"]["output"], st["config"]["loss"]) == ("identity", "squared")
    # a classifier's file does not fit real targets, and a regression file does not fit classes
    clf = glassnet.Classifier.from_weights(glassnet.random_init([2, 4, 1], rng=0))
    bad = gio.save(clf, tmp_path / "clf.npz")
    r2 = client.post("/api/model?filename=clf.npz", content=bad.read_bytes())
    assert r2.status_code == 422 and detail(r2).startswith("clf.npz: a classifier, but dataset 'plane' has real")
    client.post("/api/reset", json={"dataset": "xor", "hidden": [4], "output": "sigmoid", "loss": "log"})
    r3 = client.post("/api/model?filename=plane.npz", content=r.content)
    assert r3.status_code == 422 and detail(r3).startswith("plane.npz: a regression model")


def test_cli_serve_opens_a_regression_set_with_its_pair(monkeypatch, capsys):
    import json

    from glassnet.cli import main
    from glassnet.server import ExplorerServer

    seen = {}

    def serve_forever(self, on_ready=None):  # start nothing: record what the command built, print its ready line
        seen["config"] = self.session.config
        try:
            on_ready()
        finally:
            self.session.close()
            self.sock.close()

    monkeypatch.setattr(ExplorerServer, "serve_forever", serve_forever)
    assert main(["serve", "--data", "multi-gaussian", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["data"], out["output"], out["loss"], out["layer_sizes"]) == ("multi_gaussian", "identity", "squared",
                                                                              [2, 12, 1])
    assert (seen["config"].output, seen["config"].loss) == ("identity", "squared")
    assert main(["serve", "--data", "plane", "--output", "softmax"]) == 2
    assert "'plane' is a regression set" in capsys.readouterr().err
