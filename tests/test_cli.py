"""``glassnet train / evaluate / predict / gradcheck / demo`` run in-process: exit codes, exact lines, files, --json."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

import glassnet
from glassnet.cli import build_parser, main
from glassnet.datasets import load_digits, load_iris
from glassnet.gradcheck import course_problem

COMMANDS = ("demo", "train", "evaluate", "predict", "gradcheck")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert out.count("\n") == 1, out  # exactly one JSON object, nothing else on stdout
    return code, json.loads(out), err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``glassnet train`` run once: 64-12-10 on the digits, 8 L-BFGS iterations, the default 75/25 split."""
    folder = tmp_path_factory.mktemp("train")
    model = folder / "m.npz"
    assert main(["train", "--hidden", "12", "--epochs", "8", "--save", str(model), "--json"]) == 0
    return {"dir": folder, "model": model}


# ---------------------------------------------------------------------------------------------------------------
# the parser


def test_every_command_has_help(capsys):
    for name in COMMANDS:
        code, out, err = run(capsys, name, "--help")
        assert code == 0 and err == ""
        assert out.startswith(f"usage: glassnet {name}")
        assert "--json" in out


def test_commands_are_listed_in_order():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    names = list(sub.choices)
    assert names[:5] == ["demo", "train", "evaluate", "predict", "gradcheck"]
    assert {"serve", "explain", "plot", "bench"} <= set(names)


def test_no_command_is_a_usage_error(capsys):
    code, out, err = run(capsys)
    assert code == 2 and out == "" and "usage: glassnet" in err


# ---------------------------------------------------------------------------------------------------------------
# gradcheck


def test_gradcheck_course_problem_prints_the_table_and_pass(capsys):
    code, out, err = run(capsys, "gradcheck")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == ("gradient check: network 3-5-3, m = 5, λ = 0, ε = 0.0001, all 38 parameters; "
                        "debug-initialized weights (the course's check)")
    assert lines[1] == "    l    i    j         analytic          numeric  abs error   Θ_ij^(l)"  # lecture indices
    # the course's checkNNGradients prints -9.2783e-03 next to -9.2783e-03 on its first line
    layer, i, j, analytic, numeric, abs_error, name = lines[2].split()
    assert (layer, i, j, analytic, name) == ("1", "1", "0", "-9.278252358e-03", "Θ₁₀⁽¹⁾")  # unit 1's bias weight
    assert float(numeric) == pytest.approx(-9.278252358e-03, abs=1e-10)
    assert len(lines) == 2 + 38 + 1
    assert re.fullmatch(r"relative difference = \d\.\d{3}e-1[0-9] \(tol 1e-09\) PASS", lines[-1])


def test_gradcheck_matches_the_library_report(capsys):
    thetas, X, y = course_problem(3.0, [3, 5, 3], 5)
    report = glassnet.gradient_check(thetas, X, y, 3.0)
    code, out, _ = run(capsys, "gradcheck", "--lam", "3")
    assert code == 0
    assert out.splitlines()[1:] == report.table().splitlines()


def test_gradcheck_json_and_other_architectures(capsys):
    code, data, err = run_json(capsys, "gradcheck", "--sizes", "4,6,3,1", "--lam", "1", "-m", "7")
    assert (code, err) == (0, "")
    assert data["layer_sizes"] == [4, 6, 3, 1] and data["m"] == 7 and data["lam"] == 1.0
    assert len(data["rows"]) == 6 * 5 + 3 * 7 + 1 * 4
    assert data["passed"] is True and data["relative_difference"] < 1e-9
    row = data["rows"][0]
    assert abs(row["analytic"] - row["numeric"]) == pytest.approx(row["abs_error"])

    code, data, _ = run_json(capsys, "gradcheck", "--sizes", "5,8,4", "--params", "6", "--seed", "3")
    assert code == 0 and data["mode"] == "subset" and len(data["rows"]) == 6
    code, out, _ = run(capsys, "gradcheck", "--sizes", "5,8,4", "--directions", "4")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2 and "4 random directions" in lines[0] and lines[1].endswith("PASS")
    code, out, _ = run(capsys, "gradcheck", "--show", "3")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2 + 3 + 2 and lines[-2] == "... 35 more rows (all of them without --show)"


def test_gradcheck_failure_exits_1(capsys):
    # a step of 0.5 makes the central differences far from the derivative: the check must fail
    code, out, _ = run(capsys, "gradcheck", "--epsilon", "0.5")
    assert code == 1 and out.splitlines()[-1].endswith("FAIL")
    code, data, _ = run_json(capsys, "gradcheck", "--epsilon", "0.5")
    assert code == 1 and data["passed"] is False and data["relative_difference"] > 1e-9


def test_gradcheck_at_a_saved_model(trained, capsys):
    code, data, _ = run_json(capsys, "gradcheck", "--model", trained["model"], "--data", "digits", "-m", "4",
                             "--params", "20")
    assert code == 0 and data["passed"] and data["layer_sizes"] == [64, 12, 10] and data["lam"] == 1.0
    assert data["m"] == 4 and len(data["rows"]) == 20
    code, out, _ = run(capsys, "gradcheck", "--model", trained["model"], "--directions", "2")
    assert code == 0 and "synthetic examples" in out.splitlines()[0] and out.rstrip().endswith("PASS")


