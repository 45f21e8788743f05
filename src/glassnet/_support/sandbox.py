"""Call functions of an untrusted Python file in an isolated child process with limits; get plain arrays back.

The parent writes the arguments into a private temporary folder (the arrays in one ``.npz``, everything else as JSON)
and runs ``python -I -B <this file> FOLDER`` through :func:`glassnet._support.isolation.run_limited`: under
bubblewrap where it runs (a read-only view of the system, Python and the file's own folder, the temporary folder the
only writable place, no network, a private PID namespace), always with hard limits on memory, CPU time, processes,
open files and file sizes, and a wall-clock ``timeout_s``. The child loads the file as a module, calls the requested
functions one by one and writes every returned value back as float64 bytes beside a JSON line giving its shape
(``allow_pickle=False`` for the arguments: nothing is ever unpickled). The parent reads those results within a size
budget and checks every field before use, so a forged results file is one clear error. Whatever the code does —
raise, loop forever, allocate without end, crash the interpreter — the parent gets a :class:`SandboxRun` that says
so in one line, with the traceback of the file's own frames for an exception, and what isolated it
(``SandboxRun.isolation``).

:func:`call_here` calls functions of this process (code that already runs here, e.g. defined in a notebook) through
the same conversion of results, so callers handle both the same way; that code is trusted, not isolated.

This file is also the child's program: run as a program it imports only the standard library and numpy, never
glassnet. Not here: what the calls mean (that is the caller's, e.g. :mod:`glassnet.grading`).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING or __name__ != "__main__":  # the child (this file run as a program) has numpy and the stdlib only
    from glassnet._support.isolation import Limited, check_limits, run_limited

# Limited and run_limited live in glassnet._support.isolation (the one place a child is launched); named here too
# for the callers that run other programs the same way (Octave).
__all__ = ["Call", "CallResult", "SandboxRun", "Limited", "run_limited", "run_file", "call_here", "DEFAULT_TIMEOUT_S",
           "DEFAULT_MEMORY_MB"]

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MEMORY_MB = 1024
_OUTPUT_TAIL = 2000  # characters of the child's stdout/stderr kept in the result
_INPUTS = "inputs.npz"
# What the parent reads back at most: whatever the child wrote, the parent never allocates more than this.
_RESULTS, _VALUES = "results.jsonl", "values.bin"
_RESULTS_LIMIT = 4 << 20  # bytes of results.jsonl
_TEXT_LIMIT = 20_000  # characters of one message or traceback
_VALUES_LIMIT = 4_000_000  # float64 values over all returned arrays (32 MB of values.bin)
_MAX_VALUES_PER_CALL = 64


@dataclass(frozen=True)
class Call:
    """``function(*args)``: ``args`` are numpy arrays or JSON values (numbers, strings, lists, None).

    ``optional``: a missing function is reported as ``status == "missing"`` rather than as an error.
    """

    function: str
    args: tuple = ()
    optional: bool = False


@dataclass(frozen=True)
class CallResult:
    """What one call gave: ``status`` is ``"ok"``, ``"error"`` (an exception), ``"missing"`` or ``"not run"``.

    ``values`` holds the returned values as float64 arrays (a returned tuple gives one array per item, anything else
    one array); ``message`` is one line for a person and ``traceback`` the code's own frames, for ``"error"``.
    """

    status: str
    values: tuple = ()
    returned_tuple: bool = False
    message: str = ""
    traceback: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class SandboxRun:
    """The outcome of :func:`run_file`.

    ``status``: ``"ok"`` (the file loaded; see each call's own result), ``"load error"`` (importing the file raised),
    ``"timeout"``, ``"memory"``, ``"crashed"`` (killed by a signal, exited on its own, or stopped for filling its
    folder past the sandbox's bounds). ``message`` says it in one line; ``results`` has one :class:`CallResult` per
    call (``"not run"`` for calls the child never reached).
    """

    status: str
    message: str = ""
    traceback: str = ""
    results: tuple = ()
    output: str = ""
    seconds_limit: float = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    calls: tuple = field(default=(), repr=False)
    isolation: str = ""  # what isolated the child (run_limited's words); empty when nothing ran

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# ---------------------------------------------------------------------------------------------------------------
# shared by both sides: turning returned values into plain float arrays


def _plain_values(value) -> tuple[tuple, bool]:
    """A returned value as a tuple of float64 arrays, and whether it was a tuple/list of values."""
    items = tuple(value) if isinstance(value, tuple) else (value,)
    out = []
    for k, item in enumerate(items):
        try:
            arr = np.array(item, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            where = f"returned value {k + 1}" if len(items) > 1 else "the returned value"
            raise _NotNumbers(f"{where} is not an array of numbers ({type(item).__name__}: {exc})") from None
        out.append(arr)
    return tuple(out), isinstance(value, tuple)


class _NotNumbers(Exception):
    pass


def _own_frames(exc: BaseException, skip_file: str) -> str:
    """The traceback of ``exc`` in the code's own frames: not ``skip_file`` (the runner), Python's or installed
    packages'."""
    installed = tuple({os.path.join(p, "") for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename) != skip_file
              and not f.filename.startswith("<frozen")]
    # The code's own frames: Python's and the installed libraries' (numpy...) are noise to the reader.
    own = [f for f in frames if not os.path.abspath(f.filename).startswith(installed)]
    frames = own or frames
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)] if frames else []
    return "".join(lines + traceback.format_exception_only(type(exc), exc)).rstrip("\n")


