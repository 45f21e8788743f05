"""A defensive ``.npz`` reader shared by :mod:`glassnet.datasets` and :mod:`glassnet.io`.

``numpy.load`` trusts the ``.npy`` header: a member that claims a 10¹² element array makes it try to allocate that
much before noticing the data is missing. This reader checks every header first (dtype without objects, declared
size under a byte limit, data not truncated) and only then builds the array, so a malicious file costs at most
``max_bytes`` of memory and never runs a pickle. Errors are raised as the caller's exception type, message first
naming the file. Not for writing (``numpy.savez`` does that) and not public.
"""

from __future__ import annotations

import io
import math
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

# numpy's own default; a longer .npy header is almost certainly an attack.
MAX_HEADER_SIZE = 10_000


def _fail(error: type[ValueError], path: Path, message: str) -> ValueError:
    return error(f"{path}: {message}")


def open_npz(path: Path, error: type[ValueError], max_bytes: int) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    """Open ``path`` as a zip archive and map each ``name.npy`` member to ``name``; checks the file size first."""
    size = path.stat().st_size  # FileNotFoundError for a wrong path, on purpose
    if size > max_bytes:
        raise _fail(error, path, f"file is {size} bytes, more than the limit max_bytes={max_bytes}")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError, OSError) as exc:
        raise _fail(error, path, f"not a .npz file (a zip archive of .npy arrays): {exc}") from None
    members = {}
    for info in zf.infolist():
        if info.filename.endswith(".npy") and not info.is_dir():
            members[info.filename[: -len(".npy")]] = info
    return zf, members


def read_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    path: Path,
    error: type[ValueError],
    kinds: str,
    max_bytes: int,
) -> np.ndarray:
    """Read one ``.npy`` member after checking its header: dtype kind in ``kinds``, at most ``max_bytes`` of data."""
    key = info.filename[: -len(".npy")]
    if info.file_size > max_bytes:
        raise _fail(error, path, f"array {key!r} is {info.file_size} bytes, more than the limit max_bytes={max_bytes}")
    try:
        with zf.open(info) as fp:
            raw = fp.read()  # bounded by the member's declared size, checked above
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise _fail(error, path, f"array {key!r} is corrupt or truncated: {exc}") from None
    buf = io.BytesIO(raw)
    try:
        version = npy_format.read_magic(buf)
        if version == (1, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_1_0(buf, max_header_size=MAX_HEADER_SIZE)
        elif version == (2, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_2_0(buf, max_header_size=MAX_HEADER_SIZE)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except (ValueError, TypeError, SyntaxError, EOFError, OverflowError, MemoryError, RecursionError) as exc:
        raise _fail(error, path, f"array {key!r} has a bad .npy header: {exc}") from None
    if dtype.hasobject or dtype.kind not in kinds:
        what = "Python objects (refused: loading them would need pickle)" if dtype.hasobject else f"dtype {dtype}"
        raise _fail(error, path, f"array {key!r} holds {what}; expected dtype kind in {sorted(kinds)}")
    count = math.prod(int(d) for d in shape)
    nbytes = count * dtype.itemsize
    if nbytes > max_bytes:
        raise _fail(error, path, f"array {key!r} claims shape {shape} ({nbytes} bytes), more than the limit "
                                 f"of {max_bytes} bytes")
    start = buf.tell()
    if len(raw) - start < nbytes:
        raise _fail(error, path, f"array {key!r} is truncated: shape {shape} needs {nbytes} bytes of data, "
                                 f"found {len(raw) - start}")
    flat = np.frombuffer(raw, dtype=dtype, count=count, offset=start)
    return flat.reshape(shape, order="F" if fortran_order else "C").copy()


def read_npz(
    path: str | Path,
    keys: Sequence[str] | None,
    *,
    error: type[ValueError],
    kinds: str,
    max_bytes: int,
) -> dict[str, np.ndarray]:
    """Arrays ``keys`` (all members when ``None``) of the ``.npz`` file ``path``, checked as in :func:`read_member`."""
    path = Path(path)
    zf, members = open_npz(path, error, max_bytes)
    with zf:
        wanted = list(members) if keys is None else list(keys)
        missing = [k for k in wanted if k not in members]
        if missing:
            found = sorted(members)
            shown = ", ".join(repr(k) for k in found[:20]) + (" ..." if len(found) > 20 else "")
            raise _fail(error, path, f"missing array(s) {', '.join(repr(k) for k in missing)}; "
                                     f"the file holds {len(found)}: {shown or 'none'}")
        out, total = {}, 0
        for k in wanted:
            out[k] = read_member(zf, members[k], path, error, kinds, max_bytes - total)
            total += out[k].nbytes
    return out