# ---------------------------------------------------------------------------------------------------------------
# train


def test_train_summary_lines_and_saved_model(tmp_path, capsys):
    model = tmp_path / "m.npz"
    code, out, err = run(capsys, "train", "--hidden", "10", "--epochs", "6", "--save", model)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:3] == ["glassnet train: digits, 1797 examples, 64 features, 10 classes",
                         "split (seed 0): 1347 train / 450 test",
                         "network 64-10-10, λ = 1, solver lbfgs, up to 6 iterations"]
    assert re.fullmatch(r"J\(Θ\) before training: \d+\.\d{6}", lines[3])
    assert re.fullmatch(r"J\(Θ\) after training:  \d+\.\d{6}  \(6 iterations, \d+\.\d s\)", lines[4])
    # 6 iterations are not enough: the summary says so (issue 30), the lines after it move down by one
    assert lines[5] == "stopped at the limit: 6 iterations without converging (raise --epochs to train longer)"
    del lines[5]
    assert re.fullmatch(r"train accuracy: {7}\d\d\.\d\d%", lines[5])
    assert re.fullmatch(r"test accuracy: {8}\d\d\.\d\d%", lines[6])
    assert lines[7:] == [f"saved model: {model}"]

    clf = glassnet.load(model)
    assert clf.n_iter_ == 6 and clf.layer_sizes_ == [64, 10, 10] and clf.alpha == 1.0
    assert clf.get_params()["warm_start"] is False and clf.get_params()["verbose"] is False
    # J before is the cost at the weights fit() started from (L-BFGS records it as its first evaluation)
    J0 = float(lines[3].split()[-1])
    assert J0 == pytest.approx(clf.history_.initial_cost, abs=5e-7)
    # J after and the accuracies are those of the saved model on the same split
    from sklearn.model_selection import train_test_split

    X, y = load_digits()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    assert float(lines[4].split()[3]) == pytest.approx(clf.cost_and_gradient(Xtr, ytr)[0], abs=5e-7)
    assert lines[6].split()[-1] == f"{clf.score(Xte, yte):.2%}"


def test_train_json_matches_evaluate_on_the_same_split(trained, capsys):
    code, data, _ = run_json(capsys, "evaluate", "--model", trained["model"], "--data", "digits",
                             "--test-size", "0.25", "--seed", "0")
    assert code == 0 and data["n_examples"] == 450
    code, tr, err = run_json(capsys, "train", "--hidden", "12", "--epochs", "8")
    assert (code, err) == (0, "")
    assert tr["n_train"] == 1347 and tr["n_test"] == 450 and tr["n_validation"] == 0
    assert tr["layer_sizes"] == [64, 12, 10] and tr["n_iter"] == 8 == tr["n_iter_run"]
    assert tr["J_after"] < tr["J_before"] and tr["saved"] is None and tr["validation_accuracy"] is None
    assert tr["test_accuracy"] == pytest.approx(data["accuracy"])  # same seed: same weights, same test part
    assert tr["classes"] == list(range(10))


def test_train_refuses_to_overwrite_without_force(trained, tmp_path, capsys):
    model = tmp_path / "m.npz"
    model.write_bytes(b"precious")
    code, out, err = run(capsys, "train", "--epochs", "2", "--save", model)
    assert code == 1 and out == ""
    assert err == f"error: --save {model}: file exists; use --force to replace it\n"
    assert model.read_bytes() == b"precious"
    code, data, err = run_json(capsys, "train", "--epochs", "2", "--save", model)
    assert code == 1 and data == {"command": "train", "error": err[len("error: "):].rstrip(), "exit_code": 1}
    code, _, _ = run(capsys, "train", "--epochs", "2", "--hidden", "5", "--save", model, "--force")
    assert code == 0 and glassnet.load(model).n_iter_ == 2
    code, _, err = run(capsys, "train", "--epochs", "2", "--save", tmp_path / "no" / "m.npz")
    assert code == 1 and "folder" in err and "does not exist" in err


def test_resume_continues_n_iter(tmp_path, capsys):
    model = tmp_path / "m.npz"
    assert run(capsys, "train", "--hidden", "8", "--epochs", "4", "--save", model)[0] == 0
    first = glassnet.load(model)
    code, data, _ = run_json(capsys, "train", "--epochs", "9", "--resume", model, "--save", model)
    assert code == 0
    assert (data["n_iter"], data["n_iter_run"], data["resumed_after"]) == (9, 5, 4)
    assert data["J_before"] == pytest.approx(float(first.cost_and_gradient(*_digits_train())[0]))
    again = glassnet.load(model)
    assert again.n_iter_ == 9 and len(again.history_.cost) == 9 and again.layer_sizes_ == [64, 8, 10]
    assert again.history_.cost[:4] == first.history_.cost
    assert again.get_params()["max_iter"] == 9  # the total: a later --resume without --epochs has nothing to do

    code, out, _ = run(capsys, "train", "--resume", model, "--save", model)
    lines = out.splitlines()
    assert code == 0 and "resumed from" in lines[3] and "nothing to train: the model has 9 iterations" in out
    code, _, err = run(capsys, "train", "--resume", model, "--hidden", "20")
    assert code == 2 and "--hidden 20" in err and "has hidden layers 8" in err
    code, _, err = run(capsys, "train", "--resume", model, "--data", "iris")
    assert code == 2 and "--data iris" in err


