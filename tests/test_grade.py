"""glassnet.grade and ``glassnet grade``: a gallery of student implementations, each diagnosed as exactly its mistake.

tests/grade_gallery/ holds nnCostFunction files written as students write them: a correct one per convention, one
per typical mistake (``wrong_<mistake>.py``), and files that hang, raise, allocate without end or crash Python.
"""

import json
from pathlib import Path

import numpy as np
import pytest

import glassnet
from glassnet._support import sandbox as _sandbox
from glassnet.cli import main
from glassnet.grading import MISTAKES
from glassnet.grading.cases import OCTAVE, PYTHON, Pieces, forum_problem, grader_problem, net_cases
from glassnet.grading.diagnose import close

GALLERY = Path(__file__).resolve().parent / "grade_gallery"
FILE_OF = {m.name: GALLERY / f"wrong_{m.name.replace('-', '_').replace('/', '_over_')}.py" for m in MISTAKES}
FILE_OF["wrong-sign"] = GALLERY / "wrong_sign.py"
SHORT = 3  # seconds: the hanging file's limit (the others finish in well under a second)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------------------------------------------------
# the gallery


def test_gallery_has_one_file_per_mistake():
    assert len(MISTAKES) >= 10
    for name, path in FILE_OF.items():
        assert path.is_file(), f"no gallery file for {name}: {path.name}"
    assert len({m.name for m in MISTAKES}) == len(MISTAKES)


@pytest.mark.parametrize("name", sorted(FILE_OF))
def test_each_wrong_file_is_diagnosed_as_exactly_its_mistake(name):
    # graded in the Python port's convention, named: the two label mistakes are, read without it, the convention
    # "row-major, labels 1..K", which is detected and passes (tests/test_grade_conventions.py)
    report = glassnet.grade(FILE_OF[name], octave=False, timeout_s=30)
    assert report.error is None
    assert not report.passed
    assert report.mistakes == (name,), str(report)
    for part in report.parts:
        if part.status == "FAIL" and part.diagnosis is not None:
            assert part.diagnosis.mistake == name
            assert part.diagnosis.formula and part.diagnosis.look_at


@pytest.mark.parametrize("path, octave", [(GALLERY / "correct.py", False), (GALLERY / "correct_octave.py", True)])
def test_correct_files_pass_every_part(path, octave, capsys):
    report = glassnet.grade(path, octave=octave)
    assert report.passed, str(report)
    assert [p.status for p in report.parts] == ["PASS"] * 6
    code, out, err = run(capsys, "grade", path, *(["--octave"] if octave else []))
    assert code == 0 and "6 of 6 parts pass" in out


def test_the_wrong_convention_is_diagnosed():
    report = glassnet.grade(GALLERY / "correct_octave.py", octave=False)  # graded as the Python port, named
    assert not report.passed
    assert report.part("cost").status == "FAIL"


def test_localisation_names_the_first_wrong_layer_and_lecture_indices():
    report = glassnet.grade(GALLERY / "wrong_gprime_of_a.py")
    d = report.part("gradient").diagnosis
    assert d.wrong_layers == (1,) and d.first_wrong_layer == 1  # D^(2) does not depend on g′ of the hidden layer
    assert d.worst and all(w.array == "D^(1)" and 1 <= w.i <= 5 and 0 <= w.j <= 3 for w in d.worst)
    d = glassnet.grade(GALLERY / "wrong_output_delta_gprime.py").part("gradient").diagnosis
    assert d.wrong_layers == (1, 2) and d.first_wrong_layer == 2  # backprop order: the error enters at the output
    d = glassnet.grade(GALLERY / "wrong_bias_regularized_gradient.py").part("regularized-gradient").diagnosis
    assert {w.j for w in d.worst} == {0}


