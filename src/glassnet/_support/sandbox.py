"""Call functions of an untrusted Python file in a child process with a time and a memory limit; get plain arrays back.

The parent writes the arguments into a private temporary folder (arrays as ``.npy``, everything else as JSON), starts
``python -P <this file> FOLDER`` in a new session with the folder's ``request.json``, and waits at most
``timeout_s`` seconds of wall-clock time. The child limits its own address space (``RLIMIT_AS``), file sizes and core
dumps, loads the file as a module, calls the requested functions one by one and writes every returned value back as
a float64 ``.npy`` file (``allow_pickle=False`` both ways: nothing is ever unpickled). Whatever the code does —
raise, loop forever, allocate without end, crash the interpreter — the parent gets a :class:`SandboxRun` that says so
in one line, with the traceback of the file's own frames for an exception.

:func:`call_here` calls functions of this process (code that already runs here, e.g. defined in a notebook) through
the same conversion of results, so callers handle both the same way.

This file is also the child's program: it imports only the standard library and numpy, and never glassnet. Not here:
what the calls mean (that is the caller's, e.g. :mod:`glassnet.grading`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Call", "CallResult", "SandboxRun", "Limited", "run_limited", "run_file", "call_here", "DEFAULT_TIMEOUT_S",
           "DEFAULT_MEMORY_MB"]

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MEMORY_MB = 1024
_MAX_FILE_MB = 256  # any file the child writes (results, its stdout/stderr), so a runaway print cannot fill the disk
_OUTPUT_TAIL = 2000  # characters of the child's stdout/stderr kept in the result


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
    ``"timeout"``, ``"memory"``, ``"crashed"`` (killed by a signal or exited on its own). ``message`` says it in one
    line; ``results`` has one :class:`CallResult` per call (``"not run"`` for calls the child never reached).
    """

    status: str
    message: str = ""
    traceback: str = ""
    results: tuple = ()
    output: str = ""
    seconds_limit: float = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    calls: tuple = field(default=(), repr=False)

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


@dataclass(frozen=True)
class Limited:
    """How a limited child ended: ``status`` "ok" (exit code 0), "timeout", "memory" (ran out of its address space)
    or "crashed" (another exit code, or killed by a signal: ``returncode`` < 0); the tail of its stdout and stderr;
    ``isolation`` says in words what kept the child apart."""

    status: str
    returncode: int | None
    output: str
    isolation: str


def run_limited(argv: Sequence[str], *, folder: Path, read_only: Sequence[Path] = (), timeout_s: float,
                memory_mb: int, output_limit: int = _OUTPUT_TAIL) -> Limited:
    """Run ``argv`` in ``folder`` (its working directory, the one place it is meant to write) in a new session, with
    an address-space limit of ``memory_mb`` MB, no core dumps, files of at most 256 MB, one BLAS/OpenMP thread and
    at most ``timeout_s`` seconds of wall-clock time (then its whole session is killed).

    ``read_only``: the other paths the child needs to read (the student's folder). ``output_limit``: characters of its
    merged stdout/stderr kept (the tail). This is the one place a child is launched.
    """
    folder = Path(folder)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONDONTWRITEBYTECODE="1", PYTHONIOENCODING="utf-8", HOME=str(folder))
    log = folder / "output.txt"

    def limit() -> None:  # in the child, before exec: the limits hold for whatever it runs
        _limit_child(memory_mb, _MAX_FILE_MB)

    with open(log, "wb") as out:
        proc = subprocess.Popen(list(argv), cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=limit)
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.wait()
            return Limited("timeout", None, _tail(log, output_limit), _ISOLATION)
    output = _tail(log, output_limit)
    if code == 0:
        status = "ok"
    elif any(sign in output for sign in ("MemoryError", "std::bad_alloc", "out of memory")):
        status = "memory"
    else:
        status = "crashed"
    return Limited(status, code, output, _ISOLATION)