def _digits_train():
    from sklearn.model_selection import train_test_split

    X, y = load_digits()
    Xtr, _, ytr, _ = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    return Xtr, ytr


def test_checkpoints_survive_an_interrupted_run(tmp_path, capsys, monkeypatch):
    model = tmp_path / "m.npz"
    ckpt_path = tmp_path / "m.npz.ckpt"
    assert run(capsys, "train", "--data", "iris", "--hidden", "3", "--epochs", "2", "--save", model)[0] == 0
    old = model.read_bytes()
    real_save = glassnet.io.save_checkpoint
    saved = []

    def save_then_interrupt(clf, path, state):
        real_save(clf, path, state)
        saved.append(clf.n_iter_)
        if len(saved) == 2:
            raise KeyboardInterrupt  # Ctrl-C right after the second checkpoint

    monkeypatch.setattr(glassnet.io, "save_checkpoint", save_then_interrupt)
    code, out, err = run(capsys, "train", "--hidden", "8", "--epochs", "20", "--checkpoint-every", "3",
                         "--save", model, "--force")
    assert code == 130 and saved == [3, 6]
    assert out.splitlines()[0].startswith("glassnet train: digits")  # the header came before training started
    assert err == (f"error: interrupted; {model} was not changed; the last good checkpoint, of iteration 6, is "
                   f"{ckpt_path}: continue with --resume {ckpt_path}\n")
    assert model.read_bytes() == old  # the model the run was told to replace is untouched
    monkeypatch.setattr(glassnet.io, "save_checkpoint", real_save)
    ckpt = glassnet.load(ckpt_path)
    assert ckpt.n_iter_ == 6 and len(ckpt.history_.cost) == 6 and ckpt.get_params()["max_iter"] == 20
    code, _, err = run(capsys, "train", "--hidden", "8", "--save", model, "--force", "--epochs", "3")
    assert code == 0  # --force starts over (and removes the stale checkpoint once saved)
    assert not ckpt_path.exists()
    model.write_bytes(old)
    glassnet.save(ckpt, ckpt_path)
    code, _, err = run(capsys, "train", "--save", model)
    assert code == 1 and f"the checkpoint {ckpt_path} of an unfinished run exists" in err
    code, data, _ = run_json(capsys, "train", "--resume", ckpt_path, "--save", model, "--checkpoint-every", "5",
                             "--force")
    assert code == 0 and data["n_iter"] == 20 and data["n_iter_run"] == 14
    assert data["checkpoints"] == {"every": 5, "written": 3, "last": 20}  # at 10, 15 and 20 in total
    assert glassnet.load(model).n_iter_ == 20 and not ckpt_path.exists()
    code, out, _ = run(capsys, "train", "--resume", model, "--epochs", "21")
    assert code == 0 and "note: lbfgs cannot resume exactly: scipy keeps its memory to itself" in out


def test_a_failed_run_leaves_the_old_model(tmp_path, capsys):
    model = tmp_path / "keep.npz"
    assert run(capsys, "train", "--data", "xor", "--epochs", "3", "--save", model)[0] == 0
    old = model.read_bytes()
    ckpt_path = tmp_path / "keep.npz.ckpt"
    code, _, err = run(capsys, "train", "--data", "xor", "--solver", "sgd", "--learning-rate", "1e300", "--save",
                       model, "--force", "--checkpoint-every", "1")
    assert code == 1 and "training diverged" in err and f"{model} was not changed" in err
    assert model.read_bytes() == old
    n_good = glassnet.load(ckpt_path).n_iter_  # the checkpoint holds the last finite weights
    assert f"the last good checkpoint, of epoch {n_good}, is {ckpt_path}" in err
    # J growing by orders of magnitude (finite) is divergence too; the last good checkpoint is named
    code, _, err = run(capsys, "train", "--data", "digits", "--solver", "sgd", "--learning-rate", "1e6", "--lam",
                       "1e6", "--epochs", "30", "--save", model, "--force", "--checkpoint-every", "1")
    assert code == 1 and "training diverged" in err and "times the lowest epoch cost" in err, err
    assert f"the last good checkpoint, of epoch 1, is {ckpt_path}: continue with --resume {ckpt_path}" in err
    assert model.read_bytes() == old
    assert glassnet.load(ckpt_path).n_iter_ == 1


def test_checkpoint_needs_save(capsys):
    code, _, err = run(capsys, "train", "--checkpoint-every", "5")
    assert code == 2 and err.startswith("error: --checkpoint-every: needs --save")


def test_minibatch_training_with_validation(capsys):
    code, data, _ = run_json(capsys, "train", "--data", "iris", "--solver", "adam", "--epochs", "5", "--batch-size",
                             "16", "--validation-fraction", "0.2", "--hidden", "6")
    assert code == 0 and data["solver"] == "adam"
    assert (data["n_train"], data["n_validation"], data["n_test"]) == (89, 23, 38)
    assert 0 <= data["validation_accuracy"] <= 1 and data["n_iter"] == 5
    code, out, _ = run(capsys, "train", "--data", "iris", "--solver", "sgd", "--epochs", "3", "--batch-size", "16",
                       "--learning-rate", "0.05", "--validation-fraction", "0.2", "--test-size", "0")
    lines = out.splitlines()
    assert code == 0
    assert lines[1] == "split (seed 0): 120 train / 30 validation"
    # iris by name: the registry's hidden layer and λ (glassnet.datasets.training_defaults), as in the explorer
    assert lines[2] == "network 4-5-3, λ = 0.1, solver sgd (learning rate 0.05, batch size 16), up to 3 epochs"
    assert lines[5].startswith("stopped at the limit: 3 epochs")  # said since issue 30: the lines below move down
    assert "(3 epochs, " in lines[4] and lines[7].startswith("validation accuracy: ")


