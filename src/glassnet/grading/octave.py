"""Run a student's Octave/MATLAB functions with GNU Octave, on the grader's calls, in a limited child process.

:func:`run_octave` takes the same :class:`~glassnet._support.sandbox.Call` list as
:func:`~glassnet._support.sandbox.run_file` and gives the same :class:`~glassnet._support.sandbox.SandboxRun`, so the
grader treats an ``.m`` file like a Python file. The student's ``.m`` files are copied into a private temporary folder
(the graded file under the name of its function, the way Octave finds functions; its companions ``sigmoid.m``,
``sigmoidGradient.m``, ``randInitializeWeights.m`` ... under their own names, as the course's submit script uses
them; the course's own ``sigmoid.m`` where the student brings none), every array argument travels as text
(``%.17g``, exact for a double both ways), and a generated driver script calls each function inside
``try``/``catch`` and writes each returned value — or the error message and the stack — to a file of its own.
``octave-cli`` runs with ``--no-gui --norc --no-history --no-window-system --quiet``
(``--norc``: neither the site's nor the user's start-up files) through :func:`glassnet._support.sandbox.run_limited`:
a wall-clock limit, an address-space limit, one BLAS thread, the temporary folder as its home and working directory.

Not here: which files make a submission (:mod:`glassnet.grading.submission`), what the calls mean (the grader).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from glassnet._support.sandbox import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_S,
    Call,
    CallResult,
    SandboxRun,
    run_limited,
)

__all__ = ["OCTAVE_FLAGS", "OctaveNotFound", "octave_program", "primary_function", "run_octave", "INSTALL_HINT"]

OCTAVE_FLAGS = ("--no-gui", "--norc", "--no-history", "--no-window-system", "--quiet")
INSTALL_HINT = ("install GNU Octave: the Debian package `octave` (sudo apt-get install --no-install-recommends "
                "octave), or run the project's scripts/install-octave.sh; GLASSNET_OCTAVE names another octave-cli")
_MAX_SOURCE_BYTES = 1 << 20  # one student .m file; anything larger is not a homework file
_OUT_OF_MEMORY = "out of memory or dimension too large"  # Octave's message when an allocation fails
_FUNCTION = re.compile(r"function\b\s*(?:\[[^\]]*\]\s*=\s*|[A-Za-z]\w*\s*=\s*)?([A-Za-z]\w*)")


class OctaveNotFound(OSError):
    """GNU Octave's ``octave-cli`` is not installed (or not where ``GLASSNET_OCTAVE`` says)."""


def octave_program() -> str:
    """The path of ``octave-cli`` (``GLASSNET_OCTAVE`` overrides the search of PATH), or :class:`OctaveNotFound`."""
    named = os.environ.get("GLASSNET_OCTAVE")
    found = shutil.which(named) if named else shutil.which("octave-cli")
    if not found:
        where = f"GLASSNET_OCTAVE={named!r} is not an executable" if named else "octave-cli was not found on PATH"
        raise OctaveNotFound(f"grading .m files needs GNU Octave, and {where}: {INSTALL_HINT}")
    return found


def primary_function(text: str) -> str | None:
    """The name of the first function an ``.m`` file defines (the one Octave calls by the file's name), or None for
    a script (a file whose first statement is not ``function``). Comments and blank lines before it are skipped.

    Examples
    --------
    >>> primary_function("% ex4\\n%{\\nblock\\n%}\\nfunction [J grad] = nnCostFunction(nn_params, ...\\n")
    'nnCostFunction'
    >>> primary_function("function g = sigmoid(z)\\n"), primary_function("1;\\nfunction f()\\n")
    ('sigmoid', None)
    """
    in_block = False
    for raw in text.removeprefix("\ufeff").splitlines():
        line = raw.strip()
        if in_block:
            in_block = line not in ("%}", "#}")
            continue
        if line in ("%{", "#{"):
            in_block = True
            continue
        if not line or line.startswith(("%", "#")):
            continue
        match = _FUNCTION.match(line)
        return match.group(1) if match else None
    return None


