"""Data-parallel J(Θ), gradient and training on Dask: the lecture's sums over examples as a map-reduce.

J(Θ) and Δ^(l) = Σ_t δ^(l+1) (a^(l))ᵀ are sums over examples, so a row-chunked X splits them exactly:

- map: every row chunk computes ``(m_chunk, Σ cost, [Δ^(l)])`` with the ordinary NumPy code
  (:func:`glassnet._fast.workspace.batch_sums`) on the Dask worker that holds the chunk;
- reduce: the partial sums are added in a tree (at most 8 inputs per task), on the workers;
- finish, once, on the driver: J = Σ cost / m + (λ/2m) Σ Θ², D^(l) = Δ^(l)/m + (λ/m) Θ^(l) (bias column not
  regularized).

So the result equals the in-memory computation up to the order of floating-point additions (tested to 1e-10).
``glassnet.cost_and_gradient`` sends Dask input here by itself; :func:`fit_full_batch` runs L-BFGS on the driver with
these distributed full-batch gradients (validated chunks stay in worker memory, Θ is sent once per evaluation);
:func:`fit_sgd` streams the chunks for mini-batch SGD/Adam, moving Θ to the data rather than the data to Θ (each batch
with λ·|b|/m, :func:`glassnet.train.fitting.batch_lam`, and the in-memory end-of-epoch rules);
:func:`read_chunks` opens CSV, Parquet or npz files lazily, so the driver never loads the data
(:func:`read_labelled` also keeps them on the workers and finds the classes), and :func:`hash_split` holds out a test
part by a seeded hash of the row number, on the workers.

Which cluster: ``client=`` (a ``distributed.Client``), else ``scheduler=`` (an address such as ``"tcp://host:8786"``
or a cluster object; glassnet connects and disconnects), else the current default client, else Dask's local
scheduler in this process. Faults: a task that raises makes the call raise that error; a worker that dies has its
tasks (and lost chunks) recomputed by Dask, and after Dask's ``allowed-failures`` the call raises ``KilledWorker``.
Every gradient is also checked to have covered every row, so a lost chunk can never shrink the sums silently.

Not here: the math itself (see :mod:`glassnet.backprop` and :mod:`glassnet._fast.workspace`), optimizer rules
(:mod:`glassnet.train.optimize`), GPUs (:mod:`glassnet.scale.backends`), the estimator's Dask input
(:mod:`glassnet.scale.dask_fit`). Requires the ``dask`` extra: ``pip install 'glassnet[dask]'``.
"""

from __future__ import annotations

import contextlib
import glob as globlib
import math
import os
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._fast.workspace import batch_sums
from glassnet._support.npzfile import Member, MemberReader, member_header, open_npz, read_data
from glassnet._validation import check_lam, check_thetas, check_X, compute_dtype, is_dask_collection
from glassnet.backprop import finish
from glassnet.cost import regularization
from glassnet.datasets.files import CHUNKED_FORMATS, FORMATS, MAX_BYTES, csv_columns, feature_limit
from glassnet.outputs import encode_labels
from glassnet.train.fitting import batch_lam
from glassnet.train.optimize import (
    EndOfEpoch,
    History,
    Optimizer,
    TrainState,
    Validate,
    adam,
    minimize_full_batch,
    sgd,
)

__all__ = ["connect", "cost_and_gradient_dask", "fit_full_batch", "fit_sgd", "read_chunks", "read_labelled",
           "hash_split", "row_hash", "check_aligned", "client_for", "compute", "as_dask_array", "is_numeric",
           "dask_modules"]

_INSTALL_HINT = "install it with: pip install 'glassnet[dask]'"
#: Partial sums added per reduce task: the tree has depth log_8(#chunks), and no task holds more than 8 Δ sets.
SPLIT_EVERY = 8


def dask_modules():
    """``(dask, dask.array)``, or an ImportError that says how to install them."""
    try:
        import dask
        import dask.array as da
    except ImportError:  # pragma: no cover - dask is part of the dev install
        raise ImportError(f"glassnet.scale.distributed needs Dask; {_INSTALL_HINT}") from None
    return dask, da


# --------------------------------------------------------------------------------------------------------------------
# Which cluster
# --------------------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def client_for(client, scheduler) -> Iterator[Any]:
    """The ``distributed.Client`` to use (None: Dask's local scheduler); a client opened here is closed here."""
    if client is not None and scheduler is not None:
        raise ValueError("client, scheduler: pass one of them, not both")
    if client is not None:
        if not (hasattr(client, "compute") and hasattr(client, "scatter")):
            raise ValueError(f"client: expected a distributed.Client, got {type(client).__name__}")
        yield client
        return
    try:
        import distributed
    except ImportError:
        if scheduler is not None:
            raise ImportError(f"scheduler={scheduler!r} needs dask.distributed; {_INSTALL_HINT}") from None
        yield None
        return
    if scheduler is not None:
        try:
            opened = distributed.Client(scheduler, set_as_default=False)  # timeout: distributed.comm.timeouts.connect
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(
                f"scheduler: could not connect to the Dask scheduler at {scheduler!r}: {exc}") from exc
        with opened:
            yield opened
        return
    try:
        current = distributed.default_client()
    except ValueError:  # no client running: the local scheduler
        current = None
    yield current


