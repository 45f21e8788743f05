"""The fast path: J(Θ) and D over row chunks through preallocated buffers (same formulas, less memory traffic).

:class:`Workspace` computes the lecture's forward pass, δ and Δ^(l) = Σ_t δ^(l+1) (a^(l))ᵀ chunk by chunk (bounded
memory, no copy of X, worker threads as the BLAS policy of :mod:`glassnet._support.threads` allows) and turns Δ into D
with :func:`glassnet.backprop.finish`; where the optional C kernels run, each lane's chunks go through the same steps in
compiled code (:func:`glassnet._support.fused.sums`). :func:`batch_sums` is its map step for callers that bring their
own parallelism (Dask workers, the explainer). What an optimizer run should own is ``Workspace(...).objective(X, y,
lam)``.
Not here: the whole-batch and per-example versions written like the lecture (:mod:`glassnet.backprop`), routing of
other array libraries (:mod:`glassnet.api`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import wait
from typing import Any

import numpy as np

from glassnet._support import fused as _fused
from glassnet._support.threads import (
    available_cores,
    blas_threads,
    kernels_limit_blas,
    single_threaded_blas,
    thread_pool,
)
from glassnet._validation import check_lam, check_X, compute_dtype, is_sparse
from glassnet.activations import Activation, get_activation
from glassnet.backprop import _prepare, finish
from glassnet.cost import penalty, regularization
from glassnet.outputs import OutputLoss, output_loss
from glassnet.params import layer_shapes, sizes_from_thetas

__all__ = ["Workspace", "batch_sums", "default_chunk_rows"]


def batch_sums(thetas: Sequence[np.ndarray], X: np.ndarray, Y: np.ndarray, *, activation="sigmoid",
               output="sigmoid", loss="log") -> tuple[float, list[np.ndarray]]:
    """Unnormalized sums over a batch: (Σ_t cost(t), [Δ^(l)]), no regularization.

    This is the map step of J and D: sums from row chunks (or Dask workers) add up to the whole-batch sums, and
    :func:`glassnet.backprop.finish` turns the total into D. Inputs must already be validated (same float dtype, Y
    as an (m, K) 0/1 matrix).
    """
    X = X if is_sparse(X) else np.asarray(X)
    # The same forward pass, δ and Δ as deltas/accumulate, streamed over row chunks (see Workspace). One worker: the
    # callers (row chunks, Dask tasks) bring their own parallelism, and this changes no process-wide BLAS setting.
    workspace = Workspace(sizes_from_thetas(thetas), max(X.shape[0], 1), compute_dtype(X), n_workers=1,
                          activation=activation, output=output, loss=loss)
    return workspace.batch_sums(thetas, X, Y)


# The math is the same as glassnet.backprop's deltas/accumulate/finish; only the memory traffic differs. Rows are
# processed in chunks of ``chunk_rows`` so that z, a and δ of a chunk stay in cache and the extra memory is a few
# chunk-sized buffers however large m is (the whole-batch version holds m × s_l arrays for every layer). Every
# elementwise step writes into a buffer that is already there (``out=``), and Δ^(l) adds up chunk by chunk: the same
# map/reduce that batch_sums offers to Dask, inside one process. With more than one BLAS thread allowed, the chunks are
# shared by as many worker threads, each running single-threaded BLAS on its own rows (see Workspace and
# glassnet._support.threads).

#: first_layer_as_rows: a first hidden layer of at most this many units and weights (s_2 and s_1·s_2).
ROWS_FORM_UNITS, ROWS_FORM_WEIGHTS = 64, 16_384


def first_layer_as_rows(sizes: Sequence[int]) -> bool:
    """Whether the compiled lanes ask OpenBLAS for the first layer's product z = X Θᵀ as a product of rows (Θ^(1)
    transposed once per call; ``first_layer`` in _epoch.h) rather than in its dot-product form: for a thin first
    layer, at most 64 units and 16,384 weights.

    Measured (two threads, J + D on 5000 rows, the two forms interleaved in one process; rows form / dot form):
    inside the line 400-25 0.95 / 0.91 (float32 / float64), 64-25 0.97 / 0.91, 200-25 0.96 / 0.86, 400-16
    0.97 / 0.91, 400-32 0.86 / 0.83, 784-16 0.96 / 0.84, 300-25 0.93 / 0.89, 500-25 1.03 / 0.88, 600-25
    1.00 / 0.88, 200-50 0.97 / 0.93, 64-64 1.01 / 0.94;
    outside it 784-25 1.05 / 1.17, 400-50 1.08 / 1.10, 100-100 1.26 / 1.18, 784-300 on 60000 rows 1.08 / 1.10.
    """
    first = sizes[1]  # the first hidden layer, or the outputs where there is none
    return first <= ROWS_FORM_UNITS and first * sizes[0] <= ROWS_FORM_WEIGHTS


def compiled_chunk_rows(sizes: Sequence[int]) -> int:
    """Rows per chunk of the compiled lanes (Workspace._compiled_sums): about as many as the first hidden layer has
    units, in multiples of 32, from 32 (64 where :func:`first_layer_as_rows`) to 256 rows. Measured (two threads,
    J + D): 400-25-10 on 5000 rows asked in dot form runs best at 32-48 rows (float32 1.52 ms, 1.94 at 2500), as
    rows at 64 (float64 2.59 / 2.50 / 3.01 ms at 32 / 64 / 128 rows, float32 1.50 / 1.41 / 1.78); 784-100-10 at 128,
    784-300-10 and 784-512-256-128-10 at 256 (32 rows there: 20% slower): GEMMs with fewer rows than outputs run
    below speed, and every chunk packs Θ^(1) again."""
    first = sizes[1]
    return int(min(256, max(64 if first_layer_as_rows(sizes) else 32, -(-first // 32) * 32)))


#: ``finish_into=(IN_PLACE, λ)``: the compiled lanes finish D over lane 0's own Δ.
IN_PLACE: list[np.ndarray] = []

#: What every call of the compiled lanes takes (:func:`glassnet._support.fused.sums`): X, Y, Θ, the lanes' buffers,
#: sizes, rows per chunk, activation, output, loss, rows form, limit.
_LaneArgs = tuple[np.ndarray, np.ndarray, list[np.ndarray], list, list[int], int, str, str, str, "np.ndarray | bool",
                  bool]

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
        self._prod_size = max(r * (k - 1) for r, k in shapes)
        self._prod: np.ndarray | None = None  # one chunk's δ aᵀ before it joins Δ (the NumPy code's, made on first use)
        self.bias = np.empty(max(sizes[1:]), dtype)  # one chunk's Σ_t δ (the bias column of Δ)
        self.ones = np.ones(rows, dtype)
        self.x: np.ndarray | None = None  # sparse X: one dense chunk of rows (made on first use)
        self.nbytes = sum(b.nbytes for b in self.buffers())  # kept up to date as buffers are added

    @property
    def prod(self) -> np.ndarray:
        if self._prod is None:
            self._prod = np.empty(self._prod_size, self.zL.dtype)
            self.nbytes += self._prod.nbytes
        return self._prod

    def buffers(self) -> list[np.ndarray]:
        extra: list[np.ndarray] = [b for b in (self.x, self._prod) if b is not None]
        return [*self.a, self.zL, self.scratch, *self.delta, *self.Delta, self.bias, self.ones, *extra]

    def _dense_chunk(self, X, start: int, stop: int) -> np.ndarray:
        """Rows start:stop of a sparse (CSR) X, densified into this lane's buffer, transposed (s_1, n)."""
        n = stop - start
        if self.x is None:
            self.x = np.empty(X.shape[1] * self.rows, self.zL.dtype)
            self.nbytes += self.x.nbytes
        chunk = self.x[: n * X.shape[1]].reshape(n, X.shape[1])
        chunk.fill(0)  # toarray(out=) adds the entries into the buffer
        X[start:stop].toarray(out=chunk)
        return chunk.T

    def sums(self, W, minus_b, X: np.ndarray, Y: np.ndarray, rows: int, act: Activation | None = None,
             pair: OutputLoss | None = None) -> float:
        """Σ cost over the rows of X (returned) and Σ δ [1, a]ᵀ into ``self.Delta`` (overwritten), chunk by chunk.

        ``W[i]`` is Θ^(i+1)[:, 1:] and ``minus_b[i]`` is -Θ^(i+1)[:, 0] as a column (s_{i+2}, 1); rows ≤ self.rows.
        ``act``/``pair``: hidden activation and output/loss pair (default: the lecture's, on its own tuned code).
        """
        if act is None or act.name == "sigmoid":
            act = None  # the lecture's hidden units: the fused code below
        if pair is not None and pair.is_lecture:
            pair = None
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
                # Sparse X: the chunk's rows are densified (one chunk-sized buffer; X itself is never densified).
                x = self._dense_chunk(X, start, stop) if is_sparse(X) else X[start:stop].T
                acts = [x] + [a[: w.shape[0] * n].reshape(w.shape[0], n) for a, w in zip(self.a, W)]
                for i in range(n_layers - 1):
                    np.matmul(W[i], acts[i], out=acts[i + 1])
                    if act is None:
                        _sigmoid_(acts[i + 1], minus_b[i])
                    else:
                        np.subtract(acts[i + 1], minus_b[i], out=acts[i + 1])
                        act.apply_(acts[i + 1])
                zL = self.zL[: K * n].reshape(K, n)
                np.matmul(W[-1], acts[-1], out=zL)
                np.subtract(zL, minus_b[-1], out=zL)
                Yc = Y[start:stop].T
                dL = self.delta[-1][: K * n].reshape(K, n)
                if pair is None:
                    # Cost from z: Σ softplus((1 - 2y) z), never the log of a rounded g; then δ^(L) = g(z^(L)) - y.
                    np.multiply(Yc, -2.0, out=dL)
                    np.add(dL, 1.0, out=dL)
                    np.multiply(dL, zL, out=dL)
                    J_sum += _softplus_sum(dL, self.scratch[: K * n].reshape(K, n))
                    _sigmoid_(zL)
                    np.subtract(zL, Yc, out=dL)
                else:
                    # Other output/loss pairs: cost and δ^(L) from their one home (units run down axis 0 here).
                    J_sum += pair.cost_sum(zL, Yc, axis=0)
                    dL[...] = pair.delta(zL, pair.activate(zL, axis=0), Yc, axis=0)
                # Backward: Δ^(l) += δ^(l+1) [1, a^(l)]ᵀ; δ^(l) = Θ^(l)[:, 1:]ᵀ δ^(l+1) .* a^(l)(1 - a^(l)).
                d: np.ndarray = dL
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
                        if act is None:
                            # g'(z) = a(1 - a), fused in place: δ *= a; a ← 1 - a (a is not needed any more); δ *= a.
                            np.multiply(d_prev, a, out=d_prev)
                            np.subtract(1.0, a, out=a)
                            np.multiply(d_prev, a, out=d_prev)
                        else:
                            act.gradient_mul_(d_prev, a)  # δ *= g'(z), from a, in place
                        d = d_prev
        return J_sum