def _call_one(fn: Callable, args: Sequence, skip_file: str, memory_mb: int | None) -> CallResult:
    try:
        value = fn(*args)
    except MemoryError as exc:
        limit = f" (limit {memory_mb} MB)" if memory_mb else ""
        return CallResult("error", message=f"ran out of memory{limit}", traceback=_own_frames(exc, skip_file))
    except Exception as exc:  # the code under test may raise anything; it is reported, not re-raised
        return CallResult("error", message=f"raised {type(exc).__name__}: {exc}",
                          traceback=_own_frames(exc, skip_file))
    try:
        values, is_tuple = _plain_values(value)
    except _NotNumbers as exc:
        return CallResult("error", message=str(exc))
    return CallResult("ok", values=values, returned_tuple=is_tuple)


def call_here(functions: Mapping[str, Callable], calls: Sequence[Call]) -> tuple[CallResult, ...]:
    """Run ``calls`` on ``functions`` of this process, with the same results as :func:`run_file` (no limits).

    Examples
    --------
    >>> r = call_here({"f": lambda x: (x.sum(), 2 * x)}, [Call("f", (np.ones(3),)), Call("g", optional=True)])
    >>> r[0].status, float(r[0].values[0]), r[0].values[1].tolist(), r[1].status
    ('ok', 3.0, [2.0, 2.0, 2.0], 'missing')
    """
    here = os.path.abspath(__file__)
    out = []
    for call in calls:
        fn = functions.get(call.function)
        if fn is None:
            out.append(_missing(call))
        else:
            out.append(_call_one(fn, call.args, here, None))
    return tuple(out)


def _missing(call: Call) -> CallResult:
    if call.optional:
        return CallResult("missing", message=f"defines no function {call.function}")
    return CallResult("error", message=f"defines no function {call.function}")


# ---------------------------------------------------------------------------------------------------------------
# the parent side