@contextlib.contextmanager
def connect(scheduler: str) -> Iterator[Any]:
    """A ``distributed.Client`` connected to the Dask scheduler at ``scheduler`` (e.g. ``tcp://host:8786``), closed
    on leaving the block; a ``ConnectionError`` naming the address when it cannot be reached."""
    with client_for(None, scheduler) as client:
        yield client


def compute(client, obj, what: str):
    """Compute ``obj`` on the cluster (or locally); errors keep their type and gain a note saying what failed."""
    dask, _ = dask_modules()
    try:
        if client is None:
            return dask.compute(obj)[0]
        return client.gather(client.compute(obj))
    except Exception as exc:
        exc.add_note(f"glassnet.scale.distributed: {what} failed on Dask; no result was returned.")
        raise


# --------------------------------------------------------------------------------------------------------------------
# Row chunks
# --------------------------------------------------------------------------------------------------------------------


def as_dask_array(obj, name: str, like=None):
    """A Dask array from a Dask array/DataFrame/Series, or (``like`` given) from in-memory labels chunked like X."""
    _, da = dask_modules()
    if is_dask_collection(obj):
        if type(obj).__module__.startswith("dask.dataframe"):
            import dask.dataframe as dd

            frame = isinstance(obj, dd.DataFrame)
            if frame and len(obj.columns) == 1 and name == "y":  # a one-column frame of labels is its Series
                obj, frame = obj[obj.columns[0]], False
            dtypes = dict(obj.dtypes.items()) if frame else {obj.name: obj.dtype}
            bad = {str(c): str(t) for c, t in dtypes.items() if not is_numeric(t)}
            if bad:
                raise ValueError(f"{name}: expected numeric columns, got {bad}")
            return obj.to_dask_array()
        if isinstance(obj, da.Array):
            return obj
        raise ValueError(f"{name}: expected a Dask array or DataFrame, got {type(obj).__module__}.{type(obj).__name__}")
    if like is None:
        raise ValueError(
            f"{name}: expected a Dask array or DataFrame chunked by rows, got {type(obj).__name__}; for in-memory data "
            "call glassnet.cost_and_gradient or glassnet.train.optimize directly"
        )
    rows = like.chunks[0]
    if any(math.isnan(c) for c in rows):
        raise ValueError(f"{name}: in-memory labels need X with known chunk sizes; X has unknown row chunks {rows}")
    arr = np.asarray(obj)
    m = int(sum(rows))
    if arr.ndim == 0 or arr.shape[0] != m:
        raise ValueError(f"{name}: expected {m} labels (one per row of X), got shape {arr.shape}")
    return da.from_array(arr, chunks=(rows,) + arr.shape[1:])


def is_numeric(dtype) -> bool:
    """Bool, integer or float, for NumPy and pandas dtypes alike (pandas' string/category dtypes are not NumPy's)."""
    try:
        return np.dtype(dtype).kind in "biuf"
    except TypeError:
        return False


def _fmt_chunks(chunks: tuple) -> str:
    shown = ", ".join("?" if math.isnan(c) else str(int(c)) for c in chunks[:8])
    return f"({shown}{', ...' if len(chunks) > 8 else ''})"


def _prepare_chunk(X, y, i: int, n_features: int, K: int, dtype: str):
    """Validated (X, Y) of row chunk ``i``: X (m_i, s_1) in ``dtype``, Y (m_i, K) 0/1. Runs on a worker."""
    X = np.asarray(X)
    y = np.asarray(y)
    if X.shape[0] != (y.shape[0] if y.ndim else -1):
        raise ValueError(
            f"X and y: row chunk {i} has {X.shape[0]} rows of X but {y.shape[0] if y.ndim else 'no'} labels; "
            "X and y must be partitioned alike"
        )
    if X.shape[0] == 0:  # empty partitions happen after filtering a DataFrame; they add nothing
        return np.empty((0, n_features), dtype=dtype), np.empty((0, K), dtype=dtype)
    X = check_X(X, n_features=n_features, name=f"X (row chunk {i})").astype(dtype, copy=False)
    return X, encode_labels(y, K, X.shape[0], dtype=dtype, name=f"y (row chunk {i})")


def _chunk_sums(thetas, chunk):
    """Map step: ``(m_i, Σ cost, [Δ^(l)])`` of one prepared chunk, in float64 for the reduction."""
    X, Y = chunk
    if X.shape[0] == 0:
        return 0, 0.0, [np.zeros(t.shape) for t in thetas]
    J_sum, Delta = batch_sums(thetas, X, Y)
    return X.shape[0], float(J_sum), [D.astype(np.float64, copy=False) for D in Delta]


def _add_sums(*parts):
    """Reduce step: element-wise total of several ``(m, Σ cost, [Δ])``."""
    m, J, Delta = parts[0]
    Delta = [D.copy() for D in Delta]  # inputs may be shared by the local scheduler: never add in place into them
    for m_i, J_i, Delta_i in parts[1:]:
        m += m_i
        J += J_i
        for D, D_i in zip(Delta, Delta_i):
            D += D_i
    return m, J, Delta


def _chunk_rows(chunk) -> int:
    return int(chunk[0].shape[0])


