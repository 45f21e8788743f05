"""Run an untrusted program in a limited, isolated child process: :func:`run_limited`.

The isolation is the best this machine allows, tried in this order, and :attr:`Limited.isolation` says which applied:

``bubblewrap`` (the ``bwrap`` tool, Debian package ``bubblewrap``)
    A new mount namespace whose root is empty and read-only, with read-only views of the system's programs and
    libraries (``/usr``, ``/bin``, ``/lib*``), a few files of ``/etc`` (the dynamic loader's and ``alternatives``;
    not ``passwd``, ``shadow`` or ``hosts``), the Python installation(s) and virtual environment, and the paths the
    caller names (e.g. the student's own folder); ``folder`` is the one writable place and the working directory.
    No network (only a loopback of its own), a private PID namespace (its processes cannot see or signal any
    process outside; when the sandbox's first process ends, the kernel ends every process it started), its own
    IPC and host name, its own session; it dies with the grader (``--die-with-parent``). Run by root, the program
    itself runs as a user id of its own (not root), so that the process limit counts only its processes.
``unshare`` (util-linux)
    No network, a private PID namespace, IPC and host name; the file system is *not* isolated.
``rlimits only``
    Neither tool works here: only the limits below, a session of its own, and killing its process group.

Always: hard limits (the soft limit equals the hard one, so the program cannot raise them) on address space
(``memory_mb``), CPU seconds, processes, open files, the size of any file it writes, and no core files; its folder
watched while it runs (bytes on disk and entries: many files of the largest allowed size, or millions of empty ones,
would fill the grader's disk; past either bound the whole tree is killed, status ``"disk"``); a
minimal environment (none of the grader's variables); the wall-clock ``timeout_s``, after which the whole process
tree is killed, as it is when the grader gets Ctrl-C or SIGTERM (the handler kills the children, then the signal
goes on as before). ``GLASSNET_SANDBOX`` (``bwrap``, ``unshare`` or ``none``) asks for one of the modes; a mode
that cannot run here falls back to the next.

Imports only the standard library. Not here: what the program is (see :mod:`glassnet._support.sandbox` for Python
files).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["Limited", "run_limited", "check_limits", "isolation_available", "stop_all", "stop_on_signals", "IN_PROCESS",
           "DEFAULT_OUTPUT_LIMIT"]

DEFAULT_OUTPUT_LIMIT = 64_000  # bytes of the program's stdout + stderr kept (its tail)
IN_PROCESS = ("none: the function runs inside this Python process, with no limits and no isolation; it is trusted "
              "like any code you call")
_MAX_FILE_MB = 64  # any one file the program writes, its output included
_MAX_FOLDER_MB = 512  # everything in its folder together (its own files included), on disk
_MAX_FOLDER_ENTRIES = 20_000  # files and folders in its folder
_WATCH_S = 0.2  # how often the folder is measured while the program runs
_OPEN_FILES = 256
_EXTRA_PROCESSES = 32  # processes (and threads) the program may start beyond those of its user id
_STAGE_LIMIT = (4000, 256 << 20)  # files, bytes: a read-only path copied for a program that runs as another user
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/localtime",
        "/etc/nsswitch.conf", "/etc/octave")
_MEMORY_WORDS = ("MemoryError", "out of memory", "memory exhausted", "std::bad_alloc")

# Sets the hard limits and the parent-death signal, then becomes the program (Python with -I -S: no site, no
# environment, a few milliseconds). Signal dispositions set to "ignore" survive exec: a too-large write then fails
# with an error instead of killing the program.
_LAUNCHER = """\
import ctypes, json, os, resource, signal, sys
for name, value in json.loads(sys.argv[1]).items():
    resource.setrlimit(getattr(resource, name), (value, value))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
try:
    ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL: the program dies with the grader
except (OSError, AttributeError):
    pass
if os.getppid() != int(sys.argv[2]):  # the grader died before the signal was armed
    sys.exit(1)
