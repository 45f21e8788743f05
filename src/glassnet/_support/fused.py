"""Fused elementwise steps: one pass over memory for what NumPy does in one pass per operation.

A mini-batch step on a 784-100-10 network touches ~80k weights a dozen times (Adam's moments, the square root, the
division, the update; D = Δ/m + (λ/m)Θ); each NumPy operation is one pass over arrays that no longer fit in cache.
The C kernels of the optional extension ``glassnet._support._kernels`` do the same IEEE operations in the same order per
element, so their results are bit for bit the NumPy code's (tests/test_kernels.py): the NumPy code stays the
definition, next to its callers (:mod:`glassnet.train.optimize`, :func:`glassnet.backprop.finish`), and runs whenever
the extension was not built (no compiler at install time) or the arrays do not fit (other dtypes, layouts, overlap).

Each step function here returns True when it did the step and False when the caller has to run its NumPy code.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import numpy as np

try:  # an optional build: pip installs glassnet without it where no C compiler is found
    from glassnet._support import _kernels
except ImportError:  # pragma: no cover - depends on the install
    _kernels = None  # type: ignore[assignment]  # the module is optional: None where it was not built

__all__ = ["available", "adam", "sgd", "finish", "all_finite", "disabled"]

#: GLASSNET_KERNELS=0 in the environment turns the kernels off (the NumPy code runs, with the same results).
_enabled = _kernels is not None and os.environ.get("GLASSNET_KERNELS", "1") != "0"


def available() -> bool:
    """Whether the C kernels are built and switched on."""
    return _enabled


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Run the NumPy code inside the block (for tests and for measuring what the kernels buy)."""
    global _enabled
    before, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = before


#: What a kernel raises for arrays it cannot take (dtype, size, layout, read-only, overlap), before touching any.
#: Anything else (a TypeError from a wrong call, say) is a bug and propagates.
_REFUSED = (ValueError, BufferError)
_DECLINED = object()  # what _call returns when the caller has to run its NumPy code


def _call(name: str, *args):
    """``_kernels.<name>(*args)``, or ``_DECLINED`` where the kernels are off or refuse these arrays."""
    if not _enabled:
        return _DECLINED
    try:
        return getattr(_kernels, name)(*args)
    except _REFUSED:
        return _DECLINED


def adam(theta: np.ndarray, m: np.ndarray, v: np.ndarray, g: np.ndarray, beta_1: float, beta_2: float,
         epsilon: float, step: float) -> bool:
    """:func:`glassnet.train.optimize.adam`'s step on one array, in place (``g`` is left as it was)."""
    return _call("adam", theta, m, v, g, beta_1, beta_2, epsilon, step) is not _DECLINED


def sgd(theta: np.ndarray, velocity: np.ndarray, g: np.ndarray, learning_rate: float, momentum: float,
        nesterov: bool) -> bool:
    """:func:`glassnet.train.optimize.sgd`'s step on one array, in place (``g`` is left as it was)."""
    return _call("sgd", theta, velocity, g, learning_rate, momentum, nesterov) is not _DECLINED


def finish(G: np.ndarray, Delta: np.ndarray, theta: np.ndarray, m: int, lam: float) -> bool:
    """:func:`glassnet.backprop.finish` on one layer: G = Δ/m + (λ/m)Θ, column 0 not regularized.

    ``G`` may be ``Delta`` itself (finish in place); it must not overlap Θ. For float32 arrays ``m`` and ``lam`` must
    be Python numbers: NumPy computes a float32 array with a NumPy int64 or float64 scalar in float64 and rounds once at
    the end, which the float32 kernel would not match.
    """
    if Delta.dtype == np.float32 and not (type(m) is int and type(lam) in (int, float)):
        return False
    shape = np.shape(G)
    if len(shape) != 2 or shape != np.shape(Delta) or shape != np.shape(theta) or 0 in shape:
        return False
    return _call("finish", G, Delta, theta, shape[0], m, lam / m, bool(lam)) is not _DECLINED


def all_finite(a: np.ndarray) -> bool | None:
    """Whether ``a`` holds no inf and no NaN (one pass, nothing allocated); None where the kernels cannot tell."""
    result = _call("all_finite", a)
    return None if result is _DECLINED else result
