"""Backpropagation, written twice: the lecture's literal per-example loop and the whole-batch matrix version.

Both compute, for l = L-1 down to 1 (lecture numbering):

- δ^(L) = a^(L) - y                                   (sigmoid output + logistic cost)
- δ^(l) = (Θ^(l))ᵀ δ^(l+1) .* g'(z^(l)),  bias row of (Θ^(l))ᵀδ dropped, g'(z) = a .* (1 - a)
- Δ^(l) = Σ_t δ^(l+1) (a^(l))ᵀ                        (a^(l) with its bias unit)
- D^(l) = Δ^(l)/m + (λ/m) Θ^(l), except the bias column 0, which is not regularized.

:func:`backprop_per_example` exists to be read next to the lecture and to test the fast path against; use
:func:`cost_and_gradient` for real work. :func:`deltas` and :func:`accumulate` work on a whole-batch
:class:`~glassnet.forward.ForwardCache` (for reading and explaining). The fast path, :class:`Workspace`, computes the
same formulas over row chunks through preallocated buffers (bounded memory, no copy of X, worker threads); it is what
:func:`batch_sums` and :func:`cost_and_gradient` run, and what an optimizer run should own (``Workspace.objective``).
Not here: optimizers (:mod:`glassnet.optimize`), the cost alone (:mod:`glassnet.cost`).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

from ._validation import check_lam, check_thetas, check_X, compute_dtype
from .activations import sigmoid, sigmoid_gradient_from_a, softplus
from .cost import regularization
from .outputs import encode_labels
from .forward import ForwardCache
from .params import layer_shapes, sizes_from_thetas

__all__ = [
    "deltas",
    "accumulate",
    "finish",
    "batch_sums",
    "gradients",
    "cost_and_gradient",
    "backprop_per_example",
    "Workspace",
    "default_chunk_rows",
    "blas_threads",
]


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
    X = np.asarray(X)
    # The same forward pass, δ and Δ as deltas/accumulate, streamed over row chunks (see Workspace). One worker: the
    # callers (row chunks, Dask tasks) bring their own parallelism, and this changes no process-wide BLAS setting.
    workspace = Workspace(sizes_from_thetas(thetas), max(X.shape[0], 1), compute_dtype(X), n_workers=1)
    return workspace.batch_sums(thetas, X, Y)


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
    if not isinstance(X, np.ndarray) and (
        hasattr(type(X), "__array_namespace__") or type(X).__module__.startswith(("torch", "dask."))
    ):  # Dask, torch, CuPy, array-api-strict...: see glassnet.backends (lazy: optional extras)
        from .backends import dispatch

        return dispatch(thetas, X, y, lam)
    thetas, X, Y, lam, sizes = _prepare(thetas, X, y, lam)
    m = X.shape[0]
    # batch_sums on row chunks, shared by as many worker threads as BLAS may use (see Workspace).
    J_sum, Delta = Workspace(sizes, m, X.dtype).batch_sums(thetas, X, Y)
    return J_sum / m + regularization(thetas, lam, m), finish(thetas, Delta, m, lam)


# ---- the fast path: row chunks through preallocated buffers --------------------------------------------------------
#
# The math is the same as deltas/accumulate/finish above; only the memory traffic differs. Rows are processed in
# chunks of ``chunk_rows`` so that z, a and δ of a chunk stay in cache and the extra memory is a few chunk-sized
# buffers however large m is (the whole-batch version holds m × s_l arrays for every layer). Every elementwise step
# writes into a buffer that is already there (``out=``), and Δ^(l) adds up chunk by chunk: the same map/reduce that
# batch_sums offers to Dask, inside one process. With more than one BLAS thread allowed, the chunks are shared by as
# many worker threads, each running single-threaded BLAS on its own rows (see Workspace).

_CHUNK_ELEMENTS = 600_000  # elements of the widest layer per chunk: ~5 MB of float64, cache-sized, still a big GEMM
_MAX_CHUNK_ROWS = 2048
_MIN_CHUNK_ROWS = 256


def default_chunk_rows(sizes: Sequence[int]) -> int:
    """Rows per chunk for layer sizes ``sizes``: about 600k elements of the widest non-input layer, 256..2048 rows.

    Small enough that a chunk's z, a and δ stay in cache and extra memory stays bounded, large enough that every
    matrix product is still an efficient GEMM.
    """
    widest = max(int(s) for s in sizes[1:])
    return int(min(_MAX_CHUNK_ROWS, max(_MIN_CHUNK_ROWS, _CHUNK_ELEMENTS // widest)))


def _sigmoid_(z: np.ndarray, minus_b: np.ndarray | None = None) -> np.ndarray:
    """z ← g(z + b) in place, as 1 / (1 + e^{-(z + b)}) with numpy's vectorized exp; ``minus_b`` is -b or None.

    e^{-z} overflows to inf for z < -709 (float64) or -88 (float32), which gives exactly g = 0 (the true value is
    below the smallest normal number); callers run this under ``np.errstate(over="ignore")``.
    """
    if minus_b is None:
        np.negative(z, out=z)
    else:
        np.subtract(minus_b, z, out=z)  # -(z + b)
    np.exp(z, out=z)
    np.add(z, 1.0, out=z)
    return np.reciprocal(z, out=z)


def _softplus_sum(s: np.ndarray, scratch: np.ndarray) -> float:
    """Σ softplus(s) = Σ max(s, 0) + Σ log1p(e^{-|s|}) in float64: exact for any |s|, and vectorized."""
    np.abs(s, out=scratch)
    np.negative(scratch, out=scratch)
    np.exp(scratch, out=scratch)
    np.log1p(scratch, out=scratch)
    total = float(np.sum(scratch, dtype=np.float64))
    np.maximum(s, 0.0, out=scratch)
    return total + float(np.sum(scratch, dtype=np.float64))


class _Lane:
    """The buffers of one worker: z/a and δ of one chunk per layer, and its own Δ accumulators.

    Inside a chunk the examples are columns, as in the lecture: a^(l) is (s_l, n) and z^(l+1) = Θ^(l) a^(l) is one
    matrix product per layer (this orientation also runs the products faster than rows-times-Θᵀ).
    """

    def __init__(self, sizes: list[int], rows: int, dtype: np.dtype) -> None:
        shapes = layer_shapes(sizes)
        self.rows = rows
        # Flat buffers, viewed as (s, n) for a chunk of n ≤ rows examples, so every view is contiguous.
        self.a = [np.empty(s * rows, dtype) for s in sizes[1:-1]]  # a^(2..L-1): z is turned into a in place
        self.zL = np.empty(sizes[-1] * rows, dtype)  # z^(L), then g(z^(L))
        self.scratch = np.empty(sizes[-1] * rows, dtype)
        self.delta = [np.empty(s * rows, dtype) for s in sizes[1:]]  # δ^(2..L)
        self.Delta = [np.empty(shape, dtype) for shape in shapes]  # Σ over this lane's chunks, shaped like Θ
        self.prod = np.empty(max(r * (k - 1) for r, k in shapes), dtype)  # one chunk's δ aᵀ before it joins Δ
        self.bias = np.empty(max(sizes[1:]), dtype)  # one chunk's Σ_t δ (the bias column of Δ)
        self.ones = np.ones(rows, dtype)

    def buffers(self) -> list[np.ndarray]:
        return [*self.a, self.zL, self.scratch, *self.delta, *self.Delta, self.prod, self.bias, self.ones]

    def sums(self, W, minus_b, X: np.ndarray, Y: np.ndarray, rows: int) -> float:
        """Σ cost over the rows of X (returned) and Σ δ [1, a]ᵀ into ``self.Delta`` (overwritten), chunk by chunk.

        ``W[i]`` is Θ^(i+1)[:, 1:] and ``minus_b[i]`` is -Θ^(i+1)[:, 0] as a column (s_{i+2}, 1); rows ≤ self.rows.
        """
        m, n_layers, Delta = X.shape[0], len(W), self.Delta
        if m == 0:
            for D in Delta:
                D.fill(0)
            return 0.0
        J_sum = 0.0
        K = W[-1].shape[0]
        with np.errstate(over="ignore"):  # e^{-z} → inf for very negative z gives g(z) = 0 exactly: intended
            for start in range(0, m, rows):
                stop = min(start + rows, m)
                n = stop - start
                # Forward: a^(l+1) = g(Θ^(l)[:, 1:] a^(l) + Θ^(l)[:, 0]); a^(1) = the chunk of X, transposed (a view).
                acts = [X[start:stop].T] + [a[: w.shape[0] * n].reshape(w.shape[0], n) for a, w in zip(self.a, W)]
                for i in range(n_layers - 1):
                    np.matmul(W[i], acts[i], out=acts[i + 1])
                    _sigmoid_(acts[i + 1], minus_b[i])
                zL = self.zL[: K * n].reshape(K, n)
                np.matmul(W[-1], acts[-1], out=zL)
                np.subtract(zL, minus_b[-1], out=zL)
                # Cost from z: Σ softplus((1 - 2y) z), never the log of a rounded g; then δ^(L) = g(z^(L)) - y.
                Yc = Y[start:stop].T
                dL = self.delta[-1][: K * n].reshape(K, n)
                np.multiply(Yc, -2.0, out=dL)
                np.add(dL, 1.0, out=dL)
                np.multiply(dL, zL, out=dL)
                J_sum += _softplus_sum(dL, self.scratch[: K * n].reshape(K, n))
                _sigmoid_(zL)
                np.subtract(zL, Yc, out=dL)
                # Backward: Δ^(l) += δ^(l+1) [1, a^(l)]ᵀ; δ^(l) = Θ^(l)[:, 1:]ᵀ δ^(l+1) .* a^(l)(1 - a^(l)).
                d = dL
                for i in range(n_layers - 1, -1, -1):
                    D = Delta[i]
                    k = D.shape[0]
                    bias = self.bias[:k]
                    np.matmul(d, self.ones[:n], out=bias)  # Σ_t δ_t: the bias column (a_0 = 1)
                    if start == 0:
                        np.matmul(d, acts[i].T, out=D[:, 1:])
                        D[:, 0] = bias
                    else:
                        prod = self.prod[: k * (D.shape[1] - 1)].reshape(k, D.shape[1] - 1)
                        np.matmul(d, acts[i].T, out=prod)
                        np.add(D[:, 1:], prod, out=D[:, 1:])
                        np.add(D[:, 0], bias, out=D[:, 0])
                    if i > 0:
                        a = acts[i]
                        d_prev = self.delta[i - 1][: a.size].reshape(a.shape)
                        np.matmul(W[i].T, d, out=d_prev)
                        # g'(z) = a(1 - a), fused in place: δ *= a; a ← 1 - a (a is not needed any more); δ *= a.
                        np.multiply(d_prev, a, out=d_prev)
                        np.subtract(1.0, a, out=a)
                        np.multiply(d_prev, a, out=d_prev)
                        d = d_prev
        return J_sum


# Worker threads and the BLAS thread limit are process-wide: one lock guards both.
_threads_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_blas: dict = {"controller": None, "limiter": None, "users": 0}


def _forget_threads_after_fork() -> None:
    """A forked child has none of the parent's threads: start from a fresh pool, lock and BLAS-limit count."""
    global _pool, _pool_size, _threads_lock
    _pool, _pool_size, _threads_lock = None, 0, threading.Lock()
    _blas["limiter"], _blas["users"] = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_threads_after_fork)