def test_early_stopping_keeps_the_best_weights(capsys):
    code, data, _ = run_json(capsys, "train", "--data", "iris", "--solver", "adam", "--epochs", "60",
                             "--early-stopping", "--patience", "2", "--tol", "0.5", "--hidden", "4")
    # with tol 0.5 no epoch counts as an improvement, so training stops after 1 + patience epochs
    assert code == 0 and data["stopped_early"] and data["n_iter"] == 3 and 1 <= data["best_epoch"] <= 3
    assert data["n_validation"] > 0
    code, out, _ = run(capsys, "train", "--data", "iris", "--solver", "adam", "--epochs", "60",
                       "--early-stopping", "--patience", "2", "--tol", "0.5", "--hidden", "4")
    assert code == 0
    assert f"early stopping: kept the weights of epoch {data['best_epoch']} (lowest validation cost)" in out


def test_progress_bar_goes_to_stderr(capsys):
    code, out, err = run(capsys, "train", "--data", "iris", "--epochs", "3", "--progress", "--json")
    assert code == 0 and json.loads(out)["n_iter"] == 3
    assert "lbfgs" in err and "3/3" in err
    code, out, err = run(capsys, "train", "--data", "iris", "--epochs", "3")
    assert code == 0 and err == ""  # not a terminal: no bar by default


def test_train_on_a_csv_with_text_labels(tmp_path, capsys):
    X, y = load_iris()
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    path = tmp_path / "flowers.csv"
    path.write_text("species,a,b,c,d\n" + "".join(f"{n},{','.join(map(str, row))}\n" for n, row in zip(names, X)))
    model = tmp_path / "f.npz"
    code, out, _ = run(capsys, "train", "--data", path, "--label-column", "species", "--test-size", "0",
                       "--hidden", "5", "--lam", "0.1", "--epochs", "60", "--save", model)
    lines = out.splitlines()
    assert code == 0
    assert lines[:3] == ["glassnet train: flowers.csv, 150 examples, 4 features, 3 classes",
                         "no held-out data: all 150 examples train",
                         "network 4-5-3, λ = 0.1, solver lbfgs, up to 60 iterations"]
    code, out, _ = run(capsys, "predict", "--model", model, "--data", path, "--label-column", "0")
    rows = out.splitlines()
    assert code == 0 and rows[0] == "prediction" and len(rows) == 151
    assert set(rows[1:]) <= {"setosa", "versicolor", "virginica"}
    assert np.mean(np.array(rows[1:]) == names) > 0.9
    code, data, _ = run_json(capsys, "evaluate", "--model", model, "--data", path, "--label-column", "species")
    assert code == 0 and data["classes"] == ["setosa", "versicolor", "virginica"]
    assert data["accuracy"] == pytest.approx(np.mean(np.array(rows[1:]) == names))


# ---------------------------------------------------------------------------------------------------------------
# evaluate and predict


def test_evaluate_prints_accuracy_table_and_confusion_matrix(trained, capsys):
    clf = glassnet.load(trained["model"])
    X, y = load_digits()
    code, out, err = run(capsys, "evaluate", "--model", trained["model"], "--data", "digits")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    correct = int(np.sum(clf.predict(X) == y))
    assert lines[0] == (f"glassnet evaluate: model {trained['model']} (64-12-10, 10 classes) on digits, all 1797 rows "
                        "(its training rows included, if it was trained on them; --test-size F --seed S: only the "
                        "rows 'glassnet train' held out)")
    assert lines[1] == f"accuracy: {correct / 1797:.2%} ({correct} of 1797)"
    assert lines[2] == f"J(Θ) = {clf.cost_and_gradient(X, y)[0]:.6f} (λ = 1, on these 1797 examples)"
    assert lines[4] == "       class  precision     recall   f1-score  support"
    assert [ln.split()[0] for ln in lines[5:15]] == [str(d) for d in range(10)]
    assert lines[15].startswith("   macro avg") and lines[16].startswith("weighted avg")
    assert lines[18] == "confusion matrix (rows: true class, columns: predicted class)"
    cm = np.array([[int(v) for v in ln.split()[1:]] for ln in lines[20:30]])
    from sklearn.metrics import confusion_matrix, f1_score

    assert np.array_equal(cm, confusion_matrix(y, clf.predict(X)))
    f1 = f1_score(y, clf.predict(X), average=None)
    assert [float(ln.split()[3]) for ln in lines[5:15]] == pytest.approx(f1, abs=5e-5)

    code, data, _ = run_json(capsys, "evaluate", "--model", trained["model"], "--data", "digits")
    assert code == 0 and data["correct"] == correct and np.array_equal(data["confusion_matrix"], cm)
    assert [c["f1"] for c in data["per_class"]] == pytest.approx(f1)
    assert sum(c["support"] for c in data["per_class"]) == 1797