class Workspace:
    """Preallocated buffers for J and D on many calls with the same network and dtype (an optimizer run).

    A workspace holds a few buffers of at most ``chunk_rows`` rows per layer and worker, made by the first call and
    reused by the next ones; each call streams X through them chunk by chunk, so no call allocates anything of size
    m and X is never copied or concatenated with a bias column. Results equal :func:`glassnet.cost_and_gradient`
    (it runs a workspace) and the lecture's per-example loop to rounding (same formulas, sums taken chunk by chunk).

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
    activation, output, loss : str, optional
        Hidden activation and output/loss pair, as for :func:`glassnet.cost_and_gradient` (default the lecture's).
    n_workers : int, optional
        Worker threads that share the chunks, each with its own buffers and single-threaded BLAS (no thread
        synchronisation inside the matrix products, and the elementwise work runs in parallel too): the compiled
        lanes' threads are the C extension's own (:func:`glassnet._support.fused.sums`), the NumPy lanes' a Python
        pool (:func:`glassnet._support.threads.thread_pool`). Default: as many
        as BLAS threads are allowed at call time (so ``threadpoolctl.threadpool_limits`` or ``OPENBLAS_NUM_THREADS``
        steer it), never more than the chunks. While workers run, the BLAS libraries are limited to one thread
        process-wide; the previous limit comes back when the call ends. ``n_workers=1`` changes no global state.

    Notes
    -----
    A SciPy sparse X (CSR) is streamed too: each row chunk is densified into one chunk-sized buffer per worker before
    its products (X itself is never densified; the whole-batch code of :mod:`glassnet.backprop` keeps it sparse).
    A workspace serves one call at a time (its buffers are reused). An optimizer run owns one; :func:`batch_sums`
    and :func:`glassnet.cost_and_gradient` make a fresh one per call.

    Examples
    --------
    >>> import glassnet
    >>> from glassnet._fast.workspace import Workspace
    >>> thetas = glassnet.debug_init([3, 5, 3])
    >>> X = glassnet.debug_initialize_weights(5, 2)
    >>> f = Workspace([3, 5, 3], m=5).objective(X, [1, 2, 0, 1, 2], lam=3.0)
    >>> J, grads = f(thetas)
    >>> round(J, 6), [g.shape for g in grads]
    (2.14636, [(5, 4), (3, 6)])
    """

    def __init__(
        self, sizes: Sequence[int], m: int, dtype=np.float64, *, chunk_rows: int | None = None,
        n_workers: int | None = None, activation="sigmoid", output="sigmoid", loss="log",
    ) -> None:
        self.activation = get_activation(activation)
        self.pair = output_loss(output, loss)
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
        # What the compiled lanes ask of every call, worked out once: on the course's ex4 size a call is 1.5 ms and
        # each Python step after it costs microseconds (the compiled call has just filled the caches)
        self._rows_form = first_layer_as_rows(self.sizes)
        self._wt: np.ndarray | None = None  # Θ^(1) transposed for the rows form (made by the first compiled call)
        self._compiled_rows = compiled_chunk_rows(self.sizes)
        self._buffers: tuple[int, int, list] | None = None  # (lanes, rows, their buffers for fused.sums)

    @property
    def nbytes(self) -> int:
        """Bytes held by the buffers (all workers)."""
        return (0 if self._wt is None else self._wt.nbytes) + sum(lane.nbytes for lane in self._lanes)

    def _lane(self, i: int, rows: int) -> _Lane:
        """Worker i's buffers for chunks of ``rows`` examples: made once, kept while they are big enough."""
        if len(self._lanes) <= i:
            self._lanes.append(_Lane(self.sizes, rows, self.dtype))
        elif self._lanes[i].rows < rows:
            self._lanes[i] = _Lane(self.sizes, rows, self.dtype)
            self._buffers = None  # they named the lane replaced
        return self._lanes[i]

    def plan(self, m: int) -> tuple[int, int]:
        """``(workers, rows per chunk)`` that a call on m examples would use now.

        Each worker takes an equal share of the rows and cuts it into equal chunks of at most ``chunk_rows``: the
        work is balanced and no buffer is bigger than the chunks need (5000 rows and 2 workers: 2 × 2 chunks of
        1250 rows, not 2048 + 452 and a third chunk for one of them).
        """
        chunks = -(-m // self.chunk_rows)
        wanted = self.n_workers if self.n_workers is not None else min(blas_threads(), available_cores())
        k = max(1, min(wanted, chunks))
        share = -(-m // k)
        return k, max(1, -(-share // max(1, -(-share // self.chunk_rows))))

    def batch_sums(self, thetas: Sequence[np.ndarray], X: Any, Y: np.ndarray,
                   plan: tuple[int, int] | None = None) -> tuple[float, list[np.ndarray]]:
        """Unnormalized (Σ_t cost(t), [Δ^(l)]) over the rows of X, like the module's :func:`batch_sums`.

        Inputs must already be validated: X (m, s_1) and Y (m, K) 0/1, in this workspace's dtype (others are
        converted, which copies). The returned Δ arrays are the workspace's own buffers, overwritten by the next call.
        ``plan``: ``self.plan(m)`` when the caller already has it (a training run asks once per batch size, not once
        per batch: the question reads the BLAS settings).
        """
        J_sum, Delta, _ = self._sums(thetas, X, Y, plan)
        return J_sum, Delta

    def _sums(self, thetas: Sequence[np.ndarray], X: Any, Y: np.ndarray, plan: tuple[int, int] | None,
              finish_into: tuple[list[np.ndarray], float] | None = None,
              ) -> tuple[float, list[np.ndarray], float | None]:
        """:meth:`batch_sums`, as ``(Σ_t cost(t), Δ, None)``; or, with ``finish_into=(out, λ)`` where the compiled
        lanes can finish (``out``: C-ordered arrays of this dtype like Θ, λ as :func:`~glassnet._support.fused.
        finish_matches` allows), ``(Σ_t cost(t), out holding D, Σ Θ[:, 1:]²)`` (see
        :func:`glassnet._support.fused.sums_finished`)."""
        dt = self.dtype
        thetas = self._own_thetas(thetas)
        if self._kernels_take(X, Y):
            found = self._compiled_sums(thetas, X, Y, plan, finish_into)
            if found is not None:
                return found
        X = X.astype(dt, copy=False).tocsr() if is_sparse(X) else np.asarray(X, dtype=dt)
        Y = np.asarray(Y, dtype=dt)
        W = [t[:, 1:] for t in thetas]  # views: the bias column is applied separately, never concatenated
        minus_b = [-t[:, :1] for t in thetas]  # -Θ[:, 0] as a column, to broadcast over a chunk's examples
        m = X.shape[0]
        k, rows = self.plan(m) if plan is None else plan

        def numpy_sums(lane: _Lane, Xp, Yp: np.ndarray) -> float:
            return lane.sums(W, minus_b, Xp, Yp, rows, self.activation, self.pair)

        lanes = [self._lane(i, rows) for i in range(k)]
        if k == 1:
            return numpy_sums(lanes[0], X, Y), lanes[0].Delta, None
        bounds = [m * w // k for w in range(k + 1)]
        pool = thread_pool(k)
        with single_threaded_blas():
            futures = [pool.submit(numpy_sums, lane, X[lo:hi], Y[lo:hi])
                       for lane, lo, hi in zip(lanes, bounds[:-1], bounds[1:])]
            wait(futures)  # every worker is done with the buffers before any error propagates
            J_parts = [f.result() for f in futures]
        Delta = lanes[0].Delta
        for lane in lanes[1:]:
            for D, Dw in zip(Delta, lane.Delta):
                D += Dw
        return float(sum(J_parts)), Delta, None

    def _own_thetas(self, thetas: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Θ in this workspace's dtype (no copy where it already is), shaped for its sizes; ValueError otherwise."""
        thetas = [np.asarray(t, dtype=self.dtype) for t in thetas]
        if [t.shape for t in thetas] != self.shapes:
            raise ValueError(f"thetas: expected shapes {self.shapes} for this workspace's sizes {self.sizes}, "
                             f"got {[t.shape for t in thetas]}")
        return thetas

    def _kernels_take(self, *arrays) -> bool:
        """Whether the compiled code (epoch, sums) may run on these arrays (X and Y): dense C-ordered arrays of this
        workspace's dtype, with the kernels built, switched on and given SciPy's BLAS."""
        return all(isinstance(a, np.ndarray) and a.dtype == self.dtype and a.flags.c_contiguous for a in arrays) and (
            _fused.blas_ready())

    def _compiled_sums(self, thetas: list[np.ndarray], X: np.ndarray, Y: np.ndarray, plan: tuple[int, int] | None,
                       finish_into: tuple[list[np.ndarray], float] | None,
                       ) -> tuple[float, list[np.ndarray], float | None] | None:
        """What :meth:`_sums` returns, from compiled code (:func:`glassnet._support.fused.sums`, or
        :func:`~glassnet._support.fused.sums_finished` with ``finish_into``), one lane per thread of the kernels' pool;
        None where the kernels refuse these arrays (no rows, say): the NumPy lanes then run.

        A compiled lane makes one pass per chunk where the NumPy lane makes one per elementwise step (the sigmoid's
        exponentials vectorized: _vexp.h), and reads X's rows in place, in chunks of at most
        :func:`compiled_chunk_rows` (smaller than the NumPy lane's: a chunk of X is still in cache for Δ^(1)).
        """
        def run(args: _LaneArgs) -> tuple[float, list[np.ndarray], float | None] | None:
            if finish_into is not None:
                out = self._lanes[0].Delta if finish_into[0] is IN_PLACE else finish_into[0]
                finished = _fused.sums_finished(*args, out, finish_into[1])
                if finished is not None:
                    return finished[0], out, finished[1]
            J_sum = _fused.sums(*args)
            return None if J_sum is None else (J_sum, self._lanes[0].Delta, None)

        return self._on_lanes(thetas, X, Y, plan, run)

    def _on_lanes(self, thetas: list[np.ndarray], X: np.ndarray, Y: np.ndarray, plan: tuple[int, int] | None,
                  run: Callable[[_LaneArgs], Any]) -> Any:
        """``run(args)`` with the arguments every call of the compiled lanes takes (see
        :func:`glassnet._support.fused.sums`): as many lanes as :meth:`plan` says, each on one-thread BLAS where there
        are several (held by the kernels themselves where they can, see
        :func:`~glassnet._support.threads.kernels_limit_blas`)."""
        k, rows = self.plan(X.shape[0]) if plan is None else plan
        if k == 1 or kernels_limit_blas():
            return run(self._lane_args(thetas, X, Y, k, rows, k > 1))
        with single_threaded_blas():  # every lane runs its own products
            return run(self._lane_args(thetas, X, Y, k, rows, False))

    def _lane_args(self, thetas: list[np.ndarray], X: np.ndarray, Y: np.ndarray, k: int, rows: int,
                   limit: bool) -> _LaneArgs:
        rows = min(rows, self._compiled_rows)
        found, ran = self._buffers, self._buffers is not None
        if found is None or found[0] != k or found[1] != rows:
            lanes = [self._lane(i, rows) for i in range(k)]
            found = self._buffers = (k, rows, [([*lane.a, lane.zL], lane.delta, lane.Delta) for lane in lanes])
        rows_form: np.ndarray | bool = False
        if self._rows_form:
            # Θ^(1) transposed: into the workspace's memory from its second call on (a call then allocates nothing
            # for it); on a first call into memory the kernels free before D's arrays are made (see
            # cost_and_gradient), so that no call holds the new lanes, that copy and D at once
            if self._wt is None and ran:
                self._wt = np.empty(self.sizes[0] * self.sizes[1], self.dtype)
            rows_form = True if self._wt is None else self._wt
        return (X, Y, [np.ascontiguousarray(t) for t in thetas], found[2], self.sizes, rows, self.activation.name,
                self.pair.output, self.pair.loss, rows_form, limit)

    def outputs(self, thetas: Sequence[np.ndarray], X) -> tuple[np.ndarray, bool] | None:
        """z^(L) (m, K) of every row of X, the output layer's bias added and no output activation (what labels,
        scores and regressions are read from), by the compiled lanes running the forward pass alone; and whether every
        row's z^(2) was finite (a NaN or inf in a row of X makes it not). Θ and X as for :meth:`batch_sums`; None
        where the kernels cannot run (not built, X sparse or not a C-ordered array of this dtype): the caller runs
        :func:`glassnet.forward.propagate`, whose numbers these equal to rounding (tests/test_compiled_sums.py)."""
        dt = self.dtype
        thetas = self._own_thetas(thetas)
        if not self._kernels_take(X):
            return None
        Z = np.empty((X.shape[0], self.sizes[-1]), dt)
        finite = self._on_lanes(thetas, X, Z, None, lambda args: _fused.predict(*args))
        return None if finite is None else (Z, finite)

    def cost_and_gradient(
        self, thetas: Sequence[np.ndarray], X, y, lam: float = 0.0, *, check_input: bool = True,
        out: Sequence[np.ndarray] | None = None, plan: tuple[int, int] | None = None,
    ) -> tuple[float, list[np.ndarray]]:
        """J(Θ) and D^(l), exactly like :func:`glassnet.cost_and_gradient`, through this workspace's buffers.

        ``check_input=False`` skips validation: X must then be an (m, s_1) array and y an (m, K) 0/1 matrix Y, both
        in this workspace's dtype, and λ ≥ 0 (what :meth:`objective` prepares once). ``out``: optional arrays shaped
        like Θ (any memory layout, e.g. views of a flat vector from :func:`glassnet.params.roll`) that receive D;
        by default fresh arrays are returned. ``plan``: as for :meth:`batch_sums`.
        """
        if check_input:
            thetas, X, Y, lam, _ = _prepare(thetas, X, y, lam, self.pair.output, self.pair.loss)
            if X.dtype != self.dtype:  # converting would copy X on every call: say so instead
                raise ValueError(f"X: this workspace computes in {self.dtype} but X is {X.dtype}; create "
                                 f"Workspace(..., dtype={X.dtype.name}) or convert X once")
        else:
            thetas, Y = [np.asarray(t, dtype=self.dtype) for t in thetas], y
        m, dt = X.shape[0], self.dtype
        finish_into: tuple[list[np.ndarray], float] | None = None
        if out is None and self._buffers is None and _fused.finish_matches(dt, m, lam):
            # A first call: D finished over Δ in the lanes, then copied into arrays of the caller's own, made only now
            # (the same numbers as later calls; the least memory held at once while the workspace is being built)
            J_sum, D, squares = self._sums(thetas, X, Y, plan, (IN_PLACE, lam))
            if squares is not None:
                return J_sum / m + penalty(squares, lam, m), [G.copy() for G in D]
            return J_sum / m + regularization(thetas, lam, m), finish(thetas, D, m, lam, out=[
                np.empty(shape, dt) for shape in self.shapes])
        if out is None:  # Δ is this workspace's buffer, overwritten by the next call: D goes to arrays of its own
            out = [np.empty(shape, dt) for shape in self.shapes]
            finish_into = (out, lam) if _fused.finish_matches(dt, m, lam) else None
        elif _fused.finish_matches(dt, m, lam) and all(
                type(G) is np.ndarray and G.dtype == dt and G.flags.c_contiguous for G in out):
            finish_into = (list(out), lam)
        J_sum, D, squares = self._sums(thetas, X, Y, plan, finish_into)
        if squares is not None:  # the compiled lanes finished: D is in out
            return J_sum / m + penalty(squares, lam, m), list(out)
        return J_sum / m + regularization(thetas, lam, m), finish(thetas, D, m, lam, out=out)

    def objective(self, X, y, lam: float = 0.0, *,
                  assume_finite: bool = False) -> Callable[[Sequence[np.ndarray]], tuple[float, list[np.ndarray]]]:
        """``f(thetas) -> (J, grads)`` on fixed data, validated once here: what an optimizer run calls.

        X is converted to this workspace's dtype once (no copy when it already is), y to the 0/1 matrix Y once.
        ``assume_finite``: X was already checked for NaN and inf (see :func:`glassnet._validation.check_X`).
        """
        X = check_X(X, n_features=self.sizes[0], assume_finite=assume_finite)
        if X.dtype != self.dtype:
            X = X.astype(self.dtype)
        Y = self.pair.targets(y, self.sizes[-1], X.shape[0], dtype=self.dtype)
        lam = check_lam(lam)

        def f(thetas: Sequence[np.ndarray]) -> tuple[float, list[np.ndarray]]:
            return self.cost_and_gradient(thetas, X, Y, lam, check_input=False)

        return f

    def compiled_epoch(self, X, Y: np.ndarray, lam: float, should_stop: Callable[[], bool] | None = None):
        """The mini-batch epoch of this network in compiled code (:func:`glassnet._support.fused.epoch`), or None.

        ``run(theta, G, rule, params, arrays, t, order, batch, workers=1, check=False)`` runs one epoch over the rows
        ``order`` of X and Y (validated, this workspace's dtype; ``check``: X not yet looked at for NaN and inf, see
        ``fused.epoch``) with the full λ ``lam``, on up to ``workers`` threads, and returns what ``fused.epoch``
        returns (None where it declines). The same numbers as the batch objective of
        :func:`glassnet.train.fitting.fit` driven by :func:`glassnet.train.optimize.run_epoch`, to rounding. None
        here (the NumPy loop runs) where the kernels are not built or are switched off (``GLASSNET_KERNELS=0``),
        SciPy's BLAS cannot be reached, or X is sparse (sparse rows stay on the NumPy path, which slices them) or
        not a C-ordered array of this dtype.
        """
        if not self._kernels_take(X, Y):
            return None
        act, pair, sizes = self.activation.name, self.pair, list(self.sizes)

        def run(theta, G, rule, params, arrays, t, order, batch, workers=1, check=False):
            return _fused.epoch(X, Y, order, theta, G, arrays, sizes, batch, act, pair.output, pair.loss, lam, rule,
                                params, t, should_stop, workers, check)

        return run


def _is_count(v) -> bool:
    return bool(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1)