def _blas_controller():
    if _blas["controller"] is None:
        from threadpoolctl import ThreadpoolController

        _blas["controller"] = ThreadpoolController()  # scanning the loaded libraries takes ms: once
    return _blas["controller"]


def blas_threads() -> int:
    """Threads the BLAS libraries may use now (the smallest limit among them; 1 if none can be controlled)."""
    with _threads_lock:
        libs = _blas_controller().select(user_api="blas").lib_controllers
        return max(1, min((lib.num_threads for lib in libs), default=1))


@contextlib.contextmanager
def _single_threaded_blas():
    """BLAS at one thread while our worker threads run (counted, so overlapping calls restore the limit once)."""
    with _threads_lock:
        if _blas["users"] == 0:
            _blas["limiter"] = _blas_controller().limit(limits=1, user_api="blas")
        _blas["users"] += 1
    try:
        yield
    finally:
        with _threads_lock:
            _blas["users"] -= 1
            if _blas["users"] == 0:
                _blas["limiter"].restore_original_limits()
                _blas["limiter"] = None


def _thread_pool(n: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _threads_lock:
        if _pool is None or _pool_size < n:
            if _pool is not None:
                _pool.shutdown(wait=False)  # running tasks finish; the new, larger pool takes over
            _pool, _pool_size = ThreadPoolExecutor(max_workers=n, thread_name_prefix="glassnet-backprop"), n
        return _pool


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class Workspace:
    """Preallocated buffers for J and D on many calls with the same network and dtype (an optimizer run).

    A workspace holds a few buffers of at most ``chunk_rows`` rows per layer and worker, made by the first call and
    reused by the next ones; each call streams X through them chunk by chunk, so no call allocates anything of size
    m and X is never copied or concatenated with a bias column. Results equal :func:`cost_and_gradient` to rounding
    (same formulas, the sums taken chunk by chunk).

    Parameters
    ----------
    sizes : sequence of int
        Layer sizes ``[s_1, ..., s_L]``.
    m : int
        Typical number of examples per call; it only sizes the buffers (``min(m, chunk_rows)`` rows). Any m works.
    dtype : float32 or float64
        The compute dtype: Θ, X and Y are used in it (float32 stays float32 end to end).
    chunk_rows : int, optional
        Rows per chunk; default :func:`default_chunk_rows`.
    n_workers : int, optional
        Worker threads that share the chunks, each with its own buffers and single-threaded BLAS (no thread
        synchronisation inside the matrix products, and the elementwise work runs in parallel too). Default: as many
        as BLAS threads are allowed at call time (so ``threadpoolctl.threadpool_limits`` or ``OPENBLAS_NUM_THREADS``
        steer it), never more than the chunks. While workers run, the BLAS libraries are limited to one thread
        process-wide; the previous limit comes back when the call ends. ``n_workers=1`` changes no global state.

    Notes
    -----
    A workspace serves one call at a time (its buffers are reused). An optimizer run owns one; the module functions
    :func:`batch_sums` and :func:`cost_and_gradient` make a fresh one per call.

    Examples
    --------
    >>> import glassnet
    >>> from glassnet.backprop import Workspace
    >>> thetas = glassnet.debug_init([3, 5, 3])
    >>> X = glassnet.debug_initialize_weights(5, 2)
    >>> f = Workspace([3, 5, 3], m=5).objective(X, [1, 2, 0, 1, 2], lam=3.0)
    >>> J, grads = f(thetas)
    >>> round(J, 6), [g.shape for g in grads]
    (2.14636, [(5, 4), (3, 6)])
    """

    def __init__(
        self, sizes: Sequence[int], m: int, dtype=np.float64, *, chunk_rows: int | None = None,
        n_workers: int | None = None,
    ) -> None:
        shapes = layer_shapes(sizes)
        self.sizes = [shapes[0][1] - 1] + [r for r, _ in shapes]
        self.shapes = shapes
        if not _is_count(m):
            raise ValueError(f"m: expected a positive number of examples, got {m!r}")
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype: expected float32 or float64, got {self.dtype}")
        if chunk_rows is None:
            chunk_rows = default_chunk_rows(self.sizes)
        if not _is_count(chunk_rows):
            raise ValueError(f"chunk_rows: expected a positive int, got {chunk_rows!r}")
        if n_workers is not None and not _is_count(n_workers):
            raise ValueError(f"n_workers: expected a positive int or None (as many as BLAS threads), got {n_workers!r}")
        self.chunk_rows = int(min(chunk_rows, m))
        self.n_workers = n_workers
        self._lanes: list[_Lane] = []  # one per worker, allocated by the first call that needs it, then reused

    @property
    def nbytes(self) -> int:
        """Bytes held by the buffers (all workers)."""
        return int(sum(b.nbytes for lane in self._lanes for b in lane.buffers()))

    def _lane(self, i: int, rows: int) -> _Lane:
        """Worker i's buffers for chunks of ``rows`` examples: made once, kept while they are big enough."""
        if len(self._lanes) <= i:
            self._lanes.append(_Lane(self.sizes, rows, self.dtype))
        elif self._lanes[i].rows < rows:
            self._lanes[i] = _Lane(self.sizes, rows, self.dtype)
        return self._lanes[i]

    def plan(self, m: int) -> tuple[int, int]:
        """``(workers, rows per chunk)`` that a call on m examples would use now.

        Each worker takes an equal share of the rows and cuts it into equal chunks of at most ``chunk_rows``: the
        work is balanced and no buffer is bigger than the chunks need (5000 rows and 2 workers: 2 × 2 chunks of
        1250 rows, not 2048 + 452 and a third chunk for one of them).
        """
        chunks = -(-m // self.chunk_rows)
        wanted = self.n_workers if self.n_workers is not None else min(blas_threads(), _cores())
        k = max(1, min(wanted, chunks))
        share = -(-m // k)
        return k, max(1, -(-share // max(1, -(-share // self.chunk_rows))))

    def batch_sums(self, thetas: Sequence[np.ndarray], X: np.ndarray, Y: np.ndarray) -> tuple[float, list[np.ndarray]]:
        """Unnormalized (Σ_t cost(t), [Δ^(l)]) over the rows of X, like the module's :func:`batch_sums`.

        Inputs must already be validated: X (m, s_1) and Y (m, K) 0/1, in this workspace's dtype (others are
        converted, which copies). The returned Δ arrays are the workspace's own buffers, overwritten by the next call.
        """
        dt = self.dtype
        thetas = [np.asarray(t, dtype=dt) for t in thetas]
        if [t.shape for t in thetas] != self.shapes:
            raise ValueError(f"thetas: expected shapes {self.shapes} for this workspace's sizes {self.sizes}, "
                             f"got {[t.shape for t in thetas]}")
        X, Y = np.asarray(X, dtype=dt), np.asarray(Y, dtype=dt)
        W = [t[:, 1:] for t in thetas]  # views: the bias column is applied separately, never concatenated
        minus_b = [-t[:, :1] for t in thetas]  # -Θ[:, 0] as a column, to broadcast over a chunk's examples
        m = X.shape[0]
        k, rows = self.plan(m)
        lanes = [self._lane(i, rows) for i in range(k)]
        if k == 1:
            return lanes[0].sums(W, minus_b, X, Y, rows), lanes[0].Delta
        bounds = [m * w // k for w in range(k + 1)]
        pool = _thread_pool(k)
        with _single_threaded_blas():
            futures = [
                pool.submit(lane.sums, W, minus_b, X[lo:hi], Y[lo:hi], rows)
                for lane, lo, hi in zip(lanes, bounds[:-1], bounds[1:])
            ]
            wait(futures)  # every worker is done with the buffers before any error propagates
            J_parts = [f.result() for f in futures]
        Delta = lanes[0].Delta
        for lane in lanes[1:]:
            for D, Dw in zip(Delta, lane.Delta):
                D += Dw
        return float(sum(J_parts)), Delta

    def cost_and_gradient(
        self, thetas: Sequence[np.ndarray], X, y, lam: float = 0.0, *, check_input: bool = True,
        out: Sequence[np.ndarray] | None = None,
    ) -> tuple[float, list[np.ndarray]]:
        """J(Θ) and D^(l), exactly like :func:`cost_and_gradient`, through this workspace's buffers.

        ``check_input=False`` skips validation: X must then be an (m, s_1) array and y an (m, K) 0/1 matrix Y, both
        in this workspace's dtype, and λ ≥ 0 (what :meth:`objective` prepares once). ``out``: optional arrays shaped
        like Θ (any memory layout, e.g. views of a flat vector from :func:`glassnet.params.roll`) that receive D;
        by default fresh arrays are returned.
        """
        if check_input:
            thetas, X, Y, lam, _ = _prepare(thetas, X, y, lam)
            if X.dtype != self.dtype:  # converting would copy X on every call: say so instead
                raise ValueError(f"X: this workspace computes in {self.dtype} but X is {X.dtype}; create "
                                 f"Workspace(..., dtype={X.dtype.name}) or convert X once")
        else:
            thetas, Y = [np.asarray(t, dtype=self.dtype) for t in thetas], y
        m = X.shape[0]
        J_sum, Delta = self.batch_sums(thetas, X, Y)
        J = J_sum / m + regularization(thetas, lam, m)
        if out is None:
            out = [np.empty(D.shape, D.dtype) for D in Delta]
        elif len(out) != len(Delta) or any(np.shape(G) != D.shape for G, D in zip(out, Delta)):
            raise ValueError(f"out: expected {len(Delta)} arrays of shapes {[D.shape for D in Delta]}, "
                             f"got shapes {[np.shape(G) for G in out]}")
        for theta, D, G in zip(thetas, Delta, out):
            # D = Δ/m + (λ/m)Θ with the bias column not regularized (as in finish), written into G.
            np.multiply(D, 1.0 / m, out=G)
            if lam:
                G[:, 1:] += (lam / m) * theta[:, 1:]
        return J, list(out)

    def objective(self, X, y, lam: float = 0.0) -> Callable[[Sequence[np.ndarray]], tuple[float, list[np.ndarray]]]:
        """``f(thetas) -> (J, grads)`` on fixed data, validated once here: what an optimizer run calls.

        X is converted to this workspace's dtype once (no copy when it already is), y to the 0/1 matrix Y once.
        """
        X = check_X(X, n_features=self.sizes[0])
        if X.dtype != self.dtype:
            X = X.astype(self.dtype)
        Y = encode_labels(y, self.sizes[-1], X.shape[0], dtype=self.dtype)
        lam = check_lam(lam)

        def f(thetas: Sequence[np.ndarray]) -> tuple[float, list[np.ndarray]]:
            return self.cost_and_gradient(thetas, X, Y, lam, check_input=False)

        return f


def _is_count(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1


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
