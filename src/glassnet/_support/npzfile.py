"""A defensive ``.npz`` reader shared by :mod:`glassnet.datasets` and :mod:`glassnet.io`.

``numpy.load`` trusts the ``.npy`` header: a member that claims a 10¹² element array makes it try to allocate that
much before noticing the data is missing, and a tiny compressed member can inflate to gigabytes. This reader checks
every header first (dtype without objects, the size of the arrays *once converted to float64* under a byte limit and
the available memory) before reading any data, then streams each member's data into one buffer of exactly the
declared size (truncation is noticed), so a malicious file costs at most ``max_bytes`` and never runs a pickle. Errors
are raised as the caller's exception type, message first naming the file. Not for writing (``numpy.savez`` does that)
and not public.

Decompression is budgeted too (:class:`MemberReader`): ``zipfile`` decompresses a bzip2 or LZMA member 4 KiB of
compressed input at a time with no bound on the output, and 4 KiB of bzip2 can hold gigabytes of zeros, so a 618-byte
file with a small ``.npy`` header reached 1.3 GB before a byte of it was judged. Here every member is decompressed
with an output bound per read; the size its zip header declares must fit what its ``.npy`` header declares, and
reading stops (an error) as soon as the decompressed bytes pass the declared size, so a forged zip header gains
nothing. The zip CRC is checked at the member's end.
"""

from __future__ import annotations

import bz2
import lzma
import math
import struct
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


#: How many times its compressed size a compressed member may declare once decompressed, beyond
#: :data:`INFLATION_FLOOR` bytes. numpy's ``savez_compressed`` of real data stays far below (random floats barely
#: shrink; images of mostly zeros reach tens); only a zip bomb of zeros goes past, refused before it is decompressed.
MAX_INFLATION = 1000
INFLATION_FLOOR = 16 << 20
#: Bytes a member may hold after its array data (numpy writes none); more is refused rather than decompressed.
MAX_TRAILING = 1 << 16
# A zip member's local header (the central directory's sizes and offsets are the ones used, as zipfile does).
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_MAGIC = b"PK\x03\x04"
_RAW_CHUNK = 1 << 16  # compressed bytes read at a time


def _fail(error: type[ValueError], path: Path, message: str) -> ValueError:
    return error(f"{path}: {message}")


