"""Which file(s) make a student's submission, and running the grader's calls on them.

:func:`find_submission` is the one place that decides it, for a file (``.py``, ``.m``, ``.ipynb``) or a folder:

- an Octave/MATLAB folder (the course's ``ex4/``): the ``.m`` file named for the graded function (``nnCostFunction.m``),
  or the ``.m`` file whose first function has that name; every other ``.m`` file of the folder is on its path, as the
  course's submit script has it (``sigmoid.m``, ``sigmoidGradient.m``, ``randInitializeWeights.m``). A single ``.m``
  file has the other ``.m`` files of its folder on its path the same way;
- a folder of Python files (the Python port split in files): the ``.py`` file named for the graded function, or the
  one that defines it; the other functions graded (``sigmoidGradient``, ``randInitializeWeights``) come from the file
  that defines each, when the graded file does not;
- a folder holding a notebook: the ``.ipynb`` whose code cells define the graded function (or its only notebook).

A folder is read at its top level only, regular files only (no links), each at most 1 MB (a notebook 64 MB).
:func:`run_submission` runs the calls on what :func:`find_submission` found, in a limited child process, and gives
the same :class:`~glassnet._support.sandbox.SandboxRun` for every kind.
"""

from __future__ import annotations

import ast
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glassnet._support.sandbox import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, Call, SandboxRun, run_file
from glassnet.grading.notebook import defines_in_notebook, run_notebook
from glassnet.grading.octave import primary_function, run_octave

__all__ = ["Submission", "NoSubmission", "find_submission", "run_submission", "defined_names", "SUFFIXES", "ACCEPTED"]

SUFFIXES = {".py": "python", ".m": "octave", ".ipynb": "notebook"}
ACCEPTED = "a Python file (.py), an Octave/MATLAB file (.m), a Jupyter notebook (.ipynb) or a folder holding them"
_MAX_FILES = 200  # files of one kind in a submission folder: a homework folder, not a disk
_MAX_SOURCE_BYTES = 1 << 20


class NoSubmission(ValueError):
    """A folder holds no file that defines the graded function, or a file is of a kind that is not graded."""


@dataclass(frozen=True)
class Submission:
    """What is graded: ``kind`` ("python", "octave", "notebook"), ``main`` (the file that defines the graded function)
    and ``files`` (the submission's other files of that kind: an ``.m`` file's path, a Python folder's modules)."""

    kind: str
    main: Path
    files: tuple = ()
    folder: Path | None = None


