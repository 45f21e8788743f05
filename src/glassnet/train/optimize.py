"""Optimizers that take any objective on the list of Θ arrays, and the record of a training run.

What is here
------------
- :func:`minimize_full_batch`: L-BFGS-B (default) or CG through ``scipy.optimize.minimize(jac=True)`` on
  ``f(thetas) -> (J, grads)``. This is the only place where the flat parameter vector exists (scipy wants one):
  :func:`~glassnet.params.unroll` / :func:`~glassnet.params.roll` convert at the boundary.
- :func:`minimize_minibatch`: mini-batch SGD (momentum, Nesterov) or Adam on a *batch objective*
  ``f(thetas, idx) -> (J, grads)``, where ``idx`` holds the row numbers (0..m-1) of the examples in the batch. The
  optimizer never sees the data; it only shuffles row numbers with its own seeded generator. :func:`run_epoch` is
  one pass over the rows (what ``partial_fit`` uses); :func:`sgd` and :func:`adam` build the update rules.
- :class:`History` (costs per iteration/epoch, validation cost and accuracy, JSON-safe ``to_dict``/``from_dict``),
  :class:`TrainState` (what callbacks see), :class:`StopTraining` (a callback may raise it to stop).
- :class:`SolverState`: everything a mini-batch run needs to continue bit for bit after an interruption (optimizer
  moments and step count, epoch counter, the shuffling generator's state, early-stopping bookkeeping). Callbacks see it
  as ``state.solver_state`` at every epoch end; ``minimize_minibatch(..., resume=solver_state)`` continues from it, and
  :func:`glassnet.io.save_checkpoint` stores it without pickle. Full-batch runs have none: scipy's L-BFGS memory and
  CG direction live inside ``scipy.optimize.minimize`` and cannot be saved, so a resumed L-BFGS/CG run restarts that
  memory from the saved weights (close to, but not bit for bit, the uninterrupted run).
- :class:`TrainingDiverged` (a ``FloatingPointError``): the cost or the weights stopped being finite, or the epoch cost
  grew to more than :data:`DIVERGENCE_FACTOR` times the lowest one seen (at least 1).
- The BLAS thread policy used during fits is :mod:`glassnet._support.threads`
  (:func:`~glassnet._support.threads.choose_blas_threads`, :func:`~glassnet._support.threads.limit_blas_threads`).

What is not here: data handling, label encoding, printing. Validation cost and accuracy come from a caller-supplied
``validate(thetas) -> (J_val, accuracy)``; progress reaches the caller through callbacks, the returned
:class:`History` and an optional tqdm bar (``progress=True``, off by default; the CLI turns it on).

Iterations and epochs are counted from 1; ``history.cost[i - 1]`` is J after iteration/epoch ``i``.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from glassnet._support import fused as _fused
from glassnet._support.jsonsafe import plain
from glassnet._support.threads import (
    choose_blas_threads,
    choose_epoch_threads,
    current_blas_threads,
    limit_blas_threads,
)
from glassnet.params import roll, sizes_from_thetas, unroll

__all__ = [
    "SOLVERS",
    "FULL_BATCH",
    "MINI_BATCH",
    "DEFAULT_LEARNING_RATE",
    "check_solver",
    "is_mini_batch",
    "learning_rate_for",
    "batch_size_for",
    "DEFAULT_BATCH_SIZE",
    "make_rule",
    "History",
    "TrainState",
    "Callback",
    "StopTraining",
    "SolverState",
    "TrainingDiverged",
    "DIVERGENCE_FACTOR",
    "Optimizer",
    "sgd",
    "adam",
    "minimize_full_batch",
    "minimize_minibatch",
    "run_epoch",
    "batches",
    "plain_reason",
    "AT_LIMIT",
    "EndOfEpoch",
]

Thetas = list[np.ndarray]
Objective = Callable[[Thetas], tuple[float, Thetas]]
BatchObjective = Callable[[Thetas, np.ndarray], tuple[float, Thetas]]
Validate = Callable[[Thetas], tuple[float, float]]


# --------------------------------------------------------------------------------------------------------------------
# History, state, callbacks
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class History:
    """What happened during one training run (or several, when ``partial_fit`` appends epochs).

    Attributes
    ----------
    cost : list of float
        Training cost J(Θ) (regularized) after each iteration (full batch) or epoch (mini-batch: the mean of the
        batch costs seen during the epoch, weighted by batch size, as scikit-learn's ``loss_curve_``).
    val_cost : list of float
        Unregularized cost on the validation set after each iteration/epoch (empty without validation data).
    val_accuracy : list of float
        Validation accuracy after each iteration/epoch (empty without validation data).
    initial_cost : float or None
        J(Θ) at the starting weights when the optimizer evaluated it (full batch), else None.
    n_iter : int
        Iterations (full batch) or epochs (mini-batch) run.
    n_evals : int
        Objective evaluations (full batch: includes line-search steps; mini-batch: batches).
    converged : bool
        True when the solver met its tolerance (not when it ran out of iterations or was stopped).
    message : str
        Why the run ended, in plain words (a full-batch run stores :func:`plain_reason` of scipy's message, e.g.
        "stopped: iteration budget used up" for "STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT").
    solver : str
        ``"lbfgs"``, ``"cg"``, ``"sgd"`` or ``"adam"``.
    best_epoch : int or None
        With early stopping: the 1-based iteration/epoch whose weights were kept.
    stopped_early : bool
        True when early stopping or a callback ended the run.
    seconds : float
        Wall-clock time of the run.
    blas_threads : int or None
        BLAS threads used during the run (see :func:`~glassnet._support.threads.choose_blas_threads`).
    """

    cost: list[float] = field(default_factory=list)
    val_cost: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    initial_cost: float | None = None
    n_iter: int = 0
    n_evals: int = 0
    converged: bool = False
    message: str = ""
    solver: str = ""
    best_epoch: int | None = None
    stopped_early: bool = False
    seconds: float = 0.0
    blas_threads: int | None = None

    _LISTS = ("cost", "val_cost", "val_accuracy")
    _INTS = ("n_iter", "n_evals")
    _BOOLS = ("converged", "stopped_early")
    _STRS = ("message", "solver")

    @property
    def reason(self) -> str:
        """Why the run ended in plain words (:func:`plain_reason` of :attr:`message`), for pages and the CLI."""
        return plain_reason(self.message)

    @property
    def stopped_at_limit(self) -> bool:
        """True when the run ended because it used up ``max_iter`` iterations/epochs, not because it converged or
        was stopped (what scikit-learn warns about with a ``ConvergenceWarning``)."""
        return not self.converged and self.reason.startswith(AT_LIMIT)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (lists of floats, NaN/inf stored as ``None`` by :mod:`glassnet._support.jsonsafe`, the one
        rule for JSON); :meth:`from_dict` inverts it."""
        return {
            "cost": plain([float(v) for v in self.cost]),
            "val_cost": plain([float(v) for v in self.val_cost]),
            "val_accuracy": plain([float(v) for v in self.val_accuracy]),
            "initial_cost": None if self.initial_cost is None else plain(float(self.initial_cost)),
            "n_iter": int(self.n_iter),
            "n_evals": int(self.n_evals),
            "converged": bool(self.converged),
            "message": str(self.message),
            "solver": str(self.solver),
            "best_epoch": None if self.best_epoch is None else int(self.best_epoch),
            "stopped_early": bool(self.stopped_early),
            "seconds": float(self.seconds),
            "blas_threads": None if self.blas_threads is None else int(self.blas_threads),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> History:
        """Rebuild a History from :meth:`to_dict` output; wrong keys or types raise ``ValueError`` naming the key."""
        if not isinstance(d, dict):
            raise ValueError(f"history: expected a dict (History.to_dict() output), got {type(d).__name__}")
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(d) - known, key=str)
        if unknown:
            raise ValueError(f"history: unknown keys {unknown}; expected only {sorted(known)}")
        kwargs: dict[str, Any] = {}

        def number(key, v, allow_none):
            if v is None and allow_none:
                return None
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError(f"history[{key!r}]: expected a number, got {v!r}")
            return float(v)

        for key in cls._LISTS:
            if key in d:
                v = d[key]
                if not isinstance(v, list):
                    raise ValueError(f"history[{key!r}]: expected a list of numbers, got {type(v).__name__}")
                kwargs[key] = [np.nan if x is None else number(key, x, False) for x in v]
        for key in cls._INTS:
            if key in d:
                v = d[key]
                if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                    raise ValueError(f"history[{key!r}]: expected a non-negative int, got {v!r}")
                kwargs[key] = v
        for key in cls._BOOLS:
            if key in d:
                if not isinstance(d[key], bool):
                    raise ValueError(f"history[{key!r}]: expected true/false, got {d[key]!r}")
                kwargs[key] = d[key]
        for key in cls._STRS:
            if key in d:
                if not isinstance(d[key], str):
                    raise ValueError(f"history[{key!r}]: expected a string, got {d[key]!r}")
                kwargs[key] = d[key]
        for key in ("best_epoch", "blas_threads"):
            if key in d and d[key] is not None:
                v = d[key]
                if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                    raise ValueError(f"history[{key!r}]: expected a positive int or null, got {v!r}")
                kwargs[key] = v
        if "initial_cost" in d:
            v = number("initial_cost", d["initial_cost"], True)
            kwargs["initial_cost"] = v
        if "seconds" in d:
            v = number("seconds", d["seconds"], False)
            if v < 0:
                raise ValueError(f"history['seconds']: expected a non-negative number, got {v!r}")
            kwargs["seconds"] = v
        n_iter = kwargs.get("n_iter", 0)
        if len(kwargs.get("cost", [])) > n_iter:
            raise ValueError(f"history: {len(kwargs['cost'])} costs recorded but n_iter is {n_iter}")
        return cls(**kwargs)

    def extend(self, other: History) -> None:
        """Append the iterations/epochs of a later run (``partial_fit``, warm starts) to this history."""
        self.cost.extend(other.cost)
        self.val_cost.extend(other.val_cost)
        self.val_accuracy.extend(other.val_accuracy)
        if other.best_epoch is not None:
            self.best_epoch = self.n_iter + other.best_epoch
        self.n_iter += other.n_iter
        self.n_evals += other.n_evals
        self.converged = other.converged
        self.message = other.message
        self.solver = other.solver
        self.stopped_early = other.stopped_early
        self.seconds += other.seconds
        self.blas_threads = other.blas_threads


@dataclass
class SolverState:
    """A mini-batch run at the end of an epoch: what :func:`minimize_minibatch` needs to continue it bit for bit.

    Attributes
    ----------
    solver : str
        The optimizer's name (``"sgd"``, ``"adam"``); a resumed run must use the same rule.
    epoch : int
        Epochs done in this run (the next one is ``epoch + 1``).
    optimizer : dict
        The update rule's state, as its ``init``/``update`` make it: lists of arrays shaped like Θ (SGD ``velocity``;
        Adam ``m``, ``v``) and numbers (Adam's step count ``t``).
    rng : dict or None
        ``numpy.random.Generator.bit_generator.state`` of the shuffling generator (None without shuffling).
    best, bad_epochs, best_epoch : float, int, int or None
        Early-stopping / no-improvement bookkeeping: the lowest monitored value, epochs without improvement, and (with
        early stopping) the epoch whose weights are kept.
    best_thetas : list of arrays or None
        With early stopping: the kept weights.
    lowest_cost : float
        The lowest epoch cost so far (the divergence test's reference).
    """

    solver: str
    epoch: int
    optimizer: dict
    rng: Mapping[str, Any] | None
    best: float = math.inf
    bad_epochs: int = 0
    best_epoch: int | None = None
    best_thetas: Thetas | None = None
    lowest_cost: float = math.inf


@dataclass(frozen=True)
class TrainState:
    """What a callback sees at the end of each iteration (full batch) or epoch (mini-batch).

    ``thetas`` are the current weights; they may be views into the optimizer's buffers, so copy them to keep them.
    ``solver_state`` (mini-batch only, else None) is what a checkpoint needs to resume exactly.
    """

    epoch: int
    thetas: Thetas
    cost: float
    val_cost: float | None
    val_accuracy: float | None
    history: History
    solver_state: SolverState | None = None


#: An epoch cost above this many times the lowest epoch cost so far (at least 1) counts as divergence.
DIVERGENCE_FACTOR = 1e6


class TrainingDiverged(FloatingPointError):
    """The cost or the weights are no longer finite, or the cost grew by orders of magnitude (step size too large)."""


class StopTraining(Exception):
    """Raise from a callback to end training cleanly; the weights reached so far are returned."""


@runtime_checkable
class Callback(Protocol):
    """Anything with ``on_epoch_end(state) -> bool | None``; returning True (or raising StopTraining) stops."""

    def on_epoch_end(self, state: TrainState) -> bool | None: ...


CallbackLike = Callback | Callable[[TrainState], "bool | None"]


def _callback_functions(callbacks: CallbackLike | Sequence[CallbackLike] | None) -> list[Callable]:
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback) or callable(callbacks):
        callbacks = [callbacks]
    out: list[Callable] = []
    for i, cb in enumerate(callbacks):
        if isinstance(cb, Callback):
            out.append(cb.on_epoch_end)
        elif callable(cb):
            out.append(cb)
        else:
            raise ValueError(
                f"callbacks[{i}]: expected a function of the TrainState or an object with on_epoch_end(state), "
                f"got {type(cb).__name__}"
            )
    return out


