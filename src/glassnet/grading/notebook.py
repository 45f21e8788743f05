"""The functions a Jupyter notebook's code cells define, graded without running the cells that load data or train.

:func:`notebook_cells` reads the notebook (JSON, at most 64 MB, through :func:`glassnet._support.jsonsafe.read_json`)
and picks, in each code cell, the top-level statements that define something — imports, ``def``, ``class`` and
assignments of constants (``input_layer_size = 400``, ``lambda_ = 1.0``) — and leaves out everything else: loading
data, training, plotting, printing, IPython magics (``%matplotlib``, ``!pip``) and whole ``%%`` cells.
:func:`run_notebook` writes a small loader module next to the kept cells and runs it through
:func:`glassnet._support.sandbox.run_file`, in the same limited child as a Python file: each cell is compiled under the
name ``NOTEBOOK.ipynb, cell N``, so tracebacks point into the notebook, and an import that fails (a plotting library
that is not installed) is reported and skipped, not fatal.

Not here: which file of a folder is the notebook (:mod:`glassnet.grading.submission`).
"""

from __future__ import annotations

import ast
import json
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from glassnet._support.jsonsafe import read_json
from glassnet._support.sandbox import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, Call, SandboxRun, run_file

__all__ = ["NotebookError", "Cell", "notebook_cells", "defines_in_notebook", "run_notebook", "NOTEBOOK_MAX_BYTES"]

NOTEBOOK_MAX_BYTES = 64 << 20  # outputs with images make notebooks large; the code is a small part
_KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_SIMPLE = (ast.Constant, ast.Name, ast.Attribute, ast.BinOp, ast.UnaryOp, ast.Tuple, ast.List, ast.operator,
           ast.unaryop, ast.Load, ast.Store)


class NotebookError(ValueError):
    """The file is not a Jupyter notebook glassnet can read: the message names the file and the problem."""


@dataclass(frozen=True)
class Cell:
    """A code cell: its 1-based ``number`` among all cells, its ``source`` (magics blanked), the indices of the
    top-level statements kept, and the first line of each statement left out."""

    number: int
    source: str
    keep: tuple
    skipped: tuple
    parses: bool = True


def notebook_cells(path: str | Path) -> list[Cell]:
    """The code cells of the notebook at ``path``, each with the statements that define something picked out.

    A cell that does not parse is left out, unless it defines a function (then running it shows the error).
    Raises :class:`NotebookError` for a file that is not a notebook.
    """
    path = Path(path)
    try:
        doc = read_json(path, NOTEBOOK_MAX_BYTES)
    except ValueError as exc:
        raise NotebookError(f"{path}: not a Jupyter notebook ({exc})") from None
    cells = doc.get("cells") if isinstance(doc, dict) else None
    if cells is None and isinstance(doc, dict) and isinstance(doc.get("worksheets"), list):  # nbformat 3
        cells = [c for w in doc["worksheets"] if isinstance(w, dict) for c in w.get("cells", [])]
    if not isinstance(cells, list):
        raise NotebookError(f"{path}: not a Jupyter notebook (expected a JSON object with a list of \"cells\")")
    out = []
    bound: set[str] = set()
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", cell.get("input", ""))
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"{path}: cell {number}: expected its source as text or a list of lines")
        out.append(_pick(number, source, bound))
    return out


def defines_in_notebook(path: str | Path) -> set[str]:
    """The names of the functions the notebook's code cells define (an empty set for a file that is not one)."""
    try:
        cells = notebook_cells(path)
    except (NotebookError, OSError):
        return set()
    names = set()
    for cell in cells:
        if cell.parses:
            tree = ast.parse(cell.source)
            names |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        else:
            names |= set(re.findall(r"^def\s+([A-Za-z_]\w*)", cell.source, re.M))
    return names


def run_notebook(path: str | Path, calls: Sequence[Call], *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 memory_mb: int = DEFAULT_MEMORY_MB) -> tuple[SandboxRun, str]:
    """Run ``calls`` on the functions the notebook defines, in a limited child: ``(the run, what was left out)``."""
    path = Path(path).resolve()
    cells = notebook_cells(path)
    with tempfile.TemporaryDirectory(prefix="glassnet-notebook-") as tmp:
        loader = Path(tmp) / f"{_module_name(path.stem)}.py"
        (Path(tmp) / "cells.json").write_text(json.dumps(
            [{"name": f"{path}, cell {c.number}", "source": c.source, "keep": list(c.keep)} for c in cells]),
            encoding="utf-8")
        loader.write_text(_LOADER.format(notebook=json.dumps(str(path)), folder=json.dumps(str(path.parent))),
                          encoding="utf-8")
        run = run_file(loader, calls, timeout_s=timeout_s, memory_mb=memory_mb,
                       read_only=[path.parent])  # the sandbox shows it the notebook's folder, read-only
    failed = re.findall(r", cell (\d+), line (\d+): import skipped \((.*)\)$", run.output, re.M)
    note = skipped_note(path, cells)
    if failed:  # a function that needs the module then fails with a NameError: say why up front
        note += f"; import{'s' if len(failed) > 1 else ''} that failed, skipped: " + ", ".join(
            f"cell {c}, line {line} ({why})" for c, line, why in failed)
    return _without_loader(run, str(loader)), note


