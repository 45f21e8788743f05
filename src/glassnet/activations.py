"""The hidden units g(z) and g′(z): sigmoid (the lecture), tanh, ReLU, identity; and the careful log functions.

Everything here is elementwise and warning-free for any finite z (|z| up to 1e4 and beyond): ``scipy.special.expit``
and ``log_expit`` never overflow, unlike ``1 / (1 + exp(-z))``. This module is not where the cost lives; see
:mod:`glassnet.cost`, which uses :func:`softplus` on z so that J never takes ``log(0)`` of a rounded sigmoid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from glassnet._support import special  # scipy.special, imported on first use

__all__ = ["sigmoid", "sigmoid_gradient", "sigmoid_gradient_from_a", "log_sigmoid", "softplus", "Activation",
           "ACTIVATIONS", "get_activation"]


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
    return special.expit(z)


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
    a = special.expit(z)
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
    return special.log_expit(z)


def softplus(z: np.ndarray) -> np.ndarray:
    """softplus(z) = log(1 + e^z) = -log(1 - g(z)); finite and exact for large |z| (no log of 0).

    Examples
    --------
    >>> softplus(np.array([1000.0, 0.0, -1000.0]))
    array([1.00000000e+03, 6.93147181e-01, 0.00000000e+00])
    """
    return np.logaddexp(0.0, z)


def _sigmoid_inplace(z: np.ndarray) -> None:
    # 1 / (1 + e^{-z}) in place; e^{-z} overflows to inf for very negative z, which gives exactly 0 (callers run this
    # under np.errstate(over="ignore"), like the fast path's own sigmoid).
    np.negative(z, out=z)
    np.exp(z, out=z)
    np.add(z, 1.0, out=z)
    np.reciprocal(z, out=z)


def _relu_gradient_from_a(a: np.ndarray) -> np.ndarray:
    return (a > 0).astype(a.dtype)


def _tanh_gradient_mul_(d: np.ndarray, a: np.ndarray) -> None:
    np.multiply(a, a, out=a)
    np.subtract(1.0, a, out=a)
    np.multiply(d, a, out=d)


def _relu_gradient_mul_(d: np.ndarray, a: np.ndarray) -> None:
    np.sign(a, out=a)  # a = max(z, 0) ≥ 0, so sign(a) is g′(z) ∈ {0, 1} (0 at z = 0, as scikit-learn)
    np.multiply(d, a, out=d)


def _sigmoid_gradient_mul_(d: np.ndarray, a: np.ndarray) -> None:
    np.multiply(d, a, out=d)
    np.subtract(1.0, a, out=a)
    np.multiply(d, a, out=d)


@dataclass(frozen=True)
class Activation:
    """One kind of hidden unit: g, g′ (from z and from a = g(z)), and in-place versions for the fast path.

    ``g_prime_text`` is g′ written with a, as the explainer prints it. ``apply_(z)`` turns z into g(z) in place;
    ``gradient_mul_(d, a)`` does d ← d .* g′(z) using a = g(z), which it may overwrite (the fast path is done
    with a).
    """

    name: str
    g: Callable[[np.ndarray], np.ndarray]
    gradient: Callable[[np.ndarray], np.ndarray]
    gradient_from_a: Callable[[np.ndarray], np.ndarray]
    apply_: Callable[[np.ndarray], None]
    gradient_mul_: Callable[[np.ndarray, np.ndarray], None]
    g_text: str
    g_prime_text: str

    @property
    def in_unit_interval(self) -> bool:
        """True when every a = g(z) lies in [0, 1] (the sigmoid), so pictures can colour a on one fixed 0..1 scale."""
        return self.name == "sigmoid"


#: Every hidden activation glassnet knows, by name; "sigmoid" is the lecture's.
ACTIVATIONS = {
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_gradient, sigmoid_gradient_from_a, _sigmoid_inplace,
                          _sigmoid_gradient_mul_, "g(z) = 1/(1 + e^−z)", "a(1 − a)"),
    "tanh": Activation("tanh", np.tanh, lambda z: 1.0 - np.tanh(z) ** 2, lambda a: 1.0 - a * a,
                       lambda z: np.tanh(z, out=z), _tanh_gradient_mul_, "g(z) = tanh z", "1 − a²"),
    "relu": Activation("relu", lambda z: np.maximum(z, 0.0),
                       lambda z: (np.asarray(z) > 0).astype(np.result_type(z, 1.0)),
                       _relu_gradient_from_a, lambda z: np.maximum(z, 0.0, out=z), _relu_gradient_mul_,
                       "g(z) = max(z, 0)", "[z > 0]"),
    "identity": Activation("identity", lambda z: np.array(z, copy=True),
                           lambda z: np.ones_like(z, dtype=np.result_type(z, 1.0)),
                           np.ones_like, lambda z: None, lambda d, a: None, "g(z) = z", "1"),
}


def get_activation(name) -> Activation:
    """The :class:`Activation` called ``name``; anything else is a ValueError listing the supported names.

    >>> get_activation("tanh").gradient_from_a(np.array([0.0, 0.5]))
    array([1.  , 0.75])
    >>> get_activation("swish")
    Traceback (most recent call last):
    ...
    ValueError: activation: expected one of 'sigmoid', 'tanh', 'relu', 'identity', got 'swish'
    """
    if isinstance(name, Activation):
        return name
    if isinstance(name, str) and name in ACTIVATIONS:
        return ACTIVATIONS[name]
    names = ", ".join(repr(n) for n in ACTIVATIONS)
    raise ValueError(f"activation: expected one of {names}, got {name!r}")
