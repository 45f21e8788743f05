"""Gradient checking: compare backprop's D^(l) with central differences of J, the way the course does.

numeric_i = (J(θ + ε e_i) - J(θ - ε e_i)) / 2ε with ε = 1e-4, and the verdict is the relative difference
‖num - ana‖ / ‖num + ana‖, which should be below 1e-9 in float64 for a correct implementation.

For big nets, checking every parameter costs 2 cost evaluations each; ``n_params`` checks a seeded random subset and
``n_directions`` checks random directions d instead (numeric = (J(θ+εd) - J(θ-εd)) / 2ε against ana·d).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from glassnet._support.memory import check_network_fits
from glassnet.api import cost_and_gradient
from glassnet.backprop import _prepare
from glassnet.cost import cost_from_z, regularization
from glassnet.forward import propagate
from glassnet.notation import theta_name
from glassnet.params import debug_init, debug_initialize_weights

__all__ = ["GradCheckRow", "GradCheckReport", "gradient_check", "course_gradient_check", "relative_difference"]

DEFAULT_TOL = 1e-9


@dataclass(frozen=True)
class GradCheckRow:
    """One checked parameter: ``thetas[layer - 1][i, j]``, the lecture's Θ^(layer) entry (i+1, j).

    ``layer`` is the lecture's layer number; ``i`` (0-based row) is the lecture's unit i + 1 of layer l + 1; ``j`` is
    the column, which already is the lecture's j (0 = the bias unit). :meth:`GradCheckReport.table` prints lecture
    indices.
    """

    layer: int
    i: int
    j: int
    analytic: float
    numeric: float

    @property
    def abs_error(self) -> float:
        return abs(self.analytic - self.numeric)


@dataclass(frozen=True)
class GradCheckReport:
    """Result of a gradient check: the relative difference, the verdict and the per-parameter rows."""

    relative_difference: float
    tol: float
    epsilon: float
    mode: str
    rows: list[GradCheckRow] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.relative_difference < self.tol)

    def table(self, limit: int | None = None, largest: int | None = None) -> str:
        """The per-parameter report as aligned text, ending with the verdict line.

        ``limit``: the first ``limit`` rows at most; ``largest``: only the ``largest`` rows with the largest absolute
        error (in parameter order), a summary of a big network's check.
        """
        # Lecture indices, as everywhere a person reads: Θ_ij^(l) joins unit j of layer l (0 = bias) to unit i ≥ 1
        head = f"{'l':>5} {'i':>4} {'j':>4} {'analytic':>16} {'numeric':>16} {'abs error':>10}   Θ_ij^(l)"
        rows = self.rows if limit is None else self.rows[:limit]
        if largest is not None:
            keep = sorted(sorted(range(len(rows)), key=lambda k: -rows[k].abs_error)[:largest])
            rows = [rows[k] for k in keep]
        lines = [head] + [
            f"{r.layer:>5} {r.i + 1:>4} {r.j:>4} {r.analytic:>16.9e} {r.numeric:>16.9e} {r.abs_error:>10.2e}   "
            f"{theta_name(r.layer, r.i + 1, r.j)}"
            for r in rows
        ]
        verdict = "PASS" if self.passed else "FAIL"
        lines.append(f"relative difference = {self.relative_difference:.3e} (tol {self.tol:g}) {verdict}")
        return "\n".join(lines)


def relative_difference(numeric: np.ndarray, analytic: np.ndarray) -> float:
    """‖num - ana‖ / ‖num + ana‖ (0 when both are exactly zero).

    Parameters
    ----------
    numeric, analytic : arrays of the same shape
        Numerical and analytic derivatives (e.g. the unrolled gradient).

    Returns
    -------
    float
        About 1e-11 for a correct backprop at ε = 1e-4 in float64; 1e-4 or more for a real bug.

    Examples
    --------
    >>> relative_difference(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    0.0
    >>> f"{relative_difference(np.array([1.0, 2.0]), np.array([1.0, 2.02])):.1e}"
    '4.5e-03'
    """
    den = np.linalg.norm(numeric + analytic)
    num = np.linalg.norm(numeric - analytic)
    return float(num / den) if den > 0 else float(num)


def gradient_check(
    thetas: Sequence[np.ndarray],
    X,
    y,
    lam: float = 0.0,
    *,
    epsilon: float = 1e-4,
    tol: float = DEFAULT_TOL,
    n_params: int | None = None,
    n_directions: int | None = None,
    seed: int | np.random.Generator | None = 0,
    grad_fn: Callable | None = None,
    activation: str = "sigmoid",
    output: str = "sigmoid",
    loss: str = "log",
) -> GradCheckReport:
    """Check the analytic gradient of J(Θ) at ``thetas`` against central differences.

    Parameters
    ----------
    thetas, X, y, lam
        As for :func:`glassnet.cost_and_gradient`.
    epsilon : float
        Finite-difference step ε (default 1e-4, as in the course).
    tol : float
        Pass if the relative difference is below this (default 1e-9).
    n_params : int, optional
        Check only this many parameters, chosen at random with ``seed`` (all by default).
    n_directions : int, optional
        Instead of coordinates, check this many random unit directions d (directional derivatives).
    grad_fn : callable, optional
        ``grad_fn(thetas, X, y, lam) -> (J, grads)`` to check instead of glassnet's own (e.g. a deliberately broken
        one). It gets Y as the target matrix of the output/loss pair.
    activation, output, loss : str
        Hidden activation and output/loss pair, as for :func:`glassnet.cost_and_gradient` (default the lecture's).

    Returns
    -------
    GradCheckReport
        The relative difference, the verdict ``passed`` and, for coordinate checks, one row per checked weight.

    Examples
    --------
    >>> from glassnet.params import debug_init, debug_initialize_weights
    >>> thetas, X, y = debug_init([3, 5, 3]), debug_initialize_weights(5, 2), [1, 2, 0, 1, 2]
    >>> report = gradient_check(thetas, X, y, lam=3.0)
    >>> report.passed, len(report.rows), report.relative_difference < 1e-9
    (True, 38, True)

    A gradient with a bug (here: the bias column regularized too) is caught:

    >>> from glassnet import cost_and_gradient
    >>> def broken(thetas, X, y, lam):
    ...     J, grads = cost_and_gradient(thetas, X, y, lam)
    ...     for g, t in zip(grads, thetas):
    ...         g[:, 0] += lam / X.shape[0] * t[:, 0]
    ...     return J, grads
    >>> gradient_check(thetas, X, y, lam=3.0, grad_fn=broken).passed
    False
    """
    if n_params is not None and n_directions is not None:
        raise ValueError("n_params, n_directions: give at most one of them")
    if not epsilon > 0:
        raise ValueError(f"epsilon: expected a positive step, got {epsilon!r}")
    thetas, X, Y, lam, sizes = _prepare(thetas, X, y, lam, output, loss, activation)
    if grad_fn is None:
        _, grads = cost_and_gradient(thetas, X, Y, lam, activation=activation, output=output, loss=loss)
    else:
        _, grads = grad_fn(thetas, X, Y, lam)
    work = [t.copy() for t in thetas]
    m = X.shape[0]

    def J() -> float:
        return cost_from_z(propagate(work, X, activation, output).z_out, Y, output, loss) + regularization(work, lam, m)

    rng = np.random.default_rng(seed)
    if n_directions is not None:
        if n_directions < 1:
            raise ValueError(f"n_directions: expected a positive count, got {n_directions}")
        ana_all, num_all = [], []
        for _ in range(int(n_directions)):
            d = [rng.standard_normal(t.shape) for t in thetas]
            norm = np.sqrt(sum(float(np.vdot(v, v)) for v in d))
            d = [v / norm for v in d]
            for w, t, v in zip(work, thetas, d):
                np.add(t, epsilon * v, out=w, casting="unsafe")
            plus = J()
            for w, t, v in zip(work, thetas, d):
                np.subtract(t, epsilon * v, out=w, casting="unsafe")
            minus = J()
            num_all.append((plus - minus) / (2 * epsilon))
            ana_all.append(sum(float(np.vdot(g, v)) for g, v in zip(grads, d)))
        rel = relative_difference(np.array(num_all), np.array(ana_all))
        for w, t in zip(work, thetas):
            w[...] = t
        return GradCheckReport(rel, tol, epsilon, "directions", [])

    index = [(l, i, j) for l, t in enumerate(thetas) for j in range(t.shape[1]) for i in range(t.shape[0])]
    if n_params is not None:
        if n_params < 1:
            raise ValueError(f"n_params: expected a positive count, got {n_params}")
        pick = rng.choice(len(index), size=min(int(n_params), len(index)), replace=False)
        index = [index[k] for k in sorted(pick)]
    rows = []
    for l, i, j in index:
        orig = work[l][i, j]
        work[l][i, j] = orig + epsilon
        plus = J()
        work[l][i, j] = orig - epsilon
        minus = J()
        work[l][i, j] = orig
        rows.append(GradCheckRow(l + 1, i, j, float(grads[l][i, j]), (plus - minus) / (2 * epsilon)))
    rel = relative_difference(np.array([r.numeric for r in rows]), np.array([r.analytic for r in rows]))
    return GradCheckReport(rel, tol, epsilon, "all" if n_params is None else "subset", rows)


def course_problem(lam: float = 0.0, sizes: Sequence[int] = (3, 5, 3), m: int = 5):
    """The course's ``checkNNGradients`` setup: debug-init Θ, X = debugInitializeWeights(m, s_1 - 1),
    y = 1 + mod(1:m, K).

    Returns ``(thetas, X, y)`` with y as 0-based labels. A network that cannot fit in memory raises
    :class:`~glassnet._support.memory.MemoryBudgetError` (a ``MemoryError`` and ``ValueError``) naming its size, before
    anything is allocated.
    """
    check_network_fits(sizes, m, "gradcheck", what="network")
    thetas = debug_init(sizes)
    X = debug_initialize_weights(m, sizes[0] - 1)
    K = sizes[-1]
    y = np.mod(np.arange(1, m + 1), K) if K > 1 else np.mod(np.arange(1, m + 1), 2)
    return thetas, X, y


def course_gradient_check(lam: float = 0.0, **kwargs) -> GradCheckReport:
    """The course's standard check: 3-5-3 net, m = 5, debug init; must pass at 1e-9 for λ = 0 and λ = 3.

    Parameters
    ----------
    lam : float
        λ for the check.
    **kwargs
        Passed on to :func:`gradient_check` (``epsilon``, ``tol``, ``grad_fn``...).

    Returns
    -------
    GradCheckReport

    Examples
    --------
    >>> report = course_gradient_check(lam=3.0)
    >>> print(report.table(limit=2))  # doctest: +ELLIPSIS
        l    i    j         analytic          numeric  abs error   Θ_ij^(l)
        1    1    0 ...
        1    2    0 ...
    relative difference = ... (tol 1e-09) PASS
    """
    thetas, X, y = course_problem(lam)
    return gradient_check(thetas, X, y, lam, **kwargs)