class _Monitor:
    """Early-stopping bookkeeping: the best value so far, patience, and a copy of the best weights."""

    def __init__(self, patience: int | None, min_delta: float, keep_best: bool):
        self.patience = patience
        self.min_delta = min_delta
        self.keep_best = keep_best
        self.best = np.inf
        self.best_epoch: int | None = None
        self.best_thetas: Thetas | None = None
        self.bad_epochs = 0

    def update(self, value: float, epoch: int, thetas: Thetas) -> bool:
        """Record ``value`` (lower is better); True when patience has run out."""
        if value < self.best - self.min_delta:
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        if value < self.best:
            self.best = value
            if self.keep_best:
                self.best_epoch = epoch
                self.best_thetas = [np.array(t, copy=True) for t in thetas]
        return self.patience is not None and self.bad_epochs >= self.patience


class EndOfEpoch:
    """Shared end-of-epoch logic of every training loop (both optimizer families here, the Dask stream of
    :func:`glassnet.scale.distributed.fit_sgd`): history, validation, early stopping, tol, callbacks, bar."""

    def __init__(self, history, validate, early_stopping, patience, min_delta, callbacks, progress, total, unit,
                 done=0):
        """``total``: iterations/epochs of this run at most; ``done``: those before it (a warm start or a resumed
        run), where the progress bar starts counting (10/300, not 0/290)."""
        if early_stopping and validate is None:
            raise ValueError("early_stopping: needs validation data (a validate(thetas) function), got None")
        if patience is not None and (isinstance(patience, bool) or int(patience) != patience or patience < 1):
            raise ValueError(f"patience: expected a positive int or None, got {patience!r}")
        if not (np.isfinite(min_delta) and min_delta >= 0):
            raise ValueError(f"min_delta: expected a number ≥ 0, got {min_delta!r}")
        self.history = history
        self.validate = validate
        self.early_stopping = early_stopping
        self.monitor = _Monitor(patience, float(min_delta), keep_best=early_stopping)
        self.callbacks = _callback_functions(callbacks)
        self.bar = None
        if progress:
            from tqdm.auto import tqdm  # imported only when a bar is wanted

            self.bar = tqdm(total=int(done) + total, initial=int(done), unit=unit, desc=history.solver)

    offset = 0  # epochs of a resumed run done before this call's history began

    def end_epoch(self, epoch: int, J: float, thetas: Thetas, monitor_cost: bool, solver_state=None) -> str | None:
        """Record epoch ``epoch``; returns a stop reason or None to go on.

        ``solver_state``: a function of the epoch's outcome giving the :class:`SolverState` callbacks see (mini-batch).
        """
        h = self.history
        h.n_iter = epoch - self.offset
        h.cost.append(float(J))
        val_cost = val_acc = None
        if self.validate is not None:
            val_cost, val_acc = self.validate(thetas)
            val_cost, val_acc = float(val_cost), float(val_acc)
            h.val_cost.append(val_cost)
            h.val_accuracy.append(val_acc)
        if self.bar is not None:
            post = {"J": f"{J:.4g}"}
            if val_acc is not None:
                post["val_acc"] = f"{val_acc:.3f}"
            self.bar.set_postfix(post, refresh=False)
            self.bar.update(1)
        reason = None
        if self.early_stopping:
            if self.monitor.update(val_cost, epoch, thetas):
                reason = (f"early stopping: validation cost did not improve by more than {self.monitor.min_delta:g} "
                          f"for {self.monitor.patience} epochs")
        elif monitor_cost and self.monitor.update(float(J), epoch, thetas):
            reason = (f"training cost did not improve by more than {self.monitor.min_delta:g} "
                      f"for {self.monitor.patience} epochs")
            h.converged = True
        state = TrainState(epoch=epoch, thetas=thetas, cost=float(J), val_cost=val_cost, val_accuracy=val_acc,
                           history=h, solver_state=None if solver_state is None else solver_state())
        for cb in self.callbacks:
            try:
                stop = cb(state)
            except StopTraining as exc:
                return f"stopped by callback: {exc}" if str(exc) else "stopped by callback"
            if stop is True:
                return "stopped by callback"
        return reason

    def close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def finish(self, thetas: Thetas, reason: str | None) -> Thetas:
        """Record why the run ended; with early stopping, hand back the best weights seen."""
        h = self.history
        if reason is not None:
            h.message = reason
            h.stopped_early = not h.converged
        if self.early_stopping and self.monitor.best_thetas is not None and self.monitor.best_epoch is not None:
            # relative to this history (≤ 0 when a resumed run kept weights from before the resume; History.extend
            # then gives the right absolute epoch)
            h.best_epoch = self.monitor.best_epoch - self.offset
            return self.monitor.best_thetas
        return thetas