class MemberReader:
    """The uncompressed bytes of one zip member, decompressed with a bound: ``read(n)`` returns at most ``n`` bytes
    (stored, deflate, bzip2 and LZMA members alike), and more than the ``file_size`` the zip header declares, or a
    bad CRC at the end, raises ``error`` naming the file and the member.

    ``zipfile``'s own reader bounds deflate's output but not bzip2's or LZMA's (it decompresses each 4 KiB of input
    whole), which is what lets a tiny file inflate to gigabytes in one call.
    """

    def __init__(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, error: type[ValueError]):
        self.info, self.path, self.error = info, path, error
        name = info.filename
        self.what = f"array {name[:-4]!r}" if name.endswith(".npy") else f"zip member {name!r}"
        if info.flag_bits & 0x1:
            raise self._fail("is encrypted (glassnet reads plain .npz files)")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
            raise self._fail(f"uses zip compression method {info.compress_type}; expected stored, deflate, bzip2 "
                             "or LZMA")
        self.fp = open(path, "rb")  # closed by close() / the context manager
        try:
            self.fp.seek(info.header_offset)
            head = self.fp.read(_LOCAL_HEADER.size)
            if len(head) != _LOCAL_HEADER.size or head[:4] != _LOCAL_MAGIC:
                raise self._fail("is corrupt or truncated: its local zip header is missing")
            fields = _LOCAL_HEADER.unpack(head)
            self.fp.seek(fields[-2] + fields[-1], 1)  # the member's name and extra field
            self.compress_left = info.compress_size
            self.left = info.file_size  # uncompressed bytes the zip header declares: never more is produced
            self.crc = 0
            self.pending = b""  # compressed input not yet consumed (deflate's unconsumed tail)
            self.done = False
            self.decompressor = self._decompressor()
        except BaseException:
            self.fp.close()
            raise

    def _fail(self, message: str) -> ValueError:
        return _fail(self.error, self.path, f"{self.what} {message}")

    def _raw(self, n: int) -> bytes:
        n = min(n, self.compress_left)
        data = self.fp.read(n) if n > 0 else b""
        self.compress_left -= len(data)
        if n > 0 and not data:
            raise self._fail("is corrupt or truncated: the file ends inside it")
        return data

    def _decompressor(self):
        kind = self.info.compress_type
        if kind == zipfile.ZIP_DEFLATED:
            return zlib.decompressobj(-15)
        if kind == zipfile.ZIP_BZIP2:
            return bz2.BZ2Decompressor()
        if kind == zipfile.ZIP_LZMA:
            # zip's LZMA: version (2 bytes), properties size (2 bytes), LZMA1 properties (lc/lp/pb, dictionary size)
            head = self._raw(4)
            size = struct.unpack("<H", head[2:4])[0] if len(head) == 4 else 0
            props = self._raw(size)
            if len(head) != 4 or size != 5 or len(props) != 5 or props[0] >= 9 * 5 * 5:
                raise self._fail("is corrupt or truncated: bad LZMA properties")
            pb, rest = divmod(props[0], 45)
            lp, lc = divmod(rest, 9)
            # the dictionary never needs to be larger than the data (a forged size would allocate it)
            dict_size = min(struct.unpack("<L", props[1:])[0], max(self.info.file_size, 4096))
            return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[
                {"id": lzma.FILTER_LZMA1, "dict_size": dict_size, "lc": lc, "lp": lp, "pb": pb}])
        return None

    def _step(self, n: int) -> bytes:
        d = self.decompressor
        if d is None:  # stored
            return self._raw(n)
        if isinstance(d, bz2.BZ2Decompressor | lzma.LZMADecompressor):
            if d.eof:
                return b""
            return d.decompress(self._raw(_RAW_CHUNK) if d.needs_input else b"", n)
        data = self.pending or self._raw(_RAW_CHUNK)
        out = d.decompress(data, n)
        self.pending = d.unconsumed_tail
        return out

    def _ended(self) -> bool:
        d = self.decompressor
        if d is None:
            return self.compress_left <= 0
        if d.eof:
            return True
        if isinstance(d, bz2.BZ2Decompressor | lzma.LZMADecompressor):
            return self.compress_left <= 0 and d.needs_input
        return self.compress_left <= 0 and not self.pending

    def read(self, n: int = -1) -> bytes:
        """At most ``n`` (≥ 1) uncompressed bytes; ``b""`` at the member's end (whose CRC is then checked)."""
        if n is None or n < 0:
            n = self.left + 1
        out = b""
        while not out and not self.done:
            out = self._step(max(n, 1))
            if len(out) > self.left:
                raise self._fail(f"decompresses to more than the {self.info.file_size} bytes its zip header "
                                 "declares")
            self.left -= len(out)
            self.crc = zlib.crc32(out, self.crc)
            if not out and self._ended():
                self.done = True
                if self.left:
                    raise self._fail(f"is corrupt or truncated: {self.info.file_size - self.left} of the "
                                     f"{self.info.file_size} bytes its zip header declares")
                if self.crc != self.info.CRC:
                    raise self._fail("is corrupt or truncated: bad CRC-32 (the data was damaged)")
        return out

    @property
    def position(self) -> int:
        """Uncompressed bytes read so far."""
        return self.info.file_size - self.left

    def read_exact(self, n: int, chunk: int = 1 << 20) -> bytearray:
        """Exactly ``n`` bytes (fewer left in the member is an error)."""
        out = bytearray()
        while len(out) < n:
            piece = self.read(min(n - len(out), chunk))
            if not piece:
                raise self._fail(f"is corrupt or truncated: {n} more bytes were needed, found {len(out)}")
            out += piece
        return out

    def skip(self, n: int, chunk: int = 1 << 20) -> None:
        """Read and drop ``n`` bytes (a stored member seeks over them)."""
        while n > 0:
            piece = self.read(min(n, chunk))
            if not piece:
                raise self._fail("is corrupt or truncated")
            n -= len(piece)

    def close(self) -> None:
        self.fp.close()

    def __enter__(self) -> MemberReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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
        self.header_bytes = 0  # bytes before the data: magic, version, header length and header