def test_an_unknown_mistake_is_still_localised():
    def nnCostFunction(nn_params, n_in, n_hidden, K, X, y, lam):
        thetas = PYTHON.unpack(nn_params, [n_in, n_hidden, K])
        J, D = glassnet.cost_and_gradient(thetas, X, y, lam)
        if D[1].shape[1] > 3:  # the nets with s_2 ≥ 3 (not the forum's 2-2-4)
            D[1][2, 3] += 0.5  # one entry of D^(2) wrong: Θ^(2)_{3,3}
        return J, PYTHON.pack(D)

    report = glassnet.grade(nnCostFunction)
    d = report.part("gradient").diagnosis
    assert d.mistake is None and report.mistakes == ()
    assert d.wrong_layers == (2,) and len(d.worst) == 1
    assert (d.worst[0].array, d.worst[0].i, d.worst[0].j) == ("D^(2)", 3, 3)
    assert "D^(2)_3,3" in str(report)


# ---------------------------------------------------------------------------------------------------------------
# the mistakes are exact variants of the correct pieces


def test_pieces_are_glassnet_answers():
    for case in net_cases()[True]:
        p = Pieces(case, PYTHON)
        J, D = glassnet.cost_and_gradient(list(case.thetas), case.X, case.y, case.lam)
        assert p.J == J and all(np.array_equal(a, b) for a, b in zip(p.D, D))
        assert all(np.allclose(a + b, c, rtol=0, atol=1e-15) for a, b, c in zip(p.D_data, p.D_reg, D))
        assert close(p.J_data + p.reg, J)


def test_every_mistake_differs_from_the_correct_answer():
    for mistake in MISTAKES:
        if mistake.net is None:
            continue
        p = Pieces(net_cases()[True][0], PYTHON)
        J, grad = mistake.net(p)
        assert not (close(J, p.J) and close(grad, p.answer()[1])), mistake.name


def test_conventions_round_trip_and_octave_is_glassnet_unroll():
    thetas, _, _ = grader_problem()
    assert np.array_equal(OCTAVE.pack(thetas), glassnet.unroll(thetas))
    for conv in (PYTHON, OCTAVE):
        back = conv.unpack(conv.pack(thetas), [2, 4, 4])
        assert all(np.array_equal(a, b) for a, b in zip(back, thetas))
    assert PYTHON.labels(np.array([0, 3])).tolist() == [0, 3] and OCTAVE.labels(np.array([0, 3])).tolist() == [1, 4]


# ---------------------------------------------------------------------------------------------------------------
# safety: hanging, raising, memory, crashing code never hangs or crashes glassnet


def test_hanging_file_times_out_cleanly(capsys):
    code, out, err = run(capsys, "grade", GALLERY / "hanging.py", "--timeout", SHORT)
    assert code == 1
    assert f"timed out after {SHORT} s" in out
    assert "Traceback" not in out + err


def test_raising_file_shows_the_students_traceback_only(capsys):
    code, out, err = run(capsys, "grade", GALLERY / "crashing.py")
    assert code == 1
    assert "raised IndexError" in out
    assert "crashing.py" in out and "in one_hot" in out
    assert "_sandbox.py" not in out and "glassnet/grading/" not in out and "site-packages" not in out


def test_memory_hog_is_reported():
    report = glassnet.grade(GALLERY / "memory_hog.py", memory_mb=256)
    assert not report.passed
    assert "ran out of memory (limit 256 MB)" in str(report)


def test_segfault_is_reported(capsys):
    code, out, err = run(capsys, "grade", GALLERY / "segfault.py")
    assert code == 1
    assert "SIGSEGV" in out


def test_file_that_does_not_load(tmp_path, capsys):
    bad = tmp_path / "broken.py"
    bad.write_text("def nnCostFunction(:\n", encoding="utf-8")
    code, out, err = run(capsys, "grade", bad)
    assert code == 1 and "SyntaxError" in out
    none = tmp_path / "empty.py"
    none.write_text("x = 1\n", encoding="utf-8")
    code, out, err = run(capsys, "grade", f"{none}:myCost")  # a usage error since the reports of issue 26
    assert code == 2 and "defines no function myCost" in err


def test_sandbox_values_come_back_as_plain_arrays(tmp_path):
    f = tmp_path / "f.py"
    f.write_text("import numpy as np\ndef f(x, k):\n    return x.sum() * k, [1, 2]\n"
                 "def g(x, k):\n    return object()\n", encoding="utf-8")
    run_ = _sandbox.run_file(f, [_sandbox.Call("f", (np.arange(3.0), 2)), _sandbox.Call("g", (np.ones(1), 1)),
                                 _sandbox.Call("h", optional=True)])
    assert run_.ok
    ok, bad, missing = run_.results
    assert ok.ok and float(ok.values[0]) == 6.0 and ok.values[1].tolist() == [1.0, 2.0]
    assert bad.status == "error" and "not an array of numbers" in bad.message
    assert missing.status == "missing"


