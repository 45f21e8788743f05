"""glassnet.grade and ``glassnet grade`` on Octave/MATLAB files: the student's own .m code run by GNU Octave.

tests/grade_gallery/octave/ holds single nnCostFunction.m files as students write them (next to the course's
sigmoid.m, as the exercise ships it); tests/grade_gallery/ex4_student/ and ex4_one_sign/ are whole ex4 folders with
the student's sigmoidGradient.m and randInitializeWeights.m. Each is graded on the same cases, parts, catalogue and
diagnosis as a Python file. These tests need octave-cli (``make test`` installs it with scripts/install-octave.sh).
"""

import shutil
from pathlib import Path

import numpy as np
import pytest

import glassnet
from glassnet._support.sandbox import Call
from glassnet.cli import main
from glassnet.grading.octave import OctaveNotFound, primary_function, run_octave

GALLERY = Path(__file__).resolve().parent / "grade_gallery"
OCTAVE_DIR = GALLERY / "octave"
HAVE_OCTAVE = shutil.which("octave-cli") is not None
needs_octave = pytest.mark.skipif(not HAVE_OCTAVE, reason="GNU Octave (octave-cli) is not installed here; make "
                                  "test installs it (scripts/install-octave.sh, Debian package octave)")
ALL_PASS4 = ["PASS", "PASS", "SKIPPED", "PASS", "PASS", "SKIPPED"]  # no sigmoidGradient.m, randInitializeWeights.m

# file → (the status of each part, the mistakes named)
TABLE = {
    "octave/correct_vectorized.m": (ALL_PASS4, ()),
    "octave/correct_loop.m": (ALL_PASS4, ()),
    "octave/wrong_cost_no_regularization.m": (["PASS", "FAIL", "SKIPPED", "PASS", "PASS", "SKIPPED"],
                                              ("cost-no-regularization",)),
    "octave/wrong_bias_regularized.m": (["PASS", "FAIL", "SKIPPED", "PASS", "FAIL", "SKIPPED"],
                                        ("bias-regularized-cost", "bias-regularized-gradient")),
    "octave/wrong_gradient_lambda_not_over_m.m": (["PASS", "PASS", "SKIPPED", "PASS", "FAIL", "SKIPPED"],
                                                  ("gradient-lambda-not-over-m",)),
    "octave/wrong_hidden_bias_sigmoid_one.m": (["FAIL", "FAIL", "SKIPPED", "FAIL", "FAIL", "SKIPPED"],
                                               ("hidden-bias-sigmoid-one",)),
    "octave/wrong_sign.m": (["PASS", "PASS", "SKIPPED", "FAIL", "FAIL", "SKIPPED"], ("wrong-sign",)),
    "octave/untouched_template.m": (["FAIL", "FAIL", "SKIPPED", "FAIL", "FAIL", "SKIPPED"], ("untouched-template",)),
    "octave/crashing.m": (["FAIL", "FAIL", "SKIPPED", "FAIL", "FAIL", "SKIPPED"], ()),
    "ex4_student": (["PASS"] * 6, ()),
    "ex4_one_sign": (["PASS"] * 5 + ["FAIL"], ("init-one-sign",)),
}


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@needs_octave
@pytest.mark.parametrize("name", sorted(TABLE))
def test_each_octave_file_gets_its_verdict_and_diagnosis(name):
    statuses, mistakes = TABLE[name]
    report = glassnet.grade(GALLERY / name)
    assert [p.status for p in report.parts] == statuses, str(report)
    assert report.mistakes == mistakes, str(report)
    assert report.passed == (mistakes == () and "FAIL" not in statuses)
    if "PASS" in statuses[:2] + statuses[3:5]:  # some answers are right: in the course's convention
        assert report.convention == "octave, y (m, 1)" and report.convention_detected, str(report)
    for part in report.parts:
        if part.status == "FAIL" and mistakes:
            assert part.diagnosis is not None and set(part.diagnosis.names) <= set(mistakes)
            assert part.diagnosis.formula and part.diagnosis.look_at


