"""Every corrupt or forged file gives one clear error naming the file (issue "nothing escapes, nothing leaks").

A small model file is damaged bit by bit and cut at many lengths: each copy either loads or raises ModelFileError /
DataError naming the file, never another exception, through the library, the CLI and the explorer's ``/api/model``.
Forged checkpoints (the checksum recomputed, so only the reader's checks stand between them and a resumed run), deep
or huge history JSON and data near the float limit are refused with a message that says what is wrong.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import glassnet
from glassnet import DataError, ModelFileError, datasets
from glassnet import io as gio
from glassnet.cli import main
from glassnet.io import models as gmodels


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    """A small glassnet model file of the xor network (2-2-1): its bytes and its path."""
    data = datasets.load("xor")
    clf = glassnet.Classifier(hidden_layer_sizes=(2,), max_iter=3, random_state=0).fit(data.X, data.y)
    path = glassnet.save(clf, tmp_path_factory.mktemp("model") / "m.npz")
    return path.read_bytes(), path


def _damaged(raw: bytes, header_bytes: int = 200) -> list[tuple[str, bytes]]:
    """Every single-bit flip of the first ``header_bytes`` bytes and of each .npy member's header, and cuts at many
    lengths."""
    starts = set(range(min(header_bytes, len(raw))))
    for match in re.finditer(rb"\x93NUMPY", raw):  # each member's magic, version, header length and header dict
        starts.update(range(match.start(), min(match.start() + 128, len(raw))))
    cases = [(f"bit {b} of byte {i}", raw[:i] + bytes([raw[i] ^ (1 << b)]) + raw[i + 1:])
             for i in sorted(starts) for b in range(8)]
    cases += [(f"cut at {n}", raw[:n]) for n in range(0, len(raw), 11)]
    return cases


def _header_length_at(raw: bytes) -> int:
    """Where the metadata member's .npy header length is: a member larger than zipfile's first read (4 KiB), so that
    a damaged header is parsed before the zip CRC can notice the damage."""
    return raw.index(b"\x93NUMPY", raw.index(b"metadata.npy")) + 8


def _header_length_flips(raw: bytes) -> list[tuple[str, bytes]]:
    """Bit flips of the metadata member's .npy header length: the flips that once escaped as a TokenError."""
    at = _header_length_at(raw)
    return [(f"bit {b} of byte {i}", raw[:i] + bytes([raw[i] ^ (1 << b)]) + raw[i + 1:])
            for i in (at, at + 1) for b in range(8)]


def test_a_flipped_header_length_is_a_model_file_error(small_model, tmp_path):
    raw, _ = small_model
    at = _header_length_at(raw)
    bad = tmp_path / "flipped.npz"
    bad.write_bytes(raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1:])  # one more byte: the header dict is cut short
    with pytest.raises(ModelFileError, match=r"flipped\.npz: array 'metadata' has a bad \.npy header"):
        gio.load_any(bad)


def test_every_damaged_copy_loads_or_names_the_file(small_model, tmp_path):
    raw, _ = small_model
    bad = tmp_path / "damaged.npz"
    loaded = refused = 0
    for what, content in _damaged(raw):
        bad.write_bytes(content)
        for load in (gio.load_any, gio.load_checkpoint, gio.load_thetas):
            try:
                load(bad)
            except (ModelFileError, DataError) as exc:
                assert str(bad) in str(exc), f"{what}: {load.__name__}: {exc}"
                refused += 1
            except Exception as exc:
                pytest.fail(f"{what}: {load.__name__} raised {type(exc).__name__}: {exc}")
            else:
                loaded += 1
    assert refused > loaded > 0  # zip fields nobody reads (timestamps, ...) may change; most damage is noticed


