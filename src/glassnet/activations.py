"""The sigmoid unit g(z) and the numerically careful functions built on it.

Everything here is elementwise and warning-free for any finite z (|z| up to 1e4 and beyond): ``scipy.special.expit``
and ``log_expit`` never overflow, unlike ``1 / (1 + exp(-z))``. This module is not where the cost lives; see
:mod:`glassnet.cost`, which uses :func:`softplus` on z so that J never takes ``log(0)`` of a rounded sigmoid.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, log_expit

__all__ = ["sigmoid", "sigmoid_gradient", "sigmoid_gradient_from_a", "log_sigmoid", "softplus"]


def sigmoid(z: np.ndarray) -> np.ndarray:
    """g(z) = 1 / (1 + e^{-z}), elementwise; same shape and float dtype as z."""
    return expit(z)


def sigmoid_gradient(z: np.ndarray) -> np.ndarray:
    """g'(z) = g(z)(1 - g(z)), elementwise; exactly 0.25 at z = 0 and 0 (not NaN) when |z| is huge."""
    a = expit(z)
    return a * (1.0 - a)


def sigmoid_gradient_from_a(a: np.ndarray) -> np.ndarray:
    """g'(z) written with the activation a = g(z), as the lecture does: a .* (1 - a)."""
    return a * (1.0 - a)


def log_sigmoid(z: np.ndarray) -> np.ndarray:
    """log g(z) = -softplus(-z), accurate for large |z|."""
    return log_expit(z)


def softplus(z: np.ndarray) -> np.ndarray:
    """softplus(z) = log(1 + e^z) = -log(1 - g(z)); finite and exact for large |z| (no log of 0)."""
    return np.logaddexp(0.0, z)