# What NumPy's header parser raises on a header of bad bytes: a flipped bit in its length leaves an unbalanced
# dict that Python's tokenizer rejects (TokenError, not a SyntaxError), bad text gives ValueError/SyntaxError, and
# literal_eval's other failures the rest. All of them mean one thing here: the header is not a .npy header.
_HEADER_ERRORS = (ValueError, TypeError, SyntaxError, tokenize.TokenError, EOFError, OverflowError, MemoryError,
                  RecursionError, KeyError, IndexError, AttributeError)
_OPEN_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError, NotImplementedError,
                RuntimeError, MemoryError)


def _read_header(fp, key: str, path: Path, error: type[ValueError]):
    try:
        version = npy_format.read_magic(fp)
        if version == (1, 0):
            return npy_format.read_array_header_1_0(fp, max_header_size=MAX_HEADER_SIZE)
        if version == (2, 0):
            return npy_format.read_array_header_2_0(fp, max_header_size=MAX_HEADER_SIZE)
        raise ValueError(f"unsupported .npy format version {version}")
    except error:  # the member reader's own, already naming the file
        raise
    except _HEADER_ERRORS as exc:
        raise _fail(error, path, f"array {key!r} has a bad .npy header: {type(exc).__name__}: {exc}") from None
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError, NotImplementedError, RuntimeError) as exc:
        raise _fail(error, path, f"array {key!r} is corrupt or truncated: {exc}") from None


def member_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, error: type[ValueError],
                  kinds: str) -> Member:
    """The checked header of one member (dtype kind in ``kinds``, no objects, a shape of sizes ≥ 0, a zip header
    whose declared size fits the array's); reads no data."""
    key = info.filename[: -len(".npy")]
    if (info.compress_type != zipfile.ZIP_STORED and info.file_size > INFLATION_FLOOR
            and info.file_size > MAX_INFLATION * max(info.compress_size, 1)):
        raise _fail(error, path, f"array {key!r} would inflate from {info.compress_size} compressed bytes to "
                                 f"{format_bytes(info.file_size)}, more than {MAX_INFLATION} times: refused as a zip "
                                 "bomb (save real data with numpy.savez or savez_compressed)")
    try:
        with MemberReader(zf, info, path, error) as fp:
            shape, fortran_order, dtype = _read_header(fp, key, path, error)
            header_bytes = fp.position
    except _OPEN_ERRORS as exc:
        if isinstance(exc, error):
            raise
        raise _fail(error, path, f"array {key!r} is corrupt or truncated: {exc}") from None
    if dtype.hasobject or dtype.kind not in kinds:
        what = "Python objects (refused: loading them would need pickle)" if dtype.hasobject else f"dtype {dtype}"
        raise _fail(error, path, f"array {key!r} holds {what}; expected dtype kind in {sorted(kinds)}")
    if not isinstance(shape, tuple) or any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in shape):
        raise _fail(error, path, f"array {key!r} has a bad .npy header: shape {shape!r} is not a tuple of sizes ≥ 0")
    mem = Member(key, info, shape, fortran_order, dtype)
    mem.header_bytes = header_bytes
    # a zip header declaring more than the .npy header's array would be decompressed for nothing: refused before any
    # of it is (one declaring less cannot hold the data: iter_data says it is truncated)
    if info.file_size > header_bytes + mem.nbytes + MAX_TRAILING:
        raise _fail(error, path, f"array {key!r}: its zip header declares {info.file_size} bytes, more than the "
                                 f"{header_bytes + mem.nbytes} of its .npy header and shape {shape}")
    return mem


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
        with MemberReader(zf, mem.info, path, error) as fp:
            fp.skip(mem.header_bytes)
            left = mem.nbytes
            while left:
                piece = fp.read(min(chunk, left))
                if not piece:
                    raise _fail(error, path, f"array {mem.key!r} is truncated: shape {mem.shape} needs "
                                             f"{mem.nbytes} bytes of data, found {mem.nbytes - left}")
                left -= len(piece)
                yield piece
            # read to the member's end, so that the zip CRC is checked (bit flips); numpy writes nothing after the
            # data, and the zip header's size was checked against the shape (member_header)
            while fp.read(chunk):
                pass
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
