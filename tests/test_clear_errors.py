"""Unclear errors made clear (issue "nothing lost, nothing exhausted", points 6 and 7): each bad input gives one
message naming the file or option, with the documented exit code; and a CSV without a header keeps every example."""

from __future__ import annotations

import errno
import json
import os
import zipfile

import numpy as np
import pytest

import glassnet
from glassnet import ModelFileError, datasets
from glassnet.cli import main
from glassnet.io import models as gio


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    X, y = datasets.load_iris().X, datasets.load_iris().y
    clf = glassnet.Classifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(X, y)
    return glassnet.save(clf, tmp_path_factory.mktemp("m") / "m.npz")


def _rewrite_metadata(src, dst, change):
    """A copy of the model file ``src`` whose metadata is ``change(meta)``, with the checksum recomputed."""
    with np.load(src, allow_pickle=False) as f:
        members = {k: f[k] for k in f.files}
    meta = change(json.loads(str(members["metadata"])))
    text = json.dumps(meta)
    thetas = [members[f"theta_{i}"] for i in range(1, len(meta["layer_sizes"]))]
    members["metadata"], members["checksum"] = np.array(text), np.array(gio._digest(thetas, text))
    np.savez(dst, **members)
    return dst


def test_deeply_nested_metadata_is_a_model_file_error(model_file, tmp_path, capsys):
    def deep(meta):
        nested = []
        for _ in range(900):
            nested = [nested]
        meta["params"]["deep"] = nested
        return meta

    bad = _rewrite_metadata(model_file, tmp_path / "deep.npz", deep)
    with pytest.raises(ModelFileError, match=r"deep.npz: metadata is nested 90\d levels deep"):
        glassnet.load(bad)
    code, _, err = run(capsys, "evaluate", "--model", bad, "--data", "iris")
    assert code == 1 and "metadata is nested" in err and "Traceback" not in err


def test_nested_list_classes_are_refused_when_loading(model_file, tmp_path):
    def nested(meta):
        meta["classes"] = [[0, 1], [2, 3], [4, 5]]
        return meta

    bad = _rewrite_metadata(model_file, tmp_path / "nested.npz", nested)
    with pytest.raises(ModelFileError, match="classes must be a flat list of labels"):
        glassnet.load(bad)


def test_a_csv_without_header_keeps_its_first_example(model_file, tmp_path, capsys):
    X = datasets.load_iris().X[:5]
    path = tmp_path / "f.csv"
    np.savetxt(path, X, delimiter=",")
    data = datasets.load_csv(path, label_column=None)
    assert data.X.shape == (5, 4) and np.array_equal(data.X, X)
    code, out, _ = run(capsys, "predict", "--model", model_file, "--data", path, "--json")
    assert code == 0 and json.loads(out)["n_examples"] == 5
    labelled = tmp_path / "l.csv"
    np.savetxt(labelled, np.column_stack([X, [0, 1, 2, 1, 0]]), delimiter=",")
    assert len(datasets.load_csv(labelled).y) == 5
    named = tmp_path / "n.csv"
    named.write_text("a,b,label\n1,2,0\n3,4,1\n")
    data = datasets.load_csv(named)
    assert data.feature_names == ["a", "b"] and len(data.y) == 2  # a header of names is still a header
    with pytest.raises(glassnet.DataError, match="no header row"):
        datasets.load_csv(labelled, label_column="label")


@pytest.mark.parametrize("argv, option", [
    (["train", "--seed", "-1"], "--seed"),
    (["evaluate", "--model", "m.npz", "--seed", "-1"], "--seed"),
    (["serve", "--lam", "-1"], "--lam"),
    (["serve", "--seed", "-5"], "--seed"),
])
def test_bad_numbers_are_usage_errors_naming_the_option(capsys, argv, option):
    code, _, err = run(capsys, *argv)
    assert code == 2 and f"argument {option}" in err, err


def test_a_full_disk_names_the_file(tmp_path, capsys, monkeypatch):
    real = os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    target = tmp_path / "m.npz"
    with pytest.raises(OSError, match=rf"cannot write {target}: No space left on device"):
        glassnet.io.atomic_write(target, lambda f: f.write(b"x"))
    code, _, err = run(capsys, "train", "--data", "iris", "--epochs", "1", "--save", target)
    monkeypatch.setattr(os, "fsync", real)
    assert code == 1 and f"cannot write {target}: No space left on device" in err
    assert not target.exists() and [p.name for p in tmp_path.iterdir()] == []  # no temp file left behind


def test_bench_refuses_an_unwritable_output_before_running(capsys, monkeypatch):
    from glassnet.cli import bench

    monkeypatch.setattr(bench, "_available", lambda module: pytest.fail("bench ran before checking -o"))
    code, _, err = run(capsys, "bench", "-o", "/proc/x/y.json")
    assert code == 1 and err == "error: -o /proc/x/y.json: folder /proc/x does not exist\n"
    if os.path.isdir("/proc") and not os.access("/proc", os.W_OK):
        code, _, err = run(capsys, "bench", "-o", "/proc/y.json")
        assert code == 1 and "folder /proc is not writable" in err


def test_zip_members_beyond_glassnet_are_still_refused(model_file, tmp_path):
    bad = tmp_path / "extra.npz"
    with zipfile.ZipFile(model_file) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("opt_m_1.npy", src.read("theta_1.npy"))  # checkpoint names only count in checkpoints
    with pytest.raises(ModelFileError, match="unexpected array 'opt_m_1'"):
        glassnet.load(bad)
