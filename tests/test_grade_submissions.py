"""glassnet.grade on what students hand in besides one Python file: notebooks, folders, other conventions, old code.

Gallery: exercise4_*.ipynb (the course's Python-port notebook: cells that load a data file that is not there and
train, around the functions), ex4_python/ (the port split in files), ex4_notebook/ (a notebook with the course's
utils.py beside it), correct/wrong files in the row-major + labels 1..K convention, and library drift (pandas
``as_matrix``, Python 2 ``xrange``) that gets a one-line hint next to the student's traceback.
"""

import json
from pathlib import Path

import pytest

import glassnet
from glassnet.cli import main
from glassnet.grading.diagnose import drift_hint
from glassnet.grading.notebook import NotebookError, notebook_cells
from glassnet.grading.submission import find_submission

GALLERY = Path(__file__).resolve().parent / "grade_gallery"
CORRECT = (GALLERY / "correct.py").read_text(encoding="utf-8")
NET_FAIL = ["FAIL", "FAIL", "PASS", "FAIL", "FAIL", "PASS"]

# file → (the status of each part, the mistakes named, the convention found or None)
TABLE = {
    "exercise4_correct.ipynb": (["PASS"] * 6, (), "python"),
    "exercise4_bias_regularized.ipynb": (["PASS"] * 4 + ["FAIL", "PASS"], ("bias-regularized-gradient",), "python"),
    "ex4_python": (["PASS"] * 6, (), "python"),
    "ex4_notebook": (["PASS"] * 6, (), "python"),
    "correct_row_major_labels_1.py": (["PASS"] * 6, (), "row-major, labels 1..K"),
    "wrong_row_major_labels_1_gradient_no_regularization.py": (["PASS"] * 4 + ["FAIL", "PASS"],
                                                               ("gradient-no-regularization",),
                                                               "row-major, labels 1..K"),
    "drift_as_matrix.py": (NET_FAIL, (), None),
    "drift_xrange.py": (NET_FAIL, (), None),
}


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", sorted(TABLE))
def test_each_submission_gets_its_verdict_and_diagnosis(name):
    statuses, mistakes, convention = TABLE[name]
    report = glassnet.grade(GALLERY / name)
    assert report.error is None, str(report)
    assert [p.status for p in report.parts] == statuses, str(report)
    assert report.mistakes == mistakes, str(report)
    assert report.passed == ("FAIL" not in statuses)
    if convention is not None:
        assert report.convention == convention and report.convention_detected


def test_a_notebook_runs_its_definitions_only(capsys):
    code, out, err = run(capsys, "grade", GALLERY / "exercise4_correct.ipynb")
    assert code == 0 and "6 of 6 parts pass" in out
    flat = " ".join(out.split())
    # the cells that load ex4data1.mat (not there) and train are left out, and the report says so
    assert "left out 16 statements that load data, train, plot or print (cells 2-4, 7, 9-10;" in flat
    assert "data = loadmat(os.path.join('Data', 'ex4data1.mat'))" in flat
    # the course's `import utils` (no utils.py beside this notebook) is skipped, and said
    assert "import that failed, skipped: cell 2, line 12 (No module named 'utils')" in flat
    assert "import that failed" not in str(glassnet.grade(GALLERY / "ex4_notebook"))  # its utils.py is beside it
    cells = notebook_cells(GALLERY / "exercise4_correct.ipynb")
    skipped = [s for c in cells for s in c.skipped]
    assert "%matplotlib inline" in skipped and "!ls Data" in skipped and "%%time" in skipped
    assert any(s.startswith("res = optimize.minimize(") for s in skipped) and "m = y.size" in skipped
    kept = {c.number: c.keep for c in cells}
    assert kept[4] == (0, 1, 2, 3)  # input_layer_size = 400 ... lambda_ = 1.0: constants are kept


def test_a_notebook_traceback_points_into_its_cell(tmp_path):
    doc = json.loads((GALLERY / "exercise4_correct.ipynb").read_text(encoding="utf-8"))
    for cell in doc["cells"]:
        text = "".join(cell["source"])
        if text.startswith("def nnCostFunction"):
            cell["source"] = text.replace("y_matrix = np.eye(num_labels)[y]", "y_matrix = np.eye(num_labels)[y + 9]")
    path = tmp_path / "broken_cell.ipynb"
    path.write_text(json.dumps(doc), encoding="utf-8")
    report = glassnet.grade(path)
    text = str(report)
    assert f'File "{path}, cell 6", line 12, in nnCostFunction' in text
    assert "y_matrix = np.eye(num_labels)[y + 9]" in text and "IndexError" in text
    assert "glassnet-notebook-" not in text and "cells.json" not in text