def test_predict_reads_a_csv_of_features_only(trained, tmp_path, capsys):
    clf = glassnet.load(trained["model"])
    X, y = load_digits()
    plain = tmp_path / "new.csv"  # new examples: 64 feature columns, no label column
    np.savetxt(plain, X[:5], delimiter=",", header=",".join(f"px{j}" for j in range(64)), comments="")
    code, out, err = run(capsys, "predict", "--model", trained["model"], "--data", plain)
    assert (code, err) == (0, "")
    assert [int(r) for r in out.splitlines()[1:]] == clf.predict(X[:5]).tolist()
    labelled = tmp_path / "labelled.csv"  # one more column than the model's inputs: the last one is labels, ignored
    np.savetxt(labelled, np.column_stack([X[:5], y[:5]]), delimiter=",",
               header=",".join([f"px{j}" for j in range(64)] + ["digit"]), comments="")
    code, out, err = run(capsys, "predict", "--model", trained["model"], "--data", labelled)
    assert (code, err) == (0, "")
    assert [int(r) for r in out.splitlines()[1:]] == clf.predict(X[:5]).tolist()


def test_predict_stdout_proba_and_files(trained, tmp_path, capsys):
    clf = glassnet.load(trained["model"])
    X, _ = load_digits()
    code, out, err = run(capsys, "predict", "--model", trained["model"], "--data", "digits")
    assert (code, err) == (0, "")
    rows = out.splitlines()
    assert rows[0] == "prediction" and [int(r) for r in rows[1:]] == clf.predict(X).tolist()

    code, out, _ = run(capsys, "predict", "--model", trained["model"], "--data", "digits", "--proba")
    rows = out.splitlines()
    assert rows[0] == "prediction," + ",".join(f"p_{d}" for d in range(10))
    P = np.array([[float(v) for v in r.split(",")[1:]] for r in rows[1:]])
    assert P == pytest.approx(clf.predict_proba(X), rel=1e-5, abs=1e-12)

    target = tmp_path / "pred.csv"
    code, out, _ = run(capsys, "predict", "--model", trained["model"], "--data", "digits", "-o", target, "--proba")
    assert code == 0 and out == f"wrote 1797 predictions to {target}\n"
    assert target.read_text().splitlines() == rows
    code, _, err = run(capsys, "predict", "--model", trained["model"], "--data", "digits", "-o", target)
    assert code == 1 and "file exists; use --force" in err and target.read_text().splitlines() == rows
    code, data, _ = run_json(capsys, "predict", "--model", trained["model"], "--data", "digits", "-o", target,
                             "--force")
    assert code == 0 and data["output"] == str(target) and target.read_text().count("\n") == 1798

    code, data, _ = run_json(capsys, "predict", "--model", trained["model"], "--data", "digits", "--proba")
    assert code == 0 and data["predictions"] == clf.predict(X).tolist()
    assert np.array(data["probabilities"]) == pytest.approx(clf.predict_proba(X))


# ---------------------------------------------------------------------------------------------------------------
# bad input: the exit code and a message naming the argument or the file


@pytest.mark.parametrize(
    "argv, code, needle",
    [
        (["train", "--hidden", "2x"], 2, "argument --hidden: expected positive layer sizes"),
        (["train", "--hidden", "0"], 2, "argument --hidden"),
        (["train", "--lam", "-1"], 2, "argument --lam/--alpha: expected a number ≥ 0, got '-1'"),
        (["train", "--lam", "nan"], 2, "argument --lam/--alpha: expected a finite number"),
        (["train", "--epochs", "0"], 2, "argument --epochs/--max-iter: expected a positive whole number"),
        (["train", "--test-size", "1"], 2, "argument --test-size"),
        (["train", "--solver", "newton"], 2, "argument --solver: invalid choice: 'newton'"),
        (["train", "--data", "digitz"], 2, "--data: 'digitz' is neither a built-in dataset"),
        (["train", "--data", "iris", "--label-column", "2"], 2, "--label-column: only for CSV files"),
        (["train", "--learning-rate", "0.1"], 2, "--learning-rate: only for the mini-batch solvers"),
        (["gradcheck", "--sizes", "3"], 2, "argument --sizes: expected at least two positive layer sizes"),
        (["gradcheck", "--params", "3", "--directions", "2"], 2, "not allowed with argument"),
        (["gradcheck", "--data", "iris"], 2, "--data: only with --model"),
        (["evaluate", "--data", "digits"], 2, "the following arguments are required: --model"),
    ],
)
def test_bad_arguments(argv, code, needle, capsys):
    got, out, err = run(capsys, *argv)
    assert got == code and out == ""
    assert needle in err