def run_file(path, calls: Sequence[Call], *, timeout_s: float = DEFAULT_TIMEOUT_S,
             memory_mb: int = DEFAULT_MEMORY_MB, read_only: Sequence = ()) -> SandboxRun:
    """Load the Python file ``path`` in an isolated child process and run ``calls`` on its functions, within the
    limits (:func:`glassnet._support.isolation.run_limited`: bubblewrap where it runs; ``SandboxRun.isolation``
    says what applied).

    Parameters
    ----------
    path : str or Path
        A Python source file. Its folder is first on the child's ``sys.path`` and visible to it, read-only.
    calls : sequence of Call
    timeout_s : float
        Wall-clock seconds for the whole child (start, import and every call).
    memory_mb : int
        Address-space limit of the child in MB (a hard ``RLIMIT_AS``).
    read_only : sequence of str or Path
        Further files or folders the child may read (its working folder is a fresh private temporary folder).

    Returns
    -------
    SandboxRun
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    check_limits(timeout_s, memory_mb)  # before the temporary folder is made
    calls = tuple(calls)
    limits: dict[str, Any] = {"seconds_limit": timeout_s, "memory_mb": memory_mb, "calls": calls}
    with tempfile.TemporaryDirectory(prefix="glassnet-sandbox-") as tmp:
        folder = Path(tmp)
        request: dict[str, Any] = {"file": str(path), "memory_mb": memory_mb, "calls": []}
        arrays: dict[str, np.ndarray] = {}
        for c, call in enumerate(calls):
            args = []
            for k, arg in enumerate(call.args):
                if isinstance(arg, np.ndarray):
                    arrays[f"in_{c}_{k}"] = arg
                    args.append({"array": f"in_{c}_{k}"})
                else:
                    args.append({"value": arg})
            request["calls"].append({"function": call.function, "args": args, "optional": call.optional})
        # One file for every argument: the child opens it once (a file per array cost more than the calls).
        np.savez(folder / _INPUTS, **arrays)  # type: ignore[arg-type]
        (folder / "request.json").write_text(json.dumps(request), encoding="utf-8")
        program = os.path.abspath(__file__)
        done = run_limited([sys.executable, "-I", "-B", program, str(folder)], folder=folder,
                           read_only=[path.parent, Path(program), *(Path(p) for p in read_only)],
                           timeout_s=timeout_s, memory_mb=memory_mb, output_limit=4 * _OUTPUT_TAIL)
        output = done.output[-_OUTPUT_TAIL:]
        limits["isolation"] = done.isolation
        try:
            loaded, results = _read_results(folder, calls)
        except _BadResults as exc:
            return SandboxRun("bad results", f"the results the child wrote are not valid ({exc}); the graded code "
                                             f"may have written over them", output=output,
                              results=tuple(CallResult("not run") for _ in calls), **limits)
    if done.status == "timeout":
        where = _where(calls, results, loaded)
        return SandboxRun("timeout", f"timed out after {timeout_s:g} s{where}", results=results, output=output,
                          **limits)
    if done.status == "disk":
        return SandboxRun("crashed", f"the Python process was stopped: {done.message}{_where(calls, results, loaded)}",
                          results=results, output=output, **limits)
    if isinstance(loaded, dict):  # the file itself did not load
        status = "memory" if loaded.get("memory") else "load error"
        return SandboxRun(status, loaded["message"], loaded.get("traceback", ""), results, output, **limits)
    code = done.returncode
    if code != 0:
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            what = f"was killed by {name}"
            if -code == signal.SIGKILL:
                what += " (the system may have run out of memory)"
            elif -code == signal.SIGXCPU:
                what += " (its CPU time limit)"
        else:
            what = f"exited with code {code}"
        status = "crashed"
        if "MemoryError" in output and loaded is None:
            status, what = "memory", f"ran out of memory (limit {memory_mb} MB)"
        return SandboxRun(status, f"the Python process {what}{_where(calls, results, loaded)}", results=results,
                          output=output, **limits)
    return SandboxRun("ok", results=results, output=output, **limits)


def _where(calls: Sequence[Call], results: tuple, loaded) -> str:
    """' while running f' for the first call that has no result (' while loading the file' before any)."""
    if loaded is None:
        return " while loading the file"
    for call, result in zip(calls, results):
        if result.status == "not run":
            return f" while running {call.function}"
    return ""


class _BadResults(Exception):
    """What the child wrote is not what this file's child writes (forged, or cut short in a way it never is)."""