os.execv(sys.argv[3], sys.argv[3:])
"""


@dataclass(frozen=True)
class Limited:
    """What :func:`run_limited` gave.

    ``status``: ``"ok"`` (exit code 0), ``"timeout"`` (killed at the wall-clock limit), ``"disk"`` (killed when
    its folder grew past the sandbox's bounds: :attr:`message` says which), ``"memory"`` (it failed and its output
    says it ran out of memory), ``"crashed"`` (another exit code, or killed by a signal: ``returncode`` is then minus
    the signal's number, as :mod:`subprocess` gives it). ``output``: the tail of its stdout and stderr together.
    ``isolation``: one line saying what isolated it.
    """

    status: str
    returncode: int | None
    output: str
    isolation: str
    message: str = ""  # why it was stopped ("disk": what its folder held)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _folder_size(folder: Path, max_entries: int, max_bytes: int | None = None) -> tuple[int, int]:
    """``(entries, bytes on disk)`` of ``folder`` and everything below it, links not followed; counting stops as soon
    as more than ``max_entries`` entries or ``max_bytes`` bytes are seen, so a folder of millions of files costs no
    more than the bound's worth of ``stat`` calls."""
    used, entries, pending = 0, 0, [str(folder)]
    while pending:
        try:
            with os.scandir(pending.pop()) as it:
                for entry in it:
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:  # gone meanwhile
                        continue
                    entries += 1
                    used += info.st_blocks * 512 if hasattr(info, "st_blocks") else info.st_size
                    if stat.S_ISDIR(info.st_mode):
                        pending.append(entry.path)
                    if entries > max_entries or (max_bytes is not None and used > max_bytes):
                        return entries, used
        except OSError:  # a folder removed or made unreadable meanwhile
            continue
    return entries, used


def _settle(folder: Path, seconds: float = 2.0) -> None:
    """Wait (at most ``seconds``) until ``folder`` stops changing: a killed program's processes die a few milliseconds
    after its first one (the kernel ends a PID namespace's processes after its init), and one still writing would
    make its caller's clean-up of the folder fail."""
    end = time.monotonic() + seconds
    last, same = None, 0
    while same < 3 and time.monotonic() < end:
        now = _folder_size(folder, 10 * _MAX_FOLDER_ENTRIES)
        same = same + 1 if now == last else 0
        last = now
        time.sleep(0.02)


def folder_over_bounds(folder: Path, max_bytes: int | None = None, max_entries: int | None = None) -> str | None:
    """None while ``folder`` holds at most ``max_bytes`` on disk and ``max_entries`` files and folders (default: the
    sandbox's bounds), else what it holds, in words (:func:`_folder_size`, stopped at the first bound passed)."""
    max_bytes = _MAX_FOLDER_MB << 20 if max_bytes is None else max_bytes
    max_entries = _MAX_FOLDER_ENTRIES if max_entries is None else max_entries
    entries, used = _folder_size(folder, max_entries, max_bytes)
    if entries > max_entries:
        return f"more than {max_entries} files and folders"
    if used > max_bytes:
        return f"more than {max_bytes >> 20} MB"
    return None


# ---------------------------------------------------------------------------------------------------------------
# which isolation this machine allows


def _probe(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@cache
def _mode(asked: str) -> tuple[str, str]:
    """(mode, why the better modes are not used): ``bwrap``, ``unshare`` or ``none``."""
    why = []
    order = {"bwrap": ("bwrap", "unshare", "none"), "unshare": ("unshare", "none"), "none": ("none",)}
    for mode in order.get(asked, order["bwrap"]):
        if mode == "none":
            break
        tool = shutil.which(mode)
        if tool is None:
            why.append(f"{mode} is not installed")
            continue
        probe = [tool, *_bwrap_namespaces(), "--ro-bind", "/", "/", "true"] if mode == "bwrap" else \
            [tool, *_unshare_namespaces(), "true"]
        if _probe(probe):
            return mode, "; ".join(why)
        why.append(f"{mode} cannot create namespaces here (user namespaces may be disabled)")
    if asked in order and asked != "bwrap":
        why.append(f"GLASSNET_SANDBOX={asked}")
    return "none", "; ".join(why)


def isolation_available() -> tuple[str, str]:
    """(mode, reason): the isolation :func:`run_limited` will use here — ``"bwrap"``, ``"unshare"`` or ``"none"``
    — and, when it is not ``bwrap``, why not (empty otherwise)."""
    return _mode(os.environ.get("GLASSNET_SANDBOX", "bwrap").strip().lower() or "bwrap")


def _bwrap_namespaces() -> list[str]:
    # Root runs bwrap without a user namespace (then the program changes to a user id of its own); anyone else
    # needs one, and --unshare-all asks for it.
    common = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
              "--die-with-parent", "--new-session"]
    return common if _is_root() else ["--unshare-all", "--unshare-user", "--disable-userns", *common[-2:]]


def _unshare_namespaces() -> list[str]:
    user = [] if _is_root() else ["--user", "--map-root-user"]
    return [*user, "--net", "--pid", "--fork", "--kill-child", "--mount-proc", "--ipc", "--uts"]


# ---------------------------------------------------------------------------------------------------------------
# the program's view of the file system (bubblewrap)


def _python_paths() -> list[Path]:
    """The Python installation(s) this process runs from: its prefixes (a virtual environment and its base)."""
    out = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix) if p}
    out.add(Path(sys.executable).resolve().parent.parent)
    return sorted(p for p in out if p.exists() and str(p) not in ("/", "/usr"))