def test_missing_and_corrupt_files(trained, tmp_path, capsys):
    missing = tmp_path / "missing.csv"
    code, _, err = run(capsys, "train", "--data", missing)
    assert code == 2 and err == (f"error: --data: {str(missing)!r} is neither a built-in dataset (digits, "
                                 "breast_cancer, iris, mnist_5k, xor, moons, circles, spiral, gaussians, plane, "
                                 "multi_gaussian) nor an existing file\n")
    code, _, err = run(capsys, "evaluate", "--model", tmp_path / "none.npz", "--data", "digits")
    assert code == 1 and err == f"error: --model: no such file {tmp_path / 'none.npz'}\n"

    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(trained["model"].read_bytes()[:-200])  # truncated
    for argv in (["evaluate", "--model", corrupt, "--data", "digits"],
                 ["predict", "--model", corrupt, "--data", "digits"],
                 ["train", "--resume", corrupt],
                 ["gradcheck", "--model", corrupt]):
        code, out, err = run(capsys, *argv)
        assert code == 1 and out == "" and err.startswith(f"error: {corrupt}: "), (argv, err)
    code, data, err = run_json(capsys, "predict", "--model", corrupt, "--data", "digits")
    assert code == 1 and data["exit_code"] == 1 and data["error"].startswith(str(corrupt))

    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,0\n3,x,1\n")
    code, _, err = run(capsys, "train", "--data", bad)
    assert code == 1 and err.startswith(f"error: {bad}: line 3, column 'b': expected a number")
    code, _, err = run(capsys, "train", "--data", bad, "--label-column", "klass")
    assert code == 1 and "no column named 'klass'" in err


def test_data_that_does_not_fit_the_model(trained, capsys):
    code, _, err = run(capsys, "evaluate", "--model", trained["model"], "--data", "iris")
    assert code == 2 and err == ("error: --data iris: 4 features per example, but the model's input layer has 64 "
                                 "units\n")
    code, _, err = run(capsys, "predict", "--model", trained["model"], "--data", "breast_cancer", "--json")
    assert code == 2 and "--data breast_cancer: 30 features" in err


# ---------------------------------------------------------------------------------------------------------------
# demo and python -m glassnet


def test_demo_lines(capsys, tmp_path):
    report = tmp_path / "demo.html"
    code, out, err = run(capsys, "demo", "--max-iter", "15", "-o", report)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 7
    assert re.fullmatch(rf"explained test example \d+ \(a \d( that the network reads as \d)?\): "
                        rf"{re.escape(str(report))}", lines[6])
    page = report.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "digit " in page and "<script" not in page
    assert lines[0] == ("glassnet demo: scikit-learn digits, 1347 train / 450 test, network 64-25-10, λ = 1, L-BFGS, "
                        "up to 15 iterations")
    assert re.fullmatch(r"gradient check \(course 3-5-3, λ = 3\): relative difference \d\.\d\de-1\d PASS", lines[1])
    J0 = glassnet.cost(glassnet.random_init([64, 25, 10], rng=0), *_digits_train(), 1.0)
    assert lines[2] == f"J(Θ) before training: {J0:.6f}"
    assert re.fullmatch(r"J\(Θ\) after training:  \d\.\d{6}  \(15 iterations, \d+\.\d s\)", lines[3])
    assert re.fullmatch(r"train accuracy: \d\d\.\d\d%", lines[4])
    assert re.fullmatch(r"test accuracy:  \d\d\.\d\d%", lines[5])
    code, data, _ = run_json(capsys, "demo", "--max-iter", "15", "--no-report")
    assert code == 0 and data["J_before"] == pytest.approx(J0) and data["n_iter"] == 15
    assert data["gradcheck"]["passed"] and data["J_after"] < data["J_before"]
    assert f"{data['test_accuracy']:.2%}" == lines[5].split()[-1]