# --------------------------------------------------------------------------------------------------------------------
# Full batch: scipy
# --------------------------------------------------------------------------------------------------------------------

_FULL_BATCH = {"l-bfgs-b": ("L-BFGS-B", "lbfgs"), "lbfgs": ("L-BFGS-B", "lbfgs"), "cg": ("CG", "cg")}


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}: expected a positive int, got {value!r}")
    return int(value)


def minimize_full_batch(
    f: Objective,
    thetas: Sequence[np.ndarray],
    *,
    method: str = "L-BFGS-B",
    max_iter: int = 200,
    tol: float | None = None,
    validate: Validate | None = None,
    early_stopping: bool = False,
    patience: int | None = 10,
    min_delta: float = 0.0,
    callbacks: CallbackLike | Sequence[CallbackLike] | None = None,
    progress: bool = False,
    n_threads: int | None = None,
    rows: int | None = None,
    options: dict | None = None,
    done: int = 0,
) -> tuple[Thetas, History]:
    """Minimize ``f`` from ``thetas`` with ``scipy.optimize.minimize(jac=True)``: L-BFGS-B (default) or CG.

    Parameters
    ----------
    f : callable
        ``f(thetas) -> (J, grads)``; ``grads`` has the shapes of ``thetas``.
    thetas : list of arrays
        Starting Θ, ``thetas[l-1]`` of shape (s_{l+1}, s_l + 1). Not modified.
    method : {"L-BFGS-B", "lbfgs", "CG"}
        The scipy method (case-insensitive).
    max_iter : int
        Iterations at most (line-search evaluations are not counted; see ``history.n_evals``).
    tol : float or None
        Gradient tolerance: scipy's ``gtol`` (L-BFGS-B: max |projected gradient|; CG: max |gradient|).
        None keeps scipy's default. Unlike ``minimize(tol=...)``, the relative-cost test ``ftol`` is left alone.
    validate : callable or None
        ``validate(thetas) -> (J_val, accuracy)``, called after every iteration and recorded in the history.
    early_stopping : bool
        Stop when J_val has not improved by more than ``min_delta`` for ``patience`` iterations, and return the
        weights with the lowest J_val (needs ``validate``).
    callbacks : callable, Callback or a sequence of them
        Called with a :class:`TrainState` after every iteration; returning True or raising :class:`StopTraining`
        stops training.
    progress : bool
        Show a tqdm progress bar on stderr.
    n_threads : int or None
        BLAS threads while ``f`` runs (see :func:`~glassnet._support.threads.choose_blas_threads`; the automatic choice
        needs ``rows``, without it ``f`` keeps the thread count set before the fit). Between evaluations, while scipy
        does its own vector work, every BLAS runs on 1 thread: two idle-spinning thread pools (numpy's and scipy's
        OpenBLAS are separate libraries) otherwise fight for the cores, which made L-BFGS on MNIST-5k 17× slower on 16
        cores.
    rows : int or None
        Examples per evaluation of ``f``, for the automatic thread choice.
    options : dict or None
        Extra scipy options (e.g. ``{"maxfun": 15000}``).
    done : int
        Iterations run before this call (a warm start): the progress bar counts on from there.

    Returns
    -------
    thetas : list of arrays
        The optimized Θ (new arrays, same dtypes as the input).
    history : History
    """
    key = str(method).lower()
    if key not in _FULL_BATCH:
        raise ValueError(f"method: expected one of 'L-BFGS-B', 'lbfgs', 'CG', got {method!r}")
    scipy_method, solver = _FULL_BATCH[key]
    max_iter = _check_positive_int(max_iter, "max_iter")
    if tol is not None and not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol: expected a number ≥ 0 or None, got {tol!r}")
    sizes = sizes_from_thetas(thetas)
    dtype = np.result_type(*thetas)
    history = History(solver=solver)
    run = EndOfEpoch(history, validate, early_stopping, patience, min_delta, callbacks, progress, max_iter, "it",
                     done=done)
    stop: dict[str, str | None] = {"reason": None}

    threads = _threads_for(n_threads, rows, sizes)

    def fun(vec: np.ndarray):
        if threads == 1:
            J, grads = f(roll(vec.astype(dtype, copy=False), sizes))
        else:
            with limit_blas_threads(threads):
                J, grads = f(roll(vec.astype(dtype, copy=False), sizes))
        if history.n_evals == 0:
            history.initial_cost = float(J)
        history.n_evals += 1
        return float(J), unroll(grads).astype(np.float64, copy=False)

    def cb(intermediate_result):
        reason = run.end_epoch(history.n_iter + 1, float(intermediate_result.fun),
                               roll(intermediate_result.x, sizes), monitor_cost=False)
        if reason is not None:
            stop["reason"] = reason
            raise StopIteration

    opts: dict[str, Any] = {"maxiter": max_iter}
    if tol is not None:
        opts["gtol"] = float(tol)
    opts.update(options or {})
    # Imported here, not at the top: scipy.optimize takes about 0.1 s to import, which every `import glassnet`, every
    # command line call and every grading run would pay without ever training with L-BFGS or CG.
    from scipy.optimize import minimize

    t0 = time.perf_counter()
    # scipy's own vector work between evaluations runs on 1 thread. Measured on 16 cores, MNIST-5k 784-25-10, 100
    # L-BFGS iterations: every BLAS at 16 threads 22.9 s (numpy's and scipy's thread pools fight for the cores);
    # all at 1 thread 1.37 s; 1 thread outside and 16 inside the objective 0.50 s.
    with limit_blas_threads(1):
        try:
            res = minimize(fun, unroll(thetas).astype(np.float64), jac=True, method=scipy_method, callback=cb,
                           options=opts)
        finally:
            run.close_bar()
    history.seconds = time.perf_counter() - t0
    history.blas_threads = threads
    history.converged = bool(res.success) and stop["reason"] is None
    history.message = plain_reason(str(res.message))  # scipy's words ("STOP: TOTAL NO. OF ...") become plain ones
    out = [t.astype(dtype, copy=True) for t in roll(res.x, sizes)]
    return [np.asarray(t, dtype=dtype) for t in run.finish(out, stop["reason"])], history