# ---------------------------------------------------------------------------------------------------------------
# the CLI


def test_cli_json_is_one_document(capsys):
    code, out, err = run(capsys, "grade", FILE_OF["wrong-sign"], "--json")
    assert code == 1
    assert out.count("\n") == 1
    doc = json.loads(out)
    assert doc["command"] == "grade" and doc["passed"] is False and doc["mistakes"] == ["wrong-sign"]
    part = next(p for p in doc["parts"] if p["name"] == "gradient")
    assert part["status"] == "FAIL" and part["diagnosis"]["first_wrong_layer"] == 2
    assert {"array", "i", "j", "expected", "got"} <= set(part["diagnosis"]["worst"][0])


def test_cli_function_name_and_usage_errors(capsys, tmp_path):
    f = tmp_path / "mine.py"
    f.write_text((GALLERY / "correct.py").read_text(encoding="utf-8").replace("def nnCostFunction", "def cost"),
                 encoding="utf-8")
    code, out, err = run(capsys, "grade", f"{f}:cost")
    assert code == 0 and "6 of 6 parts pass" in out
    code, out, err = run(capsys, "grade", tmp_path / "missing.py")
    assert code == 2 and "no such file" in err
    code, out, err = run(capsys, "grade", f, "--timeout", "0")
    assert code == 2
    code, out, err = run(capsys, "grade", "--help")
    assert code == 0 and "--octave" in out and "--json" in out


# ---------------------------------------------------------------------------------------------------------------
# the catalogue: the forum's case, pairs of mistakes, the initialization


def test_the_forum_case_gives_the_forums_numbers():
    thetas, X, y = forum_problem()
    assert [t.shape for t in thetas] == [(2, 3), (4, 3)]
    assert round(glassnet.cost_and_gradient(thetas, X, y, 0.0)[0], 4) == 7.4070
    assert round(glassnet.cost_and_gradient(thetas, X, y, 3.0)[0], 3) == 16.457
    cases = net_cases()
    assert [c.title() for c in cases[False] + cases[True] if c.name == "forum"] == \
        ["forum 2-2-4, m = 3, λ = 0", "forum 2-2-4, m = 3, λ = 3"]


@pytest.mark.parametrize("name", sorted(set(FILE_OF) - {"labels-off-by-one", "one-hot-other-start"}))
def test_each_wrong_file_is_diagnosed_without_flags(name):
    report = glassnet.grade(FILE_OF[name], timeout_s=30)
    assert report.convention == "python" and report.mistakes == (name,), str(report)


PAIRS = {
    "gradient": ("(gradient-missing-1/m, bias-regularized-gradient)",
                 [("    Theta1_grad = Delta1 / m\n    Theta2_grad = Delta2 / m\n",
                   "    Theta1_grad = Delta1\n    Theta2_grad = Delta2\n"),
                  ("Theta1_grad[:, 1:] = Theta1_grad[:, 1:] + (lambda_ / m) * Theta1[:, 1:]",
                   "Theta1_grad = Theta1_grad + (lambda_ / m) * Theta1"),
                  ("Theta2_grad[:, 1:] = Theta2_grad[:, 1:] + (lambda_ / m) * Theta2[:, 1:]",
                   "Theta2_grad = Theta2_grad + (lambda_ / m) * Theta2")],
                 {"gradient-missing-1/m", "bias-regularized-gradient"}),
    "cost": ("(cost-missing-1/m, bias-regularized-cost)",
             [("J = (-1 / m) * np.sum(", "J = -np.sum("),
              ("np.sum(Theta1[:, 1:] ** 2) + np.sum(Theta2[:, 1:] ** 2)", "np.sum(Theta1 ** 2) + np.sum(Theta2 ** 2)")],
             {"cost-missing-1/m", "bias-regularized-cost"}),
}


