"""glassnet.io: model files that round-trip exactly, refuse damaged input, and survive a kill mid-save."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import glassnet
from glassnet import ModelFileError
from glassnet.io import FORMAT_VERSION, atomic_write, load_thetas, save_thetas


def rewrite(path, **members):
    """Rewrite the npz ``path`` with some members replaced (None removes one), keeping the others as they are."""
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    for k, v in members.items():
        if v is None:
            arrays.pop(k)
        else:
            arrays[k] = v
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def with_valid_checksum(path, metadata: dict):
    """Replace the metadata and recompute the checksum, as a careful forger (or a future glassnet) would."""
    from glassnet.io.models import _digest

    thetas, _ = load_thetas(path)
    text = json.dumps(metadata)
    rewrite(path, metadata=np.array(text), checksum=np.array(_digest(thetas, text)))


# --------------------------------------------------------------------------------------------------- low level


def test_thetas_and_metadata_round_trip_exactly(tmp_path):
    thetas = glassnet.random_init([4, 5, 3], rng=0)
    meta = {"note": "héllo", "sizes": (4, 5, 3), "best": float("nan"), "nested": {"a": [1, None, True]},
            "arr": np.array([1.5, 2.5], dtype=np.float32)}
    path = save_thetas(tmp_path / "m.npz", thetas, meta)
    assert path == tmp_path / "m.npz" and os.stat(path).st_mode & 0o777 == 0o666 & ~_umask()
    got, m = load_thetas(path)
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(got, thetas))
    assert m["note"] == "héllo" and m["sizes"] == (4, 5, 3) and np.isnan(m["best"])
    assert m["nested"] == {"a": [1, None, True]} and m["arr"].dtype == np.float32 and m["arr"].tolist() == [1.5, 2.5]
    assert m["format"] == "glassnet-model" and m["format_version"] == FORMAT_VERSION
    assert m["layer_sizes"] == [4, 5, 3] and m["dtype"] == "float64" and m["glassnet_version"] == glassnet.__version__
    with np.load(path, allow_pickle=False) as f:  # a plain npz that numpy reads without pickle
        assert sorted(f.files) == ["checksum", "metadata", "theta_1", "theta_2"]
        assert str(f["checksum"]).startswith("sha256:") and json.loads(str(f["metadata"]))["dtype"] == "float64"
    t32 = [t.astype(np.float32) for t in thetas]
    got32, m32 = load_thetas(save_thetas(tmp_path / "m32.npz", t32))
    assert m32["dtype"] == "float32" and all(np.array_equal(a, b) and a.dtype == np.float32 for a, b in zip(got32, t32))


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


@pytest.mark.parametrize("thetas, metadata, match", [
    ([np.ones((3, 4))], {"format": "x"}, r"keys \['format'\] are written by glassnet"),
    ([np.ones((3, 4))], {"f": print}, r"metadata\['f'\]: a builtin_function_or_method cannot be stored"),
    ([np.ones((3, 4))], {1: 2}, "dict key 1 is not a string"),
    ([np.ones((3, 4)), np.ones((2, 3))], None, r"thetas\[1\]"),
    ([np.array([[1.0, np.nan]])], None, "finite"),
    ([np.ones((2, 2), dtype=int)], None, "expected floats"),
    (np.ones((2, 2)), None, "list of 2-D arrays"),
])
def test_save_thetas_refuses_bad_input(tmp_path, thetas, metadata, match):
    with pytest.raises(ValueError, match=match):
        save_thetas(tmp_path / "m.npz", thetas, metadata)
    assert os.listdir(tmp_path) == []  # nothing written, not even a temp file


def good_file(tmp_path, name="m.npz"):
    return save_thetas(tmp_path / name, glassnet.random_init([3, 4, 2], rng=1), {"x": 1})


def damaged_files(tmp_path):
    """(path, expected message) for each way a model file can be broken."""
    cases = {}
    raw = good_file(tmp_path, "good.npz").read_bytes()

    def add(name, data, expected):
        p = tmp_path / f"{name.replace(' ', '_')}.npz"
        if callable(data):
            p.write_bytes(raw)
            data(p)
        else:
            p.write_bytes(data)
        cases[name] = (p, expected)

    add("empty", b"", "file is empty")
    add("not npz", b"theta = [1, 2, 3]\n", "not a .npz file")
    add("truncated", raw[: len(raw) * 2 // 3], "not a .npz file")
    add("truncated end", raw[:-10], "not a .npz file")
    flipped = bytearray(raw)
    flipped[200] ^= 0x01  # inside theta_1's data: the zip CRC catches it
    add("bit flip", bytes(flipped), "corrupt or truncated")
    plain = io.BytesIO()
    np.savez(plain, W=np.ones((2, 2)))
    add("plain npz", plain.getvalue(), "not a glassnet model file (no 'metadata' string")
    add("changed weights", lambda p: rewrite(p, theta_1=load_thetas(p)[0][0] + 1e-12),
        "checksum mismatch: the file was modified or corrupted")
    add("changed metadata", lambda p: rewrite(p, metadata=np.array(
        str(np.load(p)["metadata"]).replace('"x": 1', '"x": 2'))), "checksum mismatch")
    add("extra array", lambda p: rewrite(p, extra=np.zeros(1)), "unexpected array 'extra'")
    add("missing theta", lambda p: rewrite(p, theta_1=None), "expected arrays theta_1 ... theta_L without gaps")
    add("object array", lambda p: rewrite(p, theta_2=np.array([None], dtype=object)), "Python objects")
    add("bad json", lambda p: rewrite(p, metadata=np.array("{not json")), "metadata is not valid JSON")
    add("newer version", lambda p: with_valid_checksum(p, {**load_thetas(p)[1], "format_version": 99}),
        "written in model format version 99")
    add("other format", lambda p: with_valid_checksum(p, {**load_thetas(p)[1], "format": "keras"}),
        "not a glassnet model file (format 'keras'")
    add("lying sizes", lambda p: with_valid_checksum(p, {**load_thetas(p)[1], "layer_sizes": [3, 5, 2]}),
        "metadata says layer sizes [3, 5, 2]")
    return cases


def test_damaged_model_files_raise_model_file_error(tmp_path):
    for name, (path, expected) in damaged_files(tmp_path).items():
        with pytest.raises(ModelFileError) as err:
            load_thetas(path)
        assert str(err.value).startswith(f"{path}: ") and expected in str(err.value), (name, str(err.value))
        assert isinstance(err.value, ValueError)
        with pytest.raises(ModelFileError):
            glassnet.load(path)
    with pytest.raises(FileNotFoundError):
        load_thetas(tmp_path / "missing.npz")
    with pytest.raises(ModelFileError, match="more than the limit"):
        load_thetas(good_file(tmp_path), max_bytes=100)
    with pytest.raises(ModelFileError, match="not a saved Classifier; read it with glassnet.io.load_thetas"):
        glassnet.load(good_file(tmp_path))


def test_fuzzed_model_files_load_exactly_or_raise(tmp_path):
    """Byte flips anywhere: the file either loads with identical weights (the flip hit zip padding such as a
    timestamp) or raises ModelFileError; never a wrong model, never another exception."""
    path = good_file(tmp_path)
    original, meta = load_thetas(path)
    raw = path.read_bytes()
    rng = np.random.default_rng(7)
    outcomes = {"same": 0, "error": 0}
    for _ in range(300):
        data = bytearray(raw)
        for _ in range(int(rng.integers(1, 4))):
            data[int(rng.integers(0, len(data)))] ^= int(rng.integers(1, 256))
        path.write_bytes(bytes(data))
        try:
            got, m = load_thetas(path)
        except ModelFileError:
            outcomes["error"] += 1
        else:
            assert all(np.array_equal(a, b) for a, b in zip(got, original)) and m == meta
            outcomes["same"] += 1
    assert outcomes["error"] > 250 and outcomes["same"] > 0


# --------------------------------------------------------------------------------------------------- atomicity


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "f.bin"
    atomic_write(target, lambda f: f.write(b"old"))
    os.chmod(target, 0o640)

    def broken(f):
        f.write(b"half of the new conte")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, broken)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["f.bin"]
    atomic_write(target, lambda f: f.write(b"new"))
    assert target.read_bytes() == b"new" and os.stat(target).st_mode & 0o777 == 0o640  # mode kept
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write(tmp_path / "no" / "f.bin", lambda f: f.write(b""))
    with pytest.raises(IsADirectoryError):
        atomic_write(tmp_path, lambda f: f.write(b""))


def test_stale_temp_files_of_dead_writers_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    stale = tmp_path / f".m.npz.tmp-{pid}-abc"
    stale.write_bytes(b"partial")
    other = tmp_path / f".other.npz.tmp-{pid}-abc"  # another target's temp: not ours to remove
    other.write_bytes(b"partial")
    alive = tmp_path / f".m.npz.tmp-{os.getppid()}-xyz"  # a live process (pytest's parent): left alone
    alive.write_bytes(b"partial")
    good_file(tmp_path)
    assert sorted(os.listdir(tmp_path)) == sorted(["m.npz", other.name, alive.name])


KILLER = textwrap.dedent("""
    import os, random, signal, sys, time
    import numpy as np
    from glassnet.io import save_thetas

    target, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)

    def thetas(v):  # about 1 MB per file, so a save takes long enough to be interrupted at every stage
        return [np.full((300, 401), float(v)), np.full((10, 301), -float(v))]

    times = []
    for _ in range(3):  # how long one save takes here, so that kills spread over whole saves on any machine
        t = time.perf_counter()
        save_thetas(target, thetas(0), {"version": 0})
        times.append(time.perf_counter() - t)
    longest = 2.5 * sorted(times)[1]
    print("ready", flush=True)
    for it in range(n):
        sys.stdin.readline()
        pid = os.fork()
        if pid == 0:  # the saver: overwrite the target as fast as it can until killed
            try:
                v = (it + 1) * 100_000
                while True:
                    v += 1
                    save_thetas(target, thetas(v), {"version": v})
            finally:
                os._exit(1)
        time.sleep(rng.uniform(0.0, longest))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        print("killed", flush=True)
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork and SIGKILL")
def test_save_killed_at_random_moments_leaves_old_or_new_file(tmp_path):
    target = tmp_path / "model.npz"
    n = 40
    proc = subprocess.Popen([sys.executable, "-c", KILLER, str(target), str(n), "12345"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        last_version, advanced, strays_seen = 0, 0, 0
        for _ in range(n):
            proc.stdin.write("go\n")
            proc.stdin.flush()
            assert proc.stdout.readline().strip() == "killed"
            thetas, meta = load_thetas(target)  # must always load: old or new, never partial
            v = meta["version"]
            assert thetas[0].shape == (300, 401) and np.all(thetas[0] == v) and np.all(thetas[1] == -v)
            assert v >= last_version
            advanced += v > last_version
            last_version = v
            others = [p for p in os.listdir(tmp_path) if p != "model.npz"]
            for name in others:  # only hidden temp files of the killed writer, never named like a model
                assert name.startswith(".model.npz.tmp-") and not name.endswith(".npz"), name
                try:
                    got, m = load_thetas(tmp_path / name)  # complete (killed between fsync and rename) ...
                    assert np.all(got[0] == m["version"])
                except ModelFileError:  # ... or partial, and then refused
                    pass
            strays_seen += bool(others)
            assert len(others) <= 1  # the next save cleaned up earlier ones
        print(f"{n} kills: target advanced {advanced} times, a stray temp file was seen {strays_seen} times")
        assert advanced >= 1  # some kills came after a completed save ...
        assert strays_seen >= 1  # ... and some in the middle of a write
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == 0


# ----------------------------------------------------------------------------------------------- Classifier files


@pytest.fixture(scope="module")
def fitted():
    X, y = glassnet.datasets.load_iris(standardize=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = glassnet.Classifier(hidden_layer_sizes=(6,), alpha=0.5, max_iter=60, random_state=3).fit(X, labels)
    return clf, X


def test_classifier_round_trip_predicts_identically(tmp_path, fitted):
    clf, X = fitted
    path = glassnet.save(clf, tmp_path / "iris.npz")
    back = glassnet.load(path)
    assert type(back) is glassnet.Classifier and back.get_params() == clf.get_params()
    assert back.hidden_layer_sizes == (6,) and isinstance(back.hidden_layer_sizes, tuple)
    assert back.classes_.dtype == clf.classes_.dtype and back.classes_.tolist() == clf.classes_.tolist()
    assert np.array_equal(back.predict(X), clf.predict(X))
    assert np.array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert back.n_features_in_ == 4 and back.n_iter_ == clf.n_iter_
    assert back.history_.to_dict() == clf.history_.to_dict() and back.loss_curve_ == clf.loss_curve_
    assert back.score(X, clf.predict(X)) == 1.0
    _, meta = load_thetas(path)
    assert meta["alpha"] == 0.5 and meta["random_state"] == 3 and meta["classes"] == clf.classes_.tolist()
    assert meta["estimator"] == "glassnet.Classifier" and meta["unsaved_params"] == {}
    fresh = clone(back)  # the restored hyper-parameters are a valid estimator configuration
    assert not hasattr(fresh, "thetas_") and fresh.get_params() == clf.get_params()


def test_binary_int_classes_generator_seed_and_refit(tmp_path):
    X, y = glassnet.datasets.make_xor(40, noise=0.05, random_state=0)
    clf = glassnet.Classifier(hidden_layer_sizes=(3,), alpha=0.0, max_iter=50,
                              random_state=np.random.default_rng(0)).fit(X, y + 5)
    path = glassnet.save(clf, tmp_path / "xor.npz")
    back = glassnet.load(path)
    assert back.classes_.tolist() == [5, 6] and back.classes_.dtype == clf.classes_.dtype
    assert back.thetas_[-1].shape[0] == 1 and np.array_equal(back.predict(X), clf.predict(X))
    assert back.random_state is None and load_thetas(path)[1]["unsaved_params"] == {"random_state": "Generator"}
    back.fit(X, y)  # a loaded model is an ordinary estimator
    assert back.classes_.tolist() == [0, 1]


def test_save_refuses_unfitted_models_and_object_labels(tmp_path, fitted):
    with pytest.raises(NotFittedError, match="fit"):
        glassnet.save(glassnet.Classifier(), tmp_path / "m.npz")
    clf, X = fitted
    mixed = clone(clf)
    mixed.__dict__.update({k: v for k, v in vars(clf).items() if k.endswith("_")})
    mixed.classes_ = np.array(["a", 1, 2.5], dtype=object)
    with pytest.raises(ValueError, match="object array of float, int, str labels cannot be stored without pickle"):
        glassnet.save(mixed, tmp_path / "m.npz")
    mixed.classes_ = np.array(["a", "b", "c"], dtype=object)  # all strings: stored as JSON, restored as object
    back = glassnet.load(glassnet.save(mixed, tmp_path / "m.npz"))
    assert back.classes_.dtype == object and back.classes_.tolist() == ["a", "b", "c"]
    assert os.listdir(tmp_path) == ["m.npz"]


def test_saving_over_a_checkpoint_replaces_it(tmp_path, fitted):
    clf, X = fitted
    path = tmp_path / "ckpt.npz"
    glassnet.save(clf, path)
    more = clone(clf).set_params(max_iter=5).fit(X, clf.predict(X))
    glassnet.save(more, path)
    back = glassnet.load(path)
    assert back.max_iter == 5 and np.array_equal(back.thetas_[0], more.thetas_[0])
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_classifier_file_consistency_checks(tmp_path, fitted):
    clf, _ = fitted
    path = glassnet.save(clf, tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as f:
        meta = json.loads(str(f["metadata"]))
    for change, match in [
        ({"classes": ["a", "b"]}, "2 classes need 1 output units, the weights have 3"),
        ({"n_features_in": 7}, "n_features_in 7 does not match the input layer size 4"),
        ({"params": {"no_such_param": 1}}, "does not accept the saved parameters"),
        ({"history": {"cost": "x"}}, "bad training history"),
        ({"classes_dtype": "|O"}, "classes cannot be restored"),
        ({"classes": ["a", "a", "b"]}, "at least 2 distinct labels"),
    ]:
        with_valid_checksum(path, {**meta, **change})
        with pytest.raises(ModelFileError, match=match):
            glassnet.load(path)
        glassnet.save(clf, path)
    zipfile.ZipFile(path).testzip()  # the file we keep rewriting is still a sound zip


def test_load_any_reads_every_model_format_by_content(tmp_path, fitted):
    from glassnet.io import interop, load_any, model_format

    fitted, X = fitted
    # glassnet's Classifier file: the model as saved
    model_path = glassnet.save(fitted, tmp_path / "clf.npz")
    model = load_any(model_path)
    assert isinstance(model, glassnet.Classifier) and model_format(model_path) == "npz"
    for a, b in zip(model.thetas_, fitted.thetas_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict(X), fitted.predict(X))
    # bare weights: a Classifier with default classes 0..K-1 and the λ the metadata holds
    bare = save_thetas(tmp_path / "bare.npz", fitted.thetas_, {"lam": 0.5})
    model = load_any(bare)
    assert model.alpha == 0.5 and model.classes_.tolist() == list(range(fitted.thetas_[-1].shape[0]))
    with pytest.raises(ModelFileError, match="bare weights"):
        glassnet.load(bare)  # the strict loader still says what the file is
    # the course's .mat and Nielsen's JSON, whatever their names say
    mat = interop.save_mat(fitted, tmp_path / "weights.bin")
    json_file = interop.save_nielsen(fitted, tmp_path / "net.npz")
    assert model_format(mat) == "mat" and model_format(json_file) == "json"
    course = load_any(mat)
    assert course.unit_classes_.tolist() == [1, 2, 3]  # the course numbers units' classes from 1
    assert course.classes_.tolist() == [1, 2, 3] and course.history_.message == "imported weights"
    as_units = {"setosa": 1, "versicolor": 2, "virginica": 3}
    np.testing.assert_array_equal(course.predict(X), [as_units[c] for c in fitted.predict(X)])
    np.testing.assert_array_equal(load_any(json_file, classes=fitted.classes_).predict(X), fitted.predict(X))
    # anything else: one clear error naming the file and the formats
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"hello world")
    with pytest.raises(ModelFileError, match=r"junk.npz: not a model file .*glassnet .npz.*\.mat weights.*JSON"):
        load_any(junk)
    with pytest.raises(FileNotFoundError):
        load_any(tmp_path / "missing.npz")


def test_course_ex4_weights_load_in_the_course_unit_order():
    from scipy.io import loadmat

    from conftest import EX4_WEIGHTS
    from glassnet.io import load_any

    if not EX4_WEIGHTS.exists():
        pytest.skip(f"reference weights not found at {EX4_WEIGHTS}")
    model = load_any(EX4_WEIGHTS)
    raw = loadmat(EX4_WEIGHTS)
    np.testing.assert_array_equal(model.thetas_[1], raw["Theta2"])  # rows stay the course's units 1..10
    assert model.unit_classes_.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]
    assert model.classes_.tolist() == list(range(10))
    X = np.random.default_rng(0).uniform(-0.2, 1.0, (200, 400))
    course = np.argmax(glassnet.forward([raw["Theta1"], raw["Theta2"]], X).output, axis=1) + 1  # Octave's 1..10
    np.testing.assert_array_equal(model.predict(X), course % 10)  # 10 means digit 0
    # a digit-0 example's target is the course's unit 10
    assert model.output_layer_.unit_of([0, 3]).tolist() == [9, 2]
