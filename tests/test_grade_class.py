"""Class mode: ``glassnet grade SUBMISSIONS/ -o RESULTS/`` on a class built here, every field of its results checked.

The class: a correct file, a wrong one, one that crashes, one that hangs, a folder submission (a helper module beside
its ``nnCostFunction``), a folder without one, one with a second mistake, and a hostile one that tries to read a
sibling's submission and the results folder.
"""

from __future__ import annotations

import csv
import json
import shutil
import textwrap
from pathlib import Path

import pytest

from glassnet._support import isolation as _isolation
from glassnet.cli import main
from glassnet.grading import classroom

GALLERY = Path(__file__).parent / "grade_gallery"
TIMEOUT = "15"  # the hanging student costs this much; the others take a second or two
PARTS = ["cost", "regularized-cost", "sigmoid-gradient", "gradient", "regularized-gradient", "random-init"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _class(tmp_path: Path) -> Path:
    subs = tmp_path / "submissions"
    subs.mkdir()
    shutil.copy(GALLERY / "correct.py", subs / "alice.py")
    shutil.copy(GALLERY / "wrong_sign.py", subs / "bob.py")
    shutil.copy(GALLERY / "crashing.py", subs / "carol.py")
    (subs / "dave").mkdir()  # a folder: the course's column-major convention, its sigmoid in a module of its own
    (subs / "dave" / "sig.py").write_text("import numpy as np\ndef sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n",
                                          encoding="utf-8")
    shutil.copy(GALLERY / "correct_octave.py", subs / "dave" / "ex4.py")
    shutil.copy(GALLERY / "hanging.py", subs / "eve.py")
    (subs / "frank").mkdir()
    (subs / "frank" / "notes.py").write_text("def helper():\n    return 1\n", encoding="utf-8")
    shutil.copy(GALLERY / "wrong_cost_no_regularization.py", subs / "grace.py")
    sibling, results = subs / "alice.py", tmp_path / "results"
    (subs / "mallory.py").write_text(textwrap.dedent(f"""
        import os
        def nnCostFunction(*args):
            seen = []
            for path in ({str(sibling)!r}, {str(results)!r}):
                try:
                    seen.append(f"LEAKED {{os.listdir(path) if os.path.isdir(path) else open(path).read(40)}}")
                except OSError as exc:
                    seen.append(f"blocked {{type(exc).__name__}}")
            seen.append(f"beside me: {{sorted(os.listdir(os.path.join(os.path.dirname(__file__), '..')))}}")
            raise RuntimeError(" | ".join(seen))
    """), encoding="utf-8")
    (subs / "README.txt").write_text("not a submission\n", encoding="utf-8")
    (subs / ".DS_Store").write_text("", encoding="utf-8")
    return subs


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    import io
    from contextlib import redirect_stderr, redirect_stdout

    tmp = tmp_path_factory.mktemp("class")
    subs = _class(tmp)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["grade", str(subs), "-o", str(tmp / "results"), "--timeout", TIMEOUT, "--jobs", "2"])
    return code, out.getvalue(), err.getvalue(), tmp / "results"


def _rows(results: Path) -> dict[str, dict]:
    with open(results / "summary.csv", newline="", encoding="utf-8") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def test_every_student_is_graded_and_the_class_exits_0(graded):
    code, out, err, results = graded
    assert code == 0, err
    rows = _rows(results)
    assert sorted(rows) == ["alice", "bob", "carol", "dave", "eve", "frank", "grace", "mallory"]
    assert sorted(p.name for p in results.iterdir() if p.is_dir()) == sorted(rows)
    assert "8 students graded" in out and "summary.csv" in out


def test_summary_csv_field_by_field(graded):
    rows = _rows(graded[3])
    assert list(rows["alice"]) == ["student", "entry", *PARTS, "score", "max_score", "mistakes", "convention",
                                   "error", "isolation"]
    expected = {  # student: (parts, score, mistakes, convention)
        "alice": ("PASS PASS PASS PASS PASS PASS", "100", "", "python"),
        "bob": ("PASS PASS PASS FAIL FAIL PASS", "50", "wrong-sign", "python"),
        "dave": ("PASS PASS PASS PASS PASS PASS", "100", "", "octave"),
        "grace": ("PASS FAIL PASS PASS PASS PASS", "85", "cost-no-regularization", None),
    }
    for student, (parts, score, mistakes, convention) in expected.items():
        row = rows[student]
        assert " ".join(row[p] for p in PARTS) == parts, (student, row)
        assert row["score"] == score and row["max_score"] == "100" and row["mistakes"] == mistakes, row
        assert convention is None or row["convention"] == convention
        assert row["error"] == ""
    assert rows["dave"]["entry"] == "dave" and rows["alice"]["entry"] == "alice.py"
    carol = rows["carol"]
    assert carol["score"] == "0" and carol["cost"] == "FAIL" and "IndexError" in carol["error"]
    eve = rows["eve"]
    assert eve["score"] == "0" and eve["error"].startswith(f"timed out after {TIMEOUT} s")
    frank = rows["frank"]
    assert frank["score"] == "0" and set(frank[p] for p in PARTS) == {"ERROR"}
    assert "found no nnCostFunction.m, no .py file and no notebook defining nnCostFunction" in frank["error"]
    assert all(r["isolation"] for r in rows.values() if r["student"] != "frank")