def _readable_by_all(path: Path) -> bool:
    """Whether a user who is not the owner can read ``path`` (every file and folder under it)."""
    def ok(p: str, need: int) -> bool:
        try:
            return os.lstat(p).st_mode & need == need
        except OSError:
            return False
    if path.is_file():
        return ok(str(path), stat.S_IROTH)
    if not ok(str(path), stat.S_IROTH | stat.S_IXOTH):
        return False
    for root, dirs, files in os.walk(path):
        if not all(ok(os.path.join(root, d), stat.S_IROTH | stat.S_IXOTH) for d in dirs):
            return False
        if not all(ok(os.path.join(root, f), stat.S_IROTH) for f in files):
            return False
    return True


def _stage(path: Path, stage: Path) -> Path:
    """A copy of ``path`` that every user may read (for a program that runs as a user id of its own), within
    :data:`_STAGE_LIMIT`; the copy is shown to the program at the original path, read-only."""
    max_files, max_bytes = _STAGE_LIMIT
    target = stage / f"{len(list(stage.iterdir()))}"
    if path.is_file():
        shutil.copyfile(path, target)
        os.chmod(target, 0o644)
        return target
    count, size = 0, 0
    for root, _dirs, files in os.walk(path):
        count += len(files)
        size += sum(os.lstat(os.path.join(root, f)).st_size for f in files)
        if count > max_files or size > max_bytes:
            raise OSError(f"{path}: too large to show to the sandbox (more than {max_files} files or "
                          f"{max_bytes >> 20} MB)")
    shutil.copytree(path, target, symlinks=True)
    for root, _dirs, files in os.walk(target):
        os.chmod(root, 0o755)
        for f in files:
            if not os.path.islink(os.path.join(root, f)):
                os.chmod(os.path.join(root, f), 0o644)
    return target


def _bwrap_argv(tool: str, folder: Path, read_only: Sequence[Path], uid: int | None, stage: Path) -> list[str]:
    argv = [tool, *_bwrap_namespaces(), "--hostname", "sandbox", "--dev", "/dev", "--proc", "/proc"]
    for p in _SYSTEM:
        if os.path.islink(p):
            argv += ["--symlink", os.readlink(p), p]
        elif os.path.isdir(p):
            argv += ["--ro-bind", p, p]
    binds = [(p, p) for p in _ETC if os.path.exists(p)]
    binds += [(str(p), str(p)) for p in _python_paths()]
    for path in read_only:
        source = _stage(path, stage) if uid is not None and not _readable_by_all(path) else path
        binds.append((str(source), str(path)))
    # The folders above each view, made by bwrap, would copy the host's modes (e.g. /root's 0700): open them.
    above = sorted({str(a) for _, dest in binds + [(str(folder), str(folder))] for a in Path(dest).parents
                    if str(a) != "/" and not str(a).startswith(_SYSTEM)}, key=len)
    argv += [a for d in above for a in ("--perms", "0755", "--dir", d)]
    argv += [a for source, dest in binds for a in ("--ro-bind", source, dest)]
    argv += ["--bind", str(folder), str(folder), "--chdir", str(folder), "--remount-ro", "/"]
    if uid is not None:
        # setpriv needs root's CAP_SETUID to change user; changing to a user id other than 0 drops every capability.
        argv += ["--", shutil.which("setpriv") or "/usr/bin/setpriv", f"--reuid={uid}",
                 f"--regid={uid}", "--clear-groups", "--no-new-privs", "--bounding-set=-all", "--inh-caps=-all"]
    else:
        argv.append("--")
    return argv