def test_damaged_model_files_through_the_cli(small_model, tmp_path, capsys):
    raw, _ = small_model
    bad = tmp_path / "damaged.npz"
    cases = _header_length_flips(raw) + _damaged(raw, header_bytes=0)[::23]
    for what, content in cases:
        bad.write_bytes(content)
        code, _, err = run(capsys, "evaluate", "--model", bad, "--data", "xor")
        assert code in (0, 1, 2), f"{what}: exit code {code}"
        assert "Traceback" not in err, f"{what}: {err}"
        if code:
            assert str(bad) in err, f"{what}: {err}"


def test_damaged_model_files_through_the_explorer(small_model, tmp_path):
    pytest.importorskip("fastapi")
    from glassnet.server import TrainConfig
    from server_helpers import api_client, open_session

    raw, _ = small_model
    cases = _header_length_flips(raw) + _damaged(raw, header_bytes=0)[::23]
    with open_session(TrainConfig(dataset="xor", hidden=(2,))) as s, api_client(s, tmp_path) as c:
        for what, content in cases:
            r = c.post("/api/model", params={"filename": "m.npz"}, content=content)
            assert r.status_code < 500, f"{what}: {r.status_code} {r.text[:300]}"
            if r.status_code >= 400:
                assert "m.npz" in r.json()["detail"], f"{what}: {r.text[:300]}"


