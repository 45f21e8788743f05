"""What an engineer with a CSV and scikit-learn tripped over (issue 30): each cut with the test that shows it fixed.

This file keeps pyproject's "error" filter for scikit-learn's ConvergenceWarning (tests/conftest.py
``CONVERGENCE_WARNING_CHECKED``): a fit here that stops at max_iter without a ``pytest.warns`` fails.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

import glassnet
from glassnet.cli import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16.0, y[:400]


# --------------------------------------------------------------------------------------------------------------------
# 1. ConvergenceWarning at max_iter, plain words in history_.message, train says it stopped at the limit
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["lbfgs", "cg", "sgd", "adam"])
def test_classifier_warns_when_it_stops_at_max_iter(digits, solver):
    X, y = digits
    with pytest.warns(ConvergenceWarning, match=r"max_iter = 3 .*without converging") as record:
        clf = glassnet.Classifier(max_iter=3, solver=solver, random_state=0).fit(X, y)
    assert record[0].filename == __file__  # points at the caller's fit(), as scikit-learn's warnings do
    assert not clf.history_.converged and clf.history_.stopped_at_limit
    assert "STOP" not in clf.history_.message and "LIMIT" not in clf.history_.message
    assert clf.history_.reason.startswith("stopped: iteration budget used up")


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_regressor_warns_when_it_stops_at_max_iter(solver):
    X = np.linspace(-1, 1, 60).reshape(-1, 1)
    with pytest.warns(ConvergenceWarning, match="Regressor: stopped at max_iter = 2"):
        glassnet.Regressor(hidden_layer_sizes=(4,), max_iter=2, solver=solver, random_state=0).fit(X, X[:, 0] ** 2)


def test_no_warning_when_the_fit_converges_or_is_stopped(digits):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = glassnet.Classifier(hidden_layer_sizes=(10,), max_iter=1000, random_state=0).fit(X, y)
        assert clf.history_.converged and not clf.history_.stopped_at_limit
        stopped = glassnet.Classifier(max_iter=50, random_state=0).fit(X, y, callbacks=lambda state: state.epoch == 2)
        assert stopped.history_.message == "stopped by callback"
        part = glassnet.Classifier(solver="adam", random_state=0).partial_fit(X, y, classes=np.arange(10))
        assert part.history_.message == "partial_fit: one epoch"


def test_full_batch_history_message_is_plain_words():
    from glassnet.train.optimize import AT_LIMIT, plain_reason

    assert plain_reason("STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT") == AT_LIMIT
    h = glassnet.train.optimize.History(message="STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT")  # an older model file
    assert h.stopped_at_limit and h.reason == AT_LIMIT


def test_train_says_it_stopped_at_the_limit(capsys):
    code, out, err = run(capsys, "train", "--data", "xor", "--hidden", "4", "--epochs", "3")
    assert code == 0 and "stopped at the limit: 3 iterations without converging (raise --epochs" in out
    assert "ConvergenceWarning" not in err  # said once, in words, not as a Python warning
    code, out, _ = run(capsys, "train", "--data", "xor", "--hidden", "4", "--epochs", "3", "--json")
    assert json.loads(out)["stopped_at_limit"] is True
    code, out, _ = run(capsys, "train", "--data", "iris", "--hidden", "5", "--epochs", "2000")
    assert code == 0 and "stopped at the limit" not in out


# --------------------------------------------------------------------------------------------------------------------
# 3. partial_fit takes the multilabel (m, K) 0/1 targets that fit takes
# --------------------------------------------------------------------------------------------------------------------


def multilabel_data(m=80, n=5, K=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    return X, (X[:, :K] > 0).astype(int)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_multilabel_epochs_are_the_epochs_of_fit(solver):
    X, Y = multilabel_data()
    kw = dict(hidden_layer_sizes=(6,), solver=solver, shuffle=False, batch_size=16, alpha=0.1, random_state=2)
    with pytest.warns(ConvergenceWarning):  # three epochs only, on purpose
        ref = glassnet.Classifier(max_iter=3, n_iter_no_change=50, **kw).fit(X, Y)
    clf = glassnet.Classifier(**kw)
    for _ in range(3):
        clf.partial_fit(X, Y)
    assert clf.multilabel_ and clf.classes_.tolist() == ref.classes_.tolist() == [0, 1, 2]
    assert clf.history_.cost == ref.history_.cost
    for t, r in zip(clf.thetas_, ref.thetas_, strict=True):
        np.testing.assert_array_equal(t, r)
    assert clf.predict(X).shape == (80, 3) and np.array_equal(clf.predict(X), ref.predict(X))


def test_partial_fit_multilabel_refuses_mixed_targets():
    X, Y = multilabel_data()
    clf = glassnet.Classifier(hidden_layer_sizes=(4,), solver="adam", random_state=0).partial_fit(X, Y)
    with pytest.raises(ValueError, match="multilabel indicator matrix; partial_fit needs one of 3 columns"):
        clf.partial_fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="multilabel matrix of 2 labels"):
        clf.partial_fit(X, Y[:, :2])
    with pytest.raises(ValueError, match=r"classes: a multilabel matrix of 3 columns"):
        glassnet.Classifier(solver="adam").partial_fit(X, Y, classes=[1, 2, 3])
    labels = glassnet.Classifier(hidden_layer_sizes=(4,), solver="adam", random_state=0)
    labels.partial_fit(X, Y[:, 0], classes=[0, 1])
    with pytest.raises(ValueError, match="multilabel matrix of 3 labels"):
        labels.partial_fit(X, Y)


# --------------------------------------------------------------------------------------------------------------------
# 4. coefs_ / intercepts_ (scikit-learn's names, read-only views of Θ) and Classifier.to_sklearn()
# --------------------------------------------------------------------------------------------------------------------


def test_coefs_and_intercepts_are_read_only_views_of_theta(digits):
    X, y = digits
    clf = glassnet.Classifier(hidden_layer_sizes=(7,), max_iter=2000, random_state=0).fit(X, y)
    assert [c.shape for c in clf.coefs_] == [(64, 7), (7, 10)] and [b.shape for b in clf.intercepts_] == [(7,), (10,)]
    for theta, W, b in zip(clf.thetas_, clf.coefs_, clf.intercepts_, strict=True):
        np.testing.assert_array_equal(W, theta[:, 1:].T)
        np.testing.assert_array_equal(b, theta[:, 0])
        assert np.shares_memory(W, theta) and np.shares_memory(b, theta)  # views, not copies
        with pytest.raises(ValueError, match="read-only"):
            W[0, 0] = 1.0
        with pytest.raises(ValueError, match="read-only"):
            b[0] = 1.0
    assert clf.thetas_[0].flags.writeable  # Θ itself stays writable
    reg = glassnet.Regressor.from_weights(glassnet.random_init([3, 2, 1], rng=0))
    assert reg.coefs_[1].shape == (2, 1) and reg.intercepts_[0].shape == (2,)
    with pytest.raises(AttributeError):
        glassnet.Classifier().coefs_  # noqa: B018 (not fitted)


def test_classifier_to_sklearn_is_the_interop_export(digits):
    from glassnet.io import interop

    X, y = digits
    clf = glassnet.Classifier(hidden_layer_sizes=(7,), max_iter=2000, random_state=0).fit(X, y)
    mlp = clf.to_sklearn()
    assert type(mlp).__name__ == "MLPClassifier"
    np.testing.assert_array_equal(mlp.predict(X), clf.predict(X))
    for ours, theirs in zip(clf.coefs_ + clf.intercepts_, mlp.coefs_ + mlp.intercepts_, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    again = interop.to_sklearn(clf, output="softmax")
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))
    assert again.out_activation_ == "softmax" and clf.to_sklearn(output="softmax").out_activation_ == "softmax"


# --------------------------------------------------------------------------------------------------------------------
# 5. evaluate says which rows it scores
# --------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iris_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("iris") / "iris.npz"
    assert main(["train", "--data", "iris", "--hidden", "5", "--epochs", "2000", "--save", str(path), "--json"]) == 0
    return path


def test_evaluate_says_which_rows_it_scores(iris_model, capsys):
    code, out, _ = run(capsys, "evaluate", "--model", iris_model, "--data", "iris")
    first = out.splitlines()[0]
    assert code == 0 and "all 150 rows (its training rows included" in first and "--test-size F --seed S" in first
    code, out, _ = run(capsys, "evaluate", "--model", iris_model, "--data", "iris", "--json")
    assert json.loads(out)["rows"] == "all"
    code, out, _ = run(capsys, "evaluate", "--model", iris_model, "--data", "iris", "--test-size", "0.25")
    assert code == 0 and "on the 38 held-out examples of iris (test size 0.25, seed 0)" in out.splitlines()[0]
    code, out, _ = run(capsys, "evaluate", "--model", iris_model, "--data", "iris", "--test-size", "0.25", "--json")
    assert json.loads(out)["rows"] == "held-out test part"


# --------------------------------------------------------------------------------------------------------------------
# 6. gradcheck of a big network: a summary by default, --show N for rows, the Θ column filled
# --------------------------------------------------------------------------------------------------------------------


def test_gradcheck_of_a_big_network_prints_a_summary(capsys):
    code, out, _ = run(capsys, "gradcheck", "--sizes", "40,12,10", "-m", "3")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 1 + 1 + 1 + 10 + 1  # title, what is shown, header, 10 rows, verdict
    assert lines[1] == "the 10 of 622 rows with the largest abs error (--show N prints the first N rows):"
    assert lines[-1].endswith("PASS")
    code, out, _ = run(capsys, "gradcheck", "--sizes", "40,12,10", "-m", "3", "--show", "4")
    lines = out.splitlines()
    assert len(lines) == 1 + 1 + 4 + 2 and lines[-2] == "... 618 more rows (--show 622)"
    assert lines[2].split()[-1] == "Θ₁₀⁽¹⁾" and lines[5].split()[-1] == "Θ₄₀⁽¹⁾"  # the Θ column is filled


def test_gradcheck_table_names_every_weight():
    from glassnet.gradcheck import course_problem

    report = glassnet.gradient_check(*course_problem(0.0, [3, 5, 3], 5), 0.0)
    rows = report.table().splitlines()[1:-1]
    assert len(rows) == 38 and rows[0].endswith("Θ₁₀⁽¹⁾") and rows[-1].endswith("Θ₃₅⁽²⁾")
    largest = report.table(largest=3).splitlines()[1:-1]
    errors = sorted((r.abs_error for r in report.rows), reverse=True)[:3]
    assert sorted(float(line.split()[5]) for line in largest) == pytest.approx(sorted(errors), rel=1e-2)


# --------------------------------------------------------------------------------------------------------------------
# 7. a resumed run's progress bar and interrupt message, "did you mean --hidden?", the --json help text
# --------------------------------------------------------------------------------------------------------------------


def test_a_resumed_run_counts_on_and_names_the_checkpoint_it_started_from(tmp_path, capsys, monkeypatch):
    from glassnet.cli import train as cli_train

    model, ckpt = tmp_path / "m.npz", tmp_path / "m.npz.ckpt"
    real_save = glassnet.io.save_checkpoint

    def save_then_interrupt(clf, path, state):
        real_save(clf, path, state)
        raise KeyboardInterrupt  # Ctrl-C right after the checkpoint of epoch 10

    monkeypatch.setattr(glassnet.io, "save_checkpoint", save_then_interrupt)
    common = ["train", "--data", "iris", "--hidden", "3", "--solver", "sgd", "--epochs", "30", "--checkpoint-every",
              "10", "--save", model]
    code, _, err = run(capsys, *common)
    assert code == 130 and f"the last good checkpoint, of epoch 10, is {ckpt}" in err
    monkeypatch.setattr(glassnet.io, "save_checkpoint", real_save)

    real_end = cli_train._Checkpoint.on_epoch_end

    def end_then_interrupt(self, state):
        real_end(self, state)
        if state.epoch == 12:
            raise KeyboardInterrupt  # Ctrl-C before this run writes a checkpoint of its own

    monkeypatch.setattr(cli_train._Checkpoint, "on_epoch_end", end_then_interrupt)
    code, _, err = run(capsys, *common, "--resume", ckpt, "--progress")
    assert code == 130
    assert "no checkpoint was written" not in err
    assert f"the last good checkpoint, of epoch 10, is {ckpt}: continue with --resume {ckpt}" in err
    assert "10/30" in err and "12/30" in err and "/20" not in err  # the bar counts on from epoch 10 of 30


def test_a_warm_started_estimator_bar_counts_on(digits, capsys):
    X, y = digits
    clf = glassnet.Classifier(hidden_layer_sizes=(5,), solver="adam", max_iter=2, n_iter_no_change=50,
                              random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    capsys.readouterr()
    with pytest.warns(ConvergenceWarning):
        clf.set_params(warm_start=True, verbose=True, max_iter=3).fit(X, y)
    err = capsys.readouterr().err
    assert "2/5" in err and "5/5" in err and "0/3" not in err


def test_a_misspelt_option_is_named_with_the_one_meant(capsys):
    code, _, err = run(capsys, "train", "--hiden", "25")
    assert code == 2
    assert err.startswith("usage: glassnet train ")  # the subcommand's usage, not the top-level one
    assert err.rstrip().endswith("error: unrecognized arguments: --hiden 25 (--hiden: did you mean --hidden?)")
    code, _, err = run(capsys, "evaluate", "--model", "m.npz", "--data", "iris", "--test-sise", "0.2")
    assert code == 2 and "did you mean --test-size?" in err and err.startswith("usage: glassnet evaluate ")
    code, _, err = run(capsys, "train", "--zzz")
    assert code == 2 and err.rstrip().endswith("error: unrecognized arguments: --zzz")


def test_json_help_says_one_json_object_once():
    from glassnet.cli import build_parser

    parser = build_parser()
    texts = []
    stack = [parser]
    while stack:
        p = stack.pop()
        texts.append(" ".join(p.format_help().split()))
        for action in p._actions:
            if hasattr(action, "choices") and isinstance(action.choices, dict):
                stack.extend(action.choices.values())
    assert len(texts) > 10
    for text in texts:
        assert "JSON document as one JSON object" not in text and text.count("as one JSON object") <= 1


# --------------------------------------------------------------------------------------------------------------------
# 2. train --scale: fitted on the training rows, stored in the model file, applied by predict/evaluate/explain
# --------------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_csv(tmp_path_factory):
    """600 digits whose features are in the thousands (pixels times 1..1000, some shifted by 5000), labels last."""
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    F = X[:600] * rng.choice([1, 10, 100, 1000], size=64) + rng.choice([0, 5000], size=64)
    path = tmp_path_factory.mktemp("raw") / "raw.csv"
    np.savetxt(path, np.column_stack([F, y[:600]]), delimiter=",", fmt="%g", comments="",
               header=",".join([f"f{j}" for j in range(64)] + ["label"]))
    return {"path": path, "X": F, "y": y[:600]}


def test_fit_scaling_is_fitted_on_the_rows_given():
    from glassnet.datasets import apply_scaling, fit_scaling

    X = np.array([[1.0, 100.0], [3.0, 300.0], [5.0, 100.0]])
    standard, minmax = fit_scaling(X[:2], "standard"), fit_scaling(X[:2], "minmax")
    assert standard == {"kind": "standardize", "mean": [2.0, 200.0], "scale": [1.0, 100.0]}
    np.testing.assert_allclose(apply_scaling(X, standard), [[-1, -1], [1, 1], [3, -1]])
    np.testing.assert_allclose(apply_scaling(X, minmax), [[0, 0], [1, 1], [2, 0]])  # row 3 was not fitted on
    assert fit_scaling(X, "none") == {"kind": "none"}
    with pytest.raises(ValueError, match="scale: expected one of none, standard, minmax"):
        fit_scaling(X, "zscore")


def test_train_warns_about_raw_features_and_scale_fixes_them(raw_csv, tmp_path, capsys):
    code, out, err = run(capsys, "train", "--data", raw_csv["path"], "--epochs", "100", "--json")
    raw = json.loads(out)
    assert code == 0 and "warning: the features' ranges differ by orders of magnitude" in err
    assert "--scale standard" in err
    model = tmp_path / "scaled.npz"
    code, out, err = run(capsys, "train", "--data", raw_csv["path"], "--epochs", "300", "--scale", "standard",
                         "--save", model)
    assert code == 0 and err == ""
    assert "features scaled (standard: mean 0, sd 1 on the 450 training rows), stored in the model" in out
    test_accuracy = float(out.split("test accuracy:")[1].split("%")[0]) / 100
    assert test_accuracy > raw["test_accuracy"] + 0.3  # the reason for the option: 0.3 is far below the gap seen

    clf = glassnet.load(model)
    record = clf.feature_scaling_
    assert record["kind"] == "standardize" and len(record["mean"]) == 64
    from sklearn.model_selection import train_test_split

    X_fit, _, _, _ = train_test_split(raw_csv["X"], raw_csv["y"], test_size=0.25, stratify=raw_csv["y"],
                                      random_state=0)
    np.testing.assert_allclose(record["mean"], X_fit.mean(axis=0))  # fitted on the training rows only

    code, out, _ = run(capsys, "evaluate", "--model", model, "--data", raw_csv["path"], "--test-size", "0.25",
                       "--json")
    assert code == 0 and json.loads(out)["accuracy"] == pytest.approx(test_accuracy, abs=5e-5)
    features = tmp_path / "features.csv"
    np.savetxt(features, raw_csv["X"][:20], delimiter=",", fmt="%g", comments="",
               header=",".join(f"f{j}" for j in range(64)))
    code, out, _ = run(capsys, "predict", "--model", model, "--data", features, "--json")
    assert json.loads(out)["input_scaling"] == "features scaled by the model's --scale standard"
    code, out, _ = run(capsys, "predict", "--model", model, "--data", features)
    from glassnet.datasets import apply_scaling

    assert [int(v) for v in out.splitlines()[1:]] == clf.predict(apply_scaling(raw_csv["X"][:20], record)).tolist()
    code, out, _ = run(capsys, "explain", "--model", model, "--data", raw_csv["path"], "--example", "3", "--json")
    trace = json.loads(out)
    assert code == 0
    x_scaled = apply_scaling(raw_csv["X"][3:4], record)[0]
    np.testing.assert_allclose([u["a"] for u in trace["layers"][0]["units"]], x_scaled)  # a⁽¹⁾ = the scaled x


def test_resume_keeps_the_scaling_and_refuses_another(raw_csv, tmp_path, capsys):
    model = tmp_path / "m.npz"
    code, _, _ = run(capsys, "train", "--data", raw_csv["path"], "--epochs", "5", "--scale", "minmax", "--save", model)
    assert code == 0
    assert glassnet.load(model).feature_scaling_["kind"] == "minmax"
    code, out, err = run(capsys, "train", "--data", raw_csv["path"], "--epochs", "8", "--resume", model, "--save",
                         model, "--force")
    assert code == 0 and "features scaled (minmax: [0, 1] on the 450 training rows)" in out and "warning" not in err
    code, _, err = run(capsys, "train", "--data", raw_csv["path"], "--resume", model, "--scale", "standard")
    assert code == 2 and "--scale standard: the model in --resume" in err and "(minmax)" in err


def test_serve_scales_the_data_the_models_way_and_the_page_import_refuses(raw_csv, tmp_path, capsys, monkeypatch):
    pytest.importorskip("fastapi")
    from glassnet.datasets import apply_scaling
    from glassnet.server import ExplorerServer

    model = tmp_path / "scaled.npz"
    code, _, _ = run(capsys, "train", "--data", raw_csv["path"], "--epochs", "50", "--scale", "standard", "--save",
                     model)
    assert code == 0
    record = glassnet.load(model).feature_scaling_
    seen = {}

    def serve_forever(self, on_ready=None):  # start nothing: keep what the command built
        seen["X"] = self.session.snapshot_view()[3].X
        self.session.close()
        self.sock.close()

    monkeypatch.setattr(ExplorerServer, "serve_forever", serve_forever)
    code, _, err = run(capsys, "serve", "--data", raw_csv["path"], "--model", model)
    assert code == 0 and "features scaled as the model's training data (train --scale standard: mean 0, sd 1)" in err
    np.testing.assert_allclose(seen["X"], apply_scaling(raw_csv["X"], record))

    from glassnet.server import TrainConfig
    from server_helpers import api_client, detail, open_session

    with open_session(TrainConfig(dataset="digits", hidden=(25,))) as session, api_client(session, tmp_path) as c:
        r = c.post("/api/model?filename=scaled.npz", content=model.read_bytes())
        assert r.status_code == 422 and "scales its inputs first (standardize" in detail(r)
        assert "glassnet serve --model scaled.npz" in detail(r)