#: The plain words of a run that used up its iterations/epochs (``max_iter``) without converging.
AT_LIMIT = "stopped: iteration budget used up"

# scipy's stop messages (L-BFGS-B and CG) -> words a student reads; the one table for History.message (full-batch
# runs store the plain words), the explorer and the CLI.
_PLAIN_REASONS = (
    ("NORM OF PROJECTED GRADIENT", "converged: the gradient is ~0"),
    ("Optimization terminated successfully", "converged: the gradient is ~0"),
    ("REL_REDUCTION_OF_F", "converged: J stopped decreasing"),
    ("ITERATIONS REACHED LIMIT", AT_LIMIT),
    ("Maximum number of iterations has been exceeded", AT_LIMIT),
    ("EVALUATIONS EXCEEDS LIMIT", "stopped: budget of J evaluations used up"),
    ("ABNORMAL_TERMINATION_IN_LNSRCH", "stopped: the line search found no lower J (limit of numerical precision)"),
    ("precision loss", "stopped: the line search found no lower J (limit of numerical precision)"),
    ("reached max_epochs", AT_LIMIT),
    ("NaN result encountered", "stopped: J became NaN (try a smaller learning rate or inputs scaled to [0, 1])"),
)


def plain_reason(message: str) -> str:
    """Why an optimizer run ended, in plain words, from :attr:`History.message` (scipy's text or glassnet's own).

    >>> plain_reason("CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL")
    'converged: the gradient is ~0'
    >>> plain_reason("reached max_epochs = 20")
    'stopped: iteration budget used up (20 epochs)'
    >>> plain_reason("stopped by callback")
    'stopped by callback'
    """
    text = str(message)
    for needle, words in _PLAIN_REASONS:
        if needle.lower() in text.lower():
            if needle == "reached max_epochs" and "=" in text:
                return f"{words} ({text.rsplit('=', 1)[1].strip()} epochs)"
            return words
    return text


