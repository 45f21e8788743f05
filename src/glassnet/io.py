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
comes from the reader: it checks every array header before allocating and refuses object arrays. Any problem when
loading raises :class:`glassnet.ModelFileError` naming the file and what is wrong.

Not for: data sets (see :mod:`glassnet.datasets`) or exchange formats of other libraries (see ``glassnet.interop``).
"""

from __future__ import annotations

import contextlib
import datetime
import glob
import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from ._npzfile import read_npz
from .errors import ModelFileError
from .params import sizes_from_thetas

__all__ = ["save", "load", "load_any", "save_thetas", "load_thetas", "atomic_write", "FORMAT_NAME", "FORMAT_VERSION"]

FORMAT_NAME = "glassnet-model"
#: The version this glassnet writes; it reads every version up to this one.
FORMAT_VERSION = 1
#: Model files larger than this are refused before reading (2 GiB).
MAX_MODEL_BYTES = 2 << 30

_RESERVED = ("format", "format_version", "glassnet_version", "saved_at", "layer_sizes", "dtype")
_THETA_KEY = re.compile(r"theta_([1-9][0-9]*)")
_TEMP_MARK = ".tmp-"
_ESTIMATOR = "glassnet.Classifier"


# ------------------------------------------------------------------------------------------------ atomic writes


def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); folders cannot be opened this way on Windows."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on folders; the rename is still atomic
        pass
    finally:
        os.close(fd)


def _remove_stale_temps(path: Path) -> None:
    """Delete temp files of ``path`` left by writers that were killed (their pid is gone on this machine)."""
    if os.name != "posix":
        return
    prefix = f".{path.name}{_TEMP_MARK}"
    for stray in path.parent.glob(f"{glob.escape(prefix)}*"):
        try:
            pid = int(stray.name[len(prefix):].split("-", 1)[0])
        except ValueError:
            continue
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                stray.unlink()
        except OSError:  # alive but not ours (PermissionError): leave it
            pass


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    """Write a file so that readers only ever see the complete old or the complete new content.

    ``write(f)`` fills a temporary file ``.<name>.tmp-<pid>-<random>`` in the target's folder (hidden, and never
    named like the target, so it cannot be mistaken for a model); it is then flushed, fsync'ed and moved over
    ``path`` with ``os.replace``, and the folder is fsync'ed. If ``write`` raises, the temporary file is removed and
    the old file is untouched. Temporary files left by killed writers are removed by the next write.

    Returns the path written. The folder must exist (``FileNotFoundError`` otherwise).
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"{path}: folder {folder} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder; expected a file name")
    _remove_stale_temps(path)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{_TEMP_MARK}{os.getpid()}-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # mkstemp makes 0600; give the file the mode a plain open() would
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)
    return path


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


def _digest(thetas: Sequence[np.ndarray], metadata_json: str) -> str:
    h = hashlib.sha256()
    for i, t in enumerate(thetas, start=1):
        arr = np.ascontiguousarray(t)
        h.update(f"theta_{i}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.tobytes())
    h.update(b"metadata|")
    h.update(metadata_json.encode("utf-8"))
    return "sha256:" + h.hexdigest()


def _check_thetas_for_saving(thetas) -> tuple[list[np.ndarray], list[int]]:
    if isinstance(thetas, np.ndarray) or not isinstance(thetas, Sequence):
        raise ValueError("thetas: expected a list of 2-D arrays [Θ^(1), Θ^(2), ...]")
    sizes = sizes_from_thetas(thetas)
    arrays = [np.asarray(t) for t in thetas]
    for i, t in enumerate(arrays):
        if t.dtype.kind != "f":
            raise ValueError(f"thetas[{i}] (Θ^({i + 1})): expected floats, got dtype {t.dtype}")
        if not np.isfinite(t).all():
            raise ValueError(f"thetas[{i}] (Θ^({i + 1})): expected finite weights, found NaN or inf")
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
    arrays, sizes = _check_thetas_for_saving(thetas)
    metadata = dict(metadata or {})
    clash = sorted(set(metadata) & set(_RESERVED))
    if clash:
        raise ValueError(f"metadata: keys {clash} are written by glassnet itself; rename them")
    try:
        user = _to_json(metadata, "metadata")
    except _Unsaveable as exc:
        raise ValueError(str(exc)) from None
    from ._version import __version__

    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "glassnet_version": __version__,
        "saved_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "layer_sizes": sizes,
        "dtype": arrays[0].dtype.name,
        **user,
    }
    text = json.dumps(meta, allow_nan=False, ensure_ascii=False)
    members = {f"theta_{i}": t for i, t in enumerate(arrays, start=1)}
    members["metadata"] = np.array(text)
    members["checksum"] = np.array(_digest(arrays, text))
    return atomic_write(path, lambda f: np.savez(f, **members))