def _read_bounded(file: Path, limit: int) -> bytes:
    """The bytes of ``file``, refused (not read) when it is larger than ``limit``."""
    with open(file, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > limit:
            raise _BadResults(f"{file.name} has {size} bytes, more than the {limit} expected at most")
        return f.read(limit)


def _text(entry: dict, key: str) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        raise _BadResults(f"{key} is not text")
    return value[:_TEXT_LIMIT]


def _read_values(entry: dict, c: int, data: bytes) -> tuple:
    """The arrays one result points at in the values file: each a shape and an offset, checked against the file."""
    specs = entry.get("values")
    if not (isinstance(specs, list) and 0 < len(specs) <= _MAX_VALUES_PER_CALL):
        raise _BadResults(f"result {c + 1} has no valid list of values")
    out = []
    for spec in specs:
        shape, offset = spec.get("shape") if isinstance(spec, dict) else None, spec.get("offset", -1) \
            if isinstance(spec, dict) else -1
        if not (isinstance(shape, list) and len(shape) <= 32 and all(type(d) is int and d >= 0 for d in shape)
                and type(offset) is int and offset >= 0 and offset % 8 == 0):
            raise _BadResults(f"result {c + 1}: a value with no valid shape and offset")
        count = 1
        for d in shape:
            count *= d
        if offset + 8 * count > len(data):
            raise _BadResults(f"result {c + 1}: a value of shape {tuple(shape)} runs past the end of the values")
        out.append(np.frombuffer(data, dtype="<f8", count=count, offset=offset).reshape(shape).copy())
    return tuple(out)


def _read_results(folder: Path, calls: Sequence[Call]):
    """(load status, results) from what the child wrote, each field checked; calls it never finished are
    ``"not run"``. Raises _BadResults for anything this file's child would not have written.

    The child appends one JSON line when the file has loaded and one per call to ``results.jsonl``, and each
    returned array's float64 bytes to ``values.bin``; a last line cut short (the child killed while writing it) is
    left out, as a call never finished."""
    try:
        raw = _read_bounded(folder / _RESULTS, _RESULTS_LIMIT)
        data = _read_bounded(folder / _VALUES, 8 * _VALUES_LIMIT) if (folder / _VALUES).exists() else b""
    except FileNotFoundError:
        return None, tuple(CallResult("not run") for _ in calls)
    except OSError as exc:
        raise _BadResults(f"{exc}") from None
    lines = raw.split(b"\n")
    lines = lines[:-1]  # after the last newline: nothing, or a line the child never finished
    try:
        records = [json.loads(line.decode("utf-8")) for line in lines]
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _BadResults(f"{_RESULTS} is not one JSON object a line") from None
    if not records:
        return None, tuple(CallResult("not run") for _ in calls)
    if not all(isinstance(r, dict) for r in records) or "loaded" not in records[0]:
        raise _BadResults(f"{_RESULTS}: expected the load status, then one object per call")
    loaded, entries = records[0]["loaded"], records[1:]
    if isinstance(loaded, dict):
        loaded = {"memory": bool(loaded.get("memory")), "message": _text(loaded, "message"),
                  "traceback": _text(loaded, "traceback")}
    elif loaded is not True:
        raise _BadResults(f"{_RESULTS}: 'loaded' is neither true nor a message")
    if len(entries) > len(calls):
        raise _BadResults(f"{_RESULTS}: {len(entries)} results for {len(calls)} calls")
    out = []
    for c, e in enumerate(entries):
        if e.get("status") not in ("ok", "error", "missing"):
            raise _BadResults(f"{_RESULTS}: result {c + 1} has no valid status")
        if e["status"] != "ok":
            out.append(CallResult(e["status"], message=_text(e, "message"), traceback=_text(e, "traceback")))
            continue
        if not isinstance(e.get("tuple"), bool):
            raise _BadResults(f"{_RESULTS}: result {c + 1} does not say whether it was a tuple")
        out.append(CallResult("ok", values=_read_values(e, c, data), returned_tuple=e["tuple"]))
    out.extend(CallResult("not run") for _ in range(len(calls) - len(entries)))
    return loaded, tuple(out)


# ---------------------------------------------------------------------------------------------------------------
# the child side (this file run as a program)


def _child(folder: Path) -> int:
    import importlib.util

    request = json.loads((folder / "request.json").read_text(encoding="utf-8"))
    memory_mb = int(request["memory_mb"])  # the limit itself is set (hard) by the parent's launcher
    inputs = np.load(folder / _INPUTS, allow_pickle=False)
    here = os.path.abspath(__file__)
    path = request["file"]
    sys.path.insert(0, os.path.dirname(path))
    sys.argv = [path]
    # Appended, one line per event, flushed each time: a timeout keeps every call finished before it (one file
    # each for the records and the values: two opens in all, not two per call).
    with open(folder / _RESULTS, "a", encoding="utf-8") as log, open(folder / _VALUES, "ab") as values:
        def record(payload: dict) -> None:
            log.write(json.dumps(payload) + "\n")
            log.flush()

        try:
            spec = importlib.util.spec_from_file_location("__graded__", path)
            if spec is None or spec.loader is None:  # a path without a .py suffix
                raise ImportError(f"cannot load {path} as Python source")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        except MemoryError as exc:
            record({"loaded": {"memory": True, "message": f"ran out of memory (limit {memory_mb} MB) while loading "
                                                          f"the file", "traceback": _own_frames(exc, here)}})
            return 0
        except BaseException as exc:  # SyntaxError, SystemExit, anything at import time: reported
            record({"loaded": {"message": f"loading the file raised {type(exc).__name__}: {exc}",
                               "traceback": _own_frames(exc, here)}})
            return 0
        record({"loaded": True})
        for call in request["calls"]:
            fn = getattr(module, call["function"], None)
            if not callable(fn):
                result = _missing(Call(call["function"], optional=call["optional"]))
            else:
                args = [inputs[a["array"]] if "array" in a else a["value"] for a in call["args"]]
                result = _call_one(fn, args, here, memory_mb)
            entry: dict[str, Any] = {"status": result.status, "message": result.message,
                                     "traceback": result.traceback}
            if result.ok:
                try:
                    specs = []
                    for value in result.values:
                        specs.append({"shape": list(value.shape), "offset": values.tell()})
                        values.write(np.array(value, dtype="<f8", order="C").tobytes())
                    values.flush()
                    entry.update(values=specs, tuple=result.returned_tuple)
                except (OSError, MemoryError) as exc:
                    entry = {"status": "error", "message": f"its result could not be written ({type(exc).__name__})",
                             "traceback": ""}
            record(entry)
    return 0


if __name__ == "__main__":
    sys.exit(_child(Path(sys.argv[1])))
