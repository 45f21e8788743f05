"""Class mode: grade every student's submission in a folder, in parallel, and write the teacher's results files.

Each entry of the submissions folder is one student: a file (``.py``, ``.m``, ``.ipynb``) or a folder (graded by
the file :func:`glassnet.grading.submission.find_submission` picks). Every submission is graded by
:func:`glassnet.grade` in its own isolated child process (the sandbox of
:mod:`glassnet._support.isolation`): a file entry is first copied alone into a private folder, so that no student's
code sees another's submission or the results. A crash, a hang (``timeout_s``) or a hostile file fails that student
only. The results:

- ``summary.csv``: one row per student (the parts PASS/FAIL, score, max score, mistakes, isolation, error);
- ``<student>/results.json``: Gradescope's autograder format (``score``, ``tests`` with ``name``, ``score``,
  ``max_score``, ``status``, ``output``, plus ``output``, ``visibility`` and ``execution_time``).

Points are the course's submit script's: feed-forward cost 30, regularized cost 15, sigmoid gradient 5,
backpropagation gradient 40, regularized gradient 10 (100 in all). The random initialization, which the course's
submit does not grade, is reported as a test worth :data:`INIT_POINTS` = 0 points, so that scores stay the
course's out of 100 (``init_points`` changes it). Not here: grading one file (:mod:`glassnet.grading.grader`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

from glassnet._support.atomic import atomic_write
from glassnet._support.isolation import stop_all, stop_on_signals
from glassnet._support.sandbox import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S
from glassnet.grading.grader import grade
from glassnet.grading.report import GradeReport
from glassnet.grading.submission import SUFFIXES

__all__ = ["PART_POINTS", "INIT_POINTS", "StudentResult", "ClassResult", "grade_class", "students_in",
           "default_jobs", "gradescope_results"]

PART_POINTS = {"cost": 30, "regularized-cost": 15, "sigmoid-gradient": 5, "gradient": 40, "regularized-gradient": 10}
INIT_POINTS = 0
_SKIPPED_NAMES = ("__pycache__", "__MACOSX")


@dataclass(frozen=True)
class StudentResult:
    """One student's grade: ``report`` (None when grading itself failed: ``error`` says why), the score and the
    maximum, and the seconds it took."""

    student: str
    entry: Path
    report: GradeReport | None
    score: float
    max_score: float
    seconds: float
    error: str = ""

    @property
    def why(self) -> str:
        """Why the student lost points where no mistake of the catalogue says it: the grading error, else the first
        failure of a part without a diagnosis (an exception, a wrong shape)."""
        if self.error:
            return self.error
        if self.report is None:
            return ""
        if self.report.error:
            return self.report.error
        for p in self.report.parts:
            if p.status == "FAIL" and p.diagnosis is None:
                bad = [c for c in p.cases if not c.passed]
                if bad:
                    return f"{p.title}: {bad[0].message}"
        return ""

    @property
    def statuses(self) -> dict[str, str]:
        """Each part's PASS/FAIL/SKIPPED (ERROR for every part when nothing was graded)."""
        names = [*PART_POINTS, "random-init"]
        if self.report is None or not self.report.parts:
            return dict.fromkeys(names, "ERROR")
        return {p.name: p.status for p in self.report.parts}


@dataclass(frozen=True)
class ClassResult:
    """Every student's :class:`StudentResult` (in the order of their names) and where the files were written."""

    students: tuple
    output: Path
    seconds: float
    isolation: str

    def to_dict(self) -> dict:
        return {"output": str(self.output), "seconds": round(self.seconds, 3), "isolation": self.isolation,
                "students": [{"student": s.student, "entry": str(s.entry), "score": s.score, "max_score": s.max_score,
                              "parts": s.statuses, "mistakes": list(s.report.mistakes if s.report else ()),
                              "error": s.why,
                              "seconds": round(s.seconds, 3)} for s in self.students]}

    def lines(self) -> list[str]:
        """The text a teacher reads: one line per student, then the totals."""
        width = max([len(s.student) for s in self.students] + [7])
        out = [f"{'student':<{width}}  score    parts (cost, reg. cost, g′, gradient, reg. gradient, init)"]
        for s in self.students:
            marks = " ".join(f"{v:<7}" for v in s.statuses.values()).rstrip()
            why = s.why
            mistakes = ", ".join(s.report.mistakes) if s.report is not None else ""
            tail = f"  {mistakes}" if mistakes else ""
            tail += f"  error: {why[:80]}" if why else ""
            out.append(f"{s.student:<{width}}  {_points(s.score):>3}/{_points(s.max_score):<4} {marks}{tail}")
        full = sum(s.score == s.max_score for s in self.students)
        mean = sum(s.score for s in self.students) / len(self.students)
        out.append(f"{len(self.students)} students graded in {self.seconds:.1f} s: {full} with full marks, mean "
                   f"score {mean:.1f}/{_points(self.students[0].max_score)}; results in {self.output}"
                   f"{os.sep}summary.csv and {self.output}{os.sep}<student>{os.sep}results.json")
        out.append(f"isolation: {self.isolation}")
        return out