def _read_model_file(path, max_bytes: int) -> tuple[Path, list[np.ndarray], dict[str, Any]]:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a file path (str or os.PathLike), got {type(path).__name__}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such model file")
    if not path.is_file():
        raise ModelFileError(f"{path}: not a regular file")

    def fail(message: str) -> ModelFileError:
        return ModelFileError(f"{path}: {message}")

    if path.stat().st_size == 0:
        raise fail("file is empty (not a glassnet model file)")
    members = read_npz(path, None, error=ModelFileError, kinds="fU", max_bytes=max_bytes)
    for key in ("metadata", "checksum"):
        arr = members.get(key)
        if arr is None or arr.dtype.kind != "U" or arr.shape != ():
            raise fail(f"not a glassnet model file (no {key!r} string; it holds {sorted(members)[:10]})")
    text, checksum = str(members.pop("metadata")), str(members.pop("checksum"))
    try:
        meta = json.loads(text)
    except ValueError as exc:
        raise fail(f"metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        what = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise fail(f"not a glassnet model file (format {what!r}, expected {FORMAT_NAME!r})")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise fail(f"bad format_version {version!r}")
    if version > FORMAT_VERSION:
        from ._version import __version__

        raise fail(f"written in model format version {version} by glassnet {meta.get('glassnet_version', '?')}; "
                   f"this glassnet ({__version__}) reads versions up to {FORMAT_VERSION}: upgrade glassnet")
    numbers = []
    for key in members:
        match = _THETA_KEY.fullmatch(key)
        if match is None:
            raise fail(f"unexpected array {key!r} (not written by glassnet, or tampered with)")
        numbers.append(int(match.group(1)))
    if sorted(numbers) != list(range(1, len(numbers) + 1)) or not numbers:
        raise fail(f"expected arrays theta_1 ... theta_L without gaps, found {sorted(members)}")
    thetas = [members[f"theta_{i}"] for i in range(1, len(numbers) + 1)]
    if _digest(thetas, text) != checksum:
        raise fail("checksum mismatch: the file was modified or corrupted after it was written")
    try:
        sizes = sizes_from_thetas(thetas)
    except ValueError as exc:
        raise fail(f"the weights do not form a network: {exc}") from None
    if meta.get("layer_sizes") != sizes:
        raise fail(f"metadata says layer sizes {meta.get('layer_sizes')}, the weights have {sizes}")
    if any(t.dtype.name != meta.get("dtype") for t in thetas):
        raise fail(f"metadata says dtype {meta.get('dtype')!r}, the weights are {thetas[0].dtype.name}")
    for i, t in enumerate(thetas):
        if not np.isfinite(t).all():
            raise fail(f"theta_{i + 1} holds NaN or inf")
    try:
        meta = _from_json(meta)
    except (ValueError, TypeError) as exc:
        raise fail(f"metadata holds a malformed value ({exc})") from None
    return path, thetas, meta


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
    _, thetas, meta = _read_model_file(path, max_bytes)
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


def _classes_from_json(values, dtype: str, fail) -> np.ndarray:
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
        return np.array(values, dtype=np_dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise fail(f"classes cannot be restored as {dtype!r} ({exc})") from None


def _n_outputs(n_classes: int) -> int:
    return 1 if n_classes == 2 else n_classes


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
    classes, classes_dtype = _classes_to_json(model.classes_)
    thetas = list(model.thetas_)
    K = np.shape(thetas[-1])[0]
    if K != _n_outputs(len(classes)):
        raise ValueError(f"model: {len(classes)} classes need {_n_outputs(len(classes))} output units, "
                         f"but Θ^({len(thetas)}) has {K}")
    history = getattr(model, "history_", None)
    history_dict = None if history is None else history.to_dict()
    n_iter = getattr(model, "n_iter_", None)
    meta = {
        "estimator": _ESTIMATOR,
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
    return save_thetas(path, thetas, meta)


def load(path: str | os.PathLike, *, max_bytes: int = MAX_MODEL_BYTES):
    """Load a :class:`glassnet.Classifier` saved by :func:`save`, ready to ``predict``.

    The classifier is built as ``Classifier(**params)`` with the saved hyper-parameters (those listed under
    ``unsaved_params`` take their defaults), then ``thetas_``, ``classes_``, ``n_features_in_``, ``n_iter_`` and
    ``history_`` are set.

    Raises
    ------
    ModelFileError
        Any problem with the file: not an npz/zip, truncated, checksum mismatch, unknown or newer format version,
        weights saved by :func:`save_thetas` without a classifier, inconsistent classes or sizes.
    FileNotFoundError
        No file at ``path``.
    """
    path, thetas, meta = _read_model_file(path, max_bytes)
    if meta.get("estimator") != _ESTIMATOR:
        raise ModelFileError(f"{path}: holds bare weights (estimator {meta.get('estimator')!r}), not a saved "
                             "Classifier; read it with glassnet.io.load_thetas")
    return _classifier_from(path, thetas, meta)


def load_any(path: str | os.PathLike, *, max_bytes: int = MAX_MODEL_BYTES):
    """Read either kind of model file, once: ``(model, thetas, metadata)``.

    ``model`` is the :class:`glassnet.Classifier` for a file written by :func:`save`, or ``None`` for bare weights
    written by :func:`save_thetas`; ``thetas`` and ``metadata`` are as :func:`load_thetas` returns them. For tools
    (the CLI, the explorer) that accept both kinds.

    Raises
    ------
    ModelFileError, FileNotFoundError
        As :func:`load`, except that bare weights are fine.
    """
    path, thetas, meta = _read_model_file(path, max_bytes)
    model = _classifier_from(path, thetas, meta) if meta.get("estimator") == _ESTIMATOR else None
    return model, thetas, meta


def _classifier_from(path: Path, thetas: list[np.ndarray], meta: dict[str, Any]):
    """The Classifier that a :func:`save` file describes, every field checked."""

    def fail(message: str) -> ModelFileError:
        return ModelFileError(f"{path}: {message}")

    classes = _classes_from_json(meta.get("classes"), meta.get("classes_dtype"), fail)
    if len(classes) < 2 or len(np.unique(classes)) != len(classes):
        raise fail(f"classes must be at least 2 distinct labels, got {classes.tolist()[:10]}")
    sizes = meta["layer_sizes"]
    if sizes[-1] != _n_outputs(len(classes)):
        raise fail(f"{len(classes)} classes need {_n_outputs(len(classes))} output units, the weights have "
                   f"{sizes[-1]}")
    if meta.get("n_features_in") != sizes[0]:
        raise fail(f"n_features_in {meta.get('n_features_in')!r} does not match the input layer size {sizes[0]}")
    params = meta.get("params")
    if not isinstance(params, dict):
        raise fail("params must be a dict of hyper-parameters")
    from .estimator import Classifier
    from .optimize import History

    try:
        model = Classifier(**params)
    except (TypeError, ValueError) as exc:
        raise fail(f"this glassnet's Classifier does not accept the saved parameters ({exc})") from None
    history = History()  # a file without a history still gives a model whose curves are empty, not missing
    if meta.get("history") is not None:
        try:
            history = History.from_dict(meta["history"])
        except ValueError as exc:
            raise fail(f"bad training history ({exc})") from None
    n_iter = meta.get("n_iter")
    if n_iter is not None and (isinstance(n_iter, bool) or not isinstance(n_iter, int) or n_iter < 0):
        raise fail(f"n_iter must be a non-negative int, got {n_iter!r}")
    model.thetas_ = thetas
    model.classes_ = classes
    model.n_features_in_ = int(sizes[0])
    model.history_ = history
    model.n_iter_ = n_iter if n_iter is not None else history.n_iter
    names = meta.get("feature_names_in")
    if names is not None:
        if not isinstance(names, list) or len(names) != sizes[0] or not all(isinstance(n, str) for n in names):
            raise fail("feature_names_in must be a list of one string per input feature")
        model.feature_names_in_ = np.array(names, dtype=object)
    return model
