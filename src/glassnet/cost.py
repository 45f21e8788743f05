"""The regularized cost J(Θ): the lecture's logistic cost by default (data terms and targets: :mod:`glassnet.outputs`).

J(Θ) = -(1/m) Σ_t Σ_k [y_k log h_k + (1 - y_k) log(1 - h_k)] + (λ/2m) Σ_l Σ_{j, i≥1} (Θ_ji^(l))²

For y ∈ {0, 1} the bracket is -softplus((1 - 2y)·z^(L)): it is evaluated from the output z, not from a rounded
h = g(z), so J stays finite and exact when output units saturate (g(z) rounds to 1.0 long before log(1 - g(z)) is
-inf in exact arithmetic). The bias column Θ[:, 0] is not regularized, here and in the gradient. The other
output/loss pairs (softmax+log, sigmoid+squared, identity+squared) have their data term in
:class:`glassnet.outputs.OutputLoss`; the regularization term is the same for all.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from glassnet._validation import check_lam, check_thetas, check_X, compute_dtype
from glassnet.forward import ForwardCache, propagate
from glassnet.outputs import output_loss

__all__ = ["regularization", "penalty", "cost_from_z", "cost"]


def regularization(thetas: Sequence[np.ndarray], lam: float, m: int) -> float:
    """(λ/2m) Σ Θ² over all non-bias weights (column 0 of each Θ is skipped).

    Parameters
    ----------
    thetas : list of arrays
        ``thetas[l - 1]`` is Θ^(l), shape (s_{l+1}, s_l + 1).
    lam : float
        λ ≥ 0.
    m : int
        Number of examples.

    Returns
    -------
    float

    Examples
    --------
    >>> thetas = [np.array([[100.0, 1.0, 2.0]])]  # the bias 100 does not count
    >>> regularization(thetas, lam=2.0, m=5)      # (2 / 10) * (1 + 4)
    1.0
    """
    if lam == 0:
        return 0.0
    # einsum reads the strided view Θ[:, 1:] in place; vdot would first copy it (most of a mini-batch step's time)
    return penalty(sum(float(np.einsum("ij,ij->", t[:, 1:], t[:, 1:])) for t in thetas), lam, m)


def penalty(squares: float, lam: float, m: int) -> float:
    """(λ/2m) · ``squares``, the regularization term from Σ Θ² over the non-bias weights (0 where λ is 0).

    >>> penalty(5.0, lam=2.0, m=5)
    1.0
    """
    return 0.0 if lam == 0 else lam / (2.0 * m) * squares


def cost_from_z(zL: np.ndarray, Y: np.ndarray, output="sigmoid", loss="log") -> float:
    """Unregularized J from the output pre-activations z^(L) (m, K) and targets Y (m, K).

    Uses -[y log g(z) + (1-y) log(1-g(z))] = softplus((1 - 2y) z) for y ∈ {0, 1}: exact, never log(0).

    Parameters
    ----------
    zL : array, shape (m, K)
        z^(L), the output layer's weighted inputs.
    Y : array, shape (m, K)
        0/1 targets (see :func:`encode_labels`); real values for ``output="identity"``.
    output, loss : str
        The output/loss pair (:func:`glassnet.outputs.output_loss`); default the lecture's sigmoid + log.

    Returns
    -------
    float
        (1/m) Σ_t Σ_k cost of output k for example t.

    Examples
    --------
    A confidently wrong output, h = g(1000) which rounds to 1.0 for target 0: ``log(1 - h)`` would be
    ``log(0)``, but the cost is exact.

    >>> cost_from_z(np.array([[1000.0]]), np.array([[0.0]]))
    1000.0
    """
    # Summed in float64 even for float32 inputs: J is one number and rounding it costs nothing.
    return output_loss(output, loss).cost_sum(zL, Y) / zL.shape[0]


def cost(thetas: Sequence[np.ndarray], X, y, lam: float = 0.0, cache: ForwardCache | None = None, *,
         activation="sigmoid", output="sigmoid", loss="log") -> float:
    """J(Θ) for the examples X (m, s_1) with labels y (see :func:`encode_labels`) and regularization λ.

    Parameters
    ----------
    thetas : list of arrays
        ``thetas[l - 1]`` is Θ^(l), shape (s_{l+1}, s_l + 1), bias column first.
    X : array, shape (m, s_1)
        One example per row.
    y : array_like
        Labels, as :func:`encode_labels` accepts them.
    lam : float
        λ ≥ 0; the bias column is not regularized.
    cache : ForwardCache, optional
        A forward pass of ``thetas`` over ``X`` that is already there (saves recomputing it).
    activation, output, loss : str
        Hidden activation and output/loss pair, as for :func:`glassnet.cost_and_gradient`.

    Returns
    -------
    float
        J(Θ) = -(1/m) Σ_t Σ_k [y_k log h_k + (1 - y_k) log(1 - h_k)] + (λ/2m) Σ non-bias Θ².

    Examples
    --------
    >>> from glassnet.params import debug_init, debug_initialize_weights
    >>> thetas, X = debug_init([3, 5, 3]), debug_initialize_weights(5, 2)
    >>> round(cost(thetas, X, [1, 2, 0, 1, 2], lam=3.0), 6)
    2.14636
    """
    pair = output_loss(output, loss)
    dtype = compute_dtype(X)
    thetas, sizes = check_thetas(thetas, dtype)
    X = check_X(X, n_features=sizes[0])
    lam = check_lam(lam)
    Y = pair.targets(y, sizes[-1], X.shape[0], dtype=dtype)
    cache = cache if cache is not None else propagate(thetas, X, activation, output)
    return pair.cost_sum(cache.z_out, Y) / X.shape[0] + regularization(thetas, lam, X.shape[0])
