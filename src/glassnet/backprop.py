"""Backpropagation, written twice: the lecture's literal per-example loop and the whole-batch matrix version.

Both compute, for l = L-1 down to 1 (lecture numbering):

- δ^(L) = a^(L) - y                                   (sigmoid output + logistic cost)
- δ^(l) = (Θ^(l))ᵀ δ^(l+1) .* g'(z^(l)),  bias row of (Θ^(l))ᵀδ dropped, g'(z) = a .* (1 - a)
- Δ^(l) = Σ_t δ^(l+1) (a^(l))ᵀ                        (a^(l) with its bias unit)
- D^(l) = Δ^(l)/m + (λ/m) Θ^(l), except the bias column 0, which is not regularized.

:func:`backprop_per_example` exists to be read next to the lecture and to test the fast path against; use
:func:`cost_and_gradient` for real work.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._validation import check_lam, check_thetas, check_X, compute_dtype
from .activations import sigmoid, sigmoid_gradient_from_a, softplus
from .cost import cost_from_z, encode_labels, regularization
from .forward import ForwardCache, propagate

__all__ = ["deltas", "accumulate", "finish", "batch_sums", "gradients", "cost_and_gradient", "backprop_per_example"]


def _prepare(thetas, X, y, lam):
    """Validate and convert the public arguments once: (thetas, X, Y, lam, sizes) in the compute dtype."""
    dtype = compute_dtype(np.asarray(X) if not hasattr(X, "dtype") else X)
    thetas, sizes = check_thetas(thetas, dtype)
    X = check_X(X, n_features=sizes[0])
    lam = check_lam(lam)
    Y = encode_labels(y, sizes[-1], X.shape[0], dtype=dtype)
    return thetas, X, Y, lam, sizes


def deltas(thetas: Sequence[np.ndarray], cache: ForwardCache, Y: np.ndarray) -> list[np.ndarray | None]:
    """δ for every layer of a forward pass, whole batch at once.

    Returns a list indexed like ``cache.z``: ``delta[i]`` is δ^(i+1) with shape (m, s_{i+1}) and ``delta[0]`` is
    ``None`` (inputs have no error term). Row t is the lecture's column vector δ^(l) for example t.
    """
    L = cache.L
    delta: list[np.ndarray | None] = [None] * L
    delta[L - 1] = cache.output - Y
    for i in range(L - 2, 0, -1):
        # (Θ^(l))ᵀ δ^(l+1) without the bias row == δ^(l+1) @ Θ^(l)[:, 1:] in row layout.
        back = delta[i + 1] @ thetas[i][:, 1:]
        back *= sigmoid_gradient_from_a(cache.activations[i])
        delta[i] = back
    return delta


def accumulate(cache: ForwardCache, delta: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    """Δ^(l) = Σ_t δ^(l+1) (a^(l))ᵀ over the batch, each shaped like Θ^(l) (not yet divided by m)."""
    Delta = []
    for i in range(cache.L - 1):
        d_next = delta[i + 1]
        D = np.empty((d_next.shape[1], cache.activations[i].shape[1] + 1), dtype=d_next.dtype)
        # Δ = δ^(l+1)ᵀ [1, a^(l)]: the bias column is the sum of δ, the rest one matmul; X is never concatenated.
        np.sum(d_next, axis=0, out=D[:, 0])
        np.matmul(d_next.T, cache.activations[i], out=D[:, 1:])
        Delta.append(D)
    return Delta


def finish(thetas: Sequence[np.ndarray], Delta: Sequence[np.ndarray], m: int, lam: float) -> list[np.ndarray]:
    """D^(l) = Δ^(l)/m + (λ/m)Θ^(l); the bias column 0 is not regularized. Works in place on ``Delta``."""
    grads = []
    for theta, D in zip(thetas, Delta):
        D /= m
        if lam:
            D[:, 1:] += (lam / m) * theta[:, 1:]
        grads.append(D)
    return grads


def batch_sums(thetas: Sequence[np.ndarray], X: np.ndarray, Y: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """Unnormalized sums over a batch: (Σ_t cost(t), [Δ^(l)]), no regularization.

    This is the map step of J and D: sums from row chunks (or Dask workers) add up to the whole-batch sums, and
    :func:`finish` turns the total into D. Inputs must already be validated (same float dtype, Y as an (m, K) 0/1
    matrix).
    """
    cache = propagate(thetas, X)
    J_sum = cost_from_z(cache.z[-1], Y) * X.shape[0]
    return J_sum, accumulate(cache, deltas(thetas, cache, Y))


def gradients(
    thetas: Sequence[np.ndarray], cache: ForwardCache, delta: Sequence[np.ndarray | None], lam: float
) -> list[np.ndarray]:
    """D^(l) = Δ^(l)/m + (λ/m)Θ^(l) (bias column unregularized), each shaped like Θ^(l)."""
    return finish(thetas, accumulate(cache, delta), cache.m, lam)


def cost_and_gradient(thetas: Sequence[np.ndarray], X, y, lam: float = 0.0) -> tuple[float, list[np.ndarray]]:
    """J(Θ) and its gradient D^(l) for every layer, by vectorized backpropagation.

    Parameters
    ----------
    thetas : list of arrays
        ``thetas[l-1]`` is Θ^(l), shape (s_{l+1}, s_l + 1), bias column first.
    X : array, shape (m, s_1)
        Examples, one per row (C- or F-ordered). float32 is computed in float32, anything else in float64.
    y : array
        Integer labels 0..K-1, shape (m,) (K > 1); or an (m, K) 0/1 matrix; or 0/1 labels for one output (K = 1).
    lam : float
        λ ≥ 0, the regularization strength.

    Returns
    -------
    J : float
    grads : list of arrays
        ``grads[l-1]`` = D^(l) = ∂J/∂Θ^(l), same shapes (and dtype) as ``thetas``.
    """
    thetas, X, Y, lam, _ = _prepare(thetas, X, y, lam)
    m = X.shape[0]
    J_sum, Delta = batch_sums(thetas, X, Y)
    return J_sum / m + regularization(thetas, lam, m), finish(thetas, Delta, m, lam)


def backprop_per_example(thetas: Sequence[np.ndarray], X, y, lam: float = 0.0) -> tuple[float, list[np.ndarray]]:
    """The lecture's algorithm, literally: a loop over t = 1..m with column vectors and explicit bias units.

    Slow on purpose; same arguments and results as :func:`cost_and_gradient`.
    """
    thetas, X, Y, lam, _ = _prepare(thetas, X, y, lam)
    m = X.shape[0]
    Delta = [np.zeros_like(t) for t in thetas]
    J = 0.0
    for t in range(m):
        # Forward: a^(1) = [1; x^(t)], z^(l+1) = Θ^(l) a^(l), a^(l+1) = [1; g(z^(l+1))].
        a = [np.concatenate([[1.0], X[t]]).astype(X.dtype)[:, None]]
        z = [None]
        for l, theta in enumerate(thetas):
            z.append(theta @ a[l])
            g = sigmoid(z[-1])
            a.append(np.vstack([np.ones((1, 1), dtype=X.dtype), g]) if l < len(thetas) - 1 else g)
        y_t = Y[t][:, None]
        J += float(np.sum(y_t * softplus(-z[-1]) + (1 - y_t) * softplus(z[-1])))
        # Backward: δ^(L) = a^(L) - y; δ^(l) = (Θ^(l))ᵀ δ^(l+1) .* g'(z^(l)), dropping the bias row.
        delta = a[-1] - y_t
        for l in range(len(thetas) - 1, -1, -1):
            Delta[l] += delta @ a[l].T
            if l > 0:
                delta = (thetas[l].T @ delta)[1:] * sigmoid_gradient_from_a(a[l][1:])
    J = J / m + regularization(thetas, lam, m)
    grads = []
    for theta, Dl in zip(thetas, Delta):
        D = Dl / m
        D[:, 1:] += (lam / m) * theta[:, 1:]
        grads.append(D)
    return J, grads
