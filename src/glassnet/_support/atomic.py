"""Atomic file writes: readers only ever see the complete old or the complete new content of a file.

The one home of the rule for every file glassnet writes (model files, exports, reports, CSV, checkpoints): a temporary
file in the same folder, flushed, fsync'ed and moved over the target with ``os.replace``, then the folder fsync'ed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = ["atomic_write"]

_TEMP_MARK = ".tmp-"


def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); folders cannot be opened this way on Windows."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on folders; the rename is still atomic
        pass
    finally:
        os.close(fd)


def _remove_stale_temps(path: Path) -> None:
    """Delete temp files of ``path`` left by writers that were killed (their pid is gone on this machine)."""
    if os.name != "posix":
        return
    prefix = f".{path.name}{_TEMP_MARK}"
    for stray in path.parent.glob(f"{glob.escape(prefix)}*"):
        try:
            pid = int(stray.name[len(prefix):].split("-", 1)[0])
        except ValueError:
            continue
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                stray.unlink()
        except OSError:  # alive but not ours (PermissionError): leave it
            pass


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], object]) -> Path:
    """Write a file so that readers only ever see the complete old or the complete new content.

    ``write(f)`` fills a temporary file ``.<name>.tmp-<pid>-<random>`` in the target's folder (hidden, and never
    named like the target, so it cannot be mistaken for a model); it is then flushed, fsync'ed and moved over
    ``path`` with ``os.replace``, and the folder is fsync'ed. If ``write`` raises, the temporary file is removed and
    the old file is untouched. Temporary files left by killed writers are removed by the next write.

    Returns the path written. The folder must exist (``FileNotFoundError`` otherwise).
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"{path}: folder {folder} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder; expected a file name")
    _remove_stale_temps(path)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{_TEMP_MARK}{os.getpid()}-", dir=folder)
    except OSError as exc:
        raise _naming(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # mkstemp makes 0600; give the file the mode a plain open() would
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno is not None:  # a full disk, a quota, a read-only folder
            raise _naming(exc, path) from None
        raise
    _fsync_dir(folder)
    return path


def _naming(exc: OSError, path: Path) -> OSError:
    """The same kind of OSError, its message naming the target file (not the temporary one) and the cause."""
    return type(exc)(exc.errno, f"cannot write {path}: {exc.strerror or exc}")