@needs_octave
def test_a_folder_is_graded_as_the_course_submits_it(capsys):
    code, out, err = run(capsys, "grade", GALLERY / "ex4_student")
    assert code == 0, out + err
    assert "6 of 6 parts pass" in out and "ex4_student/nnCostFunction.m" in out
    assert "your file unrolls column by column (Theta1(:)), counts labels from 1 and takes y as a column (m, 1)" in out
    code, out, err = run(capsys, "grade", f"{GALLERY / 'ex4_one_sign'}/")
    assert code == 1 and "init-one-sign" in out and "expected both signs, within [−ε, ε]" in out


@needs_octave
def test_an_octave_error_shows_the_message_and_the_students_line(capsys):
    code, out, err = run(capsys, "grade", OCTAVE_DIR / "crashing.m")
    assert code == 1
    flat = " ".join(out.split())  # the short report folds long lines
    assert "raised an Octave error: operator *: nonconformant arguments (op1 is 5x3, op2 is 4x5)" in flat
    assert f'File "{OCTAVE_DIR / "crashing.m"}", line 7, in nnCostFunction' in out
    assert "z2 = X * Theta1';" in out
    assert out.count("nonconformant") == 2  # the one-line message and the traceback, once for every case and part
    assert "glassnet_driver" not in out and "glassnet-octave-" not in out


@needs_octave
def test_a_syntax_error_is_one_error_with_the_line(capsys):
    code, out, err = run(capsys, "grade", OCTAVE_DIR / "syntax_error.m")
    assert code == 1
    assert "error: Octave could not parse syntax_error.m: syntax error near line 8" in out
    assert f'File "{OCTAVE_DIR / "syntax_error.m"}", line 8' in out and ">>> z2 = a1 * * Theta1';" in out
    assert "PASS" not in out and "FAIL" not in out and "(detected)" not in out


@needs_octave
def test_a_hanging_octave_file_times_out(capsys):
    code, out, err = run(capsys, "grade", OCTAVE_DIR / "hanging.m", "--timeout", "4")
    assert code == 1
    assert "timed out after 4 s while running nnCostFunction" in out


@needs_octave
def test_an_octave_memory_hog_gets_the_memory_verdict():
    report = glassnet.grade(OCTAVE_DIR / "memory_hog.m", memory_mb=512)
    assert not report.passed
    assert "ran out of memory (limit 512 MB)" in str(report)


@needs_octave
def test_results_travel_exactly_and_python_and_octave_agree():
    # the same correct answers to the last bit: J and every entry of grad, from two languages
    octave = glassnet.grade(OCTAVE_DIR / "correct_vectorized.m").to_dict()
    assert all(p["passed"] for p in octave["parts"])
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0 + 1e-15]])
    calls = [Call("sigmoid", (a,)), Call("nope", (), optional=True), Call("nope")]
    run_ = run_octave(OCTAVE_DIR / "sigmoid.m", [], calls)
    assert run_.ok, run_.message
    got, missing, error = run_.results
    assert got.values[0].shape == (2, 3) and np.array_equal(got.values[0], 1.0 / (1.0 + np.exp(-a)))
    assert missing.status == "missing" and error.status == "error" and "defines no function nope" in error.message


@needs_octave
def test_python_api_takes_an_m_file_with_a_function_name(tmp_path):
    f = tmp_path / "my_ex4.m"
    f.write_text((OCTAVE_DIR / "correct_vectorized.m").read_text(encoding="utf-8").replace(
        "= nnCostFunction(", "= myCost(", 1), encoding="utf-8")
    (tmp_path / "sigmoid.m").write_text((OCTAVE_DIR / "sigmoid.m").read_text(encoding="utf-8"), encoding="utf-8")
    report = glassnet.grade(f"{f}:myCost")
    assert report.passed, str(report)
    report = glassnet.grade(f)  # the file's function is myCost, not nnCostFunction
    assert report.missing_function and "defines no function nnCostFunction (it defines myCost)" in report.error


