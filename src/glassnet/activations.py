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
    """g(z) = 1 / (1 + e^{-z}), elementwise; same shape and float dtype as z.

    Parameters
    ----------
    z : array_like
        Weighted inputs, any shape (e.g. z^(l) of shape (m, s_l)).

    Returns
    -------
    array, shape of z
        Values in [0, 1]; never overflows, even for |z| of 1000 and more.

    Examples
    --------
    >>> sigmoid(np.array([-1000.0, 0.0, 2.0]))
    array([0.        , 0.5       , 0.88079708])
    """
    return expit(z)


def sigmoid_gradient(z: np.ndarray) -> np.ndarray:
    """g'(z) = g(z)(1 - g(z)), elementwise; exactly 0.25 at z = 0 and 0 (not NaN) when |z| is huge.

    Parameters
    ----------
    z : array_like
        Weighted inputs, any shape.

    Returns
    -------
    array, shape of z
        Values in [0, 0.25]: the factor that every hidden δ gets in backpropagation.

    Examples
    --------
    >>> sigmoid_gradient(np.array([0.0, 2.0, 1000.0]))
    array([0.25      , 0.10499359, 0.        ])
    """
    a = expit(z)
    return a * (1.0 - a)


def sigmoid_gradient_from_a(a: np.ndarray) -> np.ndarray:
    """g'(z) written with the activation a = g(z), as the lecture does: a .* (1 - a).

    Examples
    --------
    >>> a = sigmoid(np.array([0.0, 2.0]))
    >>> bool(np.allclose(sigmoid_gradient_from_a(a), sigmoid_gradient(np.array([0.0, 2.0]))))
    True
    """
    return a * (1.0 - a)


def log_sigmoid(z: np.ndarray) -> np.ndarray:
    """log g(z) = -softplus(-z), accurate for large |z|.

    Examples
    --------
    >>> log_sigmoid(np.array([-1000.0, 0.0]))          # log(sigmoid(-1000)) would be log(0) = -inf
    array([-1.00000000e+03, -6.93147181e-01])
    """
    return log_expit(z)


def softplus(z: np.ndarray) -> np.ndarray:
    """softplus(z) = log(1 + e^z) = -log(1 - g(z)); finite and exact for large |z| (no log of 0).

    Examples
    --------
    >>> softplus(np.array([1000.0, 0.0, -1000.0]))
    array([1.00000000e+03, 6.93147181e-01, 0.00000000e+00])
    """
    return np.logaddexp(0.0, z)
