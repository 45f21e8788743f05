"""glassnet.grade finds the convention a file works in: unroll order, first label and the shape of y.

Each correct student-style file is written into tmp_path in one convention and must pass without flags, with the
report saying which convention it found; ``--octave`` / ``--python`` still name one explicitly.
"""

from pathlib import Path

import pytest

import glassnet
from glassnet.cli import main

GALLERY = Path(__file__).resolve().parent / "grade_gallery"
CORRECT = (GALLERY / "correct.py").read_text(encoding="utf-8")


def student_file(tmp_path: Path, name: str, *, order: str = "C", first_label: int = 0, y_column: bool = False) -> Path:
    """The gallery's correct nnCostFunction rewritten for one convention."""
    src = CORRECT
    if order == "F":
        src = src.replace("(input_layer_size + 1)))", "(input_layer_size + 1)), order='F')")
        src = src.replace("(hidden_layer_size + 1)))", "(hidden_layer_size + 1)), order='F')")
        src = src.replace("Theta1_grad.ravel(), Theta2_grad.ravel()",
                          "Theta1_grad.ravel(order='F'), Theta2_grad.ravel(order='F')")
    if y_column:  # the Octave habit: y is m × 1 and Y = (y == 1:K)
        src = src.replace("y_matrix = np.eye(num_labels)[y]",
                          f"y_matrix = (y == np.arange({first_label}, num_labels + {first_label})).astype(float)")
    elif first_label == 1:
        src = src.replace("y_matrix = np.eye(num_labels)[y]", "y_matrix = np.eye(num_labels)[y - 1]")
    assert src != CORRECT or (order, first_label, y_column) == ("C", 0, False)
    path = tmp_path / f"{name}.py"
    path.write_text(src, encoding="utf-8")
    return path


CONVENTIONS = [
    ("row_major_0", dict(order="C", first_label=0), "python",
     "unrolls row by row (Theta1.ravel()), counts labels from 0"),
    ("column_major_1", dict(order="F", first_label=1), "octave", "unrolls column by column (Theta1(:)), counts labels "
                                                                "from 1"),
    ("row_major_1", dict(order="C", first_label=1), "row-major, labels 1..K", "unrolls row by row (Theta1.ravel()), "
                                                                              "counts labels from 1"),
    ("column_major_1_y_column", dict(order="F", first_label=1, y_column=True), "octave, y (m, 1)",
     "takes y as a column (m, 1)"),
    ("row_major_1_y_column", dict(order="C", first_label=1, y_column=True), "row-major, labels 1..K, y (m, 1)",
     "counts labels from 1 and takes y as a column (m, 1)"),
]


@pytest.mark.parametrize("name, kwargs, convention, words", CONVENTIONS, ids=[c[0] for c in CONVENTIONS])
def test_a_correct_file_passes_without_flags_in_its_convention(tmp_path, name, kwargs, convention, words):
    report = glassnet.grade(student_file(tmp_path, name, **kwargs))
    assert report.passed, str(report)
    assert report.convention == convention and report.convention_detected
    assert words in str(report) and "(detected)" in str(report)
    assert report.to_dict()["convention_detected"] is True


def test_the_cli_says_which_convention_it_found(tmp_path, capsys):
    path = student_file(tmp_path, "ported", order="C", first_label=1)
    code = main(["grade", str(path)])
    out = capsys.readouterr().out
    assert code == 0 and "6 of 6 parts pass" in out
    assert "your file unrolls row by row (Theta1.ravel()), counts labels from 1" in out


def test_a_named_convention_overrides_the_detection(tmp_path, capsys):
    row_major = student_file(tmp_path, "row_major", order="C", first_label=0)
    report = glassnet.grade(row_major, octave=True)
    assert not report.passed and not report.convention_detected and report.convention == "octave"
    assert "as asked" in str(report)
    assert main(["grade", str(row_major), "--octave"]) == 1
    assert main(["grade", str(row_major), "--python"]) == 0
    capsys.readouterr()
    assert main(["grade", str(row_major), "--python", "--octave"]) == 2
    assert "not allowed with" in capsys.readouterr().err


def test_a_mistake_is_still_diagnosed_in_a_detected_convention(tmp_path):
    src = student_file(tmp_path, "octave_style", order="F", first_label=1).read_text(encoding="utf-8")
    wrong = tmp_path / "wrong_sign_octave.py"
    wrong.write_text(src.replace("delta3 = a3 - y_matrix", "delta3 = y_matrix - a3"), encoding="utf-8")
    report = glassnet.grade(wrong)
    assert report.convention == "octave" and report.mistakes == ("wrong-sign",), str(report)
    assert [p.status for p in report.parts] == ["PASS", "PASS", "PASS", "FAIL", "FAIL", "PASS"]


def test_gallery_files_keep_their_convention_and_mistake():
    report = glassnet.grade(GALLERY / "wrong_params_other_order.py")
    assert report.convention == "python" and report.mistakes == ("params-other-order",)
    report = glassnet.grade(GALLERY / "wrong_grad_other_order.py")
    assert report.convention == "python" and report.mistakes == ("grad-other-order",)