#: ex4's own ``sigmoid.m``, which the course hands out with the exercise: on the path whenever the student's files do
#: not bring one (a lone ``nnCostFunction.m``, or a class's submission of that one file), as in an ex4 folder.
COURSE_SIGMOID = """function g = sigmoid(z)
%SIGMOID Compute sigmoid function
g = 1.0 ./ (1.0 + exp(-z));
end
"""


def run_octave(main: Path, companions: Sequence[Path], calls: Sequence[Call], *, timeout_s: float = DEFAULT_TIMEOUT_S,
               memory_mb: int = DEFAULT_MEMORY_MB) -> SandboxRun:
    """Run ``calls`` on the functions of the student's ``.m`` files with GNU Octave, within the limits.

    Parameters
    ----------
    main : Path
        The graded ``.m`` file: a function file; it is called by the name of its first function, whatever the file
        is called (``wrong_no_reg.m`` holding ``function [J grad] = nnCostFunction(...)`` answers ``nnCostFunction``).
    companions : sequence of Path
        The other ``.m`` files on the student's path (``sigmoid.m``, ``sigmoidGradient.m``, ...), each called by its
        file name as Octave does; one with the graded function's name is shadowed by ``main``.
    calls : sequence of Call
        Arguments: arrays (1-D ones arrive as columns, n × 1, as the course passes them), whole numbers, floats.
    timeout_s, memory_mb : float, int
        Wall-clock seconds for the whole run (Octave's start included) and its address space in MB.

    Returns
    -------
    SandboxRun
        As :func:`glassnet._support.sandbox.run_file` gives it; an error's ``traceback`` is the Octave message and
        the lines of the student's files it came through. ``"load error"`` when Octave cannot parse the graded file.
    """
    program = octave_program()
    main = Path(main).resolve()
    limits: dict = {"seconds_limit": timeout_s, "memory_mb": memory_mb, "calls": tuple(calls)}
    text = _read_source(main)
    name = primary_function(text)
    if name is None:
        return SandboxRun("load error", f"{main.name} is a script, not a function file: expected it to begin with "
                                        f"'function [J grad] = nnCostFunction(...)'", **limits)
    with tempfile.TemporaryDirectory(prefix="glassnet-octave-") as tmp:
        folder = Path(tmp)
        src = folder / "src"
        src.mkdir()
        originals: dict[str, Path] = {}
        for path in companions:
            path = Path(path).resolve()
            if path != main and path.stem != name:
                (src / path.name).write_text(_read_source(path), encoding="utf-8")
                originals[str(src / path.name)] = path
        (src / f"{name}.m").write_text(text, encoding="utf-8")
        originals[str(src / f"{name}.m")] = main
        if not (src / "sigmoid.m").exists():  # the course hands sigmoid.m out with ex4: students call it, not write it
            (src / "sigmoid.m").write_text(COURSE_SIGMOID, encoding="utf-8")
        (folder / "glassnet_driver.m").write_text(_driver(folder, calls), encoding="utf-8")
        limited = run_limited([program, *OCTAVE_FLAGS, "glassnet_driver.m"], folder=folder, timeout_s=timeout_s,
                              memory_mb=memory_mb)
        limits["isolation"] = limited.isolation
        results = tuple(_read_result(folder, c, call, originals, memory_mb) for c, call in enumerate(calls))
    output = _map_paths(limited.output, originals)
    first = results[0] if results else None
    if first is not None and first.message.startswith("raised an Octave error: parse error"):
        message, traceback = _parse_error(first.traceback)
        return SandboxRun("load error", message, traceback, results, output, **limits)
    where = next((f" while running {call.function}" for call, r in zip(calls, results) if r.status == "not run"), "")
    if limited.status == "timeout":
        return SandboxRun("timeout", f"timed out after {timeout_s:g} s{where}", results=results, output=output,
                          **limits)
    if limited.status == "disk":
        return SandboxRun("crashed", f"the Octave process was stopped: {limited.message}{where}", results=results,
                          output=output, **limits)
    if limited.status == "ok" and not where:
        return SandboxRun("ok", results=results, output=output, **limits)
    code = limited.returncode or 0
    if limited.status == "memory" or _OUT_OF_MEMORY in limited.output:
        status, what = "memory", f"ran out of memory (limit {memory_mb} MB)"
    elif code < 0:
        status, what = "crashed", f"was killed by {_signal_name(-code)}"
    else:
        status, what = "crashed", f"exited with code {code}"
    tail = _last_error(output)
    return SandboxRun(status, f"the Octave process {what}{where}" + (f" ({tail})" if tail else ""), results=results,
                      output=output, **limits)