@dataclass
class _Chunks:
    """Row chunks of validated (X, Y) as Dask delayed objects, plus what the driver knows without reading them."""

    parts: list[Any]
    m: int | None  # total rows when every chunk size is known
    n_features: int
    dtype: np.dtype

    def persist(self, client) -> _Chunks:
        """The same chunks held in worker memory (validated once, read once), spread evenly over the workers.

        Chunk i is placed on worker i mod W (a loose restriction: Dask may still run it elsewhere, e.g. after a worker
        died). Left to itself, work stealing during the one-off validation step placed 5 of 8 MNIST chunks on one of
        2 workers in a measured run, and every later evaluation then waited for the busier worker.
        """
        workers = sorted(client.scheduler_info().get("workers", {}))
        if not workers:
            return _Chunks(list(client.persist(self.parts)), self.m, self.n_features, self.dtype)
        parts = [client.persist(part, workers=[workers[i % len(workers)]], allow_other_workers=True)
                 for i, part in enumerate(self.parts)]
        return _Chunks(parts, self.m, self.n_features, self.dtype)


def check_aligned(X, y, what: str = "X and y") -> None:
    """Row chunks of Dask X and y must match: known sizes are compared here, unknown ones on the workers."""
    cx, cy = X.chunks[0], y.chunks[0]
    known = not any(math.isnan(c) for c in cx + cy)
    if len(cx) != len(cy) or (known and tuple(cx) != tuple(cy)):
        raise ValueError(
            f"{what}: expected the same row chunks, got X with {len(cx)} chunks of sizes {_fmt_chunks(cx)} and "
            f"y with {len(cy)} chunks of sizes {_fmt_chunks(cy)}; "
            + ("rechunk y with y.rechunk({0: X.chunks[0]})" if known else
               "take X and y from one DataFrame or array so that they are partitioned alike, e.g. "
               "a = df[features + [label]].to_dask_array(); X, y = a[:, :-1], a[:, -1]")
        )


def _row_chunks(X, y, sizes: list[int]) -> _Chunks:
    """Line up X and y chunk by chunk and describe the validation each chunk gets on its worker."""
    dask, _ = dask_modules()
    X = as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D Dask array of shape (m, n_features), got {X.ndim} dimensions")
    if X.shape[1] != sizes[0]:
        raise ValueError(f"X: expected {sizes[0]} columns (s_1, the input layer size of thetas[0]), got {X.shape[1]}")
    if np.dtype(X.dtype).kind not in "biuf":
        raise ValueError(f"X: expected numbers, got dtype {X.dtype}")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})  # one chunk spans all columns: the map step needs whole rows
    y = as_dask_array(y, "y", like=X)
    if y.ndim == 2 and len(y.chunks[1]) > 1:
        y = y.rechunk({1: -1})
    check_aligned(X, y)
    dtype = compute_dtype(np.empty(0, dtype=X.dtype))
    xs = X.to_delayed().reshape(-1)
    ys = y.to_delayed().reshape(-1)
    parts = [
        dask.delayed(_prepare_chunk, pure=True)(xb, yb, i, sizes[0], sizes[-1], dtype.str)
        for i, (xb, yb) in enumerate(zip(xs, ys))
    ]
    cx = X.chunks[0]
    m = None if any(math.isnan(c) for c in cx) else int(sum(cx))
    return _Chunks(parts, m, sizes[0], dtype)


def _tree_sum(parts: list[Any]):
    dask, _ = dask_modules()
    while len(parts) > 1:
        parts = [dask.delayed(_add_sums)(*parts[i : i + SPLIT_EVERY]) for i in range(0, len(parts), SPLIT_EVERY)]
    return parts[0]


def _literal(obj, prefix: str):
    """``obj`` as one task of the graph: sent with the graph once, fetched once by each worker that needs it.

    Why not ``client.scatter``: a scatter right after a worker was killed blocked on the dead worker (seen in this
    module's tests), while a graph literal is just another task, which Dask recomputes if its holder dies.
    """
    dask, _ = dask_modules()
    return dask.delayed(obj, name=f"{prefix}-{uuid.uuid4().hex}", traverse=False)


def _sums(client, chunks: _Chunks, thetas: Sequence[np.ndarray]):
    """Total ``(m, Σ cost, [Δ])`` over all chunks: Θ sent once, map over chunks, tree-reduce on the workers."""
    dask, _ = dask_modules()
    theta_ref = _literal(thetas, "thetas")  # once per evaluation, not once per chunk
    total = _tree_sum([dask.delayed(_chunk_sums)(theta_ref, part) for part in chunks.parts])
    return compute(client, total, f"J and D over {len(chunks.parts)} row chunks")


def _evaluate(client, chunks: _Chunks, thetas: Sequence[np.ndarray], lam: float) -> tuple[float, list[np.ndarray]]:
    """One distributed J and D: the summed chunks, checked to cover every row, finished on the driver."""
    m, J_sum, Delta = _sums(client, chunks, thetas)
    if chunks.m is not None and m != chunks.m:
        raise RuntimeError(
            f"glassnet.scale.distributed: the chunk sums covered {m} rows, expected {chunks.m}; no result returned")
    if m == 0:
        raise ValueError("X: expected at least one example (row), every chunk is empty")
    J = J_sum / m + regularization(thetas, lam, m)
    return J, finish(thetas, [D.astype(chunks.dtype, copy=False) for D in Delta], m, lam)


def _setup(thetas, X, y, lam):
    X_arr = as_dask_array(X, "X")
    dtype = compute_dtype(np.empty(0, dtype=X_arr.dtype)) if np.dtype(X_arr.dtype).kind in "biuf" else np.float64
    thetas, sizes = check_thetas(thetas, np.dtype(dtype))
    return thetas, _row_chunks(X_arr, y, sizes), check_lam(lam)


