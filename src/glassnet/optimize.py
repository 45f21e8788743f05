"""Optimizers that take any ``f(thetas) -> (J, grads)`` on the list of Θ arrays.

This is the only place where the flat parameter vector exists (scipy's ``minimize`` wants one): :func:`unroll` /
:func:`roll` convert at the boundary. Math modules stay pure; progress reaches the caller through callbacks and the
returned :class:`History`, never through ``print``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from .params import roll, sizes_from_thetas, unroll

__all__ = ["History", "minimize_full_batch"]

Objective = Callable[[list[np.ndarray]], tuple[float, list[np.ndarray]]]


@dataclass
class History:
    """What happened during one optimization run."""

    cost: list[float] = field(default_factory=list)
    n_iter: int = 0
    n_evals: int = 0
    converged: bool = False
    message: str = ""


def minimize_full_batch(
    f: Objective,
    thetas: Sequence[np.ndarray],
    *,
    method: str = "L-BFGS-B",
    max_iter: int = 200,
    tol: float | None = None,
    callback: Callable[[int, float, list[np.ndarray]], bool | None] | None = None,
) -> tuple[list[np.ndarray], History]:
    """Minimize ``f`` from ``thetas`` with ``scipy.optimize.minimize(jac=True)`` (L-BFGS-B or CG).

    ``callback(iteration, J, thetas)`` runs after each iteration; returning ``True`` stops early.
    Returns the optimized Θ list (new arrays) and the :class:`History`.
    """
    methods = {"l-bfgs-b": "L-BFGS-B", "lbfgs": "L-BFGS-B", "cg": "CG"}
    key = str(method).lower()
    if key not in methods:
        raise ValueError(f"method: expected one of 'L-BFGS-B', 'CG', got {method!r}")
    if int(max_iter) < 1:
        raise ValueError(f"max_iter: expected a positive number of iterations, got {max_iter!r}")
    sizes = sizes_from_thetas(thetas)
    dtype = np.result_type(*thetas)
    history = History()
    last = {"J": np.nan}

    def fun(vec: np.ndarray):
        J, grads = f(roll(vec.astype(dtype, copy=False), sizes))
        history.n_evals += 1
        last["J"] = J
        return J, unroll(grads).astype(np.float64, copy=False)

    def cb(intermediate_result):
        history.n_iter += 1
        J = float(intermediate_result.fun)
        history.cost.append(J)
        if callback is not None and callback(history.n_iter, J, roll(intermediate_result.x, sizes)):
            raise StopIteration

    options = {"maxiter": int(max_iter)}
    res = minimize(fun, unroll(thetas).astype(np.float64), jac=True, method=methods[key], tol=tol,
                   callback=cb, options=options)
    history.converged = bool(res.success)
    history.message = str(res.message)
    return [t.astype(dtype, copy=True) for t in roll(res.x, sizes)], history