# ---------------------------------------------------------------------------------------------------------------
# the driver script and the files it writes


_DRIVER_FUNCTIONS = r"""
function x = glassnet_read(name)
  fid = fopen(fullfile('@DIR@', name), 'r');
  d = fscanf(fid, '%d', 2);
  v = fscanf(fid, '%f');
  fclose(fid);
  x = reshape(v, d(1), d(2));
end

function glassnet_finish(c, fid)
  fclose(fid);
  rename(sprintf('@DIR@/out_%d.tmp', c), sprintf('@DIR@/out_%d.txt', c));
end

function glassnet_error(c, err)
  fid = fopen(sprintf('@DIR@/out_%d.tmp', c), 'w');
  fprintf(fid, 'error\n');
  for k = 1:numel(err.stack)
    s = err.stack(k);
    fprintf(fid, 'frame\t%d\t%s\t%s\n', s.line, s.name, s.file);
  end
  fprintf(fid, 'message\n%s', err.message);
  glassnet_finish(c, fid);
end

function glassnet_call(c, fname, args, optional)
  if ~any(exist(fname) == [2 3 5 103])
    fid = fopen(sprintf('@DIR@/out_%d.tmp', c), 'w');
    fprintf(fid, 'missing\n');
    glassnet_finish(c, fid);
    return;
  end
  try
    n = nargout(fname);
    if n < 0
      n = 2;
    end
    n = min(n, 2);
    out = cell(1, n);
    if n == 0
      feval(fname, args{:});
    else
      [out{:}] = feval(fname, args{:});
    end
  catch err
    glassnet_error(c, err);
    return;
  end
  fid = fopen(sprintf('@DIR@/out_%d.tmp', c), 'w');
  fprintf(fid, 'ok %d\n', n);
  for k = 1:n
    v = out{k};
    if ~(isnumeric(v) || islogical(v))
      fprintf(fid, 'bad %s\n', class(v));
    elseif ~isreal(v)
      fprintf(fid, 'complex\n');
    else
      fprintf(fid, 'value %d\n', ndims(v));
      fprintf(fid, '%d\n', size(v));
      fprintf(fid, '%.17g\n', double(v(:)));
    end
  end
  glassnet_finish(c, fid);
end
"""


def _driver(folder: Path, calls: Sequence[Call]) -> str:
    """The driver script: array arguments written to ``in_<c>_<k>.txt``, each call guarded by try/catch, every file
    named by its absolute path in ``folder``."""
    here = str(folder).replace("'", "''")  # absolute: the student's code may change directory
    lines = ["1;  % a script: the functions below are the driver's own", _DRIVER_FUNCTIONS.replace("@DIR@", here),
             f"addpath('{here}/src');"]
    for c, call in enumerate(calls):
        args = []
        for k, arg in enumerate(call.args):
            if isinstance(arg, np.ndarray):
                a = np.asarray(arg, dtype=np.float64)
                a = a.reshape(-1, 1) if a.ndim < 2 else a.reshape(a.shape[0], -1)
                name = f"in_{c}_{k}.txt"
                with open(folder / name, "w", encoding="ascii") as f:
                    f.write(f"{a.shape[0]} {a.shape[1]}\n")
                    np.savetxt(f, a.ravel(order="F"), fmt="%.17g")
                args.append(f"glassnet_read('{name}')")
            elif isinstance(arg, (bool, int, np.integer)):
                args.append(str(int(arg)))
            elif isinstance(arg, (float, np.floating)):
                args.append(repr(float(arg)))
            else:
                raise TypeError(f"an Octave call takes arrays and numbers, not {type(arg).__name__}")
        optional = "true" if call.optional else "false"
        lines.append(f"glassnet_call({c}, '{call.function}', {{{', '.join(args)}}}, {optional});")
    return "\n".join(lines) + "\n"