@pytest.mark.parametrize("content, words", [
    ("{not json", "not a Jupyter notebook"),
    ('{"cells": 3}', 'expected a JSON object with a list of "cells"'),
    ('{"cells": [{"cell_type": "code", "source": 7}]}', "cell 1: expected its source as text or a list of lines"),
])
def test_a_malformed_notebook_is_one_error_naming_it(tmp_path, capsys, content, words):
    path = tmp_path / "exercise4.ipynb"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(NotebookError) as err:
        glassnet.grade(path)
    assert str(path) in str(err.value) and words in str(err.value)
    code, out, err_text = run(capsys, "grade", path)
    assert code == 1 and out == "" and len(err_text.strip().splitlines()) == 1 and words in err_text


@pytest.mark.parametrize("name, hint", [
    ("drift_as_matrix.py", "hint: pandas 1.0 removed DataFrame.as_matrix(): use .to_numpy() (or .values)"),
    ("drift_xrange.py", "hint: xrange is Python 2's: use range"),
])
def test_library_drift_gets_a_hint_next_to_the_traceback(name, hint, capsys):
    if name == "drift_as_matrix.py":
        pytest.importorskip("pandas")
    code, out, err = run(capsys, "grade", GALLERY / name)
    assert code == 1
    lines = out.splitlines()
    hint_at = next(k for k, line in enumerate(lines) if line.strip() == hint)
    assert "Error: " in lines[hint_at - 1]  # right under the exception of the student's traceback
    assert out.count("hint: ") == 1


@pytest.mark.parametrize("old, new, hint", [
    ("    J = J + reg\n", "    J = np.float(J + reg)\n", "NumPy 1.24 removed the alias np.float"),
    ("    J = J + reg\n", "    J = float((J + reg) * np.ones((1, 1)))\n", "NumPy 2 refuses float()/int() of an array"),
    ("    J = J + reg\n", "    J = np.asscalar(J + reg)\n", "NumPy 1.23 removed np.asscalar(a): use a.item()"),
    ("    return J, grad\n", "    print \"J =\", J\n    return J, grad\n",
     "print x is Python 2's statement: use print(x)"),
])
def test_each_drift_hint(tmp_path, old, new, hint):
    assert old in CORRECT
    path = tmp_path / "old_code.py"
    path.write_text(CORRECT.replace(old, new), encoding="utf-8")
    report = glassnet.grade(path)
    assert not report.passed
    assert f"hint: {hint}" in str(report), str(report)


def test_drift_hint_table():
    assert drift_hint("TypeError: only length-1 arrays can be converted to Python scalars").startswith("NumPy 2")
    assert drift_hint("ValueError: operands could not be broadcast together") == ""


def test_which_files_make_a_submission(tmp_path):
    s = find_submission(GALLERY / "ex4_python", "nnCostFunction")
    assert (s.kind, s.main.name) == ("python", "nnCostFunction.py")
    assert find_submission(GALLERY / "ex4_notebook", "nnCostFunction").kind == "notebook"
    assert find_submission(GALLERY / "ex4_student", "nnCostFunction").main.name == "nnCostFunction.m"
    single = find_submission(GALLERY / "octave" / "correct_loop.m", "nnCostFunction")
    assert single.kind == "octave" and GALLERY / "octave" / "sigmoid.m" in single.files
    # a port in one file with another name is found by what it defines
    (tmp_path / "my_solution.py").write_text(CORRECT, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("hi", encoding="utf-8")
    assert find_submission(tmp_path, "nnCostFunction").main.name == "my_solution.py"


def test_cli_accepts_and_refuses_kinds_of_files(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("hi", encoding="utf-8")
    code, out, err = run(capsys, "grade", notes)
    assert code == 2 and "expected a Python file (.py), an Octave/MATLAB file (.m), a Jupyter notebook (.ipynb) or " \
                          "a folder holding them" in err
    code, out, err = run(capsys, "grade", tmp_path)
    assert code == 2 and "found no nnCostFunction.m, no .py file and no notebook defining nnCostFunction" in err
    assert "notes.txt" in err
    code, out, err = run(capsys, "grade", tmp_path / "nothing")
    assert code == 2 and "no such file or folder" in err
    code, out, err = run(capsys, "grade", "--help")
    assert code == 0 and ".m" in out and ".ipynb" in out and "folder" in out
    code, out, err = run(capsys, "grade", GALLERY / "ex4_python", "--json")
    assert code == 0 and json.loads(out)["source"].endswith("ex4_python/nnCostFunction.py:nnCostFunction")


def test_a_folder_file_that_does_not_parse_is_graded_and_says_why(tmp_path):
    (tmp_path / "nnCostFunction.py").write_text("def nnCostFunction(:\n", encoding="utf-8")
    (tmp_path / "sigmoid.py").write_text("def sigmoid(z):\n    return z\n", encoding="utf-8")
    report = glassnet.grade(tmp_path)
    assert not report.passed and "SyntaxError" in report.error and report.source.endswith("nnCostFunction.py:"
                                                                                           "nnCostFunction")