_uids = itertools.count()


def _own_uid() -> int:
    """A user id of its own for each program started by root here, so that its process limit counts only its own
    processes (ids above those of real accounts)."""
    return 1_500_000 + (os.getpid() % 10_000) * 100 + next(_uids) % 100


def _processes_of(uid: int) -> int:
    """How many processes and threads the user ``uid`` has now (what RLIMIT_NPROC counts)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", encoding="ascii", errors="replace") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                total += int(fields.get("Threads", "1"))
        except (OSError, ValueError, KeyError):
            continue
    return total


# ---------------------------------------------------------------------------------------------------------------
# running it


_live: set = set()
_live_lock = threading.Lock()


def _kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL the program's whole process group (in a PID namespace, its first process's death ends the rest)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except OSError:
        pass


def stop_all() -> None:
    """Kill every program :func:`run_limited` is running now (for a grader that is stopping)."""
    with _live_lock:
        running = list(_live)
    for proc in running:
        _kill_tree(proc)


def _on_signal(signum, frame) -> None:
    """SIGTERM/SIGHUP: kill the programs, then let the signal do what it did before (the default: end)."""
    stop_all()
    previous = _previous_handlers.pop(signum, signal.SIG_DFL)
    signal.signal(signum, previous)
    if callable(previous):
        previous(signum, frame)
    else:
        os.kill(os.getpid(), signum)


_previous_handlers: dict = {}


def stop_on_signals() -> None:
    """From the main thread: on SIGTERM or SIGHUP, kill every running program first (then the signal acts as it did
    before). :func:`run_limited` calls it itself; a caller that runs programs from worker threads calls it once."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGHUP):
        current = signal.getsignal(signum)
        if current is not _on_signal and current is not signal.SIG_IGN:
            _previous_handlers[signum] = current
            signal.signal(signum, _on_signal)


def _describe(mode: str, why: str, uid: int | None, memory_mb: int, cpu_s: int, nproc: int | None) -> str:
    if nproc is None:
        processes = "processes not limited (root), "
    else:
        processes = f"{_EXTRA_PROCESSES} processes{'' if uid is not None else ' more than this user has'}, "
    limits = (f"hard limits: {memory_mb} MB, {cpu_s} s CPU, {processes}{_OPEN_FILES} open files, "
              f"{_MAX_FILE_MB} MB files")  # the folder's bounds: in the message of a program stopped by them
    if mode == "bwrap":
        who = ", own user id" if uid is not None else ""
        return (f"bubblewrap: sees only the system, Python and its own folder, read-only; writes only its temp "
                f"folder; no network; own PID namespace{who}; {limits}")
    because = f" ({why})" if why else ""
    if mode == "unshare":
        return (f"unshare: no network; own PID namespace; NOT isolated: the file system (it reads and writes what "
                f"this user can){because}; {limits}")
    return (f"rlimits only: NOT isolated: the file system, the network and other processes{because}; {limits}; "
            f"its process group is killed at the end")


def check_limits(timeout_s: float, memory_mb: int) -> None:
    """The limits a child runs under, checked before anything is started (``ValueError`` naming the argument)."""
    if not timeout_s > 0:
        raise ValueError(f"timeout_s: expected a positive number of seconds, got {timeout_s!r}")
    if not (isinstance(memory_mb, int) and memory_mb > 0):
        raise ValueError(f"memory_mb: expected a positive whole number of MB, got {memory_mb!r}")