def _threads_for(n_threads, rows, sizes) -> int:
    if n_threads is None and rows is None:
        return current_blas_threads() or 1  # nothing to go on: the objective keeps the threads it had
    return choose_blas_threads(rows if rows is not None else 1, sizes, n_threads)


# --------------------------------------------------------------------------------------------------------------------
# Mini-batch: SGD with momentum / Nesterov, Adam
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Optimizer:
    """A mini-batch update rule as a pair of pure functions (the JAX ``example_libraries`` shape).

    ``init(thetas) -> state`` and ``update(thetas, grads, state) -> (new_thetas, new_state)``; neither modifies its
    arguments. ``update_(thetas, grads, state) -> None``, when given, is the same step done in place: it writes the new
    weights into ``thetas`` and the new state into ``state`` (its arrays and numbers) and uses ``grads`` as scratch
    space (they are overwritten). It must be elementwise: :func:`run_epoch` calls it on the weights, gradients and
    state arrays flattened into one array each, on buffers of its own, so that a step allocates nothing.
    """

    name: str
    init: Callable[[Thetas], Any]
    update: Callable[[Thetas, Thetas, Any], tuple[Thetas, Any]]
    learning_rate: float
    update_: Callable[[Thetas, Thetas, Any], None] | None = None
    #: The rule as the compiled epoch knows it (``("adam", (η, β₁, β₂, ε))``, ``("sgd", (η, μ, nesterov))``), or None.
    kernel: tuple[str, tuple] | None = None


def _copy_state(state: dict) -> dict:
    """An update rule's state with its lists of arrays copied (the numbers are immutable)."""
    return {k: [np.array(v, copy=True) for v in val] if isinstance(val, list) else val for k, val in state.items()}


def _pure(update_: Callable[[Thetas, Thetas, Any], None]) -> Callable[[Thetas, Thetas, Any], tuple[Thetas, Any]]:
    """The pure ``update`` of an in-place rule: the step written once, in ``update_``, run on copies."""

    def update(thetas, grads, state):
        new, new_state = [np.array(t, copy=True) for t in thetas], _copy_state(state)
        update_(new, [np.array(g, copy=True) for g in grads], new_state)
        return new, new_state

    return update


