"""The course's own files in every front end: ``ex4weights.mat`` with a course-format data file (labels 1..10, 10 = 0).

The real ``ex4data1.mat`` is not available here, so the test builds a file of the same format: X (m × 400) and y
(m × 1) in 1..10 where 10 means the digit 0. The expected numbers come from the course's own formulas written out
below with the course's conventions (Octave's 1-based labels, one-hot column k for label k), independent of glassnet.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.io import loadmat, savemat

from conftest import EX4_WEIGHTS
from glassnet.cli import main


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def course_nn_cost(Theta1, Theta2, X, y, lam):
    """The course's nnCostFunction (cost only), Octave conventions: y in 1..K, unrolled as the course writes it."""
    m = X.shape[0]
    a1 = np.hstack([np.ones((m, 1)), X])
    a2 = np.hstack([np.ones((m, 1)), _sigmoid(a1 @ Theta1.T)])
    h = _sigmoid(a2 @ Theta2.T)
    Y = np.eye(Theta2.shape[0])[y - 1]  # label k → column k (1-based)
    J = -np.sum(Y * np.log(h) + (1 - Y) * np.log(1 - h)) / m
    return J + lam / (2 * m) * (np.sum(Theta1[:, 1:] ** 2) + np.sum(Theta2[:, 1:] ** 2))


def course_predict(Theta1, Theta2, X):
    """The course's predict.m: [~, p] = max(h, [], 2), labels 1..10."""
    m = X.shape[0]
    h1 = _sigmoid(np.hstack([np.ones((m, 1)), X]) @ Theta1.T)
    h2 = _sigmoid(np.hstack([np.ones((m, 1)), h1]) @ Theta2.T)
    return np.argmax(h2, axis=1) + 1


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    if not EX4_WEIGHTS.exists():
        pytest.skip(f"reference weights not found at {EX4_WEIGHTS}")
    w = loadmat(EX4_WEIGHTS)
    Theta1, Theta2 = np.asarray(w["Theta1"], float), np.asarray(w["Theta2"], float)
    rng = np.random.default_rng(4)
    X = rng.uniform(-0.1, 1.0, (120, 400))
    y = course_predict(Theta1, Theta2, X)  # labels the network gets right ...
    wrong = rng.random(120) < 0.3
    y[wrong] = rng.integers(1, 11, wrong.sum())  # ... and some it does not
    y[:3] = [10, 3, 10]  # digit 0 (label 10) among the first examples
    folder = tmp_path_factory.mktemp("course")
    data = folder / "course.mat"
    savemat(data, {"X": X, "y": y.reshape(-1, 1).astype(np.uint8)})  # the course's file: y as an m×1 column
    return {"Theta1": Theta1, "Theta2": Theta2, "X": X, "y": y, "data": data, "dir": folder}


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("lam", [0.0, 1.0, 3.0])
def test_evaluate_gives_the_course_cost_and_accuracy(course, capsys, lam):
    code, out, err = run(capsys, "evaluate", "--model", EX4_WEIGHTS, "--data", course["data"], "--test-size", 0,
                         "--lam", lam, "--json")
    assert (code, err) == (0, "")
    d = json.loads(out)
    J = course_nn_cost(course["Theta1"], course["Theta2"], course["X"], course["y"], lam)
    accuracy = np.mean(course_predict(course["Theta1"], course["Theta2"], course["X"]) == course["y"])
    assert d["cost"] == pytest.approx(J, rel=1e-10)
    assert d["accuracy"] == pytest.approx(accuracy, abs=1e-12) and 0.5 < accuracy < 0.95
    assert d["n_examples"] == 120 and d["layer_sizes"] == [400, 25, 10] and d["lam"] == lam


def test_evaluate_text_names_the_network_and_cost(course, capsys):
    code, out, _ = run(capsys, "evaluate", "--model", EX4_WEIGHTS, "--data", course["data"], "--lam", 1)
    J = course_nn_cost(course["Theta1"], course["Theta2"], course["X"], course["y"], 1.0)
    assert code == 0 and "(400-25-10, 10 classes)" in out.splitlines()[0]
    assert f"J(Θ) = {J:.6f} (λ = 1, on these 120 examples)" in out