@pytest.mark.parametrize("which", sorted(PAIRS))
def test_two_mistakes_in_one_part_are_both_named(tmp_path, which):
    _, edits, names = PAIRS[which]
    src = (GALLERY / "correct.py").read_text(encoding="utf-8")
    for old, new in edits:
        assert old in src
        src = src.replace(old, new)
    path = tmp_path / "two_mistakes.py"
    path.write_text(src, encoding="utf-8")
    report = glassnet.grade(path)
    assert set(report.mistakes) == names, str(report)
    d = report.part(f"regularized-{which}").diagnosis
    assert d.title.startswith("two mistakes:") and set(d.names) == names and d.to_dict()["second_mistake"] in names
    assert " + ".join(d.names) in str(report)


def test_initialization_needs_both_signs_and_the_right_axes():
    report = glassnet.grade(FILE_OF["init-one-sign"])
    part = report.part("random-init")
    assert part.status == "FAIL" and all("expected both signs, within [−ε, ε]" in c.message for c in part.cases)
    assert part.diagnosis.mistake == "init-one-sign" and "2ε − ε" in part.diagnosis.formula
    part = glassnet.grade(FILE_OF["init-shape-swapped"]).part("random-init")
    assert part.status == "FAIL" and all("the axes are swapped" in c.message for c in part.cases)
    assert [p.status for p in glassnet.grade(FILE_OF["init-shape-swapped"]).parts[:-1]] == ["PASS"] * 5


# ---------------------------------------------------------------------------------------------------------------
# reports people read


@pytest.mark.parametrize("name", sorted(FILE_OF))
def test_the_default_report_fits_on_a_screen_and_says_each_diagnosis_once(name):
    report = glassnet.grade(FILE_OF[name], octave=False)
    text = report.text()
    lines = text.splitlines()
    students = {t.strip() for p in report.parts for c in p.cases for t in c.traceback.splitlines()}
    assert len(lines) <= 24 and max(len(t) for t in lines if t.strip() not in students) <= 120, text
    for mistake in report.mistakes:
        assert text.count(f"[{mistake}]") == 1, text
    failing = [p for p in report.parts if p.status == "FAIL"]
    assert all(f"FAIL    {p.title}" in text for p in failing)
    assert "lecture: " in text and "look at: " in text


def test_verbose_shows_every_case_and_number(capsys):
    path = FILE_OF["output-delta-gprime"]
    report = glassnet.grade(path)
    short, verbose = report.text(), report.text(verbose=True)
    assert short.count("diagnosis: ") == 1 and verbose.count("diagnosis: ") == 2
    worst = report.part("gradient").diagnosis.worst
    assert len(worst) == 5 and all(w.label in verbose for w in worst)
    assert sum(w.label in short for w in worst) == 1
    for case in report.part("gradient").cases:
        assert f"{case.case}: {case.message}" in verbose
    code, out, err = run(capsys, "grade", path, "--verbose")
    assert code == 1 and out.strip() == verbose
    code, out, err = run(capsys, "grade", path)
    assert code == 1 and out.strip() == short and "--verbose" in short


def test_a_crash_is_said_once_with_its_traceback(capsys):
    code, out, err = run(capsys, "grade", GALLERY / "crashing.py")
    assert out.count("raised IndexError") == 1 and out.count("Traceback") == 1
    assert "(and 3 more cases)" in out


def test_a_wrong_unroll_names_the_convention_to_use():
    report = glassnet.grade(FILE_OF["grad-other-order"])
    d = report.part("gradient").diagnosis
    assert "nn_params is Theta1.ravel(), Theta2.ravel() (row-major)" in d.convention and "--octave" in d.convention
    assert "convention: with labels from 0" in str(report)
    assert glassnet.grade(FILE_OF["wrong-sign"]).part("gradient").diagnosis.convention == ""


def test_a_missing_function_is_one_usage_error(capsys):
    code, out, err = run(capsys, "grade", f"{GALLERY / 'correct.py'}:nope")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert "defines no function nope" in err and "nnCostFunction" in err  # it names the functions that are there
    report = glassnet.grade(f"{GALLERY / 'correct.py'}:nope")
    assert report.missing_function and not report.passed and report.parts == ()