# --------------------------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------------------------


def cost_and_gradient_dask(
    thetas: Sequence[np.ndarray], X, y, lam: float = 0.0, *, client=None, scheduler=None
) -> tuple[float, list[np.ndarray]]:
    """J(Θ) and D^(l) for a Dask X chunked by rows, summed chunk by chunk on the workers.

    Parameters
    ----------
    thetas : list of arrays
        ``thetas[l-1]`` is Θ^(l), shape (s_{l+1}, s_l + 1), bias column first (NumPy, on the driver).
    X : dask.array.Array (m, s_1) or dask.dataframe.DataFrame
        Examples, chunked by rows (column chunks are merged). Chunk sizes may be unknown (from a DataFrame).
    y : dask array or Series (m,) / (m, K), chunked like X; or in-memory labels when X's chunk sizes are known
        Labels as for :func:`glassnet.cost_and_gradient`; K comes from ``thetas``.
    lam : float
        λ ≥ 0, added once on the driver.
    client : distributed.Client, optional
    scheduler : str or cluster, optional
        Address of a Dask scheduler (e.g. ``"tcp://10.0.0.5:8786"``) to connect to for this call.

    Returns
    -------
    J : float
    grads : list of arrays
        NumPy D^(l), shaped like Θ^(l), in X's compute dtype (float32 stays float32).

    Examples
    --------
    >>> import dask.array as da, numpy as np, glassnet
    >>> thetas = glassnet.debug_init([3, 5, 3])
    >>> X = da.from_array(glassnet.debug_initialize_weights(5, 2), chunks=(2, 3))
    >>> J, grads = glassnet.cost_and_gradient(thetas, X, np.array([1, 2, 0, 1, 2]), 3.0)
    >>> f"{J:.6f}"
    '2.146360'
    """
    thetas, chunks, lam = _setup(thetas, X, y, lam)
    with client_for(client, scheduler) as c:
        return _evaluate(c, chunks, thetas, lam)


