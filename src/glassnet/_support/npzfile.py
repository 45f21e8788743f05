"""A defensive ``.npz`` reader shared by :mod:`glassnet.datasets` and :mod:`glassnet.io`.

``numpy.load`` trusts the ``.npy`` header: a member that claims a 10¹² element array makes it try to allocate that
much before noticing the data is missing, and a tiny compressed member can inflate to gigabytes. This reader checks
every header first (dtype without objects, the size of the arrays *once converted to float64* under a byte limit and
the available memory) before reading any data, then streams each member's data into one buffer of exactly the
declared size (truncation is noticed), so a malicious file costs at most ``max_bytes`` and never runs a pickle. Errors
are raised as the caller's exception type, message first naming the file. Not for writing (``numpy.savez`` does that)
and not public.
"""

from __future__ import annotations

import math
import tokenize
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from glassnet._support.memory import available_bytes, converted_nbytes, format_bytes

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


class Member:
    """One ``.npy`` member whose header has been read and checked: name, shape, dtype, order and sizes."""

    def __init__(self, key: str, info: zipfile.ZipInfo, shape: tuple[int, ...], fortran_order: bool, dtype: np.dtype):
        self.key, self.info, self.shape, self.fortran_order, self.dtype = key, info, shape, fortran_order, dtype
        self.count = math.prod(shape)
        self.nbytes = self.count * dtype.itemsize
        self.converted = converted_nbytes(self.count, dtype)


# What NumPy's header parser raises on a header of bad bytes: a flipped bit in its length leaves an unbalanced
# dict that Python's tokenizer rejects (TokenError, not a SyntaxError), bad text gives ValueError/SyntaxError, and
# literal_eval's other failures the rest. All of them mean one thing here: the header is not a .npy header.
_HEADER_ERRORS = (ValueError, TypeError, SyntaxError, tokenize.TokenError, EOFError, OverflowError, MemoryError,
                  RecursionError, KeyError, IndexError, AttributeError)
_OPEN_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError)


def _read_header(fp, key: str, path: Path, error: type[ValueError]):
    try:
        version = npy_format.read_magic(fp)
        if version == (1, 0):
            return npy_format.read_array_header_1_0(fp, max_header_size=MAX_HEADER_SIZE)
        if version == (2, 0):
            return npy_format.read_array_header_2_0(fp, max_header_size=MAX_HEADER_SIZE)
        raise ValueError(f"unsupported .npy format version {version}")
    except _HEADER_ERRORS as exc:
        raise _fail(error, path, f"array {key!r} has a bad .npy header: {type(exc).__name__}: {exc}") from None
    except (zipfile.BadZipFile, zlib.error, OSError, NotImplementedError, RuntimeError) as exc:
        raise _fail(error, path, f"array {key!r} is corrupt or truncated: {exc}") from None


def member_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, error: type[ValueError],
                  kinds: str) -> Member:
    """The checked header of one member (dtype kind in ``kinds``, no objects, a shape of sizes ≥ 0); reads no data."""
    key = info.filename[: -len(".npy")]
    try:
        with zf.open(info) as fp:
            shape, fortran_order, dtype = _read_header(fp, key, path, error)
    except _OPEN_ERRORS as exc:
        if isinstance(exc, error):
            raise
        raise _fail(error, path, f"array {key!r} is corrupt or truncated: {exc}") from None
    if dtype.hasobject or dtype.kind not in kinds:
        what = "Python objects (refused: loading them would need pickle)" if dtype.hasobject else f"dtype {dtype}"
        raise _fail(error, path, f"array {key!r} holds {what}; expected dtype kind in {sorted(kinds)}")
    if not isinstance(shape, tuple) or any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in shape):
        raise _fail(error, path, f"array {key!r} has a bad .npy header: shape {shape!r} is not a tuple of sizes ≥ 0")
    return Member(key, info, shape, fortran_order, dtype)


def check_budget(members: Sequence[Member], path: Path, error: type[ValueError], max_bytes: int) -> None:
    """Refuse, before any data is read, arrays whose converted size (:func:`glassnet._support.memory.converted_nbytes`)
    exceeds ``max_bytes`` in total or the memory available."""
    total = 0
    for mem in members:
        total += mem.converted
        if total > max_bytes:
            raise _fail(error, path, f"array {mem.key!r} claims shape {mem.shape} ({mem.nbytes} bytes of "
                                     f"{mem.dtype}; {format_bytes(total)} in all once converted), more than the "
                                     f"limit of {max_bytes} bytes")
    room = available_bytes()
    if room is not None and total > room:
        raise _fail(error, path, f"its arrays need {format_bytes(total)} once converted, more than the "
                                 f"{format_bytes(room)} of memory available")


def iter_data(zf: zipfile.ZipFile, mem: Member, path: Path, error: type[ValueError], chunk: int = 1 << 20):
    """The member's data bytes in chunks of at most ``chunk`` bytes (nothing kept); truncation raises ``error``."""
    try:
        with zf.open(mem.info) as fp:
            _read_header(fp, mem.key, path, error)
            left = mem.nbytes
            while left:
                piece = fp.read(min(chunk, left))
                if not piece:
                    raise _fail(error, path, f"array {mem.key!r} is truncated: shape {mem.shape} needs "
                                             f"{mem.nbytes} bytes of data, found {mem.nbytes - left}")
                left -= len(piece)
                yield piece
            # read to the member's end, so that the zip CRC is checked (bit flips); numpy writes nothing after the
            # data, and more than a little is refused rather than decompressed
            trailing = fp.read(1 << 16)
            if trailing and fp.read(1):
                raise _fail(error, path, f"array {mem.key!r} has more than 64 KiB of data after its declared shape "
                                         f"{mem.shape}")
    except _OPEN_ERRORS as exc:
        if isinstance(exc, error):
            raise
        raise _fail(error, path, f"array {mem.key!r} is corrupt or truncated: {exc}") from None


def read_data(zf: zipfile.ZipFile, mem: Member, path: Path, error: type[ValueError]) -> np.ndarray:
    """The member's array, read straight into its own buffer (one allocation of exactly the declared size)."""
    out = np.empty(mem.count, dtype=mem.dtype)
    view = memoryview(out.view(np.uint8).reshape(-1).data) if mem.nbytes else memoryview(b"")
    pos = 0
    for piece in iter_data(zf, mem, path, error):
        view[pos: pos + len(piece)] = piece
        pos += len(piece)
    return out.reshape(mem.shape, order="F" if mem.fortran_order else "C")


def read_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    path: Path,
    error: type[ValueError],
    kinds: str,
    max_bytes: int,
) -> np.ndarray:
    """Read one ``.npy`` member after checking its header: dtype kind in ``kinds``, at most ``max_bytes`` converted."""
    mem = member_header(zf, info, path, error, kinds)
    check_budget([mem], path, error, max_bytes)
    return read_data(zf, mem, path, error)


def read_npz(
    path: str | Path,
    keys: Sequence[str] | None,
    *,
    error: type[ValueError],
    kinds: str,
    max_bytes: int,
) -> dict[str, np.ndarray]:
    """Arrays ``keys`` (all members when ``None``) of the ``.npz`` file ``path``.

    Every header is read and checked first, and the arrays' total size once converted to float64 is compared
    with ``max_bytes`` and the available memory, before any data is read.
    """
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
        headers = [member_header(zf, members[k], path, error, kinds) for k in wanted]
        check_budget(headers, path, error, max_bytes)
        return {mem.key: read_data(zf, mem, path, error) for mem in headers}