def test_predict_prints_the_course_digits(course, capsys):
    code, out, err = run(capsys, "predict", "--model", EX4_WEIGHTS, "--data", course["data"])
    assert (code, err) == (0, "")
    lines = out.splitlines()
    expected = course_predict(course["Theta1"], course["Theta2"], course["X"]) % 10  # the course's 10 is digit 0
    assert lines[0] == "prediction" and [int(v) for v in lines[1:]] == expected.tolist()


def test_explain_puts_the_digit_zero_target_on_unit_10(course, capsys):
    code, out, err = run(capsys, "explain", "--model", EX4_WEIGHTS, "--data", course["data"], "--example", 0,
                         "--json")
    assert (code, err) == (0, "")
    d = json.loads(out)
    out_layer = d["layers"][2]["units"]
    y_vec = np.array([u["a"] - u["delta"] for u in out_layer])  # δ⁽³⁾ = a⁽³⁾ − y
    np.testing.assert_allclose(y_vec, np.eye(10)[9], atol=1e-12)  # label 10 (digit 0) is the course's unit 10
    assert d["label"] == 0 and d["output_units"][9] == "h₁₀ · digit 0"
    code, out, _ = run(capsys, "explain", "--model", EX4_WEIGHTS, "--data", course["data"], "--example", 1)
    assert code == 0 and "label 3" in out.splitlines()[0]
    assert "δ₃⁽³⁾ = a₃⁽³⁾ − y₃ = " in out and " − 1 = " in out.split("δ₃⁽³⁾")[1].splitlines()[0]


def test_explain_html_titles_the_misclassified_with_the_courses_digits(course, capsys, monkeypatch):
    """The report's gallery of mistakes names classes (label 10 is the digit 0), not output-unit indices."""
    from glassnet.explain import report

    shown = {}

    def capture(X, true, predicted, *args, indices=None, **kwargs):
        shown.update(true=list(true), predicted=list(predicted), indices=list(indices))
        return b"\x89PNG"

    monkeypatch.setattr(report, "examples_png", capture)
    out_file = course["dir"] / "report.html"
    code, _, err = run(capsys, "explain", "--model", EX4_WEIGHTS, "--data", course["data"], "--format", "html",
                       "-o", out_file, "--force")
    assert (code, err) == (0, "")
    pred = course_predict(course["Theta1"], course["Theta2"], course["X"])
    wrong = np.flatnonzero(pred != course["y"])[:40]
    assert shown["indices"] == wrong.tolist() and len(wrong) > 5
    assert shown["true"] == (course["y"][wrong] % 10).tolist()  # the course's label 10 is the digit 0
    assert shown["predicted"] == (pred[wrong] % 10).tolist()
    assert 0 in shown["true"] and 10 not in shown["true"] + shown["predicted"]


def test_plot_hidden_draws_the_course_weights_column_major_by_default(course, capsys):
    """``plot hidden --model ex4weights.mat``: the loader recognises the course's file, so its 20×20 images are
    unrolled as MATLAB does (column by column) unless --order says otherwise; a glassnet file stays row by row."""
    from explain_helpers import read_png
    from glassnet.explain.figures import hidden_units_png
    from glassnet.io import save_thetas

    picture = course["dir"] / "hidden.png"
    code, out, err = run(capsys, "plot", "hidden", "--model", EX4_WEIGHTS, "-o", picture, "--force", "--json")
    assert (code, err) == (0, "") and json.loads(out)["order"] == "F"
    drawn = read_png(picture.read_bytes())
    np.testing.assert_array_equal(drawn, read_png(hidden_units_png(course["Theta1"], order="F")))
    assert not np.array_equal(drawn, read_png(hidden_units_png(course["Theta1"], order="C")))
    code, out, _ = run(capsys, "plot", "hidden", "--model", EX4_WEIGHTS, "--order", "C", "-o", picture, "--force",
                       "--json")
    assert code == 0 and json.loads(out)["order"] == "C"
    own = course["dir"] / "own.npz"
    save_thetas(own, [course["Theta1"], course["Theta2"]])
    code, out, _ = run(capsys, "plot", "hidden", "--model", own, "-o", picture, "--force", "--json")
    assert code == 0 and json.loads(out)["order"] == "C"