def test_python_dash_m_glassnet():
    proc = subprocess.run([sys.executable, "-m", "glassnet", "gradcheck", "--json", "--show", "0"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["passed"] is True


# ---------------------------------------------------------------------------------------------------------------
# --dask-scheduler


@pytest.fixture(scope="module")
def dask_scheduler():
    """The address of one in-process LocalCluster (1 worker thread) shared by the --dask-scheduler tests."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def test_train_on_a_dask_cluster_matches_in_memory(dask_scheduler, tmp_path, capsys):
    argv = ["train", "--data", "iris", "--hidden", "5", "--epochs", "6", "--test-size", "0.2"]
    code, local, _ = run_json(capsys, *argv)
    assert code == 0
    model = tmp_path / "d.npz"
    # a built-in dataset is loaded here, split as without Dask, and cut into chunks of --chunk-rows
    code, remote, err = run_json(capsys, *argv, "--dask-scheduler", dask_scheduler,
                                 "--chunk-rows", "40", "--save", model, "--checkpoint-every", "3")
    assert (code, err) == (0, "")
    # the same start, data and optimizer: the chunked sums differ from the in-memory ones only in rounding
    assert remote["n_iter"] == local["n_iter"] == 6
    assert (remote["n_train"], remote["n_test"]) == (local["n_train"], local["n_test"]) == (120, 30)
    assert remote["J_before"] == pytest.approx(local["J_before"], rel=1e-12)
    assert remote["J_after"] == pytest.approx(local["J_after"], rel=1e-10)
    assert remote["test_accuracy"] == local["test_accuracy"]
    assert remote["checkpoints"] == {"every": 3, "written": 2, "last": 6}
    code, data, _ = run_json(capsys, *argv[:3], "--test-size", "0.2", "--resume", model, "--save", model,
                             "--epochs", "8", "--solver", "adam", "--dask-scheduler", dask_scheduler)
    assert code == 0 and data["n_iter"] == 8 and data["solver"] == "adam"
    clf = glassnet.load(model)
    assert clf.n_iter_ == 8 and len(clf.history_.cost) == 8 and clf.layer_sizes_ == [4, 5, 3]
    code, _, err = run(capsys, *argv, "--dask-scheduler", "tcp://127.0.0.1:1", "--early-stopping")
    assert code == 2 and err.startswith("error: --dask-scheduler: validation data and early stopping")


def _iris_csv(path, rows=slice(None)):
    X, y = load_iris()
    lines = ["a,b,c,d,label"] + [",".join(map(repr, r)) + f",{c}" for r, c in zip(X[rows].tolist(), y[rows].tolist())]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_train_from_a_csv_file_through_the_scheduler(dask_scheduler, tmp_path, capsys, monkeypatch):
    from glassnet.scale import distributed

    path = _iris_csv(tmp_path / "iris.csv")
    argv = ["train", "--data", path, "--hidden", "5", "--epochs", "6", "--test-size", "0"]
    code, local, _ = run_json(capsys, *argv)
    assert code == 0
    # --chunk-rows 40 cuts this file into several chunks
    blocksize = distributed._csv_blocksize(str(path), 40)
    assert distributed.read_chunks(path, "label", blocksize=blocksize)[0].numblocks[0] > 2

    def no_loading(*args, **kwargs):
        raise AssertionError("the CSV file was loaded into this process")

    monkeypatch.setattr(glassnet.datasets, "load", no_loading)  # the workers read the file, this process never does
    code, remote, err = run_json(capsys, *argv, "--dask-scheduler", dask_scheduler, "--chunk-rows", "40")
    assert (code, err) == (0, "")
    assert remote["classes"] == local["classes"] == [0, 1, 2]  # whole-number labels stay integers
    assert (remote["n_examples"], remote["n_features"], remote["n_train"], remote["data"]) == (150, 4, 150, "iris.csv")
    assert remote["n_iter"] == local["n_iter"] == 6
    assert remote["J_before"] == pytest.approx(local["J_before"], rel=1e-12)
    assert remote["J_after"] == pytest.approx(local["J_after"], rel=1e-10)
    assert remote["train_accuracy"] == local["train_accuracy"]
    # A file without a header row (numpy.savetxt): its first row is an example there too, the label its last column
    plain = tmp_path / "plain.csv"
    X_iris, y_iris = load_iris()
    np.savetxt(plain, np.column_stack([X_iris, y_iris]), delimiter=",", fmt="%.17g")
    code, bare, err = run_json(capsys, "train", "--data", plain, *argv[3:], "--dask-scheduler", dask_scheduler,
                               "--chunk-rows", "40")
    assert (code, err) == (0, "")
    assert (bare["n_examples"], bare["n_features"], bare["classes"]) == (150, 4, [0, 1, 2])
    assert bare["J_after"] == pytest.approx(local["J_after"], rel=1e-10)

    # The test part: a seeded hash of the row number, the same rows however the file is chunked.
    held_out = ["--test-size", "0.3", "--dask-scheduler", dask_scheduler, "--seed", "3", "--save"]
    code, a, _ = run_json(capsys, *argv[:-2], *held_out, tmp_path / "a.npz", "--chunk-rows", "40")
    code_b, b, _ = run_json(capsys, *argv[:-2], *held_out, tmp_path / "b.npz", "--chunk-rows", "1000")
    assert code == code_b == 0
    rows = np.arange(150, dtype=np.uint64)
    n_test = int(np.sum(distributed.row_hash(rows, 3) < 0.3))
    assert a["n_test"] == b["n_test"] == n_test and a["n_train"] == b["n_train"] == 150 - n_test
    assert 30 <= n_test <= 60
    assert a["test_accuracy"] == b["test_accuracy"] and a["J_after"] == pytest.approx(b["J_after"], rel=1e-10)
    # the model saved from the Dask run is an ordinary model: it predicts the file's held-out rows in memory
    monkeypatch.undo()
    X, y = load_iris()
    test_rows = distributed.row_hash(rows, 3) < 0.3
    model = glassnet.load(tmp_path / "a.npz")
    assert model.classes_.tolist() == [0, 1, 2]
    assert model.score(X[test_rows], y[test_rows]) == pytest.approx(a["test_accuracy"], abs=1e-12)


def test_dask_file_errors_name_the_option(dask_scheduler, tmp_path, capsys):
    path = _iris_csv(tmp_path / "iris.csv")
    dask = ["--dask-scheduler", dask_scheduler]
    code, _, err = run(capsys, "train", "--data", tmp_path / "part-*.csv", *dask)
    assert code == 2 and "--data" in err and "no file matches" in err
    code, _, err = run(capsys, "train", "--data", path, "--label-column", "9", *dask)
    assert code == 2 and err.startswith("error: --label-column 9: out of range for the 5 columns of")
    code, _, err = run(capsys, "train", "--data", path, "--label-column", "0", *dask)
    assert code == 1 and "label column 'a' holds fractional numbers such as 4.3" in err
    code, _, err = run(capsys, "train", "--data", path, "--label-column", "species", *dask)
    assert code == 1 and "has no column 'species'; its columns are ['a', 'b', 'c', 'd', 'label']" in err
    code, _, err = run(capsys, "train", "--data", _iris_csv(tmp_path / "three.csv", slice(0, 150, 50)),
                       "--test-size", "0.01", *dask)
    assert code == 2 and err.startswith("error: --test-size 0.01: holds out 0 of the 3 examples")
    (tmp_path / "data.json").write_text("{}")
    code, _, err = run(capsys, "train", "--data", tmp_path / "data.json", *dask)
    assert code == 2 and "with --dask-scheduler, expected CSV (.csv/.txt), .npz or Parquet" in err


def test_train_from_npz_chunks_through_the_scheduler(dask_scheduler, tmp_path, capsys):
    X, y = load_iris()
    np.savez(tmp_path / "part-0.npz", X=X[:100], y=y[:100])
    np.savez(tmp_path / "part-1.npz", X=X[100:], y=y[100:])
    argv = ["train", "--hidden", "4", "--epochs", "5", "--test-size", "0", "--dask-scheduler", dask_scheduler]
    code, remote, err = run_json(capsys, *argv, "--data", str(tmp_path / "part-*.npz"), "--chunk-rows", "30")
    assert (code, err) == (0, "")
    np.savez(tmp_path / "all.npz", X=X, y=y)
    code, local, _ = run_json(capsys, *argv[:-2], "--data", tmp_path / "all.npz")
    assert remote["n_examples"] == 150 and remote["classes"] == [0, 1, 2]
    assert remote["J_after"] == pytest.approx(local["J_after"], rel=1e-10)


def test_a_csv_without_a_label_column_gets_a_hint(trained, tmp_path, capsys):
    X, _ = load_digits()
    path = tmp_path / "features.csv"
    path.write_text(",".join(f"x{j}" for j in range(64)) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in X[:5]))
    # evaluate needs labels, so the last column is read as labels and the hint says what happened
    code, _, err = run(capsys, "evaluate", "--model", trained["model"], "--data", path)
    assert code == 2 and "63 features per example" in err and "needs a label column added" in err


def test_model_file_records_the_scaling_so_raw_features_predict_as_in_training(tmp_path, capsys):
    """Trained on breast_cancer by name (standardized), the model predicts raw features of a file with
    --raw-features."""
    from sklearn.datasets import load_breast_cancer

    model = tmp_path / "bc.npz"
    code, _, _ = run(capsys, "train", "--data", "breast_cancer", "--hidden", "4", "--epochs", "30", "--save", model)
    assert code == 0
    clf = glassnet.load(model)
    assert clf.input_scaling_["kind"] == "standardize" and len(clf.input_scaling_["mean"]) == 30
    raw_X, raw_y = load_breast_cancer(return_X_y=True)
    raw = tmp_path / "raw.csv"
    np.savetxt(raw, np.column_stack([raw_X, raw_y]), delimiter=",",
               header=",".join([f"f{j}" for j in range(30)] + ["label"]), comments="")
    code, out, err = run(capsys, "predict", "--model", model, "--data", raw, "--raw-features")
    assert (code, err) == (0, "")
    expected = clf.predict(glassnet.datasets.load("breast_cancer").X)  # what training saw
    assert [int(v) for v in out.splitlines()[1:]] == expected.tolist()
    code, data, _ = run_json(capsys, "evaluate", "--model", model, "--data", raw, "--raw-features")
    assert code == 0 and data["input_scaling"] == "features scaled as in training (standardize)"
    assert data["accuracy"] == pytest.approx(np.mean(expected == raw_y))
    plain = tmp_path / "plain.npz"
    glassnet.save(glassnet.Classifier(hidden_layer_sizes=(2,), max_iter=5).fit(raw_X[:50], raw_y[:50]), plain)
    code, _, err = run(capsys, "predict", "--model", plain, "--data", raw, "--raw-features")
    assert code == 2 and "records no scaling" in err


def test_every_subcommand_has_the_one_json_convention():
    """``--json`` on every subcommand (one JSON document on stdout); ``plot`` on each of its kinds."""
    import argparse

    from glassnet.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = []
    for parser in sub.choices.values():
        kinds = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        for p in (kinds[0].choices.values() if kinds else [parser]):
            flags = {o for a in p._actions for o in a.option_strings}
            if "--json" not in flags:
                missing.append(p.prog)
            takes_value = any(a.dest == "json" and a.type is not None for a in p._actions)
            assert not takes_value, f"{p.prog}: --json takes a value"
    assert missing == []


def test_train_json_says_why_it_stopped_in_plain_words(capsys):
    code, data, _ = run_json(capsys, "train", "--data", "xor", "--hidden", "4", "--epochs", "3")
    assert code == 0 and data["reason"] == "stopped: iteration budget used up"
    assert data["message"] == data["reason"]  # the record holds the plain words, not scipy's "STOP: ... LIMIT"


def test_train_in_float32_stores_float32_weights(tmp_path, capsys):
    model = tmp_path / "f32.npz"
    code, data, _ = run_json(capsys, "train", "--hidden", "10", "--epochs", "40", "--dtype", "float32", "--save",
                             model)
    assert code == 0 and data["dtype"] == "float32" and data["test_accuracy"] > 0.8
    clf = glassnet.load(model)
    assert all(t.dtype == np.float32 for t in clf.thetas_)
    X, _ = load_digits()
    assert clf.predict_proba(X.astype(np.float32)).dtype == np.float32
    assert clf.get_params()["dtype"] == "float32"
    code, data, _ = run_json(capsys, "train", "--epochs", "45", "--resume", model, "--save", model)
    assert code == 0 and data["dtype"] == "float32"  # a resumed model keeps its precision without --dtype
    assert all(t.dtype == np.float32 for t in glassnet.load(model).thetas_)