_ISOLATION = "a child process in its own session with time, memory and file-size limits (no namespaces)"


def run_file(path, calls: Sequence[Call], *, timeout_s: float = DEFAULT_TIMEOUT_S,
             memory_mb: int = DEFAULT_MEMORY_MB) -> SandboxRun:
    """Load the Python file ``path`` in a child process and run ``calls`` on its functions, within the limits.

    Parameters
    ----------
    path : str or Path
        A Python source file. Its folder is the child's working directory and is first on its ``sys.path``.
    calls : sequence of Call
    timeout_s : float
        Wall-clock seconds for the whole child (start, import and every call).
    memory_mb : int
        Address-space limit of the child in MB (``RLIMIT_AS``, where the platform has it).

    Returns
    -------
    SandboxRun
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if not timeout_s > 0:
        raise ValueError(f"timeout_s: expected a positive number of seconds, got {timeout_s!r}")
    if not (isinstance(memory_mb, int) and memory_mb > 0):
        raise ValueError(f"memory_mb: expected a positive whole number of MB, got {memory_mb!r}")
    limits: dict[str, Any] = {"seconds_limit": timeout_s, "memory_mb": memory_mb, "calls": tuple(calls)}
    with tempfile.TemporaryDirectory(prefix="glassnet-sandbox-") as tmp:
        folder = Path(tmp)
        request: dict[str, Any] = {"file": str(path), "memory_mb": memory_mb, "max_file_mb": _MAX_FILE_MB, "calls": []}
        for c, call in enumerate(calls):
            args = []
            for k, arg in enumerate(call.args):
                if isinstance(arg, np.ndarray):
                    name = f"in_{c}_{k}.npy"
                    np.save(folder / name, arg, allow_pickle=False)
                    args.append({"array": name})
                else:
                    args.append({"value": arg})
            request["calls"].append({"function": call.function, "args": args, "optional": call.optional})
        (folder / "request.json").write_text(json.dumps(request), encoding="utf-8")
        limited = run_limited([sys.executable, "-P", os.path.abspath(__file__), str(folder)], folder=folder,
                              read_only=(path.parent,), timeout_s=timeout_s, memory_mb=memory_mb)
        code, timed_out, output = limited.returncode, limited.status == "timeout", limited.output
        loaded, results = _read_results(folder, calls)
    if timed_out:
        where = _where(calls, results, loaded)
        return SandboxRun("timeout", f"timed out after {timeout_s:g} s{where}", results=results, output=output,
                          **limits)
    if isinstance(loaded, dict):  # the file itself did not load
        status = "memory" if loaded.get("memory") else "load error"
        return SandboxRun(status, loaded["message"], loaded.get("traceback", ""), results, output, **limits)
    if code:
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            what = f"was killed by {name}"
            if -code == signal.SIGKILL:
                what += " (the system may have run out of memory)"
        else:
            what = f"exited with code {code}"
        status = "crashed"
        if "MemoryError" in output and loaded is None:
            status, what = "memory", f"ran out of memory (limit {memory_mb} MB)"
        return SandboxRun(status, f"the Python process {what}{_where(calls, results, loaded)}", results=results,
                          output=output, **limits)
    return SandboxRun("ok", results=results, output=output, **limits)


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the child's whole session (it may have started processes of its own)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _tail(log: Path, limit: int = _OUTPUT_TAIL) -> str:
    try:
        with open(log, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 4 * limit))
            return f.read().decode("utf-8", "replace")[-limit:]
    except OSError:
        return ""


def _where(calls: Sequence[Call], results: tuple, loaded) -> str:
    """' while running f' for the first call that has no result (' while loading the file' before any)."""
    if loaded is None:
        return " while loading the file"
    for call, result in zip(calls, results):
        if result.status == "not run":
            return f" while running {call.function}"
    return ""


def _read_results(folder: Path, calls: Sequence[Call]):
    """(load status, results) from what the child wrote; calls it never finished are ``"not run"``."""
    try:
        done = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, tuple(CallResult("not run") for _ in calls)
    loaded = done.get("loaded")
    out = []
    for c in range(len(calls)):
        entries = done.get("calls", [])
        if c >= len(entries):
            out.append(CallResult("not run"))
            continue
        e = entries[c]
        if e["status"] != "ok":
            out.append(CallResult(str(e["status"]), message=str(e.get("message", "")),
                                  traceback=str(e.get("traceback", ""))))
            continue
        try:
            values = tuple(np.load(folder / name, allow_pickle=False) for name in e["outputs"])
        except (OSError, ValueError) as exc:
            out.append(CallResult("error", message=f"its result could not be read back ({exc})"))
            continue
        out.append(CallResult("ok", values=values, returned_tuple=bool(e["tuple"])))
    return loaded, tuple(out)


# ---------------------------------------------------------------------------------------------------------------
# the child side (this file run as a program)


def _write_json(path: Path, payload: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload), encoding="utf-8")
    os.replace(tmp, path)


def _limit_child(memory_mb: int, max_file_mb: int) -> None:
    try:
        import resource
    except ImportError:  # not a Unix: only the time limit applies
        return
    for which, value in ((resource.RLIMIT_AS, memory_mb << 20), (resource.RLIMIT_FSIZE, max_file_mb << 20),
                         (resource.RLIMIT_CORE, 0)):
        _soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, hard))
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails with an error instead of a kill


def _child(folder: Path) -> int:
    import importlib.util

    request = json.loads((folder / "request.json").read_text(encoding="utf-8"))
    memory_mb = int(request["memory_mb"])
    _limit_child(memory_mb, int(request["max_file_mb"]))
    results_path = folder / "results.json"
    here = os.path.abspath(__file__)
    path = request["file"]
    sys.path.insert(0, os.path.dirname(path))
    sys.argv = [path]
    state: dict = {"loaded": None, "calls": []}
    try:
        spec = importlib.util.spec_from_file_location("__graded__", path)
        if spec is None or spec.loader is None:  # a path without a .py suffix
            raise ImportError(f"cannot load {path} as Python source")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except MemoryError as exc:
        state["loaded"] = {"memory": True, "message": f"ran out of memory (limit {memory_mb} MB) while loading the "
                                                      f"file", "traceback": _own_frames(exc, here)}
        _write_json(results_path, state)
        return 0
    except BaseException as exc:  # SyntaxError, SystemExit, anything at import time: reported
        state["loaded"] = {"message": f"loading the file raised {type(exc).__name__}: {exc}",
                           "traceback": _own_frames(exc, here)}
        _write_json(results_path, state)
        return 0
    state["loaded"] = True
    _write_json(results_path, state)
    for c, call in enumerate(request["calls"]):
        fn = getattr(module, call["function"], None)
        if not callable(fn):
            result = _missing(Call(call["function"], optional=call["optional"]))
        else:
            args = [np.load(folder / a["array"], allow_pickle=False) if "array" in a else a["value"]
                    for a in call["args"]]
            result = _call_one(fn, args, here, memory_mb)
        entry: dict[str, Any] = {"status": result.status, "message": result.message, "traceback": result.traceback}
        if result.ok:
            try:
                names = []
                for k, value in enumerate(result.values):
                    name = f"out_{c}_{k}.npy"
                    np.save(folder / name, value, allow_pickle=False)
                    names.append(name)
                entry.update(outputs=names, tuple=result.returned_tuple)
            except (OSError, MemoryError) as exc:
                entry = {"status": "error", "message": f"its result could not be written ({type(exc).__name__})",
                         "traceback": ""}
        state["calls"].append(entry)
        _write_json(results_path, state)
    return 0


if __name__ == "__main__":
    sys.exit(_child(Path(sys.argv[1])))