def test_gradescope_results_json(graded):
    results = graded[3]
    bob = json.loads((results / "bob" / "results.json").read_text(encoding="utf-8"))
    assert set(bob) >= {"score", "tests", "output", "visibility", "execution_time"}
    assert bob["score"] == 50.0 and bob["visibility"] == "visible" and bob["output_format"] == "text"
    assert bob["extra_data"]["max_score"] == 100.0 and bob["extra_data"]["mistakes"] == ["wrong-sign"]
    tests = bob["tests"]
    assert [t["max_score"] for t in tests] == [30.0, 15.0, 5.0, 40.0, 10.0, float(classroom.INIT_POINTS)]
    assert [t["score"] for t in tests] == [30.0, 15.0, 5.0, 0.0, 0.0, 0.0]
    assert [t["status"] for t in tests] == ["passed", "passed", "passed", "failed", "failed", "passed"]
    assert tests[0]["name"] == "Feed-forward cost (λ = 0)" and tests[3]["name"] == "Backpropagation gradient (λ = 0)"
    assert "wrong-sign" in tests[3]["output"] and "δ^(L) = a^(L) − y" in tests[3]["output"]
    assert sum(t["score"] for t in tests) == bob["score"]
    assert "grading" in bob["output"] and str(results.parent / "submissions" / "bob.py") in bob["output"]
    frank = json.loads((results / "frank" / "results.json").read_text(encoding="utf-8"))
    assert frank["score"] == 0.0 and all(t["output"].startswith("not graded: ") for t in frank["tests"])


def test_a_hostile_submission_cannot_see_its_siblings_or_the_results(graded):
    if _isolation.isolation_available()[0] != "bwrap":
        pytest.skip(f"bubblewrap cannot run here ({_isolation.isolation_available()[1]})")
    doc = json.loads((graded[3] / "mallory" / "results.json").read_text(encoding="utf-8"))
    text = doc["tests"][0]["output"]
    # Each case: the sibling and the results are not there, and its own folder's parent shows only its own folder.
    blocked = "RuntimeError: blocked FileNotFoundError | blocked FileNotFoundError | beside me: ['mallory']"
    assert text.count(blocked) == 4, text
    assert "RuntimeError: LEAKED" not in doc["output"] and doc["score"] == 0.0


def test_class_json_is_one_document(tmp_path, capsys):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(GALLERY / "correct.py", subs / "ann.py")
    code, out, err = run(capsys, "grade", subs, "-o", tmp_path / "res", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["command"] == "grade" and doc["mode"] == "class"
    (ann,) = doc["students"]
    assert ann["student"] == "ann" and ann["score"] == 100 and ann["parts"]["gradient"] == "PASS"


def test_class_mode_errors(tmp_path, capsys):
    code, out, err = run(capsys, "grade", tmp_path / "nope", "-o", tmp_path / "res")
    assert code == 2 and "nope: no such folder" in err
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x", encoding="utf-8")
    code, out, err = run(capsys, "grade", tmp_path / "empty", "-o", tmp_path / "res")
    assert code == 2 and "no submissions in this folder" in err
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(GALLERY / "correct.py", subs / "ann.py")
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    code, out, err = run(capsys, "grade", subs, "-o", tmp_path / "afile" / "res")
    assert code == 1 and "cannot write the results there" in err
    code, out, err = run(capsys, "grade", subs, "-o", tmp_path / "res", "--jobs", "0")
    assert code == 2 and "--jobs" in err


def test_results_inside_the_submissions_folder_are_not_a_student(tmp_path, capsys):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(GALLERY / "correct.py", subs / "ann.py")
    (subs / "results").mkdir()
    code, out, err = run(capsys, "grade", subs, "-o", subs / "results")
    assert code == 0, err
    assert list(_rows(subs / "results")) == ["ann"]


def test_one_students_folder_is_graded_by_its_nncostfunction_file(tmp_path, capsys):
    folder = tmp_path / "ex4"
    folder.mkdir()
    (folder / "a_helpers.py").write_text("def sigmoid(z):\n    return z\n", encoding="utf-8")
    shutil.copy(GALLERY / "correct.py", folder / "solution.py")
    code, out, err = run(capsys, "grade", folder)
    assert code == 0 and "solution.py" in out
    assert classroom.students_in(tmp_path) == [("ex4", folder)]
