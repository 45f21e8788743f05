"""Memory is budgeted before it is spent: small files that declare huge arrays, and huge networks, are refused.

Each bomb is loaded in a child process under an address-space limit (``glassnet._support.sandbox.run_file``): a loader
that allocated what the file declares would die there of a MemoryError; the budgeted one refuses it with a clear error.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npy_format

import glassnet
from glassnet._support import memory as _memory
from glassnet._support import sandbox as _sandbox
from glassnet.errors import DataError, ModelFileError

SRC = str(Path(glassnet.__file__).parents[1])
LIMIT_MB = 1100  # glassnet imported with numpy, scipy and scikit-learn peaks near 500 MB of address space


def _npy_header(shape, dtype) -> bytes:
    import io

    buf = io.BytesIO()
    npy_format.write_array_header_1_0(buf, {"descr": npy_format.dtype_to_descr(np.dtype(dtype)),
                                            "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _bomb_member(zf: zipfile.ZipFile, name: str, shape, dtype, data_bytes: int | None = None) -> None:
    """A member whose header declares ``shape`` and whose data is that many zeros (compressed to almost nothing)."""
    n = int(np.prod(shape)) * np.dtype(dtype).itemsize if data_bytes is None else data_bytes
    with zf.open(name, "w", force_zip64=True) as f:
        f.write(_npy_header(shape, dtype))
        chunk = bytes(1 << 22)
        while n > 0:
            f.write(chunk[: min(n, len(chunk))])
            n -= len(chunk)


def _load_in_child(tmp_path: Path, loader: str, target: Path):
    script = tmp_path / "loader.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {SRC!r})\n"
        "import glassnet, glassnet.datasets, glassnet.io\n"
        "def load(path):\n"
        f"    {loader}(path)\n"
        "    return 0.0\n", encoding="utf-8")
    run = _sandbox.run_file(script, [_sandbox.Call("load", (str(target),))], timeout_s=120, memory_mb=LIMIT_MB,
                            read_only=[SRC])  # the sandbox shows the child only what it is given
    assert run.status == "ok", run.message + run.output
    return run.results[0]


def test_converted_bytes_count_the_float64_copy():
    assert _memory.converted_nbytes(10, np.float64) == 80
    assert _memory.converted_nbytes(10, np.uint8) == 10 + 80
    assert _memory.converted_nbytes(10, np.float16) == 20 + 80
    assert _memory.converted_nbytes(10, np.dtype("<U3")) == 120


def test_bzip2_npz_bomb_is_refused_from_its_header(tmp_path):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_BZIP2) as zf:
        _bomb_member(zf, "X.npy", (12_000, 10_000), np.uint8)  # 120 MB stored, 1.08 GB once converted
        _bomb_member(zf, "y.npy", (12_000,), np.uint8)
    assert path.stat().st_size < 4096
    result = _load_in_child(tmp_path, "glassnet.datasets.load_npz", path)
    assert result.status == "error" and "DataError" in result.message, result.message
    # refused from the zip header before a byte is inflated: 217 bytes that claim 120 MB are a zip bomb
    assert "refused as a zip bomb" in result.message and "bomb.npz" in result.message
    with pytest.raises(DataError, match="zip bomb"):
        glassnet.datasets.load_npz(path)


def test_mat_bomb_is_refused_from_its_header(tmp_path):
    from scipy.io import savemat

    path = tmp_path / "bomb.mat"
    savemat(path, {"X": np.zeros((12_000, 10_000), dtype=np.uint8), "y": np.zeros((12_000, 1), np.uint8)},
            do_compression=True)
    assert path.stat().st_size < 300_000
    result = _load_in_child(tmp_path, "glassnet.datasets.load_mat", path)
    assert result.status == "error" and "DataError" in result.message, result.message
    assert "once converted" in result.message


def _model_bomb(path: Path, shape, dtype, checksum: str = "sha256:" + "0" * 64) -> None:
    meta = {"format": "glassnet-model", "format_version": 1, "layer_sizes": [shape[1] - 1, shape[0]],
            "dtype": np.dtype(dtype).name}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        _bomb_member(zf, "theta_1.npy", shape, dtype)
        for name, text in (("metadata", json.dumps(meta)), ("checksum", checksum)):
            arr = np.array(text)
            with zf.open(f"{name}.npy", "w") as f:
                npy_format.write_array(f, arr)


def test_model_file_bombs_cost_nothing_when_refused(tmp_path):
    big = tmp_path / "big.npz"
    _model_bomb(big, (4_000, 10_001), np.float64)  # 320 MB of weights: reading them twice would pass the limit
    assert big.stat().st_size < 1_000_000
    result = _load_in_child(tmp_path, "glassnet.io.load_any", big)
    # within the memory limit, but zeros that inflate more than 1000-fold are refused before they are read
    assert result.status == "error" and "ModelFileError" in result.message, result.message
    assert "refused as a zip bomb" in result.message and "big.npz" in result.message
    half = tmp_path / "half.npz"
    _model_bomb(half, (20_000, 10_001), np.float16)  # 400 MB stored, 2.0 GB once converted
    result = _load_in_child(tmp_path, "glassnet.io.load_any", half)
    assert result.status == "error" and "ModelFileError" in result.message, result.message
    assert "refused as a zip bomb" in result.message and "half.npz" in result.message
    huge = tmp_path / "huge.npz"
    with zipfile.ZipFile(huge, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        _bomb_member(zf, "theta_1.npy", (200_000, 10_001), np.float16, data_bytes=0)
        for name in ("metadata", "checksum"):
            with zf.open(f"{name}.npy", "w") as f:
                npy_format.write_array(f, np.array("x"))
    with pytest.raises(ModelFileError, match="once converted"):
        glassnet.load(huge)


def test_a_npy_header_with_negative_sizes_is_a_clear_error(tmp_path):
    path = tmp_path / "neg.npz"
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open("X.npy", "w") as f:
            f.write(_npy_header((2, 2), np.float64).replace(b"(2, 2)", b"(-1, -1)"))
        with zf.open("y.npy", "w") as f:
            npy_format.write_array(f, np.zeros(2))
    with pytest.raises(DataError, match=r"neg.npz: array 'X' has a bad .npy header"):
        glassnet.datasets.load_npz(path)


def test_bit_flips_in_a_data_member_are_noticed(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.arange(12.0).reshape(6, 2), y=np.arange(6) % 2)
    raw = bytearray(path.read_bytes())
    at = raw.index(np.float64(5.0).tobytes())
    raw[at] ^= 0x10
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="corrupt"):
        glassnet.datasets.load_npz(path)


def test_a_network_too_large_for_memory_names_its_size():
    with pytest.raises(_memory.MemoryBudgetError, match=r"network 64-100000000-10: 7,500,000,010 parameters take "):
        _memory.check_network_fits([64, 100_000_000, 10], 100)
    with pytest.raises(MemoryError, match="more than the .* of memory available"):
        glassnet.Classifier(hidden_layer_sizes=(100_000_000,), max_iter=1).fit(np.zeros((4, 2)), [0, 1, 0, 1])
    _memory.check_network_fits([64, 25, 10], 1797)  # the course's size fits anywhere


def test_only_networks_past_the_unchecked_size_are_held_against_the_memory_available(monkeypatch):
    monkeypatch.setattr(_memory, "available_bytes", lambda: 1 << 20)  # 1 MiB left
    small = [784, 100, 10]
    assert _memory.network_bytes(small, 2048, "adam")[1] < _memory.UNCHECKED_BYTES
    _memory.check_network_fits(small, 2048, "adam")  # too small to refuse: /proc is not read
    large = [784, 3000, 10]
    assert _memory.network_bytes(large, 2048, "adam")[1] >= _memory.UNCHECKED_BYTES
    with pytest.raises(_memory.MemoryBudgetError, match="network 784-3000-10"):
        _memory.check_network_fits(large, 2048, "adam")


def test_cli_refuses_networks_too_large_for_memory(capsys):
    from glassnet.cli import main

    assert main(["train", "--hidden", "100000000", "--data", "iris"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --hidden: network 4-100000000-3: 800,000,003 parameters take") and "GiB" in err
    assert main(["gradcheck", "--sizes", "100000,100000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --sizes: network 100000-100000: 10,000,100,000 parameters take 74.5 GiB")