def run_limited(argv: Sequence[str], *, folder: Path, read_only: Sequence[Path] = (), timeout_s: float,
                memory_mb: int, output_limit: int = DEFAULT_OUTPUT_LIMIT) -> Limited:
    """Run ``argv`` isolated (see the module's text) with hard limits, in ``folder``; wait at most ``timeout_s``.

    Parameters
    ----------
    argv : sequence of str
        The program and its arguments; ``argv[0]`` an absolute path inside the read-only view (``/usr/...`` or
        the running Python's prefix).
    folder : Path
        An existing private temporary folder: the working directory and the only place the program may write.
    read_only : sequence of Path
        Further files or folders the program may read (e.g. the student's own folder), shown at their own paths.
    timeout_s : float
        Wall-clock seconds; then the whole process tree is killed. CPU time is limited to the same (rounded up).
    memory_mb : int
        Address-space limit of each of its processes, in MB.
    output_limit : int
        Bytes of stdout and stderr kept (the tail).

    Returns
    -------
    Limited
    """
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder (the sandbox's working folder)")
    check_limits(timeout_s, memory_mb)
    mode, why = isolation_available()
    uid = _own_uid() if mode == "bwrap" and _is_root() else None
    cpu_s = int(timeout_s) + 1
    nproc = _EXTRA_PROCESSES if uid is not None else _processes_of(os.getuid()) + _EXTRA_PROCESSES
    limits = {"RLIMIT_AS": memory_mb << 20, "RLIMIT_CPU": cpu_s, "RLIMIT_NOFILE": _OPEN_FILES,
              "RLIMIT_FSIZE": _MAX_FILE_MB << 20, "RLIMIT_CORE": 0}
    if not (_is_root() and uid is None):  # root's own processes are exempt from RLIMIT_NPROC: no use setting it
        limits["RLIMIT_NPROC"] = nproc
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(folder), "TMPDIR": str(folder), "LANG": "C.UTF-8",
           "LC_ALL": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"}
    read = [Path(p).resolve() for p in read_only]
    with tempfile.TemporaryDirectory(prefix="glassnet-stage-") as stage_dir, \
            tempfile.TemporaryFile() as log:
        stage = Path(stage_dir)
        if mode == "bwrap":
            prefix = _bwrap_argv(shutil.which("bwrap") or "bwrap", folder, read, uid, stage)
        elif mode == "unshare":
            prefix = [shutil.which("unshare") or "unshare", *_unshare_namespaces(), "--"]
        else:
            prefix = []
        if uid is not None:
            for root, dirs, files in os.walk(folder):
                for name in (root, *(os.path.join(root, n) for n in dirs + files)):
                    os.lchown(name, uid, uid)
        command = [sys.executable, "-I", "-S", "-c", _LAUNCHER, json.dumps(limits), str(os.getpid()), *prefix,
                   *argv]
        stop_on_signals()
        proc = subprocess.Popen(command, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        with _live_lock:
            _live.add(proc)
        timed_out, over = False, None
        deadline = time.monotonic() + timeout_s
        try:
            while True:  # wait, measuring its folder every _WATCH_S
                try:
                    code = proc.wait(timeout=max(0.0, min(_WATCH_S, deadline - time.monotonic())))
                    break
                except subprocess.TimeoutExpired:
                    if time.monotonic() >= deadline:
                        timed_out = True
                        break
                    over = folder_over_bounds(folder)
                    if over is not None:
                        break
        except BaseException:  # Ctrl-C (KeyboardInterrupt) or anything else: the program must not outlive us
            _kill_tree(proc)
            proc.wait()
            raise
        finally:
            _kill_tree(proc)  # also whatever it left in its process group (the fallback modes)
            code = proc.wait()
            with _live_lock:
                _live.discard(proc)
            if timed_out or over is not None:  # stopped by us: let what it started die before the folder is read
                _settle(folder)
        output = _tail(log, output_limit)
    isolation = _describe(mode, why, uid, memory_mb, cpu_s, limits.get("RLIMIT_NPROC"))
    if prefix and 128 < code <= 128 + 64:  # bwrap and unshare exit with 128 + N when the program died of signal N
        code = -(code - 128)
    if timed_out:
        return Limited("timeout", None, output, isolation)
    if over is not None:
        return Limited("disk", code, output, isolation, f"its folder held {over} (the sandbox's bound)")
    if code == 0:
        return Limited("ok", 0, output, isolation)
    if any(w in output for w in _MEMORY_WORDS):
        return Limited("memory", code, output, isolation)
    return Limited("crashed", code, output, isolation)


def _tail(log, limit: int) -> str:
    """The last ``limit`` bytes the program wrote, as text (read with that budget, whatever it wrote)."""
    try:
        log.seek(0, os.SEEK_END)
        size = log.tell()
        log.seek(max(0, size - limit))
        return log.read(limit).decode("utf-8", "replace")
    except OSError:
        return ""
