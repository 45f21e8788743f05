"""Input checks shared by the math modules: every message names the argument, what was expected and what came.

Also the one test of what kind of array an input is (:func:`is_dask_collection`, :func:`is_foreign_array`), which
:mod:`glassnet.api` routes on and the Dask support below it checks with.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from glassnet._support import fused as _fused
from glassnet.params import sizes_from_thetas


def is_dask_collection(obj: Any) -> bool:
    """True for Dask arrays, DataFrames and Series, found without importing Dask."""
    return type(obj).__module__.startswith("dask.")


def is_foreign_array(obj: Any) -> bool:
    """True for an array of a library other than NumPy (torch, CuPy, JAX, array-api-strict) or a Dask collection."""
    if isinstance(obj, np.ndarray):
        return False
    return hasattr(type(obj), "__array_namespace__") or type(obj).__module__.startswith(("torch", "dask."))


def compute_dtype(X: np.ndarray, dtype=None) -> np.dtype:
    """The dtype a computation on X runs in: ``dtype`` if given (see :func:`check_dtype`), else float32 for float32
    input and float64 for everything else."""
    asked = check_dtype(dtype)
    if asked is not None:
        return asked
    found = X.dtype if is_sparse(X) else np.asarray(X).dtype
    return np.dtype(float_kind(found, np.float32, np.float64))


def float_kind(dtype, float32, float64):
    """The rule every path computes by, in any library's dtypes: ``float32`` for float32 data, else ``float64``.

    ``float32``/``float64`` are that library's own (NumPy's, an array-API namespace's, torch's), so that the rule is
    applied before any NumPy array exists (NumPy has no bfloat16, torch has).
    """
    return float32 if dtype == float32 else float64


def check_dtype(dtype, name: str = "dtype") -> np.dtype | None:
    """A compute dtype asked for: None (follow the data), or float32/float64 as a name, NumPy type or dtype."""
    if dtype is None:
        return None
    try:
        found = np.dtype(dtype)
    except TypeError:
        found = None
    if found not in (np.float32, np.float64) or isinstance(dtype, bool):
        raise ValueError(f"{name}: expected None (follow X: float32 stays float32, anything else float64), "
                         f"'float32' or 'float64', got {dtype!r}")
    return found


def is_sparse(X: Any) -> bool:
    """True for SciPy sparse matrices and arrays (found without importing scipy.sparse)."""
    return type(X).__module__.startswith("scipy.sparse")


def _check_sparse(X, n_features: int | None, name: str, assume_finite: bool = False):
    """A sparse X as CSR (row chunks slice cheaply; CSC is converted, which copies) of float32/float64, finite."""
    if X.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D sparse matrix of shape (m, n_features), got shape {X.shape}")
    if X.format not in ("csr", "csc"):
        raise ValueError(f"{name}: expected a CSR or CSC sparse matrix, got format {X.format!r}; call .tocsr() first")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name}: expected numbers, got dtype {X.dtype}")
    if X.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one example (row), got shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{name}: expected {n_features} columns (s_1, the input layer size of thetas[0]), got shape {X.shape}"
        )
    X = X.tocsr().astype(compute_dtype(X), copy=False)
    if not assume_finite and not np.isfinite(X.data).all():
        raise ValueError(f"{name}: expected finite values, found NaN or inf in the sparse matrix")
    return X


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def check_X(X, n_features: int | None = None, name: str = "X", *, assume_finite: bool = False) -> np.ndarray:
    """X as a finite 2-D float array (m, n) without copying when it already is one (C- or F-ordered).

    A SciPy sparse CSR/CSC matrix stays sparse (as CSR, float32 or float64). ``assume_finite=True`` skips the scan
    for NaN and inf (a pass over all of X) where the caller has just made it, as the estimators' ``validate_data``
    does; everything else is still checked.
    """
    if (assume_finite and type(X) is np.ndarray and X.ndim == 2 and X.dtype in _FLOATS and X.shape[0] > 0
            and (n_features is None or X.shape[1] == n_features)):
        return X  # already what the checks below would return (every public call on NumPy floats comes this way)
    if is_sparse(X):
        return _check_sparse(X, n_features, name, assume_finite)
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise ValueError(f"{name}: expected a dense 2-D numeric array or a SciPy CSR/CSC matrix, got "
                         f"{type(X).__name__}; call .toarray() first")
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name}: expected a 2-D numeric array, got {type(X).__name__} ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name}: expected numbers, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array of shape (m, n_features), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one example (row), got shape {arr.shape}")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(
            f"{name}: expected {n_features} columns (s_1, the input layer size of thetas[0]), got shape {arr.shape}"
        )
    arr = arr.astype(compute_dtype(arr), copy=False)
    if assume_finite:
        return arr
    # One sum instead of an (m, n) boolean temporary: any NaN/inf makes the sum non-finite; only then (or on an
    # overflow of huge finite values) is the exact elementwise scan run to find and name the culprit.
    with np.errstate(over="ignore", invalid="ignore"):
        total = arr.sum(dtype=np.float64)
    if not np.isfinite(total) and not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name}: expected finite values, found {arr[tuple(bad)]} at row {bad[0]}, column {bad[1]}")
    return arr


def check_thetas(
    thetas: Sequence[Any],
    dtype: Any = None,
    *,
    name: str = "thetas",
    floats_only: bool = False,
    copy: bool = False,
    convert: Callable[[Any, str], Any] | None = None,
    xp: Any = None,
) -> tuple[list[Any], list[int]]:
    """The one check of a list of Θ, ``theta[l - 1]: (s_{l+1}, s_l + 1)``, bias column first; and the layer sizes.

    In this order: a list or tuple of arrays (not one array), shapes that chain
    (:func:`glassnet.params.sizes_from_thetas`, whose messages name ``thetas[i]``), numbers (floats only with
    ``floats_only``), finite weights; the other messages name ``name[i]`` and Θ^(i + 1). Every Θ list glassnet takes in
    (the math, the estimators, model files, interop, the explorer, the array-API and Dask paths) passes here.

    Parameters
    ----------
    thetas : sequence of array-likes
    dtype : dtype, optional
        Cast to this (no copy where already right). None keeps each array's own dtype.
    name : str
        The argument's name in messages (e.g. ``"model"``).
    floats_only : bool
        Refuse integer and bool weights (model files store floats).
    copy : bool
        New arrays even where the dtype is already right, for a caller that keeps them.
    convert, xp : optional
        For another array library (the array-API path): ``convert(theta, where)`` makes each Θ an array of that
        library (on its device, in its dtype; ``dtype`` is then not used), and its namespace ``xp`` checks finiteness
        there.

    Returns
    -------
    thetas : list of arrays, one per Θ^(l)
    sizes : list of int, ``[s_1, ..., s_L]``
    """
    if isinstance(thetas, np.ndarray) or not isinstance(thetas, Sequence):
        raise ValueError(f"{name}: expected a list of 2-D arrays Θ^(1), Θ^(2), ..., got {type(thetas).__name__}")
    sizes = sizes_from_thetas(thetas)
    kinds = "f" if floats_only else "biuf"
    out = []
    for i, t in enumerate(thetas):
        if convert is not None:
            arr = convert(t, _theta_name(name, i))
            finite = bool(xp.all(xp.isfinite(arr)))
        else:
            arr = np.asarray(t)
            if arr.dtype.kind not in kinds:
                raise ValueError(f"{_theta_name(name, i)}: expected {'floats' if floats_only else 'numbers'}, "
                                 f"got dtype {arr.dtype}")
            if copy:
                arr = np.array(arr, dtype=dtype, copy=True)
            elif dtype is not None:
                arr = arr.astype(dtype, copy=False)
            finite = _fused.is_finite(arr)  # one pass, no (s, n) temporary of booleans
        if not finite:
            raise ValueError(f"{_theta_name(name, i)}: expected finite weights, found NaN or inf")
        out.append(arr)
    return out, sizes


def _theta_name(name: str, i: int) -> str:
    return f"{name}[{i}] (Θ^({i + 1}))"


def check_lam(lam) -> float:
    """λ as a finite float ≥ 0."""
    try:
        val = float(lam)
    except (TypeError, ValueError):
        raise ValueError(f"lam: expected a number λ ≥ 0, got {lam!r}") from None
    if not math.isfinite(val) or val < 0:
        raise ValueError(f"lam: expected a finite number λ ≥ 0, got {lam!r}")
    return val
