"""``glassnet grade FILE[:FUNCTION]``: grade a student's ``nnCostFunction`` and say exactly what is wrong;
``glassnet grade SUBMISSIONS/ -o RESULTS/``: grade a whole class (:mod:`glassnet.grading.classroom`).

FILE is a Python file (``.py``), an Octave/MATLAB file (``.m``, run with GNU Octave), a Jupyter notebook (``.ipynb``:
the functions its code cells define, without the cells that load data or train) or a folder holding them (the
course's ``ex4/``: ``nnCostFunction.m`` with the student's ``sigmoidGradient.m``, ``randInitializeWeights.m``, ...).

The convention (row- or column-major unroll, labels from 0 or 1, y of shape (m,) or (m, 1)) is detected from the
file's answers unless ``--octave`` or ``--python`` names it. The file runs in a child process with a time and a
memory limit (``--timeout``, ``--memory``); the report lists the course's parts with PASS/FAIL and, for a failing
part, the typical mistake that fits and where the error is.
Exit code 0 when every part passes, 1 when a part fails or the code crashes or hangs, 2 for a usage error (such as a
file that does not exist). Class mode exits 0 when every student was graded (whatever their grades), 1 when the
results cannot be written, 2 for a missing or empty submissions folder. The work is :func:`glassnet.grade`'s and
:func:`glassnet.grading.classroom.grade_class`'s; this module parses and prints.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from glassnet.cli._common import (
    EXIT_FAILURE,
    EXIT_OK,
    UsageError,
    add_json_option,
    add_progress_option,
    command,
    emit,
    positive_float,
    positive_int,
    want_progress,
)


def register(sub) -> None:
    p = sub.add_parser("grade", help="grade your own nnCostFunction: PASS/FAIL per part and what exactly is wrong",
                       description="Run FILE's nnCostFunction(nn_params, input_layer_size, hidden_layer_size, "
                                   "num_labels, X, y, lambda_) -> (J, grad) on the course's cases in a sandboxed child"
                                   " process with limits, grade each part (cost, regularized cost, sigmoid gradient, "
                                   "backprop gradient, regularized gradient, random initialization) and name the "
                                   "typical mistake behind each failing part, with the first wrong layer and the "
                                   "largest wrong entries Θ^(l)_ij. FILE is a Python file (.py), an Octave/MATLAB file"
                                   " (.m, run with GNU Octave's octave-cli: Debian package octave), a Jupyter notebook"
                                   " (.ipynb: the functions of its code cells, without the cells that load data or "
                                   "train) or a folder holding them (the course's ex4/: nnCostFunction.m with "
                                   "sigmoidGradient.m, randInitializeWeights.m, sigmoid.m).")
    p.add_argument("target", metavar="FILE[:FUNCTION]",
                   help="nnCostFunction.m, my_ex4.py, exercise4.ipynb or a folder such as ex4/, and the cost "
                        "function to grade (default: nnCostFunction); with -o, a folder with one submission (file "
                        "or folder) per student")
    p.add_argument("-o", "--output", metavar="RESULTS", default=None,
                   help="class mode: grade every submission in the folder TARGET and write RESULTS/summary.csv and "
                        "RESULTS/<student>/results.json (Gradescope's format)")
    p.add_argument("--jobs", type=positive_int, default=None, metavar="N",
                   help="class mode: submissions graded at once (default: the number of CPUs)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--octave", action="store_true", default=None,
                       help="grade in the original exercise's convention: nn_params = [Theta1(:); Theta2(:)] "
                            "(column-major), labels 1..K (default: detected from the file's answers: row- or "
                            "column-major, labels from 0 or 1, y of shape (m,) or (m, 1))")
    which.add_argument("--python", dest="octave", action="store_false",
                       help="grade in the Python port's convention: Theta1.ravel(), Theta2.ravel() (row-major), "
                            "labels 0..K-1")
    p.add_argument("--timeout", type=positive_float, default=30.0, metavar="SECONDS",
                   help="wall-clock limit for running the file (default 30)")
    p.add_argument("--memory", type=positive_int, default=1024, metavar="MB",
                   help="address-space limit of the process that runs the file (default 1024)")
    p.add_argument("--verbose", action="store_true",
                   help="every failing case and every number, part by part (default: one screen, each mistake once)")
    add_progress_option(p)
    add_json_option(p)
    p.set_defaults(func=_cmd_grade)


@command("grade")
def _cmd_grade(args: argparse.Namespace) -> int:
    from glassnet import grade
    from glassnet.grading.grader import split_target
    from glassnet.grading.submission import ACCEPTED, SUFFIXES, NoSubmission

    if args.output is not None:
        return _grade_class(args)
    path, function = split_target(args.target)
    if not Path(path).exists():
        raise UsageError(f"{path}: no such file or folder (expected {ACCEPTED}, optionally followed by :FUNCTION)")
    if Path(path).is_file() and Path(path).suffix.lower() not in SUFFIXES:
        raise UsageError(f"{path}: expected {ACCEPTED}")
    try:
        report = grade(f"{path}:{function}", octave=args.octave, timeout_s=args.timeout, memory_mb=args.memory)
    except NoSubmission as exc:
        raise UsageError(str(exc)) from None
    if report.missing_function:
        raise UsageError(f"{report.error} (expected FILE or FILE:FUNCTION)")
    emit(args, {"command": "grade", **report.to_dict()}, report.text(verbose=args.verbose).splitlines())
    return EXIT_OK if report.passed else EXIT_FAILURE


def _grade_class(args: argparse.Namespace) -> int:
    from glassnet.grading.classroom import grade_class

    folder = Path(args.target)
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder (with -o, expected a folder with one submission per student)")
    try:
        result = grade_class(folder, args.output, jobs=args.jobs, timeout_s=args.timeout, memory_mb=args.memory,
                             progress=want_progress(args) and not args.json)
    except ValueError as exc:  # no submissions in the folder
        raise UsageError(str(exc)) from None
    emit(args, {"command": "grade", "mode": "class", **result.to_dict()}, result.lines())
    return EXIT_OK