# ------------------------------------------------------------------------------------------- forged checkpoints


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """An Adam checkpoint with early stopping (moments, kept weights, generator state) and the data it was made on."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    seen = {}

    def keep(state):
        seen[state.epoch] = state.solver_state

    clf = glassnet.Classifier(hidden_layer_sizes=(3,), solver="adam", batch_size=16, max_iter=3, random_state=0,
                              early_stopping=True, validation_fraction=0.2, n_iter_no_change=50)
    clf.fit(X, y, callbacks=keep)
    path = gio.save_checkpoint(clf, tmp_path_factory.mktemp("ckpt") / "c.npz", seen[2])
    return path, X, y


def _forge(src, dst, change_record=None, change_arrays=None):
    """A copy of checkpoint ``src`` with its record and arrays changed and the checksum recomputed (a forgery)."""
    with np.load(src, allow_pickle=False) as f:
        members = {k: f[k] for k in f.files}
    meta = json.loads(str(members.pop("metadata")))
    members.pop("checksum")
    if change_record:
        change_record(meta["checkpoint"])
    if change_arrays:
        change_arrays(members)
    text = json.dumps(meta)
    thetas = [members[f"theta_{i}"] for i in range(1, len(meta["layer_sizes"]))]
    extras = {k: v for k, v in members.items() if not k.startswith("theta_")}
    members["metadata"], members["checksum"] = np.array(text), np.array(gmodels._digest(thetas, text, extras))
    np.savez(dst, **members)
    return dst


def _set(key, value):
    return lambda record: record.__setitem__(key, value)


def _array(key, make):
    return lambda members: members.__setitem__(key, make(members[key]))


FORGERIES = {
    "moments in float32": (None, _array("opt_m_1", lambda a: a.astype(np.float32)), "must be finite float64"),
    "NaN moments": (None, _array("opt_m_1", lambda a: np.full_like(a, np.nan)), "must be finite float64"),
    "negative second moments": (None, _array("opt_v_1", lambda a: -np.ones_like(a)), "must be ≥ 0"),
    "kept weights in float32": (None, _array("best_theta_1", lambda a: a.astype(np.float32)),
                                "best_theta_\\* must be finite float64"),
    "a moment of the wrong shape": (None, _array("opt_m_2", lambda a: a[:, :1].copy()), "not shaped like"),
    "a step count of text": (_set("optimizer_scalars", {"t": "x"}), None, "'t' must be an int from 0"),
    "a step count too large for a float": (_set("optimizer_scalars", {"t": 10**400}), None, "'t' must be an int"),
    "a step count missing": (_set("optimizer_scalars", {}), None, "optimizer state holds"),
    "array names as text": (_set("optimizer_arrays", "mv"), None, "optimizer_arrays must be a list"),
    "a generator state of text": (_set("rng", "x"), None, "rng is not a state"),
    "another generator's state": (_set("rng", {"bit_generator": "MT19937", "state": {"key": [1], "pos": 0}}), None,
                                  "rng is not a state"),
    "a generator state of bad numbers": (_set("rng", {"bit_generator": "PCG64", "state": {"state": "a", "inc": 1},
                                                      "has_uint32": 0, "uinteger": 0}), None, "rng is not a state"),
    "a negative epoch": (_set("epoch", -1), None, "epoch must be an int"),
    "a best value of text": (_set("best", "x"), None, "record is incomplete or malformed"),
    "a NaN best value": (_set("best", {"__float__": "nan"}), None, "not NaN"),
    "fractional bad epochs": (_set("bad_epochs", 1.5), None, "bad_epochs must be an int"),
    "a best epoch of text": (_set("best_epoch", "x"), None, "best_epoch must be an int"),
    "another solver": (_set("solver", "sgd"), None, "is of solver 'sgd'"),
    "a missing field": (lambda record: record.pop("rng"), None, "record is incomplete"),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_forged_checkpoint_is_one_clear_error(checkpoint, tmp_path, forgery):
    path, X, y = checkpoint
    record, arrays, message = FORGERIES[forgery]
    bad = _forge(path, tmp_path / "forged.npz", record, arrays)
    with pytest.raises(ModelFileError, match=f"forged.npz: checkpoint .*{message}"):
        gio.load_checkpoint(bad)


def _fuzzed(raw: bytes, seed: int = 0, head: int = 512, sampled: int = 400) -> list[tuple[str, bytes]]:
    """Every byte of the first ``head`` inverted, ``sampled`` single-bit flips anywhere (fixed seed), and cuts."""
    rng = np.random.default_rng(seed)
    cases = [(f"byte {i} inverted", raw[:i] + bytes([raw[i] ^ 0xFF]) + raw[i + 1:]) for i in range(min(head, len(raw)))]
    for i, b in zip(rng.integers(0, len(raw), sampled), rng.integers(0, 8, sampled)):
        cases.append((f"bit {b} of byte {i}", raw[:i] + bytes([raw[i] ^ (1 << int(b))]) + raw[i + 1:]))
    cases += [(f"cut at {n}", raw[:n]) for n in rng.integers(0, len(raw), 50)]
    return cases


def test_every_fuzzed_copy_of_a_model_file_loads_or_names_the_file(small_model, tmp_path):
    raw, _ = small_model
    bad = tmp_path / "fuzzed.npz"
    refused = 0
    for what, content in _fuzzed(raw, seed=1):
        bad.write_bytes(content)
        try:
            gio.load_any(bad)
        except (ModelFileError, DataError) as exc:
            assert str(exc).startswith(f"{bad}: "), f"{what}: {exc}"
            refused += 1
        except Exception as exc:
            pytest.fail(f"{what}: load_any raised {type(exc).__name__}: {exc}")
    assert refused > 0


def test_every_damaged_copy_of_a_checkpoint_resumes_or_names_the_file(checkpoint, tmp_path):
    """The checkpoint's fuzz: each outcome is a checkpoint that loads (damage in fields nobody reads) or one
    ModelFileError naming the file; no other exception escapes."""
    path, X, y = checkpoint
    bad = tmp_path / "damaged.npz"
    outcomes = {"loaded": 0, "refused": 0}
    for what, content in _fuzzed(path.read_bytes()):
        bad.write_bytes(content)
        try:
            model, state = gio.load_checkpoint(bad)
        except (ModelFileError, DataError) as exc:
            assert str(exc).startswith(f"{bad}: "), f"{what}: {exc}"
            outcomes["refused"] += 1
        except Exception as exc:
            pytest.fail(f"{what}: load_checkpoint raised {type(exc).__name__}: {exc}")
        else:
            assert state is not None and state.epoch == 2, what
            outcomes["loaded"] += 1
    assert outcomes["refused"] > outcomes["loaded"] > 0, outcomes


def test_an_unforged_checkpoint_still_resumes(checkpoint, tmp_path):
    path, X, y = checkpoint
    same = _forge(path, tmp_path / "same.npz")  # rewritten by the forger's code, nothing changed
    model, state = gio.load_checkpoint(same)
    assert state is not None and state.epoch == 2
    model.set_params(max_iter=1).fit(X, y, resume=state)


# ---------------------------------------------------------------------------------------------- history JSON


@pytest.mark.parametrize("content, message", [
    ("[" * 100_000 + "]" * 100_000, "nested 100000 levels deep; glassnet reads JSON at most 32"),
    ('{"train": [[1]]}', "history\\['train'\\]: expected a list of numbers, found \\[1\\]"),
    ('{"train": [1, 2, null]}', "history\\['train'\\]: expected a list of numbers, found None"),
    ('{"train": [1, 2], "validation": {"a": 1}}', "history\\['validation'\\]: expected a list of numbers, got dict"),
    ('{"train": [1, ' + "9" * 400 + "]}", "is too large for a cost"),
    ('{"train": [1, 2', "not valid JSON"),
])
def test_plot_curves_refuses_bad_history_json(tmp_path, capsys, content, message):
    history = tmp_path / "h.json"
    history.write_text(content)
    code, _, err = run(capsys, "plot", "curves", "--history", history, "-o", tmp_path / "c.png")
    assert code == 1 and "Traceback" not in err
    assert re.search(message, err) and str(history) in err


def test_plot_curves_refuses_a_huge_history_before_reading_it(tmp_path, capsys, monkeypatch):
    from glassnet.cli import explain as cli_explain

    monkeypatch.setattr(cli_explain, "MAX_HISTORY_BYTES", 1000)
    history = tmp_path / "h.json"
    history.write_text('{"train": [1, 2]' + " " * 2000 + "}")
    code, _, err = run(capsys, "plot", "curves", "--history", history, "-o", tmp_path / "c.png")
    assert code == 1 and "more than the limit of 1000 bytes" in err and "Traceback" not in err


# ------------------------------------------------------------------------------------- data near the float limit


def test_csv_data_near_the_float_limit_is_refused_on_load(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("a,b,label\n1,2,0\n1e308,3,1\n4,5,0\n")
    with pytest.raises(DataError, match=r"big.csv: line 3, column 'a': 1e\+308 is too large; .* rescale the data"):
        datasets.load(path)


def test_npz_data_near_the_float_limit_is_refused_on_load(tmp_path):
    path = tmp_path / "big.npz"
    np.savez(path, X=np.array([[1.0, 2.0], [3.0, -1e200]]), y=np.array([0, 1]))
    with pytest.raises(DataError, match=r"big.npz: array 'X', row 1, column 1: -1e\+200 is too large"):
        datasets.load(path)
    np.savez(path, X=np.array([[1.0, 2.0], [3.0, 1e150]]), y=np.array([0, 1]))  # below the limit: read as is
    assert datasets.load(path).X[1, 1] == 1e150


def test_data_near_the_float_limit_is_refused_on_upload(tmp_path):
    pytest.importorskip("fastapi")
    from glassnet.server import TrainConfig
    from server_helpers import api_client, detail, open_session

    body = b"a,b,label\n1e308,1,0\n1e308,2,1\n-1e308,3,0\n1,4,1\n"
    with open_session(TrainConfig(dataset="xor")) as s, api_client(s, tmp_path) as c:
        r = c.post("/api/dataset", params={"filename": "big.csv"}, content=body)
        assert r.status_code == 422 and "big.csv: line 2, column 'a'" in detail(r) and "too large" in detail(r)
        assert c.get("/api/state").json()["config"]["dataset"] == "xor"