def fit_full_batch(
    thetas: Sequence[np.ndarray],
    X,
    y,
    lam: float = 0.0,
    *,
    client=None,
    scheduler=None,
    method: str = "L-BFGS-B",
    max_iter: int = 200,
    persist: bool = True,
    **options,
) -> tuple[list[np.ndarray], History]:
    """Train by L-BFGS-B (or CG) on the driver with distributed full-batch J and D.

    The chunks are read and validated once and kept in worker memory (``persist``; with a distributed client), so
    each of the optimizer's evaluations costs one scatter of Θ, the map over chunks and a tree reduce.

    Parameters
    ----------
    thetas : list of arrays
        Starting Θ (not modified).
    X, y, lam, client, scheduler
        As in :func:`cost_and_gradient_dask`.
    method, max_iter
        Passed to :func:`glassnet.train.optimize.minimize_full_batch`.
    persist : bool
        Keep the validated chunks in worker memory between evaluations (ignored without a distributed client: the
        local scheduler re-reads the chunks each evaluation, so data larger than memory still works).
    **options
        Further keyword arguments of :func:`glassnet.train.optimize.minimize_full_batch` (``tol``, ``callbacks``, ...).

    Returns
    -------
    thetas : list of arrays
    history : glassnet.train.optimize.History
    """
    thetas, chunks, lam = _setup(thetas, X, y, lam)
    with client_for(client, scheduler) as c:
        if c is not None and persist:
            chunks = chunks.persist(c)

        def f(th: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
            return _evaluate(c, chunks, check_thetas(th, chunks.dtype)[0], lam)

        return minimize_full_batch(f, thetas, method=method, max_iter=max_iter, **options)


def _sgd_chunk(state, chunk, optimizer: Optimizer, batch_size: int, lam: float, m: int, seed):
    """Run the optimizer over one chunk's mini-batches where the chunk lives; returns the updated state.

    ``state`` is ``(thetas, optimizer_state, Σ batch cost · batch size, rows, batches)``. Each batch gradient is
    Δ_b/|b| + (λ/m)Θ (bias column unregularized), an unbiased estimate of the full-batch D.
    """
    thetas, opt_state, J_total, rows, n_batches = state
    X, Y = chunk
    n = X.shape[0]
    order = np.random.default_rng(seed).permutation(n) if seed is not None else np.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        b = len(idx)
        J_sum, Delta = batch_sums(thetas, X[idx], Y[idx])
        J_b = J_sum / b + regularization(thetas, lam, m)
        if not np.isfinite(J_b):
            raise FloatingPointError(f"training diverged: the batch cost is {J_b}; lower the learning rate")
        grads = finish(thetas, Delta, b, batch_lam(lam, b, m))  # Δ_b/b + (λ/m)Θ: the in-memory mini-batch gradient
        thetas, opt_state = optimizer.update(thetas, grads, opt_state)
        J_total += J_b * b
        rows += b
        n_batches += 1
    return thetas, opt_state, J_total, rows, n_batches


def fit_sgd(
    thetas: Sequence[np.ndarray],
    X,
    y,
    lam: float = 0.0,
    *,
    client=None,
    scheduler=None,
    optimizer: Optimizer | str = "adam",
    batch_size: int = 200,
    max_epochs: int = 10,
    shuffle: bool = True,
    random_state: int | None = None,
    validate: Validate | None = None,
    early_stopping: bool = False,
    patience: int | None = None,
    min_delta: float = 1e-4,
    callbacks: Callable[[TrainState], bool | None] | Sequence[Callable] | None = None,
    progress: bool = False,
    persist: bool = True,
) -> tuple[list[np.ndarray], History]:
    """Mini-batch training that streams the row chunks: Θ and the optimizer state travel to each chunk in turn.

    Every epoch visits the chunks in a (seeded) random order; on the worker that holds a chunk, its rows are
    shuffled and cut into mini-batches of ``batch_size`` (a chunk's last batch may be shorter; batches never span
    chunks) and ``optimizer`` takes one step per batch. The whole epoch is one chain of tasks, so the driver is not
    in the loop between chunks; it sees Θ once per epoch (history, validation, callbacks), and the end of each epoch
    follows the in-memory fit's rules (:class:`glassnet.train.optimize.EndOfEpoch`).

    Parameters
    ----------
    thetas : list of arrays
        Starting Θ (not modified).
    X, y, lam, client, scheduler, persist
        As in :func:`fit_full_batch`.
    optimizer : Optimizer or {"adam", "sgd"}
        From :func:`glassnet.train.optimize.adam` / :func:`glassnet.train.optimize.sgd` (a string means its defaults).
    batch_size : int
        Rows per mini-batch.
    max_epochs : int
        Passes over the data.
    shuffle : bool
        Shuffle chunk order and rows within chunks each epoch (seeded by ``random_state``; the global RNG is
        untouched). Results do not depend on which worker runs what.
    random_state : int or None
    validate, early_stopping, patience, min_delta, progress
        As in :func:`glassnet.train.optimize.minimize_minibatch`, once per epoch on the driver (``validate`` takes
        in-memory data); ``patience=None`` (the default) always runs ``max_epochs``. With early stopping the best
        weights are returned.
    callbacks : callable or list of callables
        Called with a :class:`glassnet.train.optimize.TrainState` after each epoch; returning True or raising
        :class:`glassnet.train.optimize.StopTraining` stops.

    Returns
    -------
    thetas : list of arrays
    history : glassnet.train.optimize.History
        ``cost[e - 1]``: the mean regularized mini-batch cost during epoch ``e`` (weighted by batch size).
    """
    if isinstance(optimizer, str):
        if optimizer not in ("adam", "sgd"):
            raise ValueError(
                f"optimizer: expected 'adam', 'sgd' or an Optimizer from glassnet.train.optimize, got {optimizer!r}")
        optimizer = adam() if optimizer == "adam" else sgd()
    elif not isinstance(optimizer, Optimizer):
        raise ValueError(f"optimizer: expected 'adam', 'sgd' or an Optimizer, got {type(optimizer).__name__}")
    for name, value in (("batch_size", batch_size), ("max_epochs", max_epochs)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name}: expected a positive int, got {value!r}")
    dask, _ = dask_modules()
    thetas, chunks, lam = _setup(thetas, X, y, lam)
    seeds = np.random.SeedSequence(random_state)
    history = History(solver=optimizer.name)
    run = EndOfEpoch(history, validate, early_stopping, patience, min_delta, callbacks, progress, int(max_epochs),
                     "epoch")
    t0 = time.perf_counter()
    reason = None
    try:
        with client_for(client, scheduler) as c:
            if c is not None and persist:
                chunks = chunks.persist(c)
            m = chunks.m
            if m is None:
                m = int(sum(compute(c, [dask.delayed(_chunk_rows)(p) for p in chunks.parts], "counting rows")))
            if m == 0:
                raise ValueError("X: expected at least one example (row), every chunk is empty")
            current = [t.copy() for t in thetas]
            opt_state = optimizer.init(current)
            for epoch in range(1, int(max_epochs) + 1):
                # entropy is an int: random_state is an int or None
                rng = np.random.default_rng([seeds.entropy, epoch]) if shuffle else None  # type: ignore[arg-type]
                order = rng.permutation(len(chunks.parts)) if rng is not None else range(len(chunks.parts))
                state = _literal((current, opt_state, 0.0, 0, 0), "sgd-state")
                for i in order:
                    seed = (seeds.entropy, epoch, int(i)) if shuffle else None
                    state = dask.delayed(_sgd_chunk)(state, chunks.parts[i], optimizer, int(batch_size), lam, m, seed)
                current, opt_state, J_total, rows, n_batches = compute(c, state, f"SGD epoch {epoch}")
                if rows != m:
                    raise RuntimeError(f"glassnet.scale.distributed: epoch {epoch} covered {rows} rows, expected {m}")
                history.n_evals += n_batches
                reason = run.end_epoch(epoch, J_total / m, current, monitor_cost=True)
                if reason is not None:
                    break
    finally:
        run.close_bar()
    history.seconds = time.perf_counter() - t0
    if reason is None:
        history.message = f"reached max_epochs = {max_epochs}"
    return run.finish(current, reason), history


# --------------------------------------------------------------------------------------------------------------------
# Reading files chunk by chunk
# --------------------------------------------------------------------------------------------------------------------


def _expand(path) -> list[str]:
    """Local files for a path, glob or list of them; URLs are left for Dask (fsspec) to resolve."""
    items = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    if not items:
        raise ValueError("path: expected a file, a glob pattern or a list of files, got an empty list")
    out: list[str] = []
    for item in items:
        s = os.fspath(item)
        if "://" in s:
            out.append(s)
            continue
        found = sorted(globlib.glob(s)) if globlib.has_magic(s) else ([s] if os.path.exists(s) else [])
        if not found:
            raise FileNotFoundError(f"path: no file matches {s!r}")
        out.extend(found)
    return out


def _format_of(files: list[str], format: str | None) -> str:
    """The one chunked format of ``files``: ``format`` if given, else what their suffixes name in
    :data:`glassnet.datasets.files.FORMATS` (a folder without a suffix is Parquet)."""
    if format is not None:
        fmt = str(format).lower()
        if fmt not in CHUNKED_FORMATS:
            raise ValueError(f"format: expected 'csv', 'parquet' or 'npz', got {format!r}")
        return fmt
    suffixes = {Path(f.rstrip("/")).suffix.lower() or ("dir" if os.path.isdir(f) else "") for f in files}
    fmts = {"parquet" if s == "dir" else FORMATS.get(s, "") for s in suffixes}
    if len(fmts) != 1 or not fmts <= set(CHUNKED_FORMATS):
        raise ValueError(
            f"path: cannot tell the file format from the suffixes {sorted(suffixes)}; expected .csv/.txt, "
            ".parquet/.pq (or a Parquet folder) or .npz, or pass format="
        )
    return str(fmts.pop())  # not None: checked above


def _npy_member(zf: zipfile.ZipFile, key: str, path: str) -> Member:
    """The checked ``.npy`` header of the ``key`` array of an npz archive (the one defensive reader's rules: no
    objects, a zip header that fits the array, decompression bounded)."""
    infos = {i.filename: i for i in zf.infolist()}
    if key + ".npy" not in infos:
        have = sorted(n[:-4] for n in infos if n.endswith(".npy"))
        raise ValueError(f"{path}: expected an array named {key!r} in the npz file, found {have}")
    return member_header(zf, infos[key + ".npy"], Path(path), ValueError, "biufUS")


def _npz_shape(path: str, key: str) -> tuple[tuple[int, ...], np.dtype]:
    zf, _ = open_npz(Path(path), ValueError, MAX_BYTES)
    with zf:
        mem = _npy_member(zf, key, path)
    return mem.shape, mem.dtype


def _read_npz_rows(path: str, key: str, start: int, stop: int) -> np.ndarray:
    """Rows start..stop-1 of one array in an npz file, reading only those bytes when it is stored in C order."""
    zf, _ = open_npz(Path(path), ValueError, MAX_BYTES)
    with zf:
        mem = _npy_member(zf, key, path)
        if mem.fortran_order:  # rows are not contiguous: read the array, keep the rows
            return np.ascontiguousarray(read_data(zf, mem, Path(path), ValueError)[start:stop])
        row_bytes = mem.dtype.itemsize * math.prod(mem.shape[1:])
        with MemberReader(zf, mem.info, Path(path), ValueError) as f:
            f.skip(mem.header_bytes + start * row_bytes)
            buf = f.read_exact((stop - start) * row_bytes)
    return np.frombuffer(buf, dtype=mem.dtype).reshape((stop - start,) + tuple(mem.shape[1:])).copy()


def _read_npz(files: list[str], x_key: str, y_key: str, rows_per_chunk: int | None):
    dask, da = dask_modules()
    X_blocks, y_blocks = [], []
    for path in files:
        (x_shape, x_dtype), (y_shape, y_dtype) = _npz_shape(path, x_key), _npz_shape(path, y_key)
        if len(x_shape) != 2:
            raise ValueError(f"{path}: expected {x_key!r} to be 2-D (m, n_features), got shape {x_shape}")
        if len(y_shape) == 0 or y_shape[0] != x_shape[0]:
            raise ValueError(
                f"{path}: expected {y_key!r} to hold {x_shape[0]} labels (one per row of {x_key!r}), "
                f"got shape {y_shape}")
        m = x_shape[0]
        step = m if rows_per_chunk is None else int(rows_per_chunk)
        for start in range(0, m, max(step, 1)):
            stop = min(m, start + step)
            X_blocks.append(da.from_delayed(dask.delayed(_read_npz_rows)(path, x_key, start, stop),
                                            shape=(stop - start, x_shape[1]), dtype=x_dtype))
            y_blocks.append(da.from_delayed(dask.delayed(_read_npz_rows)(path, y_key, start, stop),
                                            shape=(stop - start,) + tuple(y_shape[1:]), dtype=y_dtype))
    return da.concatenate(X_blocks, axis=0), da.concatenate(y_blocks, axis=0)


def read_chunks(
    path,
    label_column: str = "y",
    *,
    feature_columns: Sequence[str] | None = None,
    format: str | None = None,
    blocksize: str | int = "64MiB",
    rows_per_chunk: int | None = None,
    x_key: str = "X",
):
    """Open data files lazily as row-chunked Dask arrays ``(X, y)``; nothing is read until a computation needs it.

    Parameters
    ----------
    path : str, Path or list
        A file, a glob pattern (``"data/part-*.csv"``), a Parquet folder or a list of them. Workers read the files
        themselves, so on a real cluster the paths must be visible to them (shared disk or a URL such as ``s3://``).
    label_column : str
        The label column (CSV, Parquet) or the labels' array name inside each npz file.
    feature_columns : list of str, optional
        CSV/Parquet feature columns, in order; default: every column but ``label_column``.
    format : {"csv", "parquet", "npz"}, optional
        Default: from the file suffixes.
    blocksize : str or int
        CSV bytes per chunk (Dask's ``read_csv``). Parquet: one chunk per row group/file, as Dask reads it.
    rows_per_chunk : int, optional
        npz only: cut each file into chunks of this many rows (read with a seek, without loading the file, when the
        array is stored in C order). Default: one chunk per file.
    x_key : str
        npz only: the name of the feature array in each file.

    Returns
    -------
    X : dask.array.Array (m, n_features)
        CSV/Parquet chunks have unknown sizes (``nan``) until computed; glassnet does not need them. CSV/Parquet
        features and labels come from one array, so they share its dtype (labels may come back as floats).
    y : dask.array.Array (m,) or (m, K), chunked like X
    """
    if rows_per_chunk is not None and (isinstance(rows_per_chunk, bool) or int(rows_per_chunk) < 1):
        raise ValueError(f"rows_per_chunk: expected a positive int or None, got {rows_per_chunk!r}")
    files = _expand(path)
    fmt = _format_of(files, format)
    if fmt == "npz":
        return _read_npz(files, x_key, label_column, rows_per_chunk)
    import dask.dataframe as dd

    where = files[0] if len(files) == 1 else f"{files[0]} (+{len(files) - 1} more)"
    if fmt == "csv":
        df, header = _read_csv(files, blocksize)
    else:
        df = dd.read_parquet(files if len(files) > 1 else files[0])
    columns = list(df.columns)
    if label_column not in columns:
        unnamed = " (it has no header row, so they are named by position)" if fmt == "csv" and not header else ""
        raise ValueError(f"label_column: {where} has no column {label_column!r}; its columns are {columns}{unnamed}")
    features = [c for c in columns if c != label_column] if feature_columns is None else list(feature_columns)
    missing = [c for c in features if c not in columns]
    if missing:
        raise ValueError(f"feature_columns: {where} has no columns {missing}; its columns are {columns}")
    if not features:
        raise ValueError(f"feature_columns: {where} has no feature column besides {label_column!r}")
    bad = {c: str(df.dtypes[c]) for c in features + [label_column] if not is_numeric(df.dtypes[c])}
    if bad:
        raise ValueError(f"path: expected numeric columns in {where}, got {bad}")
    # One array for features and labels: two separate column selections may be partitioned differently (Dask can
    # merge small partitions of a narrow selection), which would misalign X and y.
    both = df[features + [label_column]].to_dask_array()
    return both[:, :-1], both[:, -1]


def _read_csv(files: list[str], blocksize):
    """``(dataframe, first_file_has_header)`` of CSV ``files``, every file's first row judged by itself.

    A first row of numbers is an example, not a header (:func:`glassnet.datasets.files.csv_columns`, the rule of
    ``load_csv``), in each file: a later file without a header keeps its first row even when the first file has one
    (Dask's ``read_csv`` applies the first file's choice to all of them, and dropped that row). The columns are named
    by the first file (``col_0, col_1, ...`` without a header); a later file must have as many, and a later header
    must name the same columns. Runs of files alike are read by one ``read_csv``, in the files' order.
    """
    import dask.dataframe as dd

    names, header = csv_columns(files[0])
    runs: list[tuple[bool, list[str]]] = []
    for f in files:
        own, has_header = csv_columns(f) if f != files[0] else (names, header)
        if not own:  # an empty file holds no rows to keep or lose
            continue
        if len(own) != len(names) or (has_header and header and own != names):
            raise ValueError(f"path: {f} has the columns {own[:20]}, but {files[0]} has {names[:20]}; the files "
                             "read together must have the same columns (a header row in each, or in none)")
        if runs and runs[-1][0] == has_header:
            runs[-1][1].append(f)
        else:
            runs.append((has_header, [f]))
    if len(runs) <= 1:  # files all alike: Dask reads them as one (the header's names as pandas reads them)
        return dd.read_csv(files, blocksize=blocksize, **({} if header else {"header": None, "names": names})), header
    parts = [dd.read_csv(run, blocksize=blocksize, header=0 if has_header else None, names=names)
             for has_header, run in runs]
    return dd.concat(parts), header


def read_labelled(files, label_column: str, client, *, format: str | None = None, rows_per_chunk: int = 1000):
    """``(X, y, classes, chunk_sizes)``: labelled files read once by the workers and kept in their memory.

    :func:`read_chunks` cut into chunks of about ``rows_per_chunk`` rows (npz: exactly; CSV: by bytes, from the line
    lengths of the first file; Parquet: its own row groups), persisted on ``client`` (a ``distributed.Client``);
    one pass over the labels finds the classes and the rows per chunk. Whole-number labels become int64, as when
    the file is loaded in memory (CSV/Parquet labels arrive as floats, sharing one array with the features).
    """
    dask, _ = dask_modules()
    files = _expand(files)
    fmt = _format_of(files, format)
    chunking: dict[str, Any] = {}  # Parquet: the files' own row groups
    if fmt == "npz":
        chunking = {"rows_per_chunk": rows_per_chunk}
    elif fmt == "csv":
        chunking = {"blocksize": _csv_blocksize(files[0], rows_per_chunk)}
    X, y = read_chunks(files, label_column=label_column, format=fmt, **chunking)
    if X.ndim != 2 or y.ndim != 1:
        raise ValueError(f"expected X of shape (m, n_features) and labels of shape (m,), got {X.shape} and {y.shape}")
    X, y = client.persist([X, y])  # read once; every later pass (fit, J, accuracies) reuses the workers' chunks
    labels = [dask.delayed(_label_summary)(b) for b in y.to_delayed().ravel()]
    features = [dask.delayed(_feature_summary)(b) for b in X.to_delayed().ravel()]
    found = client.gather(client.compute(labels + features))
    found, ranges = found[:len(labels)], found[len(labels):]
    where = files[0] if len(files) == 1 else f"{files[0]} (+{len(files) - 1} more)"
    if not all(finite for finite, _ in ranges):
        raise ValueError(f"{where}: the features hold NaN or inf (an empty cell?); expected a number in every cell")
    largest = max((r for _, r in ranges), default=0.0)
    limit = feature_limit(X.dtype if X.dtype.kind == "f" else np.float64)
    if largest > limit:  # the rule of glassnet.datasets' loaders (feature_limit), so both paths refuse the same data
        raise ValueError(f"{where}: a feature holds {largest:.6g}, too large; glassnet reads features up to "
                         f"±{limit:.2g} (larger ones overflow when squared or summed): rescale the data")
    classes = np.unique(np.concatenate([u for u, _ in found]))
    if classes.dtype.kind == "f":
        if not np.isfinite(classes).all():
            raise ValueError(f"the label column {label_column!r} holds {classes[~np.isfinite(classes)][0]} (an empty "
                             "cell?); expected a label in every row")
        whole = classes == np.round(classes)
        if not whole.all():
            raise ValueError(f"the label column {label_column!r} holds fractional numbers such as "
                             f"{classes[~whole][0]:g}; expected class labels (whole numbers) — is it the right column?")
        if np.abs(classes).max(initial=0) < 2**53:
            classes, y = classes.astype(np.int64), y.astype(np.int64)
    return X, y, classes, [n for _, n in found]


def _label_summary(y) -> tuple[np.ndarray, int]:
    """The distinct labels of one chunk and its row count (runs on a worker)."""
    y = np.asarray(y)
    return np.unique(y), int(y.shape[0])


def _feature_summary(X) -> tuple[bool, float]:
    """Whether one chunk's features are all finite, and their largest magnitude (runs on a worker)."""
    X = np.asarray(X)
    if X.size == 0:
        return True, 0.0
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        return False, 0.0
    return True, max(float(X.max()), -float(X.min()))  # two passes, no (m, n) temporary


def _csv_blocksize(path: str, rows: int) -> int:
    """Bytes per CSV chunk for about ``rows`` rows, from the line lengths in the file's first 64 KiB."""
    with open(path, "rb") as f:
        sample = f.read(1 << 16)
    lines = max(sample.count(b"\n") - 1, 1)  # without the header
    per_row = max(len(sample) // (lines + 1), 1)
    return rows * per_row


# --------------------------------------------------------------------------------------------------------------------
# A held-out part chosen on the workers: a seeded hash of the row number
# --------------------------------------------------------------------------------------------------------------------


def row_hash(rows: np.ndarray, seed: int) -> np.ndarray:
    """A number in [0, 1) per row number, from a seeded SplitMix64 hash: the same for a row in whatever chunk."""
    mask = (1 << 64) - 1
    z = rows.astype(np.uint64) + np.uint64((int(seed) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & mask)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)  # uint64 arrays wrap around, as the hash wants
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def _held_out(start: int, n: int, seed: int, fraction: float) -> np.ndarray:
    """Which of the rows start..start+n-1 belong to the test part."""
    return row_hash(np.arange(start, start + n, dtype=np.uint64), seed) < fraction


def _take_rows(block, starts, seed: int, fraction: float, test: bool, block_id=None):
    """The test (or the training) rows of one chunk; runs on the worker that holds it."""
    out = _held_out(int(starts[block_id[0]]), len(block), seed, fraction)
    return block[out if test else ~out]


def hash_split(X, y, chunk_sizes: Sequence[int], fraction: float, seed: int):
    """``(X_fit, X_test, y_fit, y_test, n_fit, n_test)``: row t of Dask X, y is held out if
    hash(seed, t) < ``fraction``.

    Not stratified, but independent of how the data are chunked, and no data moves: the driver only hashes row
    numbers to know the chunk sizes (``chunk_sizes``: the rows of each chunk, e.g. from :func:`read_labelled`).
    ``fraction`` 0: everything trains (X_test, y_test None).
    """
    m = int(sum(chunk_sizes))
    if fraction <= 0:
        return X, None, y, None, m, 0
    starts = np.concatenate([[0], np.cumsum(chunk_sizes)[:-1]]).astype(np.int64)
    n_out = [int(_held_out(int(s), n, seed, fraction).sum()) for s, n in zip(starts, chunk_sizes)]
    n_test = sum(n_out)
    if n_test == 0 or n_test == m:
        raise ValueError(f"fraction {fraction:g}: holds out {n_test} of the {m} examples; choose a fraction that "
                         "leaves examples on both sides (or 0)")
    parts = []
    for test, sizes in ((False, [n - k for n, k in zip(chunk_sizes, n_out)]), (True, n_out)):
        for arr in (X, y):
            chunks = (tuple(sizes),) + arr.chunks[1:]
            parts.append(arr.map_blocks(_take_rows, starts, seed, fraction, test, chunks=chunks, dtype=arr.dtype,
                                        meta=np.empty((0,) + arr.shape[1:], dtype=arr.dtype)))
    X_fit, y_fit, X_test, y_test = parts
    return X_fit, X_test, y_fit, y_test, m - n_test, n_test
