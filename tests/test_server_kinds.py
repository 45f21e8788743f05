"""The explorer with a chosen hidden activation and output/loss pair: config, API, numbers, model files.

Every number the API returns for a tanh / ReLU / softmax / squared-cost network is compared with the library's own
function called with the same ``activation=``, ``output=``, ``loss=``; the lecture's network stays the default.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

import glassnet
import glassnet.io as gio
from glassnet.activations import ACTIVATIONS
from glassnet.cost import cost_from_z, regularization
from glassnet.explain.text import unit_equation
from glassnet.outputs import OUTPUT_LOSS_PAIRS, output_loss
from glassnet.server import TrainConfig, bridge
from glassnet.server.session import wait_for
from server_helpers import api_client, detail, open_session

IRIS = TrainConfig(dataset="iris", hidden=(5,), lam=0.01, max_iter=40, delay_ms=0)


@pytest.fixture
def session():
    with open_session(IRIS) as s:
        yield s


@pytest.fixture
def client(session, tmp_path):
    with api_client(session, tmp_path) as c:
        yield c


def kinds_of(st) -> tuple:
    c = st["config"]
    return c["activation"], c["output"], c["loss"]


# ------------------------------------------------------------------------------------------------ the choices


def test_the_offered_pairs_are_the_librarys_less_regression_and_every_activation(client):
    d = client.get("/api/datasets").json()
    assert [a["name"] for a in d["activations"]] == list(ACTIVATIONS)
    offered = [(p["output"], p["loss"]) for p in d["pairs"]]
    assert offered == [p for p in OUTPUT_LOSS_PAIRS if p != ("identity", "squared")]
    assert offered[0] == ("sigmoid", "log") and d["pairs"][0]["lecture"]
    tanh = d["activations"][1]
    assert (tanh["g"], tanh["g_prime"]) == (ACTIVATIONS["tanh"].g_text, ACTIVATIONS["tanh"].g_prime_text)
    squared = d["pairs"][offered.index(("sigmoid", "squared"))]
    assert squared["delta"] == output_loss("sigmoid", "squared").delta_text == "(a − y)·g′(z)"


def test_the_default_is_the_lecture_bit_for_bit(client, session):
    assert (TrainConfig().activation, TrainConfig().output, TrainConfig().loss) == ("sigmoid", "sigmoid", "log")
    st = client.get("/api/state").json()
    assert kinds_of(st) == ("sigmoid", "sigmoid", "log")
    assert st["kinds"]["pair"]["lecture"] and st["kinds"]["activation"]["g_prime"] == "a(1 − a)"
    _, thetas, cfg, _, parts = session.snapshot_view()
    # J as it was computed before the choice existed: the lecture's cost from z plus the regularization
    cache = glassnet.forward(thetas, parts[0])
    Y = glassnet.outputs.encode_labels(parts[1], 3, parts[0].shape[0])
    J = cost_from_z(cache.z[-1], Y) + regularization(thetas, cfg.lam, parts[0].shape[0])
    assert st["current"]["J"] == J
    steps = client.get("/api/steps?index=1").json()["steps"]
    output = next(s for s in steps if s["phase"] == "output")
    assert output["lines"][0] == "δ⁽³⁾ = a⁽³⁾ − y (sigmoid output with the logistic cost: no g′ factor):"
    assert steps[0]["lines"][0].endswith("then a⁽²⁾ = g(z⁽²⁾):")


# ------------------------------------------------------------------------------------------------ training


def test_iris_with_tanh_and_softmax_trains_and_the_cost_falls(client, session):
    st = client.post("/api/reset", json={"activation": "tanh", "output": "softmax", "loss": "log"}).json()
    assert kinds_of(st) == ("tanh", "softmax", "log")
    assert st["kinds"]["activation"]["g_prime"] == "1 − a²" and st["kinds"]["pair"]["output"] == "softmax"
    _, thetas, cfg, _, parts = session.snapshot_view()
    kw = dict(activation="tanh", output="softmax", loss="log")
    assert st["current"]["J"] == pytest.approx(glassnet.cost(thetas, parts[0], parts[1], cfg.lam, **kw), rel=1e-12)
    client.post("/api/play")
    assert wait_for(lambda: session.status == "done", timeout=60)
    st = client.get("/api/state").json()
    rows = st["history"]["rows"]
    assert len(rows) == 40 and rows[-1]["J"] < 0.5 * st["history"]["initial"]["J"]
    assert rows[-1]["acc"] > 0.9
    _, thetas, cfg, _, parts = session.snapshot_view()
    assert rows[-1]["J"] == pytest.approx(glassnet.cost(thetas, parts[0], parts[1], cfg.lam, **kw), rel=1e-12)
    # the run's weights are fit's with the same units and cost, from the same start
    fitted, _ = glassnet.train.fitting.fit(bridge.init_thetas([4, 5, 3], cfg.seed), parts[0], parts[1], cfg.lam,
                                      max_iter=40, patience=None, **kw)
    for a, b in zip(thetas, fitted):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_units_and_cost_change_only_with_a_reset(client, session):
    r = client.post("/api/play", json={"activation": "tanh"})
    assert r.status_code == 422 and "activation" in detail(r)
    with pytest.raises(ValueError, match="can only change with a reset"):
        session.update_training(activation="tanh")
    assert session.config.activation == "sigmoid"


# ------------------------------------------------------------------------------------------------ numbers = library


@pytest.mark.parametrize("activation, pair", list(itertools.product(ACTIVATIONS, bridge.PAIRS)))
def test_view_steps_and_whatif_are_the_librarys_for_every_choice(client, session, activation, pair):
    output, loss = pair
    kw = dict(activation=activation, output=output, loss=loss)
    assert client.post("/api/reset", json={**kw, "seed": 2}).status_code == 200
    _, thetas, _, _, parts = session.snapshot_view()
    x, y = parts[2][4], int(parts[3][4])
    v = client.get("/api/view?split=val&index=4&unit=3:2&mode=backward").json()
    tr = glassnet.explain(thetas, x, y, m=parts[0].shape[0], **kw)
    for l in (2, 3):
        np.testing.assert_array_equal(v["layers"][l - 1]["delta"], tr.layers[l - 1].delta)
        np.testing.assert_array_equal(v["layers"][l - 1]["a"], tr.layers[l - 1].a)
    assert v["cost"] == tr.cost and v["setup"] == tr.setup and v["prediction"] == tr.prediction
    assert v["unit"]["equation"] == unit_equation(tr, 3, 2)
    assert ("g′" in v["unit"]["equation"]) == (pair == ("sigmoid", "squared"))
    steps = client.get("/api/steps?split=val&index=4").json()["steps"]
    out = next(s for s in steps if s["phase"] == "output")
    assert out["lines"][0].startswith(f"δ⁽³⁾ = {'(a⁽³⁾ − y)·g′(z⁽³⁾)' if 'g′' in tr.pair.delta_text else 'a⁽³⁾ − y'}")
    assert output_loss(output, loss).cost_text in out["lines"]
    assert [s["value"] for s in steps if s["phase"] == "hidden"] == [tr.delta[2][j] for j in range(1, 6)]
    w = client.post("/api/whatif", json={"split": "val", "index": 4, "alpha": 0.5}).json()
    assert w["cost_before"] == pytest.approx(tr.cost, rel=1e-12)
    Y = output_loss(output, loss).targets(np.array([y]), 3, 1)
    _, D = glassnet.cost_and_gradient(thetas, x[None, :], np.array([y]), 0.01 / parts[0].shape[0], **kw)
    after = glassnet.forward([t - 0.5 * d for t, d in zip(thetas, D)], x[None, :], activation=activation,
                             output=output)
    assert w["cost_after"] == pytest.approx(cost_from_z(after.z[-1], Y, output, loss), rel=1e-9)


def test_examples_and_the_plane_use_the_chosen_units(client, session):
    client.post("/api/reset", json={"activation": "relu", "output": "softmax", "loss": "log"})
    _, thetas, _, _, parts = session.snapshot_view()
    ex = client.get("/api/examples?split=val&which=all&limit=5").json()
    h = glassnet.forward(thetas, parts[2][:5], activation="relu", output="softmax").output
    for it in ex["items"]:
        assert it["prediction"] == int(np.argmax(h[it["index"]]))
        assert it["confidence"] == pytest.approx(h[it["index"]].max(), rel=1e-12)
    # a 2-D set: the maps are the forward pass of the tanh network with sigmoid outputs and the squared cost
    st = client.post("/api/reset", json={"dataset": "moons", "hidden": [3], "activation": "tanh",
                                         "output": "sigmoid", "loss": "squared"}).json()
    assert kinds_of(st) == ("tanh", "sigmoid", "squared")
    _, thetas, _, _, _ = session.snapshot_view()
    p = client.get("/api/plane?resolution=10").json()
    cache = glassnet.forward(thetas, np.array([[p["x1"][3], p["x2"][7]]]), activation="tanh")
    assert p["output"][0][7][3] == pytest.approx(cache.output[0, 0], abs=1e-4)
    assert p["units"][1]["values"][7][3] == pytest.approx(cache.activations[1][0, 1], abs=1e-3)
    assert min(v for u in p["units"] for row in u["values"] for v in row) < 0  # tanh units reach below 0


# ------------------------------------------------------------------------------------------------ bad choices


def test_a_bad_activation_is_422_naming_the_field_and_listing_the_choices(client, session):
    r = client.post("/api/reset", json={"activation": "swish"})
    assert r.status_code == 422
    assert detail(r).startswith("activation: expected one of ") and "'swish'" in detail(r)
    assert all(repr(name) in detail(r) for name in ACTIVATIONS)
    assert session.config.activation == "sigmoid"


@pytest.mark.parametrize("output, loss", [("identity", "squared"), ("softmax", "squared"), ("relu", "log")])
def test_a_bad_pair_is_422_listing_the_offered_pairs(client, session, output, loss):
    r = client.post("/api/reset", json={"output": output, "loss": loss})
    assert r.status_code == 422
    assert detail(r).startswith("output, loss: expected one of sigmoid+log, softmax+log, sigmoid+squared ")
    assert f"got {output}+{loss}" in detail(r) and "regression" in detail(r)
    assert (session.config.output, session.config.loss) == ("sigmoid", "log")


def test_softmax_needs_at_least_two_output_units(client, session):
    r = client.post("/api/reset", json={"dataset": "xor", "hidden": [3], "output": "softmax", "loss": "log"})
    assert r.status_code == 422 and detail(r).startswith("output: a softmax output needs K ≥ 2 units")
    assert session.config.dataset == "iris"


# ------------------------------------------------------------------------------------------------ model files


def test_export_then_import_keeps_the_units_and_cost(client, session, tmp_path):
    client.post("/api/reset", json={"activation": "tanh", "output": "sigmoid", "loss": "squared"})
    client.post("/api/step")
    assert wait_for(lambda: session.iteration == 1 and session.status == "paused")
    _, thetas, _, _, parts = session.snapshot_view()
    J_exported = session.state()["current"]["J"]
    r = client.get("/api/model")
    assert r.status_code == 200
    path = tmp_path / "m.npz"
    path.write_bytes(r.content)
    model = gio.load(path)  # the file records them, so `glassnet evaluate` reads the same network
    assert {k: model.get_params()[k] for k in ("activation", "output", "loss")} == \
        {"activation": "tanh", "output": "sigmoid", "loss": "squared"}
    z = glassnet.forward(thetas, parts[2], activation="tanh").z[-1]
    np.testing.assert_array_equal(model.predict(parts[2]), z.argmax(axis=1))

    client.post("/api/reset", json={"activation": "sigmoid", "output": "softmax", "loss": "log"})
    st = client.post("/api/model?filename=m.npz", content=r.content).json()
    assert kinds_of(st) == ("tanh", "sigmoid", "squared") and st["kinds"]["pair"]["delta"] == "(a − y)·g′(z)"
    for a, b in zip(session.snapshot_view()[1], thetas):
        np.testing.assert_array_equal(a, b)
    assert st["current"]["J"] == J_exported  # the same network: the same Θ, units and cost give the same J


def test_a_regression_model_is_refused_with_the_reason(client, session, tmp_path):
    reg = glassnet.Regressor.from_weights(glassnet.random_init([4, 5, 3], rng=0), activation="tanh")
    path = gio.save(reg, tmp_path / "reg.npz")
    r = client.post("/api/model?filename=reg.npz", content=path.read_bytes())
    assert r.status_code == 422
    assert detail(r).startswith("reg.npz: a regression model") and "sigmoid+log, softmax+log" in detail(r)
    assert str(tmp_path) not in detail(r)
    # a classifier file that claims identity outputs is refused the same way, naming the file
    clf = glassnet.Classifier.from_weights(glassnet.random_init([4, 5, 3], rng=0), output="identity",
                                           loss="squared")
    path = gio.save(clf, tmp_path / "odd.npz")
    r = client.post("/api/model?filename=odd.npz", content=path.read_bytes())
    assert r.status_code == 422 and detail(r).startswith("odd.npz: output, loss: expected one of")
    assert session.config.output == "sigmoid"


# ---------------------------------------------------------------------------------------------------------------
# glassnet serve --activation/--output/--loss


def test_cli_serve_kind_options_reach_the_session(monkeypatch, capsys, tmp_path):
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
    assert main(["serve", "--data", "iris", "--hidden", "4", "--activation", "tanh", "--output", "softmax",
                 "--json"]) == 0
    cfg = seen["config"]
    assert (cfg.activation, cfg.output, cfg.loss) == ("tanh", "softmax", "log")
    import json

    out = json.loads(capsys.readouterr().out)
    assert (out["activation"], out["output"], out["loss"]) == ("tanh", "softmax", "log")
    # a model file keeps its own units: the options may repeat them, not change them
    model = tmp_path / "relu.npz"
    data = glassnet.datasets.load("iris")
    clf = glassnet.Classifier((4,), activation="relu", max_iter=5, random_state=0).fit(data.X, data.y)
    gio.save(clf, model)
    assert main(["serve", "--data", "iris", "--model", str(model)]) == 0
    assert seen["config"].activation == "relu" and "relu hidden units" in capsys.readouterr().out
    assert main(["serve", "--data", "iris", "--model", str(model), "--activation", "tanh"]) == 2
    err = capsys.readouterr().err
    assert "--activation" in err and "'relu'" in err
    # softmax needs K ≥ 2 output units: xor has one
    assert main(["serve", "--data", "xor", "--output", "softmax"]) == 2
    assert "softmax" in capsys.readouterr().err
    # regression is not offered: argparse names the choices
    assert main(["serve", "--data", "iris", "--output", "identity"]) == 2
    assert "choose from 'sigmoid', 'softmax'" in capsys.readouterr().err
