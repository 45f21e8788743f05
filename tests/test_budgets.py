"""Budgets that hold: decompression and parsing are budgeted in bytes before they happen.

Each bomb is built here in a temporary folder and read under ``tracemalloc``: the peak of Python and NumPy
allocations while the loader refuses it (or reads it) must stay within a small multiple of what the file honestly
holds, however much its zip member inflates to. ``zipfile`` alone decompressed a bzip2 or LZMA member 4 KiB of input
at a time with no bound on the output, so a few hundred bytes became the whole member at once.
"""

from __future__ import annotations

import hashlib
import io
import json
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npy_format

from glassnet import DataError, ModelFileError, datasets
from glassnet import io as gio
from glassnet._support import npzfile

HIDDEN = 15 << 20  # zeros behind a small .npy header (bzip2 squeezes them to ~100 bytes); below INFLATION_FLOOR
#: What refusing any of these bombs may cost: the reader's pieces of at most 1 MiB, and LZMA's dictionary (8 MiB as
#: zipfile writes it, never more than the member's declared size).
PEAK_LIMIT = 10 << 20


def _npy_header(shape, dtype) -> bytes:
    buf = io.BytesIO()
    npy_format.write_array_header_1_0(buf, {"descr": npy_format.dtype_to_descr(np.dtype(dtype)),
                                            "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _write_member(zf: zipfile.ZipFile, name: str, header: bytes, zeros: int) -> None:
    with zf.open(name, "w") as f:
        f.write(header)
        chunk = bytes(1 << 22)
        while zeros > 0:
            f.write(chunk[:min(zeros, len(chunk))])
            zeros -= len(chunk)


def _set_declared_size(path: Path, name: str, size: int) -> None:
    """Forge the uncompressed size that the central directory (the one readers trust) declares for ``name``."""
    raw = bytearray(path.read_bytes())
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        n = int.from_bytes(raw[at + 28:at + 30], "little")
        if raw[at + 46:at + 46 + n] == name.encode():
            raw[at + 24:at + 28] = size.to_bytes(4, "little")
            path.write_bytes(bytes(raw))
            return
        at = raw.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"no central directory entry {name}")


def _peak(fn) -> tuple[int, BaseException | None]:
    """(tracemalloc peak in bytes above the start, the exception raised or None) of ``fn()``."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    error = None
    try:
        fn()
    except Exception as exc:  # the caller checks its type and message
        error = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    return peak, error


@pytest.fixture(scope="module", params=[zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA], ids=["bzip2", "lzma"])
def hidden_zeros(request, tmp_path_factory):
    """An .npz whose X member's .npy header declares 10 × 2 float64 but holds megabytes of zeros after it, stored
    honestly (the zip header declares the real size), and the compression used."""
    hidden = HIDDEN
    path = tmp_path_factory.mktemp("bomb") / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=request.param) as zf:
        _write_member(zf, "X.npy", _npy_header((10, 2), np.float64), 160 + hidden)
        with zf.open("y.npy", "w") as f:
            npy_format.write_array(f, np.zeros(10, dtype=np.int64))
    assert path.stat().st_size < 40_000
    return path, request.param


def test_a_zip_header_declaring_more_than_the_array_is_refused_before_decompressing(hidden_zeros):
    path, _ = hidden_zeros
    peak, error = _peak(lambda: datasets.load_npz(path))
    assert isinstance(error, DataError), error
    assert str(error).startswith(f"{path}: array 'X': its zip header declares ")
    assert "more than the 288 of its .npy header and shape (10, 2)" in str(error)
    assert peak < PEAK_LIMIT, peak


def test_a_forged_zip_header_does_not_let_the_member_inflate(hidden_zeros, tmp_path):
    """The zip header forged to declare the array's size: reading stops as soon as more comes out."""
    path, _ = hidden_zeros
    forged = tmp_path / "forged.npz"
    forged.write_bytes(path.read_bytes())
    _set_declared_size(forged, "X.npy", len(_npy_header((10, 2), np.float64)) + 160)
    peak, error = _peak(lambda: datasets.load_npz(forged))
    assert isinstance(error, DataError), error
    assert str(error).startswith(f"{forged}: array 'X' decompresses to more than the 288 bytes its zip header "
                                 "declares"), error
    assert peak < PEAK_LIMIT, peak
    # the member reader alone, as every loader uses it: at most n bytes per read, whatever the compression
    with zipfile.ZipFile(forged) as zf:
        reader = npzfile.MemberReader(zf, zf.getinfo("X.npy"), forged, DataError)
        with reader, pytest.raises(DataError, match="decompresses to more than the 288 bytes"):
            while reader.read(100):
                pass


def test_an_honest_bomb_of_zeros_is_refused_by_its_inflation(tmp_path):
    """Headers that agree (6 M float64 zeros) but a 1000-fold inflation: refused before decompressing."""
    path = tmp_path / "zeros.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_BZIP2) as zf:
        _write_member(zf, "X.npy", _npy_header((3 << 20, 2), np.float64), 48 << 20)
        with zf.open("y.npy", "w") as f:
            npy_format.write_array(f, np.zeros(3 << 20, dtype=np.int64))
    assert path.stat().st_size < 2_000
    peak, error = _peak(lambda: datasets.load_npz(path))
    assert isinstance(error, DataError), error
    assert "would inflate from" in str(error) and "refused as a zip bomb" in str(error) and str(path) in str(error)
    assert peak < PEAK_LIMIT, peak


def test_compressed_real_data_still_loads(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(2000, 5)), rng.integers(0, 3, 2000)
    for compression in (zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
        path = tmp_path / f"d{compression}.npz"
        with zipfile.ZipFile(path, "w", compression=compression) as zf:
            for name, arr in (("X", X), ("y", y)):
                with zf.open(f"{name}.npy", "w") as f:
                    npy_format.write_array(f, arr)
        data = datasets.load_npz(path)
        np.testing.assert_array_equal(data.X, X)
        np.testing.assert_array_equal(data.y, y)


# ------------------------------------------------------------------------------------------------- model files


def _model_bomb(path: Path, *, weights_zeros: int = 0, metadata_chars: int = 0) -> None:
    """A bzip2 model file whose Θ^(1) is (rows, 3) float64 zeros with a correct checksum, or whose metadata string
    declares ``metadata_chars`` characters."""
    rows = max(weights_zeros // 24, 1)
    meta = json.dumps({"format": "glassnet-model", "format_version": 1, "layer_sizes": [2, rows], "dtype": "float64"})
    h = hashlib.sha256()
    h.update(f"theta_1|<f8|{(rows, 3)}|".encode())
    left = rows * 24
    while left:
        h.update(bytes(min(left, 1 << 22)))
        left -= min(left, 1 << 22)
    h.update(b"metadata|" + meta.encode())
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_BZIP2) as zf:
        _write_member(zf, "theta_1.npy", _npy_header((rows, 3), np.float64), rows * 24)
        if metadata_chars:
            _write_member(zf, "metadata.npy", _npy_header((), f"<U{metadata_chars}"), 4 * metadata_chars)
        else:
            with zf.open("metadata.npy", "w") as f:
                npy_format.write_array(f, np.array(meta))
        with zf.open("checksum.npy", "w") as f:
            npy_format.write_array(f, np.array("sha256:" + h.hexdigest()))


@pytest.mark.parametrize("what", ["weights", "metadata"])
def test_a_tiny_model_file_never_reaches_its_declared_size(tmp_path, what):
    path = tmp_path / "m.npz"
    _model_bomb(path, **({"weights_zeros": 48 << 20} if what == "weights" else {"metadata_chars": 100 << 20}))
    assert path.stat().st_size < 4_000
    for load in (gio.load_any, gio.load_checkpoint, gio.load_thetas):
        peak, error = _peak(lambda load=load: load(path))
        assert isinstance(error, ModelFileError), error
        assert str(error).startswith(f"{path}: ")
        assert "refused as a zip bomb" in str(error) or "more than the" in str(error), error
        assert peak < PEAK_LIMIT, (load.__name__, peak)


# ------------------------------------------------------------------------------------------------- CSV parsing


def test_a_csv_of_short_rows_costs_a_small_multiple_of_its_numbers(tmp_path):
    """"0,0" rows: 4 bytes of text, 16 bytes once read (one float64 feature, one int64 label). The text was once held
    whole, decoded and buffered again, with 24 more bytes per row of bookkeeping: 20x the file at its peak."""
    rows = 200_000
    path = tmp_path / "zeros.csv"
    path.write_bytes(b"0,0\n" * rows)
    converted = rows * 16
    peak, error = _peak(lambda: datasets.load_csv(path))
    assert error is None, error
    assert peak <= 3 * converted, (peak, converted)
    data = datasets.load_csv(path)
    assert data.X.shape == (rows, 1) and data.y.shape == (rows,) and not data.X.any()


def test_csv_lines_are_named_after_blank_lines_and_quoted_breaks(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('a,b,label\n1,2,0\n\n3,"4",1\n"5\n",6,0\n7,1e308,1\n')
    with pytest.raises(DataError, match=r"d.csv: line 7, column 'b': 1e\+308 is too large"):
        datasets.load_csv(path)


def test_the_red_team_script_runs_and_finds_no_traceback(tmp_path):
    """benchmarks/redteam.py at tiny sizes: every bomb is refused or read within its budget, and no damaged file
    escapes as a traceback (the figures themselves come from a full run)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("redteam", Path(__file__).parents[1] / "benchmarks" / "redteam.py")
    redteam = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(redteam)
    out = tmp_path / "rt.json"
    assert redteam.main(["--only", "bombs,corrupt", "--bomb-mib", "20", "--csv-mib", "1", "--corrupt", "100",
                         "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    for bomb in result["bombs"]:
        assert bomb["rss_peak_rise"] is not None and bomb["rss_peak_rise"] < 64 << 20, bomb
        assert bomb["outcome"] == "loaded" or bomb["outcome"].startswith(("DataError", "ModelFileError")), bomb
    assert all(counts["traceback"] == 0 and counts["unclear error"] == 0 for counts in result["corrupt"].values())