def skipped_note(path: Path, cells: Sequence[Cell]) -> str:
    """One line: which cells and statements were left out, with the first of them as an example."""
    skipped = [(c.number, s) for c in cells for s in c.skipped]
    if not skipped:
        return f"{path.name}: every statement of its code cells defines something; all of them ran"
    numbers = sorted({n for n, _ in skipped})
    first = next((s for _, s in skipped if not s.startswith(("%", "!"))), skipped[0][1])  # a statement, not a magic
    first = first if len(first) <= 60 else first[:57] + "..."
    s = "s" if len(numbers) > 1 else ""
    return (f"{path.name}: graded the imports, functions and constants of its code cells; left out {len(skipped)} "
            f"statement{'s' if len(skipped) > 1 else ''} that load data, train, plot or print (cell{s} "
            f"{_ranges(numbers)}; e.g. `{first}`)")


# ---------------------------------------------------------------------------------------------------------------


def _pick(number: int, source: str, bound: set[str]) -> Cell:
    """The cell with its defining statements picked out; ``bound``, the names kept cells bind, grows with them."""
    lines = source.splitlines()
    first = next((line.strip() for line in lines if line.strip()), "")
    if first.startswith("%%"):  # a cell magic: the whole cell is the magic's
        return Cell(number, "", (), (first,))
    skipped = []
    for k, line in enumerate(lines):
        if line.lstrip().startswith(("%", "!")):  # a line magic or a shell command: blanked, lines keep their numbers
            skipped.append(line.strip())
            lines[k] = ""
    text = "\n".join(lines) + "\n"
    try:
        tree = ast.parse(text)
    except SyntaxError:
        if re.search(r"^def\s", text, re.M):  # the student's function is here: running it shows the error
            return Cell(number, text, (), tuple(skipped), parses=False)
        return Cell(number, "", (), (*skipped, first))
    keep = []
    for k, node in enumerate(tree.body):
        if isinstance(node, _KEPT) or _is_constant(node, bound):
            keep.append(k)
            bound |= _binds(node)
        else:
            skipped.append((ast.get_source_segment(text, node) or "").splitlines()[0].strip())
    return Cell(number, text, tuple(keep), tuple(skipped))


def _is_constant(node: ast.AST, bound: set[str]) -> bool:
    """``name = value`` where the value is made of numbers, arithmetic and names the kept statements bind (``np.pi``,
    ``2 * hidden_layer_size``): no calls, no indexing, nothing computed from data."""
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets, value = [node.target], node.value
    else:
        return False
    names = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
    return (all(isinstance(t, ast.Name) for t in targets) and names <= bound
            and all(isinstance(n, _SIMPLE) for n in ast.walk(value)))


def _binds(node: ast.AST) -> set[str]:
    """The names a kept top-level statement binds."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return {t.id for t in targets if isinstance(t, ast.Name)}


def _module_name(stem: str) -> str:
    name = re.sub(r"\W", "_", stem)
    return name if name and not name[0].isdigit() else f"notebook_{name}"


def _ranges(numbers: list[int]) -> str:
    """[3, 5, 6, 7, 9] → "3, 5-7, 9"."""
    out: list[list[int]] = []
    for n in numbers:
        if out and n == out[-1][-1] + 1:
            out[-1].append(n)
        else:
            out.append([n])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in out)


def _without_loader(run: SandboxRun, loader: str) -> SandboxRun:
    """The run with the loader's own frames taken out of its tracebacks (the student reads only their cells)."""
    from dataclasses import replace

    def clean(tb: str) -> str:
        out, drop = [], False
        for line in tb.splitlines():
            if line.startswith("  File "):
                drop = f'"{loader}"' in line
            elif not line.startswith("    "):
                drop = False
            if not drop:
                out.append(line)
        return "\n".join(out)

    results = tuple(replace(r, traceback=clean(r.traceback)) for r in run.results)
    return replace(run, traceback=clean(run.traceback), results=results)


_LOADER = '''"""The definitions of the notebook {notebook}: its kept statements, cell by cell (written by glassnet)."""
import ast as _ast
import json as _json
import linecache as _linecache
import os as _os
import sys as _sys

_sys.path.insert(0, {folder})  # the notebook's own modules (a utils.py beside it)


def _glassnet_load():
    with open(_os.path.join(_os.path.dirname(__file__), "cells.json"), encoding="utf-8") as f:
        cells = _json.load(f)
    for cell in cells:
        name, text = cell["name"], cell["source"]
        _linecache.cache[name] = (len(text), None, text.splitlines(True), name)  # tracebacks show the cell's lines
        tree = compile(text, name, "exec", _ast.PyCF_ONLY_AST)
        for k in cell["keep"]:
            node = tree.body[k]
            try:
                exec(compile(_ast.Module([node], []), name, "exec"), globals())
            except ImportError as exc:
                if not isinstance(node, (_ast.Import, _ast.ImportFrom)):
                    raise
                print(f"{{name}}, line {{node.lineno}}: import skipped ({{exc}})", file=_sys.stderr)


_glassnet_load()
'''