@needs_octave
def test_a_lone_nncostfunction_m_gets_the_course_sigmoid(tmp_path):
    # ex4 hands sigmoid.m out: a student who submits only nnCostFunction.m still calls it
    lone = tmp_path / "nnCostFunction.m"
    shutil.copy(OCTAVE_DIR / "correct_vectorized.m", lone)
    report = glassnet.grade(lone)
    assert report.passed, str(report)
    wrong = tmp_path / "wrong" / "nnCostFunction.m"
    wrong.parent.mkdir()
    shutil.copy(OCTAVE_DIR / "wrong_cost_no_regularization.m", wrong)
    report = glassnet.grade(wrong)
    assert [p.status for p in report.parts][:2] == ["PASS", "FAIL"] and report.error is None, str(report)
    # a student's own sigmoid.m is the one used, not the course's
    (tmp_path / "sigmoid.m").write_text("function g = sigmoid(z)\ng = 0 * z;\nend\n", encoding="utf-8")
    assert not glassnet.grade(lone).passed


def test_octave_missing_is_one_clear_error(monkeypatch, capsys):
    monkeypatch.setenv("GLASSNET_OCTAVE", "/nonexistent/octave-cli")
    with pytest.raises(OctaveNotFound) as err:
        glassnet.grade(OCTAVE_DIR / "correct_vectorized.m")
    assert "Debian package `octave`" in str(err.value) and "scripts/install-octave.sh" in str(err.value)
    code, out, err_text = run(capsys, "grade", OCTAVE_DIR / "correct_vectorized.m")
    assert code == 1 and out == "" and len(err_text.strip().splitlines()) == 1
    assert "GNU Octave" in err_text and "scripts/install-octave.sh" in err_text


def test_primary_function_reads_the_course_files():
    assert primary_function((OCTAVE_DIR / "untouched_template.m").read_text(encoding="utf-8")) == "nnCostFunction"
    assert primary_function((GALLERY / "ex4_student" / "randInitializeWeights.m").read_text(encoding="utf-8")) == \
        "randInitializeWeights"
    assert primary_function("% only a script\nx = 1;\n") is None


@needs_octave
def test_a_windows_saved_file_is_graded(tmp_path):
    # MATLAB on Windows: a byte-order mark and CRLF line ends
    text = (OCTAVE_DIR / "correct_vectorized.m").read_text(encoding="utf-8")
    f = tmp_path / "nnCostFunction.m"
    f.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    (tmp_path / "sigmoid.m").write_text((OCTAVE_DIR / "sigmoid.m").read_text(encoding="utf-8"), encoding="utf-8")
    report = glassnet.grade(tmp_path)
    assert report.passed, str(report)


@needs_octave
def test_an_octave_file_that_fills_its_folder_is_stopped_with_that_reason(tmp_path, monkeypatch):
    from glassnet._support import isolation

    monkeypatch.setattr(isolation, "_MAX_FOLDER_ENTRIES", 300)
    monkeypatch.setattr(isolation, "_WATCH_S", 0.05)
    f = tmp_path / "nnCostFunction.m"
    f.write_text("function [J grad] = nnCostFunction(nn_params, a, b, c, X, y, lambda)\n"
                 "  for i = 1:100000\n    fclose(fopen(sprintf('junk%d', i), 'w'));\n  end\n"
                 "  J = 0; grad = zeros(size(nn_params));\nend\n", encoding="utf-8")
    report = glassnet.grade(f)
    assert not report.passed
    assert ("the Octave process was stopped: its folder held more than 300 files and folders (the sandbox's bound) "
            "while running nnCostFunction") in str(report)
