"""Training on data in memory: the one entry through which the estimator, the explorer and the curves train.

:func:`fit` takes Θ, the examples and λ and runs one of :data:`glassnet.train.optimize.SOLVERS`: the full-batch solvers
through :func:`glassnet.train.optimize.minimize_full_batch` on a :class:`glassnet._fast.workspace.Workspace` objective
(X and Y validated once, buffers reused by every evaluation), the mini-batch solvers through
:func:`glassnet.train.optimize.minimize_minibatch` on a batch objective. That objective is the lecture's J on the batch
with λ·|batch|/m (:func:`batch_lam`, the one home of that rule), so that the average batch gradient is the
full-batch D.

``partial_fit`` is :func:`fit` with ``max_iter=1`` and ``resume`` set to the model's kept state (update rule moments,
shuffling generator): one epoch, no second loop.

Not here: what a fit starts from (:mod:`glassnet.train.setup`), Dask collections (:mod:`glassnet.scale.dask_fit` and
:mod:`glassnet.scale.distributed`), labels (the callers pass unit indices or a 0/1 matrix, see :mod:`glassnet.outputs`),
splitting off validation data (:mod:`glassnet.train.holdout`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from glassnet._fast.workspace import Workspace
from glassnet._support.fused import EPOCH_NOT_FINITE, EPOCH_OK
from glassnet._validation import check_lam, check_X, is_sparse
from glassnet.params import sizes_from_thetas
from glassnet.train.optimize import (
    CallbackLike,
    History,
    Optimizer,
    StopTraining,
    Validate,
    is_mini_batch,
    make_rule,
    minimize_full_batch,
    minimize_minibatch,
)

__all__ = ["fit", "batch_lam"]


def fit(
    thetas: Sequence[np.ndarray],
    X: np.ndarray,
    y,
    lam: float,
    *,
    solver: str = "lbfgs",
    max_iter: int = 200,
    tol: float | None = None,
    rule: Optimizer | None = None,
    learning_rate="auto",
    batch_size: int = 200,
    shuffle: bool = True,
    random_state=None,
    validate: Validate | None = None,
    early_stopping: bool = False,
    patience: int | None = 10,
    min_delta: float = 1e-4,
    callbacks: CallbackLike | Sequence[CallbackLike] | None = None,
    progress: bool = False,
    n_threads: int | None = None,
    should_stop: Callable[[], bool] | None = None,
    resume=None,
    activation: str = "sigmoid",
    output: str = "sigmoid",
    loss: str = "log",
    assume_finite: bool = False,
    check_finite: Callable[[Any], object] | None = None,
    done: int | None = None,
) -> tuple[list[np.ndarray], History]:
    """Train Θ on (X, y) with ``solver``; returns ``(thetas, history)``.

    Parameters
    ----------
    thetas : list of arrays
        Starting weights, ``thetas[l-1]`` = Θ^(l) of shape (s_{l+1}, s_l + 1).
    X : array, shape (m, s_1)
    y : array
        Targets as the cost takes them: output-unit indices (m,) or an (m, K) 0/1 matrix
        (:func:`glassnet.outputs.encode_labels`); real values for the identity output (regression).
    lam : float
        λ of the lecture's J.
    solver : {"lbfgs", "cg", "sgd", "adam"}
        ``max_iter`` counts iterations (lbfgs, cg) or epochs (sgd, adam).
    tol : float or None
        Full batch: scipy's gradient tolerance (None: scipy's default). Mini-batch: see ``min_delta``.
    rule : Optimizer, optional
        The mini-batch update rule; default :func:`glassnet.train.optimize.make_rule` (``solver``, ``learning_rate``).
    batch_size, shuffle, random_state
        Mini-batch rows (clipped to m), reshuffling every epoch, and the seed of the shuffles.
    validate, early_stopping, patience, min_delta, callbacks, progress, n_threads
        As :func:`glassnet.train.optimize.minimize_full_batch` / :func:`~glassnet.train.optimize.minimize_minibatch`.
    should_stop : callable, optional
        Polled before every mini-batch; True raises :class:`~glassnet.train.optimize.StopTraining` out of ``fit``.
    resume : SolverState, optional
        Mini-batch solvers: continue the run this state was taken from exactly (optimizer moments, epoch, shuffling
        generator, early-stopping state); see :func:`glassnet.train.optimize.minimize_minibatch`.
    activation, output, loss
        The hidden units and the output/cost pair (default: the lecture's), see :func:`glassnet.cost_and_gradient`.
    assume_finite : bool
        X was already checked for NaN and inf: X is validated once per fit, not twice. Shapes and dtypes are still
        checked.
    check_finite : callable or None
        How X is refused for NaN or inf (raising its error), where it has not been looked at yet (the estimators pass
        scikit-learn's, after a ``validate_data`` that left that scan out); None: :func:`glassnet._validation.check_X`'s
        unless ``assume_finite``. The mini-batch solvers defer it to their first pass over X: the compiled epoch
        looks at every row as it gathers it (no pass of its own; a row that is not finite stops it before its batch
        and the check raises), the NumPy loop runs the check before its first batch. The full-batch solvers run it
        first.
    done : int or None
        Iterations/epochs these weights were trained for before (a warm start or resumed run): the progress bar
        counts on from there (None: a resumed run's ``resume.epoch``, else 0).
    """
    kinds: dict[str, Any] = dict(activation=activation, output=output, loss=loss)
    m = X.shape[0]
    # X's NaN/inf: vouched for, or refused by check_finite (default: check_X's scan), now for the full-batch solvers
    # and on the first pass over X for the mini-batch ones (_batch_objective)
    if assume_finite:
        check_finite = None
    elif check_finite is None:
        check_finite = functools.partial(check_X, n_features=sizes_from_thetas(thetas)[0])
    if check_finite is not None and not is_mini_batch(solver):
        check_finite(X)
        check_finite = None
    common: dict[str, Any] = dict(validate=validate, early_stopping=early_stopping, patience=patience,
                                  min_delta=min_delta, callbacks=callbacks, progress=progress, n_threads=n_threads)
    if not is_mini_batch(solver):
        f = Workspace(sizes_from_thetas(thetas), m, X.dtype, **kinds).objective(X, y, lam, assume_finite=True)
        return minimize_full_batch(f, thetas, method=solver, max_iter=max_iter, tol=tol, rows=m, done=done or 0,
                                   **common)

    batch = min(int(batch_size), m)
    batch_objective = _batch_objective(thetas, X, y, lam, batch, should_stop, kinds, check_finite)
    return minimize_minibatch(
        batch_objective, thetas, m, optimizer=rule if rule is not None else make_rule(solver, learning_rate),
        batch_size=batch, max_epochs=max_iter, shuffle=shuffle, random_state=random_state,
        sizes=sizes_from_thetas(thetas), resume=resume, done=done, **common)


def batch_lam(lam: float, rows: int, m: int) -> float:
    """λ·|b|/m: the share of λ that a mini-batch of ``rows`` of the m examples carries.

    With it a batch's J is its mean data term plus (λ/2m)ΣΘ² with the full m, and its D is Δ_b/|b| + (λ/m)Θ: the
    batch gradients of an epoch average to the full-batch D. Every mini-batch loop (in memory, ``partial_fit``, the
    Dask stream) passes this as the λ of its batch cost; one expression, so they all round alike.
    """
    return lam * rows / m


def _batch_objective(thetas, X, y, lam: float, batch: int, should_stop, kinds: dict,
                     check_finite: Callable[[Any], object] | None = None):
    """``f(thetas, idx) -> (J, D)`` of the rows ``idx``: X, Y and λ validated once, one workspace, batch buffers.

    Batch cost: the mean data term over the batch + (λ/2m)ΣΘ² with the full m (:func:`batch_lam`), so that the average
    batch gradient is the full-batch D (an unbiased piece of J). The same numbers as
    ``cost_and_gradient(Θ, X[idx], y[idx], batch_lam(λ, |idx|, m))``,
    without validating and encoding every batch again or allocating its buffers.

    ``check_finite`` (None: X was checked for NaN and inf): run before the NumPy code first reads X, or by the
    compiled epoch's first run (see :func:`fit`).
    """
    sizes = sizes_from_thetas(thetas)
    X = check_X(X, n_features=sizes[0], assume_finite=True)
    unchecked = [check_finite] if check_finite is not None else []  # emptied once X has been looked at
    workspace = Workspace(sizes, batch, X.dtype, **kinds)
    Y = workspace.pair.targets(y, sizes[-1], X.shape[0], dtype=X.dtype)
    lam = check_lam(lam)
    m = X.shape[0]
    sparse = is_sparse(X)  # sparse rows are sliced (a new small matrix); dense ones gathered into one buffer
    Xb = None if sparse else np.empty((batch, X.shape[1]), dtype=X.dtype)
    Yb = np.empty((batch, Y.shape[1]), dtype=X.dtype)
    plans: dict[int, tuple[int, int]] = {}  # rows → (workers, chunk rows): one run keeps one thread setting

    def f(th, idx, out=None):
        """J and D of the rows ``idx``, D written into ``out`` (arrays shaped like Θ, see run_epoch; None: new ones)."""
        if unchecked:
            unchecked.pop()(X)
        if should_stop is not None and should_stop():
            raise StopTraining("stopped")
        n = len(idx)
        # mode="clip": the row numbers are valid by construction, and numpy buffers ``out`` for mode="raise"
        rows = X[idx] if sparse else np.take(X, idx, axis=0, out=Xb[:n], mode="clip")
        np.take(Y, idx, axis=0, out=Yb[:n], mode="clip")
        plan = plans.get(n) or plans.setdefault(n, workspace.plan(n))
        return workspace.cost_and_gradient(th, rows, Yb[:n], batch_lam(lam, n, m), check_input=False, out=out,
                                           plan=plan)

    # The whole epoch in compiled code where it can run (same numbers to rounding; run_epoch falls back to f)
    compiled = workspace.compiled_epoch(X, Y, lam, should_stop)

    def compiled_epoch(*args, **kw):
        """The compiled epoch; while X is unchecked, it looks at X's rows: an epoch that did not end (a row not
        finite, divergence, a stop) runs the check, whose error comes first."""
        result = compiled(*args, check=bool(unchecked), **kw)  # only set where compiled is not None (below)
        if result is not None and unchecked:
            if result[0] != EPOCH_OK:
                unchecked.pop()(X)
                if result[0] == EPOCH_NOT_FINITE:  # the check found nothing: X changed under the fit
                    raise ValueError("X: contains NaN or infinity (it changed while the fit was reading it)")
            unchecked.clear()
        return result

    f.compiled_epoch = compiled_epoch if compiled is not None else None  # type: ignore[attr-defined]
    return f
