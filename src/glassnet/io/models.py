"""Model files: save and load trained networks safely, and write any file atomically.

:func:`save` / :func:`load` store a fitted :class:`glassnet.Classifier`; :func:`save_thetas` / :func:`load_thetas`
store a bare list of Θ with a metadata dict. :func:`atomic_write` is the building block: every file is written to a
temporary file in the same folder, flushed, fsync'ed and moved over the target with ``os.replace`` (then the folder
is fsync'ed), so a save that is killed at any moment leaves either the old file or the new one. That also makes
``save(model, path)`` safe to call as a training checkpoint every few epochs.

File format (version 1): one ``.npz`` archive, readable with ``numpy.load(path, allow_pickle=False)``, holding

- ``theta_1, theta_2, ...``: Θ^(1), Θ^(2), ... (``theta_l`` has shape (s_{l+1}, s_l + 1), bias column first);
- ``metadata``: a JSON string with ``format = "glassnet-model"``, ``format_version``, ``glassnet_version``,
  ``saved_at``, ``layer_sizes``, ``dtype`` and, for a Classifier, ``estimator``, ``params`` (``get_params()``),
  ``alpha`` (λ), ``classes``, ``n_features_in``, ``n_iter``, ``history`` and ``random_state``;
- ``checksum``: ``"sha256:<hex>"`` over the Θ arrays (names, dtypes, shapes, bytes) and the metadata string.

Nothing is ever pickled: class labels are stored as JSON values, and parameters that JSON cannot hold (a callback, a
``numpy`` Generator as ``random_state``) are left out and listed under ``unsaved_params``. The checksum detects
corruption and accidental edits; it is not a signature (anyone can recompute it). Safety against a crafted file
comes from the reader: it checks every array header before allocating and refuses object arrays and metadata nested
more than :data:`MAX_METADATA_DEPTH` levels. Any problem when
loading raises :class:`glassnet.ModelFileError` naming the file and what is wrong.

Training checkpoints (:func:`save_checkpoint` / :func:`load_checkpoint`) are model files with more: the run's
:class:`glassnet.train.optimize.SolverState` as members ``opt_<name>_<l>`` (optimizer moments) and ``best_theta_<l>``
(early stopping's kept weights), covered by the checksum, and its numbers (epoch, Adam's step count, the shuffling
generator's state, early-stopping counters) under ``checkpoint`` in the metadata; :func:`checkpoint_path` names the
sibling file a run checkpoints to. Reading is budgeted: every header is checked and the arrays' size once converted
(:mod:`glassnet._support.memory`) compared with ``max_bytes`` and the available memory, and the checksum is verified on
the streamed bytes, all before any weight is allocated.

Not for: data sets (see :mod:`glassnet.datasets`) or exchange formats of other libraries (see ``glassnet.io.interop``).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._support.atomic import atomic_write
from glassnet._support.jsonsafe import MAX_DEPTH, loads_bounded
from glassnet._support.npzfile import check_budget, iter_data, member_header, open_npz, read_data
from glassnet._support.paths import existing_file
from glassnet._validation import check_thetas
from glassnet._version import __version__
from glassnet.datasets.builtin import check_scaling
from glassnet.datasets.files import MAT_IMAGE_ORDER
from glassnet.errors import ModelFileError
from glassnet.estimator import Classifier, Regressor
from glassnet.io.interop import load_mat, load_nielsen
from glassnet.outputs import OutputLayer, n_outputs
from glassnet.train.optimize import History, SolverState, make_rule

__all__ = ["save", "load", "load_any", "model_format", "input_image_order", "save_thetas", "load_thetas",
           "save_checkpoint", "load_checkpoint", "checkpoint_path", "atomic_write", "FORMAT_NAME", "FORMAT_VERSION"]

FORMAT_NAME = "glassnet-model"
#: The version this glassnet writes; it reads every version up to this one.
FORMAT_VERSION = 1
#: Model files larger than this are refused before reading (2 GiB).
MAX_MODEL_BYTES = 2 << 30

#: The largest metadata and checksum strings read (4 bytes per character as numpy stores them): a long training
#: history is a few MB of JSON; the checksum is "sha256:" and 64 hex digits.
_MAX_STRING_BYTES = {"metadata": 256 << 20, "checksum": 4 * 128}
_RESERVED = ("format", "format_version", "glassnet_version", "saved_at", "layer_sizes", "dtype")
_THETA_KEY = re.compile(r"theta_([1-9][0-9]*)")
#: Checkpoint arrays: optimizer state ``opt_<name>_<l>`` (e.g. Adam's ``opt_m_1``) and kept weights ``best_theta_<l>``.
_STATE_KEY = re.compile(r"(opt_[a-z][a-z0-9]*|best_theta)_([1-9][0-9]*)")
#: glassnet's own metadata nests a few levels (history, params, the checkpoint's generator state); deeper is refused
#: before parsing (the one JSON depth rule, :data:`glassnet._support.jsonsafe.MAX_DEPTH`).
MAX_METADATA_DEPTH = MAX_DEPTH
_ESTIMATOR = "glassnet.Classifier"
#: The other estimators a model file may hold: a Regressor (no classes) and a multilabel Classifier (one sigmoid unit
#: per label column, no class labels either).
_REGRESSOR = "glassnet.Regressor"
_MULTILABEL = "glassnet.Classifier (multilabel)"
_ESTIMATORS = (_ESTIMATOR, _REGRESSOR, _MULTILABEL)


# ----------------------------------------------------------------------------------------------- JSON values


class _Unsaveable(TypeError):
    pass


def _to_json(value: Any, where: str) -> Any:
    """A JSON-safe copy of ``value``; tuples and non-finite floats are tagged so :func:`_from_json` restores them."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name  # e.g. dtype=np.float32: its name means the same to every glassnet parameter
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else {"__float__": repr(v)}
    if isinstance(value, tuple):
        return {"__tuple__": [_to_json(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_to_json(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise _Unsaveable(f"{where}: dict key {k!r} is not a string")
            if k.startswith("__") and k.endswith("__"):
                raise _Unsaveable(f"{where}: dict key {k!r} is reserved for glassnet's own tags")
            out[k] = _to_json(v, f"{where}[{k!r}]")
        return out
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.size <= 100_000:
        return {"__ndarray__": _to_json(value.tolist(), where), "dtype": value.dtype.str}
    raise _Unsaveable(f"{where}: a {type(value).__name__} cannot be stored without pickle")


def _from_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_from_json(v) for v in value["__tuple__"])
        if set(value) == {"__float__"} and value["__float__"] in ("nan", "inf", "-inf"):
            return float(value["__float__"])
        if set(value) == {"__ndarray__", "dtype"}:
            dtype = np.dtype(value["dtype"])
            if dtype.kind not in "biuf":
                raise ValueError(f"array dtype {value['dtype']!r} is not numeric")
            return np.array(_from_json(value["__ndarray__"]), dtype=dtype)
        return {k: _from_json(v) for k, v in value.items()}
    return value


# ------------------------------------------------------------------------------------------- Θ + metadata files


def _digest(thetas: Sequence[np.ndarray], metadata_json: str, extras: Mapping[str, np.ndarray] | None = None) -> str:
    h = hashlib.sha256()
    named = [(f"theta_{i}", t) for i, t in enumerate(thetas, start=1)]
    named += sorted((extras or {}).items())  # checkpoint state; absent from model files, whose digest is unchanged
    for name, t in named:
        arr = np.ascontiguousarray(t)
        h.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.tobytes())
    h.update(b"metadata|")
    h.update(metadata_json.encode("utf-8"))
    return "sha256:" + h.hexdigest()


class _Digest:
    """:func:`_digest` computed from streamed member bytes (the reader checks it before allocating the arrays)."""

    def __init__(self):
        self.h = hashlib.sha256()

    def member(self, name: str, dtype: np.dtype, shape: tuple, chunks) -> None:
        self.h.update(f"{name}|{dtype.str}|{shape}|".encode())
        for piece in chunks:
            self.h.update(piece)

    def finish(self, metadata_json: str) -> str:
        self.h.update(b"metadata|")
        self.h.update(metadata_json.encode("utf-8"))
        return "sha256:" + self.h.hexdigest()


def _check_thetas_for_saving(thetas) -> tuple[list[np.ndarray], list[int]]:
    """Θ as a file stores them: floats (the library's Θ check), in one precision (mixed ones as the wider), C order."""
    arrays, sizes = check_thetas(thetas, floats_only=True)
    dtype = np.result_type(*arrays)
    return [np.ascontiguousarray(t, dtype=dtype) for t in arrays], sizes


def save_thetas(
    path: str | os.PathLike, thetas: Sequence[np.ndarray], metadata: Mapping[str, Any] | None = None
) -> Path:
    """Atomically write Θ^(1), Θ^(2), ... and a JSON-safe ``metadata`` dict to ``path`` (exactly that name).

    Parameters
    ----------
    path : str or path-like
        Target file; ``.npz`` is the customary suffix but is not added.
    thetas : list of ndarray
        ``thetas[l - 1]`` of shape (s_{l+1}, s_l + 1), float32 or float64 (mixed precisions are stored as float64).
    metadata : mapping, optional
        JSON-safe values (numbers, strings, bools, None, lists, tuples, dicts with str keys, small numeric arrays).
        The keys ``format``, ``format_version``, ``glassnet_version``, ``saved_at``, ``layer_sizes`` and ``dtype``
        are filled in by glassnet and may not be given.

    Returns
    -------
    Path
        The file written.
    """
    return _write_model(path, thetas, metadata, None)


def _write_model(path, thetas, metadata, extras: Mapping[str, np.ndarray] | None) -> Path:
    """:func:`save_thetas` with the extra (checkpoint state) arrays ``extras``, covered by the checksum."""
    arrays, sizes = _check_thetas_for_saving(thetas)
    metadata = dict(metadata or {})
    clash = sorted(set(metadata) & set(_RESERVED))
    if clash:
        raise ValueError(f"metadata: keys {clash} are written by glassnet itself; rename them")
    try:
        user = _to_json(metadata, "metadata")
    except _Unsaveable as exc:
        raise ValueError(str(exc)) from None
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "glassnet_version": __version__,
        "saved_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "layer_sizes": sizes,
        "dtype": arrays[0].dtype.name,
        **user,
    }
    text = json.dumps(meta, allow_nan=False, ensure_ascii=False)
    members = {f"theta_{i}": t for i, t in enumerate(arrays, start=1)}
    extras = {k: np.ascontiguousarray(v) for k, v in (extras or {}).items()}
    members.update(extras)
    members["metadata"] = np.array(text)
    members["checksum"] = np.array(_digest(arrays, text, extras))
    # mypy reads **members as if it could fill savez's allow_pickle flag
    return atomic_write(path, lambda f: np.savez(f, **members))  # type: ignore[arg-type]


def _read_model_file(path, max_bytes: int) -> tuple[Path, list[np.ndarray], dict[str, Any], dict[str, np.ndarray]]:
    path = existing_file(path, what="model file", not_regular=ModelFileError)

    def fail(message: str) -> ModelFileError:
        return ModelFileError(f"{path}: {message}")

    if path.stat().st_size == 0:
        raise fail("file is empty (not a glassnet model file)")
    zf, infos = open_npz(path, ModelFileError, max_bytes)
    with zf:
        headers = {k: member_header(zf, info, path, ModelFileError, "fU") for k, info in infos.items()}
        for key in ("metadata", "checksum"):
            mem = headers.get(key)
            if mem is None or mem.dtype.kind != "U" or mem.shape != ():
                raise fail(f"not a glassnet model file (no {key!r} string; it holds {sorted(headers)[:10]})")
            if mem.nbytes > _MAX_STRING_BYTES[key]:  # a forged header could declare a string of gigabytes
                raise fail(f"its {key} string is {mem.nbytes} bytes, more than the {_MAX_STRING_BYTES[key]} "
                           f"glassnet writes at most")
        check_budget(list(headers.values()), path, ModelFileError, max_bytes)
        text = str(read_data(zf, headers.pop("metadata"), path, ModelFileError)[()])
        checksum = str(read_data(zf, headers.pop("checksum"), path, ModelFileError)[()])
        meta, names, extra_names = _check_metadata(path, text, headers)
        # the checksum is verified on the streamed bytes before any weight is allocated: a file that is refused
        # costs no memory, however large the arrays its headers declare
        h = _Digest()
        for name in names + sorted(extra_names):
            mem = headers[name]
            if mem.fortran_order:
                raise fail(f"array {name!r} is stored in Fortran order (not written by glassnet)")
            h.member(name, mem.dtype, mem.shape, iter_data(zf, mem, path, ModelFileError))
        if h.finish(text) != checksum:
            raise fail("checksum mismatch: the file was modified or corrupted after it was written")
        thetas = [read_data(zf, headers[n], path, ModelFileError) for n in names]
        extras = {n: read_data(zf, headers[n], path, ModelFileError) for n in extra_names}
    return _check_model(path, thetas, meta, extras)


def _check_metadata(path: Path, text: str, headers) -> tuple[dict[str, Any], list[str], list[str]]:
    """The parsed metadata and the names of the Θ and checkpoint arrays, every rule that needs no data checked."""

    def fail(message: str) -> ModelFileError:
        return ModelFileError(f"{path}: {message}")

    try:
        meta = loads_bounded(text, MAX_METADATA_DEPTH)
    except ValueError as exc:
        raise fail(f"metadata is {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        what = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise fail(f"not a glassnet model file (format {what!r}, expected {FORMAT_NAME!r})")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise fail(f"bad format_version {version!r}")
    if version > FORMAT_VERSION:
        raise fail(f"written in model format version {version} by glassnet {meta.get('glassnet_version', '?')}; "
                   f"this glassnet ({__version__}) reads versions up to {FORMAT_VERSION}: upgrade glassnet")
    numbers, extras = [], []
    for key in headers:
        if "checkpoint" in meta and _STATE_KEY.fullmatch(key):
            extras.append(key)
            continue
        match = _THETA_KEY.fullmatch(key)
        if match is None:
            raise fail(f"unexpected array {key!r} (not written by glassnet, or tampered with)")
        numbers.append(int(match.group(1)))
    if sorted(numbers) != list(range(1, len(numbers) + 1)) or not numbers:
        raise fail(f"expected arrays theta_1 ... theta_L without gaps, found {sorted(headers)}")
    return meta, [f"theta_{i}" for i in range(1, len(numbers) + 1)], extras


def _check_model(path: Path, thetas, meta, extras):
    def fail(message: str) -> ModelFileError:
        return ModelFileError(f"{path}: {message}")

    try:
        thetas, sizes = check_thetas(thetas, floats_only=True)
    except ValueError as exc:
        raise fail(f"the weights do not form a network: {exc}") from None
    if meta.get("layer_sizes") != sizes:
        raise fail(f"metadata says layer sizes {meta.get('layer_sizes')}, the weights have {sizes}")
    if any(t.dtype.name != meta.get("dtype") for t in thetas):
        raise fail(f"metadata says dtype {meta.get('dtype')!r}, the weights are {thetas[0].dtype.name}")
    try:
        meta = _from_json(meta)
    except (ValueError, TypeError) as exc:
        raise fail(f"metadata holds a malformed value ({exc})") from None
    return path, thetas, meta, extras


def load_thetas(
    path: str | os.PathLike, *, max_bytes: int = MAX_MODEL_BYTES
) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Read a file written by :func:`save_thetas` or :func:`save`.

    Returns
    -------
    thetas : list of ndarray
        ``[Θ^(1), Θ^(2), ...]`` with the stored dtype.
    metadata : dict
        Everything in the metadata JSON (tuples, NaN/inf and small arrays restored), including the keys glassnet
        adds (``format_version``, ``layer_sizes``, ``dtype``, ...).

    Raises
    ------
    ModelFileError
        Not an npz/zip file, truncated, checksum mismatch, unknown or newer format version, inconsistent content.
    FileNotFoundError
        No file at ``path``.
    """
    _, thetas, meta, _ = _read_model_file(path, max_bytes)
    return thetas, meta


# --------------------------------------------------------------------------------------------- Classifier files


def _classes_to_json(classes) -> tuple[list, str]:
    arr = np.asarray(classes)
    if arr.ndim != 1 or arr.size < 1:
        raise ValueError(f"classes_: expected a 1-D array of class labels, got shape {arr.shape}")
    if arr.dtype.kind in "biuU":
        return arr.tolist(), arr.dtype.str
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ValueError("classes_: NaN or inf class labels cannot be saved")
        return arr.tolist(), arr.dtype.str
    if arr.dtype.kind == "O":
        items = arr.tolist()
        if all(isinstance(c, str) for c in items) or all(
                isinstance(c, int) and not isinstance(c, bool) for c in items):
            return items, "object"
        kinds = sorted({type(c).__name__ for c in items})
        raise ValueError(f"classes_: an object array of {', '.join(kinds)} labels cannot be stored without pickle; "
                         "use int or str labels")
    raise ValueError(f"classes_: labels of dtype {arr.dtype} cannot be saved; use int, float, bool or str labels")


def _classes_from_json(values, dtype: str | None, fail) -> np.ndarray:
    if not isinstance(values, list) or not values:
        raise fail(f"classes must be a non-empty list, got {values!r}")
    if dtype == "object":
        if not (all(isinstance(c, str) for c in values) or all(isinstance(c, int) for c in values)):
            raise fail("object classes must be all strings or all ints")
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    try:
        np_dtype = np.dtype(dtype)
        if np_dtype.kind not in "biufU":
            raise TypeError(f"dtype {dtype!r} is not allowed")
        arr = np.array(values, dtype=np_dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise fail(f"classes cannot be restored as {dtype!r} ({exc})") from None
    if arr.ndim != 1:
        raise fail(f"classes must be a flat list of labels, got nested lists (shape {arr.shape})")
    return arr


def save(model, path: str | os.PathLike) -> Path:
    """Atomically save a fitted :class:`glassnet.Classifier` to ``path`` (exactly that name; ``.npz`` customary).

    Stores Θ, ``classes_``, ``n_features_in_``, ``n_iter_``, ``history_``, the hyper-parameters from
    ``get_params()`` and the glassnet version; see the module docstring for the format. Safe as a training
    checkpoint: a save interrupted at any moment leaves the previous file intact.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        The model has no ``thetas_`` yet.
    ValueError
        Class labels that cannot be stored without pickle (object arrays of mixed types, ...).
    """
    if getattr(model, "thetas_", None) is None:
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(f"{type(model).__name__} is not fitted yet: call fit before save")
    thetas, meta = _model_metadata(model)
    return save_thetas(path, thetas, meta)


def _kind_of(model) -> str:
    """The ``estimator`` entry of a model file for ``model``."""
    if isinstance(model, Regressor):
        return _REGRESSOR
    return _MULTILABEL if getattr(model, "multilabel_", False) else _ESTIMATOR


def _model_metadata(model) -> tuple[list, dict[str, Any]]:
    """Θ and the metadata dict :func:`save` stores for a fitted Classifier."""
    try:
        params = model.get_params(deep=False)
    except TypeError:
        params = model.get_params()
    saved, unsaved = {}, {}
    for name, value in params.items():
        try:
            _to_json(value, f"params[{name!r}]")  # only to learn whether JSON can hold it
        except _Unsaveable:
            unsaved[name] = type(value).__name__
        else:
            saved[name] = value
    thetas = list(model.thetas_)
    kind = _kind_of(model)
    classes = classes_dtype = None
    if kind == _ESTIMATOR:
        _classes_to_json(model.classes_)  # labels JSON cannot hold: refused before anything else
        units = model.output_layer_ if hasattr(model, "output_layer_") else OutputLayer(model.classes_)  # unit order
        if np.shape(thetas[-1])[0] != units.K:
            raise ValueError(f"model: {len(units.classes)} classes need {units.K} output units, "
                             f"but Θ^({len(thetas)}) has {np.shape(thetas[-1])[0]}")
        classes, classes_dtype = _classes_to_json(units.classes)
    history = getattr(model, "history_", None)
    history_dict = None if history is None else history.to_dict()
    n_iter = getattr(model, "n_iter_", None)
    meta = {
        "estimator": kind,
        "params": saved,
        "unsaved_params": unsaved,
        "alpha": saved.get("alpha"),
        "random_state": saved.get("random_state"),
        "classes": classes,
        "classes_dtype": classes_dtype,
        "n_features_in": int(model.n_features_in_),
        "n_iter": None if n_iter is None else int(n_iter),
        "history": history_dict,
    }
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        meta["feature_names_in"] = [str(n) for n in names]
    for attribute in ("input_scaling_", "feature_scaling_"):
        scaling = getattr(model, attribute, None)
        if scaling is not None:
            meta[attribute[:-1]] = check_scaling(scaling, int(model.n_features_in_), ValueError, attribute)
    return thetas, meta


# ------------------------------------------------------------------------------------------------- checkpoints


def save_checkpoint(model, path: str | os.PathLike, solver_state=None) -> Path:
    """Atomically save a training checkpoint: the model as :func:`save` stores it plus the run's ``solver_state``.

    The one home of what a checkpoint holds. ``solver_state`` (:class:`glassnet.train.optimize.SolverState`, what
    callbacks see as ``state.solver_state``; None for the full-batch solvers) is stored without pickle: its arrays
    (optimizer moments ``opt_<name>_<l>``, early stopping's kept weights ``best_theta_<l>``) as members of the
    archive, covered by the checksum, and its numbers (epoch, Adam's step count, the shuffling generator's state,
    early-stopping counters) under ``checkpoint`` in the metadata JSON. :func:`load` reads a checkpoint as the model
    it holds; :func:`load_checkpoint` also returns the state, for ``Classifier.fit(..., resume=state)``.
    """
    if getattr(model, "thetas_", None) is None:
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(f"{type(model).__name__} is not fitted yet: nothing to checkpoint")
    thetas, meta = _model_metadata(model)
    extras: dict[str, np.ndarray] = {}
    record: dict[str, Any] = {"solver_state": solver_state is not None}
    if solver_state is not None:
        st = solver_state
        scalars, arrays = {}, []
        for key, value in st.optimizer.items():
            if not re.fullmatch(r"[a-z][a-z0-9]*", key):
                raise ValueError(f"solver_state.optimizer: key {key!r} cannot name an archive member; use a-z, 0-9")
            if isinstance(value, list):
                arrays.append(key)
                extras.update({f"opt_{key}_{i}": np.asarray(v) for i, v in enumerate(value, start=1)})
            else:
                scalars[key] = value
        if st.best_thetas is not None:
            extras.update({f"best_theta_{i}": np.asarray(t) for i, t in enumerate(st.best_thetas, start=1)})
        record.update(solver=st.solver, epoch=int(st.epoch), optimizer_scalars=scalars, optimizer_arrays=arrays,
                      rng=st.rng, best=float(st.best), bad_epochs=int(st.bad_epochs), best_epoch=st.best_epoch,
                      best_thetas=st.best_thetas is not None, lowest_cost=float(st.lowest_cost))
    meta["checkpoint"] = record
    try:
        _to_json(meta, "metadata")
    except _Unsaveable as exc:
        raise ValueError(f"solver_state: {exc}") from None
    return _write_model(path, thetas, meta, extras)


def checkpoint_path(save_path: str | os.PathLike) -> Path:
    """Where the checkpoints of a run that saves to ``save_path`` go: the sibling ``<name>.ckpt`` (``m.npz.ckpt``).

    A run writes its checkpoints there and replaces ``save_path`` only when it ends well, so a run that fails or is
    killed never touches the model it was told to replace.
    """
    save_path = Path(save_path)
    return save_path.with_name(save_path.name + ".ckpt")


def load_checkpoint(path: str | os.PathLike, *, max_bytes: int = MAX_MODEL_BYTES):
    """``(model, solver_state)`` of a file written by :func:`save_checkpoint`; any other model file (read by
    :func:`load_any`) gives its model and None.

    ``solver_state`` is a :class:`glassnet.train.optimize.SolverState`, or None for a plain model file or a full-batch
    run's checkpoint (L-BFGS/CG keep their memory inside scipy: such a run resumes from the weights alone).

    Raises
    ------
    ModelFileError
        As :func:`load`, or a checkpoint record that is incomplete or inconsistent with its arrays.
    """

    if model_format(path) != "npz":
        return load_any(path, max_bytes=max_bytes), None
    path, thetas, meta, extras = _read_model_file(path, max_bytes)
    if meta.get("estimator") not in _ESTIMATORS:
        return _bare_classifier(path, thetas, meta, None), None
    model = _classifier_from(path, thetas, meta)
    record = meta.get("checkpoint")
    if not isinstance(record, dict) or not record.get("solver_state"):
        return model, None

    def fail(message: str) -> ModelFileError:
        return ModelFileError(f"{path}: checkpoint {message}")

    def layers(prefix: str) -> list[np.ndarray]:
        found = [extras.pop(f"{prefix}_{i}") for i in range(1, len(thetas) + 1) if f"{prefix}_{i}" in extras]
        if [a.shape for a in found] != [t.shape for t in thetas]:
            raise fail(f"arrays {prefix}_1 ... {prefix}_{len(thetas)} missing or not shaped like the weights")
        return found

    if record.get("solver") != model.solver:
        raise fail(f"is of solver {record.get('solver')!r}, the model's is {model.solver!r}")
    try:
        optimizer = dict(record["optimizer_scalars"])
        arrays = record["optimizer_arrays"]
        if not isinstance(arrays, list) or not all(isinstance(k, str) for k in arrays):
            raise TypeError(f"optimizer_arrays must be a list of names, got {arrays!r}"[:200])
        for key in arrays:
            optimizer[key] = layers(f"opt_{key}")
        best_thetas = layers("best_theta") if record["best_thetas"] else None
        state = SolverState(solver=str(record["solver"]), epoch=record["epoch"], optimizer=optimizer,
                            rng=record["rng"], best=float(record["best"]), bad_epochs=record["bad_epochs"],
                            best_epoch=record["best_epoch"], best_thetas=best_thetas,
                            lowest_cost=float(record["lowest_cost"]))
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise fail(f"record is incomplete or malformed ({type(exc).__name__}: {exc})") from None
    if extras:
        raise fail(f"holds arrays no record mentions: {sorted(extras)[:5]}")
    _check_solver_state(state, model.thetas_, fail)
    return model, state


def _is_count(value) -> bool:
    """An int ≥ 0 that is also exact as a float (Adam raises β to its step count: a larger one overflows)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 2**53


def _check_solver_state(state: SolverState, thetas, fail) -> None:
    """Every field of a checkpoint's solver state checked against what its update rule makes (a forged record with
    the checksum recomputed is refused here, naming the field, instead of failing inside the resumed run)."""
    if not _is_count(state.epoch):
        raise fail(f"epoch must be an int from 0 to 2**53, got {state.epoch!r}")
    template = make_rule(state.solver).init(thetas)
    if set(state.optimizer) != set(template):
        raise fail(f"optimizer state holds {sorted(state.optimizer)}, solver {state.solver!r} keeps {sorted(template)}")
    dtype = thetas[0].dtype
    for key, value in template.items():
        saved = state.optimizer[key]
        if isinstance(value, list):
            if not isinstance(saved, list) or any(a.dtype != dtype or not np.isfinite(a).all() for a in saved):
                raise fail(f"arrays opt_{key}_* must be finite {dtype} arrays like the weights")
            if key == "v" and any((a < 0).any() for a in saved):  # Adam's second moments are squares
                raise fail("arrays opt_v_* (Adam's second moments) must be ≥ 0")
        elif not _is_count(saved):
            raise fail(f"optimizer value {key!r} must be an int from 0 to 2**53, got {saved!r}"[:200])
    if state.best_thetas is not None and any(a.dtype != dtype or not np.isfinite(a).all() for a in state.best_thetas):
        raise fail(f"arrays best_theta_* must be finite {dtype} arrays like the weights")
    if not _is_count(state.bad_epochs):
        raise fail(f"bad_epochs must be an int from 0 to 2**53, got {state.bad_epochs!r}"[:200])
    if state.best_epoch is not None and not _is_count(state.best_epoch):
        raise fail(f"best_epoch must be an int from 0 to 2**53 or null, got {state.best_epoch!r}"[:200])
    if math.isnan(state.best) or math.isnan(state.lowest_cost):
        raise fail("best and lowest_cost must be numbers (inf before the first epoch), not NaN")
    if state.rng is not None:
        try:
            np.random.default_rng().bit_generator.state = state.rng
        except Exception as exc:  # whatever a forged dict makes NumPy raise: it is not a generator's state
            raise fail(f"rng is not a state of NumPy's default generator ({type(exc).__name__}: {exc})"[:300]) from None


def load(path: str | os.PathLike, *, max_bytes: int = MAX_MODEL_BYTES):
    """Load a :class:`glassnet.Classifier` saved by :func:`save`, ready to ``predict``.

    The classifier is built as ``Classifier(**params)`` with the saved hyper-parameters (those listed under
    ``unsaved_params`` take their defaults), then ``thetas_``, ``classes_``, ``n_features_in_``, ``n_iter_`` and
    ``history_`` are set.

    A model trained with ``glassnet train --scale`` also gets ``feature_scaling_``: its network's inputs are the
    scaled features. ``glassnet predict``, ``evaluate``, ``explain`` and ``serve`` scale every X they are given; in
    Python, scale raw features the same way first: ``model.predict(glassnet.datasets.apply_scaling(X,
    model.feature_scaling_))``. Likewise ``input_scaling_`` (a built-in dataset loaded by name) for raw features of
    that dataset.

    Raises
    ------
    ModelFileError
        Any problem with the file: not an npz/zip, truncated, checksum mismatch, unknown or newer format version,
        weights saved by :func:`save_thetas` without a classifier, inconsistent classes or sizes.
    FileNotFoundError
        No file at ``path``.
    """
    path, thetas, meta, _ = _read_model_file(path, max_bytes)
    if meta.get("estimator") not in _ESTIMATORS:
        raise ModelFileError(f"{path}: holds bare weights (estimator {meta.get('estimator')!r}), not a saved "
                             "Classifier; read it with glassnet.io.load_thetas")
    return _classifier_from(path, thetas, meta)


#: How :func:`load_any` tells the formats apart: by the first bytes, never by the name alone.
_NPZ_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_MAT_MAGIC = b"MATLAB"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def model_format(path: str | os.PathLike) -> str:
    """The kind of model file at ``path``, read from its content: ``"npz"``, ``"mat"`` or ``"json"``.

    glassnet's own files are zip archives (``.npz``), the course's weights are MATLAB files (v5 header; v4 files,
    which have no header, and v7.3 HDF5 files are recognised by a ``.mat`` name), Nielsen's are JSON objects.

    Raises
    ------
    ModelFileError
        None of these (names the file, what it starts with and the formats accepted).
    FileNotFoundError
        No file at ``path``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such model file")
    if not path.is_file():
        raise ModelFileError(f"{path}: not a regular file")
    with open(path, "rb") as f:
        head = f.read(128)
    if head.startswith(_NPZ_MAGIC):
        return "npz"
    if head.startswith(_MAT_MAGIC) or head.startswith(_HDF5_MAGIC) or (path.suffix.lower() == ".mat" and head):
        return "mat"
    if head.lstrip().startswith(b"{"):
        return "json"
    shown = "empty" if not head else f"starts with {head[:12]!r}"
    raise ModelFileError(f"{path}: not a model file glassnet can read ({shown}); expected a glassnet .npz model "
                         "file, the course's .mat weights (Theta1, Theta2, ...) or Nielsen's network JSON")


def input_image_order(path: str | os.PathLike) -> str:
    """How the model file at ``path`` expects an input image unrolled: ``"F"`` (column by column) for the course's
    ``.mat`` weights (:func:`model_format` ``"mat"``: trained on MATLAB's images), else ``"C"`` (row by row).

    The default pixel order of the pictures of such a model's weights (``glassnet plot hidden``).
    """
    return MAT_IMAGE_ORDER if model_format(path) == "mat" else "C"


def load_any(path: str | os.PathLike, *, classes=None, max_bytes: int = MAX_MODEL_BYTES):
    """Any model file, recognised by its content (:func:`model_format`), as a fitted :class:`glassnet.Classifier`.

    The one loader behind every tool that opens a model (``glassnet evaluate``, ``predict``, ``explain``, ``plot``,
    ``serve --model`` and the explorer's import):

    - a glassnet file written by :func:`save`: the Classifier as saved (:func:`load`);
    - bare weights written by :func:`save_thetas`: a Classifier with those weights (λ from ``lam``/``alpha`` in the
      metadata when present);
    - the course's ``.mat`` weights (``Theta1``, ``Theta2``, ...): the course's classes in its own unit order
      (:func:`glassnet.outputs.course_classes`: for ``ex4weights.mat`` unit 10 is the digit 0);
    - Nielsen's ``network2.py`` JSON.

    ``classes`` (labels in output-unit order) overrides the default classes of files that carry none (bare weights,
    ``.mat``, JSON); a glassnet Classifier file keeps its own.

    Raises
    ------
    ModelFileError, DataError, FileNotFoundError
        Naming the file and what is wrong.
    """
    kind = model_format(path)
    if kind == "mat":
        return load_mat(path, classes=classes)
    if kind == "json":
        return load_nielsen(path, classes=classes)
    path, thetas, meta, _ = _read_model_file(path, max_bytes)
    if meta.get("estimator") in _ESTIMATORS:
        return _classifier_from(path, thetas, meta)
    return _bare_classifier(path, thetas, meta, classes)


def _bare_classifier(path: str | os.PathLike, thetas: list[np.ndarray], meta: dict[str, Any], classes):
    """A Classifier of bare weights (:func:`save_thetas`), with the λ and history their metadata may hold."""

    def fail(message: str) -> ModelFileError:
        return ModelFileError(f"{path}: {message}")

    params: dict[str, Any] = {}
    lam = meta.get("lam", meta.get("alpha"))
    if isinstance(lam, (int, float)) and not isinstance(lam, bool) and math.isfinite(lam) and lam >= 0:
        params["alpha"] = float(lam)
    history = None
    if isinstance(meta.get("history"), dict):
        try:
            history = History.from_dict(meta["history"])
        except ValueError as exc:
            raise fail(f"bad training history ({exc})") from None
    try:
        return Classifier.from_weights(thetas, classes, history=history, **params)
    except ValueError as exc:
        raise fail(str(exc)) from None


def _classifier_from(path: str | os.PathLike, thetas: list[np.ndarray], meta: dict[str, Any]):
    """The Classifier (or Regressor, or multilabel Classifier) that a :func:`save` file describes, every field
    checked."""

    def fail(message: str) -> ModelFileError:
        return ModelFileError(f"{path}: {message}")

    kind = meta.get("estimator")
    sizes = meta["layer_sizes"]
    classes = None
    if kind == _ESTIMATOR:
        classes = _classes_from_json(meta.get("classes"), meta.get("classes_dtype"), fail)  # in output-unit order
        if len(classes) < 2 or len(np.unique(classes)) != len(classes):
            raise fail(f"classes must be at least 2 distinct labels, got {classes.tolist()[:10]}")
        if sizes[-1] != n_outputs(len(classes)):
            raise fail(f"{len(classes)} classes need {n_outputs(len(classes))} output units, the weights have "
                       f"{sizes[-1]}")
    estimator = Regressor if kind == _REGRESSOR else Classifier
    if meta.get("n_features_in") != sizes[0]:
        raise fail(f"n_features_in {meta.get('n_features_in')!r} does not match the input layer size {sizes[0]}")
    params = meta.get("params")
    if not isinstance(params, dict):
        raise fail("params must be a dict of hyper-parameters")
    history = History()  # a file without a history still gives a model whose curves are empty, not missing
    if meta.get("history") is not None:
        try:
            history = History.from_dict(meta["history"])
        except ValueError as exc:
            raise fail(f"bad training history ({exc})") from None
    n_iter = meta.get("n_iter")
    if n_iter is not None and (isinstance(n_iter, bool) or not isinstance(n_iter, int) or n_iter < 0):
        raise fail(f"n_iter must be a non-negative int, got {n_iter!r}")
    names = meta.get("feature_names_in")
    if names is not None and not isinstance(names, list):
        raise fail("feature_names_in must be a list of one string per input feature")
    try:
        estimator(**params)  # unknown or renamed hyper-parameters: say so before anything else
    except (TypeError, ValueError) as exc:
        raise fail(f"this glassnet's {estimator.__name__} does not accept the saved parameters ({exc})") from None
    common = dict(history=history, n_iter=n_iter, feature_names=names, **params)
    try:
        if kind == _REGRESSOR:
            model = Regressor.from_weights(thetas, **common)
        else:
            model = Classifier.from_weights(thetas, classes, multilabel=kind == _MULTILABEL, **common)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if meta.get("input_scaling") is not None:
        # how the raw features were scaled before training (a built-in dataset loaded by name): for tools that are
        # given raw features, so that they predict as the training did (see glassnet.datasets.apply_scaling)
        model.input_scaling_ = check_scaling(meta["input_scaling"], int(sizes[0]), fail, "input_scaling")
    if meta.get("feature_scaling") is not None:
        # the model's own first step (glassnet train --scale, fitted on its training rows): the tools apply it to every
        # X they are given (glassnet.cli's predict, evaluate, explain); a file without it loads as before
        model.feature_scaling_ = check_scaling(meta["feature_scaling"], int(sizes[0]), fail, "feature_scaling")
    return model
