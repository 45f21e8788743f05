"""Grading time: one file, and a whole class of N submissions (default 300) through ``glassnet grade DIR -o OUT``.

Rows:

- ``per_file``: ``glassnet.grade(FILE)`` in one process, on a few files of ``tests/grade_gallery`` (correct, wrong,
  another convention), the first grade excluded (it builds the cases once per process): the median seconds per file,
  and of it the child process (start, the sandbox, numpy's import, the calls) and the rest (this process: checking
  the answers, diagnosing).
- ``class``: N copies of those files (one per student, as files, every tenth as a folder) graded by the command line
  in a fresh process with the default ``--jobs`` (the CPUs), wall-clock seconds in all and per file, and what
  isolated them.

Writes a JSON result (``--out``) with the machine's facts and its load average (the machine may be shared: timings
on a loaded machine are slower, never faster).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _harness
import glassnet
import glassnet.grading.grader as grader
from glassnet._support.isolation import isolation_available
from glassnet.grading.classroom import default_jobs

GALLERY = Path(__file__).resolve().parents[1] / "tests" / "grade_gallery"
FILES = ("correct.py", "wrong_sign.py", "correct_octave.py", "wrong_cost_no_regularization.py",
         "wrong_gradient_missing_1_over_m.py")


def per_file(repeats: int) -> dict:
    glassnet.grade(GALLERY / FILES[0])  # the cases, built once per process
    child = [0.0]
    run_submission = grader.run_submission

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return run_submission(*args, **kwargs)
        finally:
            child[0] += time.perf_counter() - start

    grader.run_submission = timed
    rows = []
    try:
        for _ in range(repeats):
            for name in FILES:
                child[0] = 0.0
                start = time.perf_counter()
                glassnet.grade(GALLERY / name)
                rows.append((time.perf_counter() - start, child[0]))
    finally:
        grader.run_submission = run_submission
    total = statistics.median(t for t, _ in rows)
    in_child = statistics.median(c for _, c in rows)
    return {"files": len(rows), "median_s": round(total, 3), "child_s": round(in_child, 3),
            "parent_s": round(statistics.median(t - c for t, c in rows), 3)}


def whole_class(n: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="glassnet-bench-class-") as tmp:
        subs = Path(tmp) / "submissions"
        subs.mkdir()
        for k in range(n):
            source = GALLERY / FILES[k % len(FILES)]
            if k % 10 == 9:
                (subs / f"student{k:03d}").mkdir()
                shutil.copy(source, subs / f"student{k:03d}" / "ex4.py")
            else:
                shutil.copy(source, subs / f"student{k:03d}.py")
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "glassnet", "grade", str(subs), "-o", str(Path(tmp) / "out"),
                               "--no-progress"], capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"glassnet grade failed ({done.returncode}): {done.stderr[-2000:]}")
        rows = (Path(tmp) / "out" / "summary.csv").read_text(encoding="utf-8").count("\n") - 1
    return {"submissions": n, "graded": rows, "jobs": default_jobs(), "seconds": round(seconds, 1),
            "per_file_s": round(seconds / n, 3), "last_line": done.stdout.strip().splitlines()[-2]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    meta = _harness.machine_facts(threads=1)
    mode, why = isolation_available()
    result = {"meta": meta, "isolation": mode, "isolation_why": why, "per_file": per_file(args.repeats),
              "class": whole_class(args.students), "load_average_end": _harness.loadavg()}
    pf, cl = result["per_file"], result["class"]
    print(f"isolation: {mode}{f' ({why})' if why else ''}; load average {meta['load_average_start']}")
    print(f"one file: {pf['median_s']:.3f} s (child {pf['child_s']:.3f} s, this process {pf['parent_s']:.3f} s)")
    print(f"{cl['submissions']} submissions, {cl['jobs']} jobs: {cl['seconds']:.1f} s ({cl['per_file_s']:.3f} s a "
          f"file); load average at the end {result['load_average_end']}")
    if args.out is not None:
        _harness.write_json(args.out, result)


if __name__ == "__main__":
    main()