def _read_result(folder: Path, c: int, call: Call, originals: dict, memory_mb: int) -> CallResult:
    path = folder / f"out_{c}.txt"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return CallResult("not run")
    try:
        return _parse_result(text, call, originals, memory_mb)
    except (ValueError, IndexError) as exc:  # cut short (e.g. the disk limit): say so rather than guess
        return CallResult("error", message=f"its result could not be read back ({exc})")


def _parse_result(text: str, call: Call, originals: dict, memory_mb: int) -> CallResult:
    head, _, rest = text.partition("\n")
    if head == "missing":
        return CallResult("missing" if call.optional else "error", message=f"defines no function {call.function}")
    if head == "error":
        frames, _, message = rest.partition("message\n")
        return _error_result(message, frames, originals, memory_mb)
    lines = rest.splitlines()
    values, pos, n = [], 0, int(head.split()[1])
    for k in range(n):
        kind = lines[pos].split()
        where = f"returned value {k + 1}" if n > 1 else "the returned value"
        if kind[0] == "bad":
            return CallResult("error", message=f"{where} is not an array of numbers (a {kind[1]})")
        if kind[0] == "complex":
            return CallResult("error", message=f"{where} is not an array of real numbers (it is complex: a log of "
                                               f"a negative number?)")
        ndim = int(kind[1])
        shape = tuple(int(s) for s in lines[pos + 1:pos + 1 + ndim])
        size = int(np.prod(shape))
        numbers = lines[pos + 1 + ndim:pos + 1 + ndim + size]
        values.append(np.array([float(x) for x in numbers], dtype=np.float64).reshape(shape, order="F"))
        pos += 1 + ndim + size
    return CallResult("ok", values=tuple(values), returned_tuple=n > 1)


def _error_result(message: str, frames: str, originals: dict, memory_mb: int) -> CallResult:
    """An Octave error as the student reads it: the message, then each of their own lines it came through."""
    message = _map_paths(message.rstrip(), originals)
    lines = [f"error: {message}"]
    for frame in frames.splitlines():
        _, line, name, file = frame.split("\t", 3)
        original = originals.get(file)
        if original is None:  # the driver's own frames
            continue
        lines.append(f'  File "{original}", line {line}, in {name}')
        code = _source_line(original, int(line))
        if code:
            lines.append(f"    {code}")
    first = message.splitlines()[0] if message else "an error"
    if _OUT_OF_MEMORY in message:
        return CallResult("error", message=f"ran out of memory (limit {memory_mb} MB)", traceback="\n".join(lines))
    return CallResult("error", message=f"raised an Octave error: {first}", traceback="\n".join(lines))


def _parse_error(traceback: str) -> tuple[str, str]:
    """Octave's "parse error near line N of file F ... >>> code" as one line and the student's line under it."""
    match = re.search(r"parse error near line (\d+) of file (.*?)\n\s*\n\s*(.*?)\n", traceback + "\n")
    if match is None:
        return f"Octave could not parse the file: {traceback.splitlines()[0]}", traceback
    line, file, what = match.groups()
    code = [f"    {t}" for t in traceback.splitlines() if t.startswith(">>>") or t.strip() == "^"]
    shown = "\n".join(t for t in traceback[match.end():].splitlines() if t.strip())
    message = f"Octave could not parse {Path(file).name}: {what.strip()} near line {line}"
    return message, "\n".join([f'  File "{file}", line {line}', *(code or [f"    {shown}"])])


def _read_source(path: Path) -> str:
    size = path.stat().st_size
    if size > _MAX_SOURCE_BYTES:
        raise ValueError(f"{path}: {size} bytes; expected an .m file of at most {_MAX_SOURCE_BYTES} bytes")
    # MATLAB on Windows may save a byte-order mark, which Octave would read as code
    return path.read_text(encoding="utf-8", errors="replace").removeprefix("\ufeff")


def _source_line(path: Path, line: int) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def _map_paths(text: str, originals: dict) -> str:
    """Octave's messages with the copies' paths replaced by the student's own."""
    for copy, original in originals.items():
        text = text.replace(copy, str(original))
    return text


def _last_error(output: str) -> str:
    """The last line of Octave's output that starts with "error:", without it (or "")."""
    errors = [line[len("error:"):].strip() for line in output.splitlines() if line.startswith("error:")]
    return errors[-1] if errors else ""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
