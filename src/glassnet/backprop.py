"""Backpropagation as the lecture writes it (NumPy): δ, Δ, D, and the literal per-example loop.

For l = L-1 down to 1 (lecture numbering):

- δ^(L) = a^(L) - y                                   (sigmoid output + logistic cost; other output/loss pairs:
                                                      :meth:`glassnet.outputs.OutputLoss.delta`)
- δ^(l) = (Θ^(l))ᵀ δ^(l+1) .* g'(z^(l)),  bias row of (Θ^(l))ᵀδ dropped, g'(z) = a .* (1 - a) for the lecture's
                                                      sigmoid (tanh, ReLU, identity: :mod:`glassnet.activations`)
- Δ^(l) = Σ_t δ^(l+1) (a^(l))ᵀ                        (a^(l) with its bias unit)
- D^(l) = Δ^(l)/m + (λ/m) Θ^(l), except the bias column 0, which is not regularized (:func:`finish`, the one home
  of this rule: every path to D calls it).

:func:`deltas`, :func:`accumulate` and :func:`gradients` work on a whole-batch :class:`~glassnet.forward.ForwardCache`
(for reading and explaining); :func:`backprop_per_example` is the loop over t = 1..m, to read next to the lecture and
to test the fast path against. Not here: the fast row-chunk path (:mod:`glassnet._fast.workspace`), the front door that
routes NumPy, torch/CuPy and Dask input (:func:`glassnet.cost_and_gradient`, :mod:`glassnet.api`), optimizers
(:mod:`glassnet.train.optimize`), the cost alone (:mod:`glassnet.cost`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from glassnet._support import fused as _fused
from glassnet._validation import check_lam, check_thetas, check_X, compute_dtype
from glassnet.activations import get_activation
from glassnet.cost import regularization
from glassnet.forward import ForwardCache
from glassnet.outputs import output_loss

__all__ = ["deltas", "accumulate", "finish", "gradients", "backprop_per_example"]


def _prepare(thetas, X, y, lam, output="sigmoid", loss="log", activation="sigmoid"):
    """Validate and convert the public arguments once: (thetas, X, Y, lam, sizes) in the compute dtype.

    Y is the target matrix of the (output, loss) pair; ``activation`` is only checked.
    """
    get_activation(activation)
    pair = output_loss(output, loss)
    dtype = compute_dtype(X if hasattr(X, "dtype") else np.asarray(X))
    thetas, sizes = check_thetas(thetas, dtype)
    X = check_X(X, n_features=sizes[0])
    lam = check_lam(lam)
    Y = pair.targets(y, sizes[-1], X.shape[0], dtype=dtype)
    return thetas, X, Y, lam, sizes


def deltas(thetas: Sequence[np.ndarray], cache: ForwardCache, Y: np.ndarray, *, activation="sigmoid",
           output="sigmoid", loss="log") -> list[np.ndarray | None]:
    """δ for every layer of a forward pass, whole batch at once.

    Returns a list indexed like ``cache.z``: ``delta[i]`` is δ^(i+1) with shape (m, s_{i+1}) and ``delta[0]`` is
    ``None`` (inputs have no error term). Row t is the lecture's column vector δ^(l) for example t.
    """
    g_prime = get_activation(activation).gradient_from_a
    L = cache.L
    delta: list[np.ndarray | None] = [None] * L
    delta[L - 1] = output_loss(output, loss).delta(cache.z_out, cache.output, Y)
    for i in range(L - 2, 0, -1):
        # (Θ^(l))ᵀ δ^(l+1) without the bias row == δ^(l+1) @ Θ^(l)[:, 1:] in row layout.
        back = delta[i + 1] @ thetas[i][:, 1:]
        back *= g_prime(cache.activations[i])
        delta[i] = back
    return delta


def accumulate(cache: ForwardCache, delta: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    """Δ^(l) = Σ_t δ^(l+1) (a^(l))ᵀ over the batch, each shaped like Θ^(l) (not yet divided by m)."""
    Delta = []
    for i in range(cache.L - 1):
        d_next = delta[i + 1]
        assert d_next is not None  # only δ^(1), the input layer's, is None
        D = np.empty((d_next.shape[1], cache.activations[i].shape[1] + 1), dtype=d_next.dtype)
        # Δ = δ^(l+1)ᵀ [1, a^(l)]: the bias column is the sum of δ, the rest one matmul; X is never concatenated.
        np.sum(d_next, axis=0, out=D[:, 0])
        a = cache.activations[i]
        if hasattr(a, "tocsr"):  # sparse X: (Xᵀδ)ᵀ, a sparse-times-dense product; X is never densified
            D[:, 1:] = (a.T @ d_next).T
        else:
            np.matmul(d_next.T, a, out=D[:, 1:])
        Delta.append(D)
    return Delta


def finish(
    thetas: Sequence[np.ndarray], Delta: Sequence[np.ndarray], m: int, lam: float, *,
    out: Sequence[np.ndarray] | None = None, xp=None,
) -> list[np.ndarray]:
    """D^(l) = Δ^(l)/m + (λ/m)Θ^(l); the bias column 0 is not regularized. The one place this rule is written.

    Works in place on ``Delta`` by default. ``out``: arrays shaped like Θ (any memory layout, e.g. views of a flat
    vector) that receive D instead, leaving ``Delta`` as it was. ``xp``: the array-API namespace of ``thetas`` and
    ``Delta`` when they are not NumPy (torch, CuPy, JAX): D is then built without writing into any array (JAX arrays
    are immutable) and comes back in that library, on the arrays' device.
    """
    if xp is not None:
        return [D / m + (lam / m) * xp.concat([xp.zeros_like(t[:, :1]), t[:, 1:]], axis=1) if lam else D / m
                for t, D in zip(thetas, Delta)]
    if out is None:
        out = Delta
    elif len(out) != len(Delta) or any(np.shape(G) != np.shape(D) for G, D in zip(out, Delta)):
        raise ValueError(f"out: expected {len(Delta)} arrays of shapes {[np.shape(D) for D in Delta]}, "
                         f"got shapes {[np.shape(G) for G in out]}")
    for theta, D, G in zip(thetas, Delta, out):
        if _fused.finish(G, D, theta, m, lam):  # the same numbers in one pass, where the kernels are built
            continue
        if not lam:
            np.divide(D, m, out=G)
            continue
        bias = D[:, 0] / m
        np.divide(D, m, out=G)
        # Whole arrays, then column 0 put back: the same numbers as G[:, 1:] += (λ/m)Θ[:, 1:], in less than two
        # thirds of the time (contiguous passes instead of strided ones)
        np.add(G, (lam / m) * theta, out=G)
        G[:, 0] = bias
    return list(out)


def gradients(
    thetas: Sequence[np.ndarray], cache: ForwardCache, delta: Sequence[np.ndarray | None], lam: float
) -> list[np.ndarray]:
    # (the output/loss pair and the activation are already in ``delta``)
    """D^(l) of a whole-batch forward pass, each shaped like Θ^(l): :func:`accumulate`, then :func:`finish`."""
    return finish(thetas, accumulate(cache, delta), cache.m, lam)


def backprop_per_example(thetas: Sequence[np.ndarray], X, y, lam: float = 0.0, *, activation="sigmoid",
                         output="sigmoid", loss="log") -> tuple[float, list[np.ndarray]]:
    """The lecture's algorithm, literally: a loop over t = 1..m with column vectors and explicit bias units.

    Slow on purpose; same arguments and results as :func:`glassnet.cost_and_gradient`.
    """
    thetas, X, Y, lam, _ = _prepare(thetas, X, y, lam, output, loss, activation)
    act, pair = get_activation(activation), output_loss(output, loss)
    if hasattr(X, "tocsr"):
        X = X.toarray()  # one example at a time: a dense row per t
    m = X.shape[0]
    Delta = [np.zeros_like(t) for t in thetas]
    J = 0.0
    for t in range(m):
        # Forward: a^(1) = [1; x^(t)], z^(l+1) = Θ^(l) a^(l), a^(l+1) = [1; g(z^(l+1))].
        a = [np.concatenate([[1.0], X[t]]).astype(X.dtype)[:, None]]
        z: list[np.ndarray] = []  # z^(l+1) for l = 1..L-1 (the input layer has no z)
        for l, theta in enumerate(thetas):
            z.append(theta @ a[l])
            if l < len(thetas) - 1:
                a.append(np.vstack([np.ones((1, 1), dtype=X.dtype), act.g(z[-1])]))
            else:
                a.append(pair.activate(z[-1], axis=0))  # column vector: the K units run down axis 0
        y_t = Y[t][:, None]
        J += pair.cost_sum(z[-1], y_t, axis=0)
        # Backward: δ^(L) from the output/loss pair (a − y for the lecture); δ^(l) = (Θ^(l))ᵀ δ^(l+1) .* g'(z^(l)).
        delta = pair.delta(z[-1], a[-1], y_t, axis=0)
        for l in range(len(thetas) - 1, -1, -1):
            Delta[l] += delta @ a[l].T
            if l > 0:
                delta = (thetas[l].T @ delta)[1:] * act.gradient_from_a(a[l][1:])
    return J / m + regularization(thetas, lam, m), finish(thetas, Delta, m, lam)