def find_submission(path: str | Path, function: str) -> Submission:
    """The submission at ``path`` (a file or a folder) whose ``function`` is graded.

    Raises ``FileNotFoundError`` when ``path`` does not exist and :class:`NoSubmission` (a ``ValueError``) — naming
    the path and what was expected — for a file of another kind or a folder holding no such function.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     d = pathlib.Path(tmp)
    ...     _ = (d / "nnCostFunction.m").write_text("function [J grad] = nnCostFunction(p, a, b, c, X, y, l)\\nend\\n")
    ...     _ = (d / "sigmoid.m").write_text("function g = sigmoid(z)\\ng = 1 ./ (1 + exp(-z));\\nend\\n")
    ...     s = find_submission(d, "nnCostFunction")
    >>> s.kind, s.main.name, [f.name for f in s.files]
    ('octave', 'nnCostFunction.m', ['nnCostFunction.m', 'sigmoid.m'])
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_file():
        kind = SUFFIXES.get(path.suffix.lower())
        if kind is None:
            raise NoSubmission(f"{path}: expected {ACCEPTED}")
        files = _files(path.parent, ".m") if kind == "octave" else ()
        return Submission(kind, path, files)
    if not path.is_dir():
        raise NoSubmission(f"{path}: expected {ACCEPTED}")
    m_files = _files(path, ".m")
    for f in m_files:
        if f.stem == function:
            return Submission("octave", f, m_files, path)
    for f in m_files:
        if primary_function(_read(f)) == function:
            return Submission("octave", f, m_files, path)
    py_files = _files(path, ".py")
    # the file named for the function (even one that does not parse: running it says why), else one that defines it
    chosen = next((f for f in py_files if f.stem == function), None) or \
        next((f for f in py_files if function in _python_defines(f)), None)
    if chosen is not None:
        return Submission("python", chosen, py_files, path)
    notebooks = _files(path, ".ipynb")
    for f in notebooks:
        if function in defines_in_notebook(f):
            return Submission("notebook", f, (), path)
    if len(notebooks) == 1:  # it will say that it defines no such function, or why it does not load
        return Submission("notebook", notebooks[0], (), path)
    found = sorted(f.name for f in path.iterdir())[:8]
    listing = f" (it holds {', '.join(found)}{', ...' if len(found) == 8 else ''})" if found else " (it is empty)"
    raise NoSubmission(f"{path}: found no {function}.m, no .py file and no notebook defining {function}{listing}; "
                     f"expected {ACCEPTED}")


def run_submission(submission: Submission, calls: Sequence[Call], *, timeout_s: float = DEFAULT_TIMEOUT_S,
                   memory_mb: int = DEFAULT_MEMORY_MB) -> tuple[SandboxRun, str]:
    """Run ``calls`` on ``submission`` in a limited child process: ``(the run, a note for the report)``; the note
    says what of a notebook was left out ("" for the other kinds)."""
    limits: dict[str, Any] = {"timeout_s": timeout_s, "memory_mb": memory_mb}
    if submission.kind == "octave":
        return run_octave(submission.main, submission.files, calls, **limits), ""
    if submission.kind == "notebook":
        return run_notebook(submission.main, calls, **limits)
    elsewhere = _defined_elsewhere(submission, {c.function for c in calls})
    if not elsewhere:
        return run_file(submission.main, calls, **limits), ""
    with tempfile.TemporaryDirectory(prefix="glassnet-entry-") as tmp:
        entry = Path(tmp) / "submission.py"
        entry.write_text(_entry(submission, elsewhere), encoding="utf-8")
        run = run_file(entry, calls, read_only=[submission.folder or submission.main.parent], **limits)
    return run, ""


def defined_names(submission: Submission) -> tuple[str, ...]:
    """The functions the graded file defines at its top level, read without running it (for a message)."""
    if submission.kind == "python":
        return tuple(sorted(_python_defines(submission.main, functions_only=True)))
    if submission.kind == "notebook":
        return tuple(sorted(defines_in_notebook(submission.main)))
    name = primary_function(_read(submission.main))
    return (name,) if name else ()


# ---------------------------------------------------------------------------------------------------------------


def _files(folder: Path, suffix: str) -> tuple[Path, ...]:
    """The regular files (not links) with ``suffix`` at the top level of ``folder``, sorted by name."""
    found = sorted(f for f in folder.iterdir() if f.suffix.lower() == suffix and f.is_file() and not f.is_symlink())
    if len(found) > _MAX_FILES:
        raise ValueError(f"{folder}: {len(found)} {suffix} files; expected a homework folder of at most {_MAX_FILES}")
    return tuple(found)


def _read(path: Path, limit: int = _MAX_SOURCE_BYTES) -> str:
    size = path.stat().st_size
    if size > limit:
        raise ValueError(f"{path}: {size} bytes; expected a source file of at most {limit} bytes")
    return path.read_text(encoding="utf-8", errors="replace")


def _python_defines(path: Path, functions_only: bool = False) -> set[str]:
    """The names a Python file binds at its top level (functions; with imports unless ``functions_only``), read
    without running it; an empty set when it does not parse (running it will say why)."""
    try:
        tree = ast.parse(_read(path))
    except (SyntaxError, ValueError):
        return set()
    names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if not functions_only:
        names |= {(a.asname or a.name).split(".")[0] for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
                  for a in n.names}
    return names


def _defined_elsewhere(submission: Submission, wanted: set[str]) -> dict[str, Path]:
    """For a Python folder: each wanted function the graded file does not bind, and the file that defines it."""
    if submission.folder is None:
        return {}
    here = _python_defines(submission.main)
    out: dict[str, Path] = {}
    for name in sorted(wanted - here):
        candidates = [f for f in submission.files if f.stem == name] + list(submission.files)
        for f in candidates:
            if f != submission.main and name in _python_defines(f, functions_only=True):
                out[name] = f
                break
    return out


def _entry(submission: Submission, elsewhere: dict[str, Path]) -> str:
    """A module that binds the graded file's names and, from the folder's other files, the functions it lacks."""
    folder = str(submission.folder.resolve()) if submission.folder is not None else ""
    lines = ['"""The submission as one module: the graded file\'s functions and the folder\'s others."""',
             "import importlib as _importlib", "import sys as _sys",
             f"_sys.path.insert(0, {json.dumps(folder)})",
             f"_main = _importlib.import_module({json.dumps(submission.main.stem)})",
             "globals().update({k: v for k, v in vars(_main).items() if not k.startswith('__')})"]
    lines += [f"{name} = _importlib.import_module({json.dumps(f.stem)}).{name}" for name, f in elsewhere.items()]
    return "\n".join(lines) + "\n"