def test_the_course_ex4_page_prints_what_it_shows(tmp_path, monkeypatch):
    """docs/course-ex4.md runs as a doctest from a folder holding ex4weights.mat: every number it shows is printed."""
    import doctest
    import shutil
    from pathlib import Path

    if not EX4_WEIGHTS.exists():
        pytest.skip(f"reference weights not found at {EX4_WEIGHTS}")
    page = Path(__file__).resolve().parents[1] / "docs" / "course-ex4.md"
    shutil.copy(EX4_WEIGHTS, tmp_path / "ex4weights.mat")
    monkeypatch.chdir(tmp_path)
    result = doctest.testfile(str(page), module_relative=False, encoding="utf-8",
                              optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted >= 25, result  # the failures are printed above
    assert (tmp_path / "digits20.mat").is_file()


def test_serve_opens_the_course_network(course):
    """``glassnet serve --model ex4weights.mat --json``: one JSON line once it accepts connections; the page is
    400-25-10."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    import httpx

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "glassnet", "serve", "--model", str(EX4_WEIGHTS), "--data",
                             str(course["data"]), "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        line = proc.stdout.readline()
        d = json.loads(line or "null") or pytest.fail(proc.stderr.read())
        assert d["command"] == "serve" and d["layer_sizes"] == [400, 25, 10] and d["n_examples"] == 120
        headers = {"X-Glassnet-Token": d["token"]}
        base = f"http://127.0.0.1:{d['port']}"
        assert d["url"] == f"{base}/?token={d['token']}"
        state = httpx.get(f"{base}/api/state", headers=headers, timeout=10).json()
        assert state["sizes"] == [400, 25, 10]
        page = httpx.get(d["url"], timeout=10)
        assert page.status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_serve_names_a_model_file_once(tmp_path, capsys):
    bad = tmp_path / "junk.npz"
    bad.write_bytes(b"junk")
    assert main(["serve", "--data", "xor", "--model", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.count("junk.npz") == 1 and err.startswith(f"error: {bad}: not a model file")


def course_nn_gradient(Theta1, Theta2, X, y, lam):
    """The course's nnCostFunction gradient (Theta1_grad, Theta2_grad), Octave conventions: y in 1..K."""
    m = X.shape[0]
    a1 = np.hstack([np.ones((m, 1)), X])
    z2 = a1 @ Theta1.T
    a2 = np.hstack([np.ones((m, 1)), _sigmoid(z2)])
    h = _sigmoid(a2 @ Theta2.T)
    Y = np.eye(Theta2.shape[0])[y - 1]  # label k → column k (1-based): label 10 (digit 0) → unit 10
    d3 = h - Y
    d2 = (d3 @ Theta2[:, 1:]) * _sigmoid(z2) * (1 - _sigmoid(z2))
    grads = [d2.T @ a1 / m, d3.T @ a2 / m]
    for g, T in zip(grads, (Theta1, Theta2)):
        g[:, 1:] += lam / m * T[:, 1:]
    return grads


def test_gradcheck_on_course_data_puts_digit_zero_on_unit_10(course, capsys):
    """``gradcheck --model ex4weights.mat --data course.mat``: the labels become units by the model's output layer, so
    backprop's D is the course's gradient (label 10, the digit 0, on unit 10), not that of sorted classes."""
    m = len(course["y"])  # every example, so the rows picked are all of them
    code, out, err = run(capsys, "gradcheck", "--model", EX4_WEIGHTS, "--data", course["data"], "-m", m,
                         "--lam", 1, "--params", 40, "--json")
    assert (code, err) == (0, "")
    d = json.loads(out)
    assert d["passed"] and d["m"] == m and d["layer_sizes"] == [400, 25, 10] and len(d["rows"]) == 40
    D = course_nn_gradient(course["Theta1"], course["Theta2"], course["X"], course["y"], 1.0)
    analytic = np.array([r["analytic"] for r in d["rows"]])
    expected = np.array([D[r["layer"] - 1][r["i"], r["j"]] for r in d["rows"]])
    np.testing.assert_allclose(analytic, expected, rtol=1e-9, atol=1e-13)