def _points(x: float) -> str:
    return f"{x:g}"


def default_jobs() -> int:
    """Submissions graded at once by default: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def students_in(folder: Path, *, exclude: Sequence[Path] = ()) -> list[tuple[str, Path]]:
    """(student, entry) for each submission in ``folder``: its folders and its ``.py``/``.m``/``.ipynb`` files,
    hidden entries and ``exclude`` (e.g. the results folder) left out. The student is the entry's name without its
    suffix, or with it where two entries would share a name."""
    skip = {Path(p).resolve() for p in exclude}
    entries = [p for p in sorted(Path(folder).iterdir())
               if not p.name.startswith(".") and p.name not in _SKIPPED_NAMES and p.resolve() not in skip
               and (p.is_dir() or p.suffix.lower() in SUFFIXES)]  # the kinds grade() takes
    stems = [p.name if p.is_dir() else p.stem for p in entries]
    return [(stem if stems.count(stem) == 1 else p.name, p) for stem, p in zip(stems, entries)]


def _score(report: GradeReport | None, init_points: float) -> tuple[float, float]:
    maximum = float(sum(PART_POINTS.values()) + init_points)
    if report is None or report.error and not report.parts:
        return 0.0, maximum
    points = {**PART_POINTS, "random-init": init_points}
    return float(sum(points.get(p.name, 0) for p in report.parts if p.status == "PASS")), maximum


def _grade_one(student: str, entry: Path, timeout_s: float, memory_mb: int, init_points: float,
               workdir: Path) -> StudentResult:
    start = time.perf_counter()
    try:
        path = entry  # a folder: grade() finds its file (glassnet.grading.submission.find_submission)
        if not entry.is_dir():
            # Alone in a private folder: the sandbox shows the code its own folder (an .m file: its folder's .m
            # files), and a file entry's folder is the whole class.
            own = workdir / student
            own.mkdir()
            path = Path(shutil.copy2(entry, own / entry.name))
        report = grade(path, timeout_s=timeout_s, memory_mb=memory_mb)
        if not entry.is_dir():
            report = replace(report, source=report.source.replace(str(path), str(entry)))
        error = ""
    except (OSError, ValueError, TypeError) as exc:  # the entry could not be graded at all: this student only
        report, error = None, str(exc)
    score, maximum = _score(report, init_points)
    return StudentResult(student, entry, report, score, maximum, time.perf_counter() - start, error)


def _part_output(part) -> str:
    lines = [f"{part.status}: {part.title}"]
    if part.note:
        lines.append(part.note)
    lines.extend(f"{c.case}: {c.message}" for c in part.cases if not c.passed)
    if part.diagnosis is not None:
        lines.extend(part.diagnosis.lines())
    return "\n".join(lines)


def gradescope_results(result: StudentResult, init_points: float = INIT_POINTS) -> dict:
    """One student's grade in Gradescope's autograder ``results.json`` format."""
    points = {**PART_POINTS, "random-init": init_points}
    report = result.report
    parts = {p.name: p for p in report.parts} if report is not None else {}
    why = result.why
    titles = {"cost": "Feed-forward cost (λ = 0)", "regularized-cost": "Regularized cost (λ > 0)",
              "sigmoid-gradient": "Sigmoid gradient", "gradient": "Backpropagation gradient (λ = 0)",
              "regularized-gradient": "Regularized gradient (λ > 0)", "random-init": "Random initialization"}
    tests = []
    for number, (name, max_score) in enumerate(points.items(), start=1):
        part = parts.get(name)
        passed = part is not None and part.status == "PASS"
        output = _part_output(part) if part is not None else f"not graded: {why or 'no result'}"
        tests.append({"name": part.title if part is not None else titles[name], "number": str(number),
                      "score": float(max_score if passed else 0), "max_score": float(max_score),
                      "status": "passed" if passed else "failed", "output": output, "visibility": "visible"})
    text = report.text() if report is not None else f"error: {why}"
    return {"score": result.score, "execution_time": round(result.seconds, 3), "output": text,
            "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"student": result.student, "max_score": result.max_score,
                           "mistakes": list(report.mistakes if report is not None else ()),
                           "convention": report.convention if report is not None else None,
                           "isolation": report.isolation if report is not None else "", "error": why}}


def _write_json(path: Path, doc: dict) -> None:
    data = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
    atomic_write(path, lambda f: f.write(data))


def _summary_csv(results: Sequence[StudentResult]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    names = [*PART_POINTS, "random-init"]
    w.writerow(["student", "entry", *names, "score", "max_score", "mistakes", "convention", "error", "isolation"])
    for s in results:
        r = s.report
        error = s.why
        w.writerow([s.student, s.entry.name, *(s.statuses.get(n, "") for n in names), _points(s.score),
                    _points(s.max_score), ";".join(r.mistakes) if r is not None else "",
                    r.convention if r is not None and r.parts else "", error, r.isolation if r is not None else ""])
    return buf.getvalue().encode("utf-8")


def _check_output(output: Path) -> None:
    """Make ``output`` and make sure files can be written there, before any student is graded."""
    try:
        output.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=output):
            pass
    except OSError as exc:
        raise PermissionError(f"{output}: cannot write the results there ({exc.strerror or exc})") from None


def grade_class(submissions, output, *, jobs: int | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                memory_mb: int = DEFAULT_MEMORY_MB, init_points: float = INIT_POINTS,
                progress: bool = False, on_student: Callable[[StudentResult], None] | None = None) -> ClassResult:
    """Grade every submission in the folder ``submissions``; write ``summary.csv`` and each student's
    ``results.json`` into ``output``.

    Parameters
    ----------
    submissions : str or Path
        A folder whose entries are the students' submissions (files or folders).
    output : str or Path
        The results folder (made if missing; it may not be one of the submissions).
    jobs : int, optional
        Submissions graded at once (default :func:`default_jobs`).
    timeout_s, memory_mb : float, int
        Limits of each student's child process.
    init_points : float
        Points of the random initialization part (default 0: the course's 100 points in all).
    progress : bool
        A progress bar on stderr.
    on_student : callable, optional
        Called with each :class:`StudentResult` as it is done (in the order they finish).

    Returns
    -------
    ClassResult
    """
    folder, output = Path(submissions), Path(output)
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: no such folder (expected a folder with one submission per student)")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder (expected a folder with one submission per student)")
    students = students_in(folder, exclude=[output])
    if not students:
        raise ValueError(f"{folder}: no submissions in this folder (expected one .py, .m or .ipynb file or one "
                         f"folder per student)")
    if jobs is not None and not (isinstance(jobs, int) and jobs > 0):
        raise ValueError(f"jobs: expected a positive whole number, got {jobs!r}")
    _check_output(output)
    stop_on_signals()  # the workers are threads: the main thread kills their programs on SIGTERM
    start = time.perf_counter()
    done: dict[str, StudentResult] = {}
    lock = threading.Lock()
    bar = None
    if progress:
        from tqdm.auto import tqdm  # imported only when a bar is wanted, as the training loop's bar

        bar = tqdm(total=len(students), unit="student", desc="grading")
    with tempfile.TemporaryDirectory(prefix="glassnet-class-") as tmp, \
            ThreadPoolExecutor(max_workers=jobs or default_jobs()) as pool:
        futures = {pool.submit(_grade_one, s, e, timeout_s, memory_mb, init_points, Path(tmp)): s
                   for s, e in students}
        try:
            for future in as_completed(futures):
                result = future.result()
                (output / result.student).mkdir(exist_ok=True)
                _write_json(output / result.student / "results.json", gradescope_results(result, init_points))
                with lock:
                    done[result.student] = result
                if on_student is not None:
                    on_student(result)
                if bar is not None:
                    bar.update(1)
        except BaseException:  # Ctrl-C: no new student starts, the running ones are killed
            for f in futures:
                f.cancel()
            stop_all()
            raise
        finally:
            if bar is not None:
                bar.close()
    ordered = tuple(done[s] for s, _ in students)
    data = _summary_csv(ordered)
    atomic_write(output / "summary.csv", lambda f: f.write(data))
    isolations = {s.report.isolation for s in ordered if s.report is not None and s.report.isolation}
    isolation = isolations.pop() if len(isolations) == 1 else "; ".join(sorted(isolations)) or "none"
    return ClassResult(ordered, output, time.perf_counter() - start, isolation)
