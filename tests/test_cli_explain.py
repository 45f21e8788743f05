"""``glassnet explain`` and ``glassnet plot``, run in-process: exit codes, exact output lines, files written."""

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import glassnet
from glassnet import io as gio
from glassnet.cli import main
from glassnet.datasets import load_digits
from glassnet.explain import text

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A Classifier fitted briefly on the digits, the same weights saved bare, and a small data file."""
    folder = tmp_path_factory.mktemp("cli")
    X, y = load_digits()
    clf = glassnet.Classifier(hidden_layer_sizes=(12,), max_iter=15, random_state=0).fit(X[:300], y[:300])
    gio.save(clf, folder / "m.npz")
    gio.save_thetas(folder / "bare.npz", clf.thetas_, {"lam": 0.5})
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(y))[:150]
    np.savez(folder / "small.npz", X=X[idx], y=y[idx])
    return {"dir": folder, "model": folder / "m.npz", "bare": folder / "bare.npz", "small": folder / "small.npz",
            "clf": clf, "X": X, "y": y}


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def expected_trace(files, example, lam=1.0, thetas=None):
    tr = glassnet.explain(files["clf"].thetas_ if thetas is None else thetas, files["X"], files["y"], lam=lam,
                          rows=example)
    from dataclasses import replace

    return replace(tr, label=int(files["y"][example]))


def test_explain_text_is_the_library_rendering(files, capsys):
    code, out, err = run(capsys, "explain", "--model", files["model"], "--example", 17)
    assert (code, err) == (0, "")
    tr = expected_trace(files, 17)
    # 10 output units: each hidden unit's 4 largest edge terms; the built-in digits' classes read "digit k"
    assert out == text.render_text(tr, top_k=4, class_names=[f"digit {k}" for k in range(10)])
    assert out.splitlines()[0] == "Example 17: label 7 · network 64-12-10 · λ = 1"


def test_explain_one_unit(files, capsys):
    code, out, err = run(capsys, "explain", "--model", files["model"], "--example", 17, "--unit", "2:3")
    assert code == 0 and err == ""
    tr = expected_trace(files, 17)
    lines = out.splitlines()
    assert text.unit_equation(tr, 2, 3, top_k=4) in lines
    total = text.format_number(tr.unit(2, 3).edge_sum)
    assert lines[-12] == f"Edges of unit 2:3 by size of Θᵢⱼ·δᵢ (they add up to {total}):"
    assert lines[-11].split() == ["i", "Θᵢ₃⁽²⁾", "δᵢ⁽³⁾", "term"]
    assert sorted(int(row.split()[0]) for row in lines[-10:]) == list(range(1, 11))
    code, out, _ = run(capsys, "explain", "--model", files["model"], "--example", 17, "--unit", "3:8", "--top-k", 2)
    assert text.unit_equation(tr, 3, 8) in out.splitlines()  # output unit: a − y


@pytest.mark.parametrize(("unit", "message"), [
    ("4:1", "error: --unit 4:1: layer must be 2..3 (layer 1 is the input and has no δ)"),
    ("1:1", "error: --unit 1:1: layer must be 2..3 (layer 1 is the input and has no δ)"),
    ("2:13", "error: --unit 2:13: layer 2 has units 1..12"),
    ("3:0", "error: --unit 3:0: layer 3 has units 1..10"),
    ("two", "error: --unit: expected LAYER:UNIT such as 2:2 (δ₂⁽²⁾), got 'two'"),
])
def test_bad_unit_names_the_valid_range(files, capsys, unit, message):
    code, out, err = run(capsys, "explain", "--model", files["model"], "--unit", unit)
    assert (code, out, err) == (2, "", message + "\n")


def test_bad_example_data_and_model(files, capsys):
    assert run(capsys, "explain", "--model", files["model"], "--example", 1797) == (
        2, "", "error: --example 1797: the data has examples 0..1796\n")
    assert run(capsys, "explain", "--model", files["model"], "--data", "iris") == (
        2, "", "error: --data iris: 4 features per example, but the model's input layer has 64 units\n")
    missing = files["dir"] / "missing.npz"
    assert run(capsys, "explain", "--model", missing) == (1, "", f"error: --model: no such file {missing}\n")
    junk = files["dir"] / "junk.npz"
    junk.write_bytes(b"not a zip file")
    code, out, err = run(capsys, "explain", "--model", junk)
    assert code == 1 and out == "" and err.startswith(f"error: {junk}")
    code, out, err = run(capsys, "explain", "--model", files["model"], "--data", "nosuchset")
    assert code == 2 and err.startswith("error: --data: 'nosuchset' is neither a built-in dataset")
    assert run(capsys, "explain", "--model", files["model"], "--format", "png") == (
        2, "", "error: --format png: give the file to write with -o FILE.png\n")
    code, _, err = run(capsys, "explain", "--model", files["model"], "--format", "pdf")
    assert code == 2 and "invalid choice: 'pdf'" in err


def test_svg_file_and_no_overwrite_without_force(files, capsys):
    target = files["dir"] / "d.svg"
    code, out, err = run(capsys, "explain", "--model", files["model"], "--example", 5, "--format", "svg",
                         "-o", target, "--unit", "2:4")
    assert (code, out, err) == (0, f"wrote {target}\n", "")
    root = ET.fromstring(target.read_text())
    tr = expected_trace(files, 5)
    unit = root.find(".//*[@id='unit-2-4']")
    assert float(unit.get("data-value")) == pytest.approx(tr.delta[2][4], rel=1e-12)
    assert "highlight" in unit.get("class")
    assert len(root.findall(".//*[@class='unit input pixel']")) == 64  # digits are drawn as the 8×8 image
    before = target.read_bytes()
    assert run(capsys, "explain", "--model", files["model"], "--format", "svg", "-o", target) == (
        1, "", f"error: {target} exists; use --force to replace it\n")
    assert target.read_bytes() == before
    code, out, _ = run(capsys, "explain", "--model", files["model"], "--example", 6, "--format", "svg", "-o", target,
                       "--force", "--view", "forward")
    assert code == 0 and target.read_bytes() != before
    assert ET.fromstring(target.read_text()).get("data-view") == "forward"


def test_png_html_and_json_outputs(files, capsys):
    png = files["dir"] / "d.png"
    assert run(capsys, "explain", "--model", files["model"], "--format", "png", "-o", png)[0] == 0
    assert png.read_bytes()[:8] == PNG
    page = files["dir"] / "r.html"
    code, out, _ = run(capsys, "explain", "--model", files["model"], "--example", 9, "--format", "html", "-o", page,
                       "--unit", "2:1")
    assert code == 0 and out == f"wrote {page}\n"
    text = page.read_text()
    assert "<h2>Unit 2:1</h2>" in text and "Misclassified examples" in text and "<script" not in text
    assert 'class="unit hidden highlight"' in text
    code, out, _ = run(capsys, "explain", "--model", files["model"], "--example", 9, "--format", "json")
    d = json.loads(out)
    tr = expected_trace(files, 9)
    assert code == 0 and d["example"] == 9 and d["label"] == int(files["y"][9])
    assert d["cost"] == pytest.approx(tr.cost, rel=1e-12)
    assert d["layers"][1]["units"][0]["delta"] == pytest.approx(tr.delta[2][1], rel=1e-12)


def test_bare_weights_and_course_mat_weights(files, capsys, ex4_thetas):
    code, out, _ = run(capsys, "explain", "--model", files["bare"], "--example", 3)
    assert code == 0 and out.splitlines()[0] == "Example 3: label 3 · network 64-12-10 · λ = 0.5"
    from conftest import EX4_WEIGHTS
    from glassnet.datasets import load_mat_thetas  # noqa: F401 (the CLI reads .mat weights with it)

    images = files["dir"] / "ex4like.npz"
    rng = np.random.default_rng(1)
    X = rng.uniform(0, 1, (4, 400))
    np.savez(images, X=X, y=np.array([0, 3, 5, 9]))
    # The course's unit order: unit k is digit k, unit 10 is digit 0, so label 3 is unit 3 and label 0 is unit 10
    code, out, err = run(capsys, "explain", "--model", EX4_WEIGHTS, "--data", images, "--example", 1, "--unit", "3:3")
    assert (code, err) == (0, "")
    tr = glassnet.explain(ex4_thetas, X, [9, 2, 4, 8], lam=1.0, rows=1)
    assert text.unit_equation(tr, 3, 3) in out.splitlines()
    assert text.unit_equation(tr, 3, 3).endswith("− 1 = " + text.format_number(tr.delta[3][3]))
    code, out, _ = run(capsys, "explain", "--model", EX4_WEIGHTS, "--data", images, "--example", 0, "--json")
    d = json.loads(out)
    delta3 = [u["delta"] for u in d["layers"][2]["units"]]
    a3 = [u["a"] for u in d["layers"][2]["units"]]
    assert np.allclose(np.array(a3) - np.array(delta3), np.eye(10)[9])  # δ⁽³⁾ = a − y: its −1 on unit 10
    assert d["output_units"][9] == "h₁₀ · digit 0" and d["output_units"][0] == "h₁ · digit 1"
    assert run(capsys, "explain", "--model", EX4_WEIGHTS)[:2] == (2, "")


def test_plot_curves_and_hidden(files, capsys):
    out_png = files["dir"] / "curves.png"
    assert run(capsys, "plot", "curves", "--model", files["model"], "-o", out_png) == (0, f"wrote {out_png}\n", "")
    assert out_png.read_bytes()[:8] == PNG
    hist = files["dir"] / "h.json"
    hist.write_text(json.dumps({"train": [2.0, 1.5, 1.2], "validation": [2.1, 1.8, 1.7]}))
    assert run(capsys, "plot", "curves", "--history", hist, "-o", out_png, "--force")[0] == 0
    assert run(capsys, "plot", "curves", "--history", hist, "-o", out_png) == (
        1, "", f"error: {out_png} exists; use --force to replace it\n")
    assert run(capsys, "plot", "curves", "-o", files["dir"] / "x.png") == (
        2, "", "error: plot curves: give exactly one of --model FILE or --history FILE.json\n")
    assert run(capsys, "plot", "curves", "--model", files["bare"], "-o", files["dir"] / "x.png") == (
        1, "", f"error: {files['bare']}: no training history with costs to plot\n")
    hidden = files["dir"] / "hidden.png"
    assert run(capsys, "plot", "hidden", "--model", files["model"], "-o", hidden) == (0, f"wrote {hidden}\n", "")
    assert hidden.read_bytes()[:8] == PNG
    assert run(capsys, "plot", "hidden", "--model", files["model"], "--image-shape", "4x4", "-o",
               files["dir"] / "h2.png") == (2, "", "error: image_shape: 4×4 = 16 pixels, but the input layer has 64 "
                                                   "units\n")
    assert run(capsys, "plot", "hidden", "--model", files["model"], "-o", files["dir"] / "h.svg") == (
        2, "", f"error: -o {files['dir'] / 'h.svg'}: plots are PNG files; use a name ending in .png\n")
    code, _, err = run(capsys, "plot")
    assert code == 2 and "curves" in err


def test_plot_learning_and_validation_curves(files, capsys):
    lc_png = files["dir"] / "lc.png"
    code, out, err = run(capsys, "plot", "learning-curve", "--data", files["small"], "--hidden", "6", "--sizes",
                         "30,100", "--max-iter", 10, "--json", "-o", lc_png)
    d = json.loads(out)  # --json: one JSON document on stdout, the PNG in -o
    assert (code, err, d["command"], d["output"]) == (0, "", "plot", str(lc_png))
    assert d["kind"] == "learning_curve" and d["m"] == [30, 100] and d["sizes"] == [64, 6, 10]
    assert all(np.isfinite(d["val_cost"])) and lc_png.read_bytes()[:8] == PNG
    vc_png = files["dir"] / "vc.png"
    code, out, _ = run(capsys, "plot", "validation-curve", "--data", files["small"], "--hidden", "6", "--lams",
                       "0,1,100", "--max-iter", 10, "--json", "-o", vc_png, "--metric", "error")
    d = json.loads(out)
    assert code == 0 and d["lams"] == [0.0, 1.0, 100.0] and d["best_lam"] in d["lams"]
    assert d["train_cost"][2] > d["train_cost"][0]
    assert run(capsys, "plot", "learning-curve", "--data", files["small"], "--sizes", "0,10", "-o",
               files["dir"] / "bad.png") == (2, "", "error: train_sizes: expected sizes between 1 and 112 (the number "
                                                    "of rows of X), got [0, 10]\n")
    assert run(capsys, "plot", "validation-curve", "--lams", "a,b", "-o", files["dir"] / "bad.png") == (
        2, "", "error: --lams: expected comma-separated numbers, got 'a,b'\n")


def test_help_lists_the_commands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "explain" in out and "plot" in out