def _check_rate(value, name: str, low: float = 0.0, high: float = np.inf, closed_low: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number, got {value!r}") from None
    ok = (v >= low if closed_low else v > low) and v < high and np.isfinite(v)
    if not ok:
        lo = "[" if closed_low else "("
        raise ValueError(f"{name}: expected a number in {lo}{low:g}, {high:g}), got {value!r}")
    return v


# --------------------------------------------------------------------------------------------------------------------
# The solver switch: which solvers exist, which kind each is, and the update rule of a mini-batch solver
# --------------------------------------------------------------------------------------------------------------------

#: Full-batch solvers (scipy, one J and D over all examples per evaluation) and mini-batch solvers (here).
FULL_BATCH = ("lbfgs", "cg")
MINI_BATCH = ("sgd", "adam")
SOLVERS = FULL_BATCH + MINI_BATCH
#: Step sizes of ``learning_rate="auto"``: sigmoid units learn too slowly at Adam's usual 0.001 (92% vs 98% test
#: accuracy on digits after 200 epochs).
DEFAULT_LEARNING_RATE = {"sgd": 0.1, "adam": 0.01}
#: Rows per mini-batch of ``batch_size="auto"`` (scikit-learn's default).
DEFAULT_BATCH_SIZE = 200


def check_solver(solver, name: str = "solver") -> str:
    """``solver`` if it is one of :data:`SOLVERS`, else a ``ValueError`` naming ``name`` and the choices."""
    if solver not in SOLVERS:
        raise ValueError(f"{name}: expected one of {', '.join(repr(s) for s in SOLVERS)}, got {solver!r}")
    return solver


def is_mini_batch(solver: str) -> bool:
    """True for sgd and adam (epochs of mini-batches), False for lbfgs and cg (iterations over the full batch)."""
    return check_solver(solver) in MINI_BATCH


def learning_rate_for(solver: str, learning_rate="auto") -> float:
    """The step size a mini-batch solver uses: ``learning_rate``, or the solver's default for ``"auto"``."""
    if not is_mini_batch(solver):
        raise ValueError(f"learning_rate: only the mini-batch solvers {MINI_BATCH} take a step size, not {solver!r}")
    return DEFAULT_LEARNING_RATE[solver] if learning_rate == "auto" else float(learning_rate)


def batch_size_for(batch_size, m: int) -> int:
    """The rows per mini-batch of ``m`` examples: ``batch_size`` (or :data:`DEFAULT_BATCH_SIZE` for ``"auto"``),
    never more than ``m``."""
    return min(DEFAULT_BATCH_SIZE, m) if batch_size == "auto" else min(int(batch_size), m)


def make_rule(solver: str, learning_rate="auto", *, momentum: float = 0.9, nesterov: bool = True,
              beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8) -> Optimizer:
    """The update rule of mini-batch ``solver``: :func:`sgd` (momentum, Nesterov) or :func:`adam`."""
    rate = learning_rate_for(solver, learning_rate)
    if solver == "sgd":
        return sgd(rate, momentum=momentum, nesterov=nesterov)
    return adam(rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)


def sgd(learning_rate: float = 0.1, momentum: float = 0.9, nesterov: bool = True) -> Optimizer:
    """Stochastic gradient descent with momentum: v ← μv − ηD; Θ ← Θ + v (Nesterov: Θ ← Θ + μv − ηD).

    ``momentum=0`` is plain SGD, Θ ← Θ − ηD. The Nesterov form is the one of Sutskever et al. (2013), as in
    scikit-learn's ``SGDOptimizer``.
    """
    eta = _check_rate(learning_rate, "learning_rate")
    mu = _check_rate(momentum, "momentum", 0.0, 1.0, closed_low=True)
    nesterov = bool(nesterov)

    def init(thetas):
        return {"velocity": [np.zeros_like(t) for t in thetas]}

    def update_(thetas, grads, state):
        for t, v, g in zip(thetas, state["velocity"], grads):
            if _fused.sgd(t, v, g, eta, mu, nesterov):  # the same step in one pass, where the kernels are built
                continue
            g *= eta  # ηD
            v *= mu
            v -= g  # v ← μv − ηD
            if nesterov:
                t -= g
                np.multiply(v, mu, out=g)
                t += g  # Θ ← Θ − ηD + μv
            else:
                t += v

    return Optimizer("sgd", init, _pure(update_), eta, update_, ("sgd", (eta, mu, nesterov)))


def adam(learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8) -> Optimizer:
    """Adam (Kingma & Ba 2015) with bias correction: Θ ← Θ − η·m̂/(√v̂ + ε)."""
    eta = _check_rate(learning_rate, "learning_rate")
    b1 = _check_rate(beta_1, "beta_1", 0.0, 1.0, closed_low=True)
    b2 = _check_rate(beta_2, "beta_2", 0.0, 1.0, closed_low=True)
    eps = _check_rate(epsilon, "epsilon")

    def init(thetas):
        return {"t": 0, "m": [np.zeros_like(t) for t in thetas], "v": [np.zeros_like(t) for t in thetas]}

    def update_(thetas, grads, state):
        t = state["t"] = state["t"] + 1
        step = eta * math.sqrt(1 - b2**t) / (1 - b1**t)
        # Written as x ← β(x − u) + u = βx + (1 − β)u, so that D itself is the only scratch array needed.
        for th, m, v, g in zip(thetas, state["m"], state["v"], grads):
            if _fused.adam(th, m, v, g, b1, b2, eps, step):  # the same step in one pass, where the kernels are built
                continue
            m -= g
            m *= b1
            m += g  # m ← β₁m + (1 − β₁)D
            g *= g
            v -= g
            v *= b2
            v += g  # v ← β₂v + (1 − β₂)D²
            np.sqrt(v, out=g)
            g += eps
            np.divide(m, g, out=g)
            g *= step
            th -= g  # Θ ← Θ − η·m̂/(√v̂ + ε), the bias corrections folded into the step

    return Optimizer("adam", init, _pure(update_), eta, update_, ("adam", (eta, b1, b2, eps)))


def _as_optimizer(optimizer: Optimizer | str) -> Optimizer:
    if isinstance(optimizer, Optimizer):
        return optimizer
    if optimizer == "sgd":
        return sgd()
    if optimizer == "adam":
        return adam()
    raise ValueError(f"optimizer: expected 'sgd', 'adam' or an Optimizer from sgd()/adam(), got {optimizer!r}")


def batches(m: int, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Row numbers 0..m-1 cut into consecutive batches of ``batch_size`` (the last may be smaller).

    With a generator the rows are shuffled first; with ``rng=None`` they stay in order.
    """
    order = epoch_order(m, rng)
    return [order[i : i + batch_size] for i in range(0, m, batch_size)]


def epoch_order(m: int, rng: np.random.Generator | None) -> np.ndarray:
    """The rows 0..m-1 in the order of one epoch: shuffled by ``rng``, or in order for ``rng=None``."""
    return rng.permutation(m) if rng is not None else np.arange(m)


def run_epoch(
    f: BatchObjective,
    thetas: Sequence[np.ndarray],
    m: int,
    optimizer: Optimizer,
    state: Any,
    batch_size: int,
    rng: np.random.Generator | None,
    workers: int = 1,
) -> tuple[Thetas, Any, float, int]:
    """One pass over rows 0..m-1 in mini-batches.

    Returns ``(thetas, state, mean_J, n_batches)`` where ``mean_J`` is the batch costs averaged with the batch sizes
    as weights; ``thetas`` and ``state`` are not modified. Raises ``FloatingPointError`` when the cost or the weights
    stop being finite (learning rate too high).

    With an in-place rule (``optimizer.update_``) the epoch copies Θ once into one flat buffer (Θ^(l) are
    C-contiguous views of it) and the rule's arrays once into flat buffers of their own; every batch then updates
    them in place, with D in one scratch buffer: no step allocates anything. An objective that takes ``out=``
    (arrays shaped like Θ) writes D straight into that buffer. ``workers``: threads the objective's compiled epoch may
    run on, if it has one (see :func:`~glassnet._support.threads.choose_epoch_threads`).
    """
    steps = _InPlaceSteps(thetas, optimizer, state) if optimizer.update_ is not None else _PureSteps(
        thetas, optimizer, state)
    order = epoch_order(m, rng)
    compiled = getattr(f, "compiled_epoch", None)
    if compiled is not None and optimizer.kernel is not None and isinstance(steps, _InPlaceSteps):
        done = _compiled_epoch(compiled, steps, optimizer, order, batch_size, workers)
        if done is not None:
            return steps.thetas, steps.final_state(), done[0] / m, done[1]
    out = {"out": steps.scratch} if steps.scratch is not None and _takes_out(f) else {}
    total, n = 0.0, 0
    # A too-large step overflows long before anything else fails: silence numpy's warnings and report it once, clearly.
    with np.errstate(over="ignore", invalid="ignore"):
        for idx in (order[i : i + batch_size] for i in range(0, m, batch_size)):
            J, grads = f(steps.thetas, idx, **out)
            if np.isfinite(J):
                steps.step(grads)
            if not (np.isfinite(J) and steps.finite()):
                raise _diverged(n + 1, J, optimizer)
            total += float(J) * len(idx)
            n += 1
    return steps.thetas, steps.final_state(), total / m, n


def _diverged(batch: int, J, optimizer: Optimizer) -> TrainingDiverged:
    return TrainingDiverged(f"training diverged: the cost or the weights are no longer finite (batch {batch}, "
                            f"J = {J}); lower learning_rate (now {optimizer.learning_rate:g})")


def _compiled_epoch(compiled, steps: _InPlaceSteps, optimizer: Optimizer, order: np.ndarray,
                    batch_size: int, workers: int) -> tuple[float, int] | None:
    """The epoch of :func:`run_epoch` by the objective's ``compiled_epoch`` (its batches, D and this rule's steps in
    compiled code, on ``steps``' flat buffers): ``(Σ J_b·|b|, batches)``, or None where it declined (nothing was
    changed; the NumPy loop runs)."""
    assert optimizer.kernel is not None
    kind, params = optimizer.kernel
    state = steps.state
    arrays = [state["m"][0], state["v"][0]] if kind == "adam" else [state["velocity"][0]]
    result = compiled(steps.flat, steps.gflat, kind, params, arrays, state.get("t", 0), order, batch_size, workers)
    if result is None:
        return None
    status, total, n, t, bad_batch, bad_J = result
    if kind == "adam":
        state["t"] = t
    if status == _fused.EPOCH_DIVERGED:
        raise _diverged(bad_batch, float(bad_J), optimizer)
    if status == _fused.EPOCH_STOPPED:
        raise StopTraining("stopped")
    return total, n


class _PureSteps:
    """Steps of a rule given as a pure ``update`` only: new arrays every step."""

    scratch = None

    def __init__(self, thetas, optimizer: Optimizer, state) -> None:
        self.thetas, self.state, self.update = list(thetas), state, optimizer.update

    def step(self, grads) -> None:
        self.thetas, self.state = self.update(self.thetas, grads, self.state)

    def finite(self) -> bool:
        return all(np.isfinite(t).all() for t in self.thetas)

    def final_state(self):
        return self.state


class _InPlaceSteps:
    """Steps of an in-place rule on one epoch's own flat buffers: Θ, D and each of the rule's arrays.

    The rules are elementwise, so ``update_`` runs on the flat arrays (one per list) exactly as on the layers.
    """

    def __init__(self, thetas, optimizer: Optimizer, state) -> None:
        self.sizes = sizes_from_thetas(thetas)
        self.flat = unroll(thetas, order="C")
        self.gflat = np.empty_like(self.flat)
        self.thetas = roll(self.flat, self.sizes, order="C")
        self.scratch = roll(self.gflat, self.sizes, order="C")
        self.arrays = [k for k, v in state.items() if isinstance(v, list)]  # Adam's m and v, SGD's velocity
        self.state = {k: [unroll(v, order="C")] if k in self.arrays else v for k, v in state.items()}
        assert optimizer.update_ is not None  # only in-place rules get flat buffers
        self.update_ = optimizer.update_

    def step(self, grads) -> None:
        for buffer, g in zip(self.scratch, grads):
            if g is not buffer:  # an objective without out=: its D is copied into the scratch buffer
                np.copyto(buffer, g)
        self.update_([self.flat], [self.gflat], self.state)

    def finite(self) -> bool:
        return _fused.is_finite(self.flat)

    def final_state(self) -> dict:
        """The state as the rule's ``init`` makes it: per-layer arrays (views of this epoch's buffers)."""
        return {k: roll(v[0], self.sizes, order="C") if k in self.arrays else v for k, v in self.state.items()}


def _takes_out(f) -> bool:
    """Whether the batch objective ``f`` accepts ``out=`` (arrays shaped like Θ to write D into)."""
    try:
        return "out" in inspect.signature(f).parameters
    except (TypeError, ValueError):  # a callable without a signature: call it the plain way
        return False


def _restore(resume: SolverState, opt: Optimizer, thetas: Thetas, rng, monitor: _Monitor) -> tuple[Any, float]:
    """The optimizer state and lowest cost of ``resume``, with ``rng`` and ``monitor`` set from it; checked first."""
    if not isinstance(resume, SolverState):
        raise ValueError(f"resume: expected a SolverState (TrainState.solver_state), got {type(resume).__name__}")
    if resume.solver != opt.name:
        raise ValueError(f"resume: the state is of optimizer {resume.solver!r}, this run uses {opt.name!r}")
    if isinstance(resume.epoch, bool) or not isinstance(resume.epoch, int) or resume.epoch < 0:
        raise ValueError(f"resume.epoch: expected an int ≥ 0, got {resume.epoch!r}")
    shapes = [t.shape for t in thetas]
    for key, value in resume.optimizer.items():
        if isinstance(value, list) and [np.shape(v) for v in value] != shapes:
            raise ValueError(f"resume.optimizer[{key!r}]: shapes {[np.shape(v) for v in value]} do not match the "
                             f"weights {shapes}")
    if resume.best_thetas is not None and [np.shape(t) for t in resume.best_thetas] != shapes:
        raise ValueError("resume.best_thetas: shapes do not match the weights")
    if (rng is None) != (resume.rng is None):
        raise ValueError("resume.rng: the saved run and this one differ in shuffling (shuffle=True/False)")
    if rng is not None:
        try:
            rng.bit_generator.state = resume.rng
        except (TypeError, ValueError, KeyError) as exc:
            raise ValueError(f"resume.rng: not a state of this generator ({exc})") from None
    monitor.best = float(resume.best)
    monitor.bad_epochs = int(resume.bad_epochs)
    monitor.best_epoch = resume.best_epoch
    monitor.best_thetas = None if resume.best_thetas is None else [np.array(t, copy=True) for t in resume.best_thetas]
    return _copy_state(resume.optimizer), float(resume.lowest_cost)


def minimize_minibatch(
    f: BatchObjective,
    thetas: Sequence[np.ndarray],
    m: int,
    *,
    optimizer: Optimizer | str = "adam",
    batch_size: int = 200,
    max_epochs: int = 200,
    shuffle: bool = True,
    random_state: np.random.Generator | int | None = None,
    validate: Validate | None = None,
    early_stopping: bool = False,
    patience: int | None = 10,
    min_delta: float = 1e-4,
    callbacks: CallbackLike | Sequence[CallbackLike] | None = None,
    progress: bool = False,
    n_threads: int | None = None,
    sizes: Sequence[int] | None = None,
    resume: SolverState | None = None,
    done: int | None = None,
) -> tuple[Thetas, History]:
    """Mini-batch training: each epoch shuffles rows 0..m-1 and applies ``optimizer`` once per batch.

    Parameters
    ----------
    f : callable
        The batch objective ``f(thetas, idx) -> (J, grads)``: the cost and gradient on the examples whose row numbers
        are in ``idx`` (int array). It may take ``out=`` (arrays shaped like Θ): the run then passes its own buffer
        and D is written there instead of into new arrays. For the lecture's J, make the batch cost an unbiased
        estimate of the full one: use the data term averaged over the batch plus (λ/2m)ΣΘ² with the *full* m
        (λ = :func:`glassnet.train.fitting.batch_lam` of the batch passed to :func:`glassnet.cost_and_gradient`).
    thetas : list of arrays
        Starting Θ. Not modified.
    m : int
        Number of training examples.
    optimizer : Optimizer or {"adam", "sgd"}
        From :func:`adam` or :func:`sgd` (a string means its defaults).
    batch_size : int
        Rows per batch (clipped to m).
    max_epochs : int
        Passes over the data at most.
    shuffle : bool
        Reshuffle the rows every epoch with a generator seeded from ``random_state``.
    validate, early_stopping, callbacks, progress
        As in :func:`minimize_full_batch`; early stopping monitors J_val and returns the best weights.
    patience, min_delta : int or None, float
        Without early stopping, training stops (``history.converged = True``) once the epoch cost has not improved
        by more than ``min_delta`` for ``patience`` epochs (scikit-learn's ``tol``/``n_iter_no_change``);
        ``patience=None`` always runs ``max_epochs``. With early stopping the same rule applies to J_val.
    n_threads : int or None
        BLAS threads (see :func:`~glassnet._support.threads.choose_blas_threads`, with ``rows = batch_size``; needs
        ``sizes`` for the automatic choice, otherwise BLAS settings are left alone), and the threads of a compiled
        epoch (:func:`~glassnet._support.threads.choose_epoch_threads`).
    sizes : sequence of int or None
        Layer sizes; taken from ``thetas`` when None.
    resume : SolverState or None
        Continue an interrupted run: ``thetas`` are the weights at the end of epoch ``resume.epoch`` and ``resume``
        the ``state.solver_state`` a callback saw then. The run goes on with epoch ``resume.epoch + 1`` (the returned
        history holds the new epochs only; ``max_epochs`` counts them) and ends with exactly the weights the
        uninterrupted run would have reached.
    done : int or None
        Epochs run before this call, where the progress bar counts on from (None: ``resume.epoch``, else 0).

    Returns
    -------
    thetas : list of arrays
    history : History

    Raises
    ------
    TrainingDiverged
        The cost or the weights stopped being finite, or an epoch cost exceeded :data:`DIVERGENCE_FACTOR` times the
        lowest epoch cost so far (at least 1).
    """
    opt = _as_optimizer(optimizer)
    m = _check_positive_int(m, "m")
    batch_size = min(_check_positive_int(batch_size, "batch_size"), m)
    max_epochs = _check_positive_int(max_epochs, "max_epochs")
    sizes = list(sizes) if sizes is not None else sizes_from_thetas(thetas)
    history = History(solver=opt.name)
    if done is None:
        done = resume.epoch if isinstance(resume, SolverState) else 0
    run = EndOfEpoch(history, validate, early_stopping, patience, min_delta, callbacks, progress, max_epochs, "epoch",
                     done=done)
    rng = np.random.default_rng(random_state) if shuffle else None
    threads = choose_blas_threads(batch_size, sizes, n_threads)
    workers = choose_epoch_threads(m, batch_size, sizes, n_threads)
    current = [np.array(t, copy=True) for t in thetas]
    state = opt.init(current)
    first, lowest = 1, math.inf
    if resume is not None:
        state, lowest = _restore(resume, opt, current, rng, run.monitor)
        first, run.offset = resume.epoch + 1, resume.epoch

    def solver_state() -> SolverState:
        mon = run.monitor
        return SolverState(solver=opt.name, epoch=epoch, optimizer=state, rng=None if rng is None else
                           rng.bit_generator.state, best=float(mon.best), bad_epochs=int(mon.bad_epochs),
                           best_epoch=mon.best_epoch, best_thetas=mon.best_thetas, lowest_cost=lowest)

    reason = None
    t0 = time.perf_counter()
    try:
        with limit_blas_threads(threads):
            for epoch in range(first, first + max_epochs):
                current, state, J, n = run_epoch(f, current, m, opt, state, batch_size, rng, workers)
                history.n_evals += n
                if J > DIVERGENCE_FACTOR * max(lowest, 1.0):
                    raise TrainingDiverged(
                        f"training diverged: J = {J:.4g} after epoch {epoch}, more than {DIVERGENCE_FACTOR:g} times "
                        f"the lowest epoch cost so far ({lowest:.4g}); lower learning_rate (now "
                        f"{opt.learning_rate:g})")
                lowest = min(lowest, float(J))
                reason = run.end_epoch(epoch, J, current, monitor_cost=True, solver_state=solver_state)
                if reason is not None:
                    break
    finally:
        run.close_bar()
        history.seconds = time.perf_counter() - t0
        history.blas_threads = threads
    if reason is None:
        history.message = f"reached max_epochs = {max_epochs}"
    return run.finish(current, reason), history
