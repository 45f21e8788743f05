"""The one BLAS/thread policy: how many threads the matrix products may use, and the worker threads of the fast path.

- :func:`blas_threads`, :func:`available_cores`: what this process may use now.
- :func:`choose_blas_threads` / :func:`limit_blas_threads`: the thread count of a fit's objective, and a block in which
  every loaded BLAS (numpy's and scipy's alike) uses it.
- :func:`choose_epoch_threads`: the threads of the compiled mini-batch epoch (its own, each on one-thread BLAS).
- :func:`single_threaded_blas` and :func:`thread_pool`: the worker threads of
  :class:`glassnet._fast.workspace.Workspace`,
  each running single-threaded BLAS on its own rows (one pool per process, fresh after a fork). The compiled lanes
  and epochs run on the C extension's own threads instead (see :mod:`glassnet._support.fused`), under the same
  one-thread BLAS limit. Where the C kernels are built and every BLAS is an OpenBLAS on its own threads (the wheels'),
  that limit is set from C (:func:`limit_in_kernels`): the same count of callers, without Python in between.

Worker threads and the BLAS limit are process-wide, so one lock guards both. Not here: any math.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

__all__ = [
    "SMALL_GEMM",
    "GEMM_PER_THREAD",
    "available_cores",
    "blas_threads",
    "choose_blas_threads",
    "choose_epoch_threads",
    "limit_blas_threads",
    "single_threaded_blas",
    "thread_pool",
]

#: Below this many multiply-adds in the largest matrix product of one gradient evaluation (rows × s_l × s_{l+1}),
#: :func:`choose_blas_threads` uses a single BLAS thread (see its Notes for the measurements).
SMALL_GEMM = 4_000_000
#: Above SMALL_GEMM, one more thread per this many multiply-adds of the largest product (up to the core count).
GEMM_PER_THREAD = 500_000

#: :func:`choose_epoch_threads`: below this many multiply-adds in one epoch's forward products (M × Σ s_l·s_{l+1}), the
#: compiled epoch stays on the caller's thread (starting threads would cost more than they save).
EPOCH_SPLIT_WORK = 5_000_000
#: :func:`choose_epoch_threads`: one thread per this many multiply-adds of one batch's forward products.
EPOCH_WORK_PER_THREAD = 128_000

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_blas: dict = {"controller": None, "restore": None, "users": 0, "kernels": None, "handed": False}


def _forget_threads_after_fork() -> None:
    """A forked child has none of the parent's threads: start from a fresh pool, lock and BLAS-limit count."""
    global _pool, _pool_size, _lock
    _pool, _pool_size, _lock = None, 0, threading.Lock()
    _blas["restore"], _blas["users"] = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_threads_after_fork)


def _controller():
    if _blas["controller"] is None:
        from threadpoolctl import ThreadpoolController

        _blas["controller"] = ThreadpoolController()  # scanning the loaded libraries takes ms: once
        _hand_over(_blas["controller"])
    return _blas["controller"]


def rescan_blas() -> None:
    """Look for BLAS libraries again at the next limit: one was loaded after the first look (SciPy's, say, when
    :func:`glassnet._support.fused.blas_ready` imports its BLAS wrappers), and a limit must reach it too."""
    with _lock:
        _blas["controller"] = None
        _blas["handed"] = False


def limit_in_kernels(kernels) -> None:
    """Let the C kernels (the ``_kernels`` module, from :mod:`glassnet._support.fused` once they have a BLAS) set the
    one-thread limit from the next look at the libraries on: :func:`single_threaded_blas`, :func:`blas_threads` and
    the compiled lanes (``sums(..., limit=True)``) then call the libraries' own functions from C, with one count of
    callers there. Only where every loaded BLAS is an OpenBLAS on its own threads (the wheels' numpy and SciPy), whose
    get/set functions are known; elsewhere threadpoolctl sets the limit, as before."""
    with _lock:
        _blas["kernels"], _blas["controller"], _blas["handed"] = kernels, None, False


def kernels_limit_blas() -> bool:
    """Whether the kernels set the one-thread limit themselves (see :func:`limit_in_kernels`)."""
    if not _blas["handed"] and _blas["kernels"] is not None and _blas["controller"] is None:
        with _lock:
            _controller()  # the look at the libraries that hands them over
    return _blas["handed"]


def _hand_over(controller) -> None:
    """The (get, set) thread-count functions of every loaded BLAS to the kernels, where each one has them."""
    kernels = _blas["kernels"]
    if kernels is None:
        return
    found = [_thread_functions(lib) for lib in controller.lib_controllers if lib.user_api == "blas"]
    pairs = [pair for pair in found if pair is not None]
    # every BLAS or none: one the kernels cannot set leaves them all to threadpoolctl
    _blas["handed"] = bool(pairs) and len(pairs) == len(found) and bool(kernels.set_blas_threads(pairs))
    if not _blas["handed"]:
        kernels.set_blas_threads([])


def _thread_functions(lib) -> tuple[int, int] | None:
    """The addresses of an OpenBLAS's openblas_get_num_threads and openblas_set_num_threads (under the names
    threadpoolctl looks for), where it runs its own threads; None for anything else."""
    if lib.internal_api != "openblas" or getattr(lib, "threading_layer", None) not in ("pthreads", "disabled"):
        return None  # OpenMP's threads are limited per calling thread, by other functions
    dll = ctypes.CDLL(lib.filepath)  # already loaded: the same library, found again
    for prefix in ("", "scipy_"):
        for suffix in ("", "64_", "_64"):
            get = getattr(dll, f"{prefix}openblas_get_num_threads{suffix}", None)
            put = getattr(dll, f"{prefix}openblas_set_num_threads{suffix}", None)
            if get is not None and put is not None:
                get_at, put_at = ctypes.cast(get, ctypes.c_void_p).value, ctypes.cast(put, ctypes.c_void_p).value
                if get_at and put_at:
                    return get_at, put_at
    return None


def _blas_libs() -> list:
    """threadpoolctl controllers of every loaded BLAS (numpy's and scipy's are separate libraries in the wheels)."""
    return [lib for lib in _controller().lib_controllers if lib.user_api == "blas"]


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def blas_threads() -> int:
    """Threads the BLAS libraries may use now (the smallest limit among them; 1 if none can be controlled)."""
    if _blas["handed"]:
        return max(1, _blas["kernels"].blas_threads())
    with _lock:
        return _allowed(_blas_counts())


def _blas_counts() -> list[tuple[Any, int]]:
    """(library, its thread count now) for every loaded BLAS."""
    return [(lib, lib.num_threads) for lib in _blas_libs()]


def _allowed(counts: list[tuple[Any, int]]) -> int:
    return max(1, min((k for _, k in counts), default=1))


def current_blas_threads() -> int | None:
    """The largest thread count among the loaded BLAS libraries, or None if none can be controlled."""
    counts = [lib.num_threads for lib in _blas_libs()]
    return max(counts) if counts else None


def choose_blas_threads(rows: int, sizes: Sequence[int], n_threads: int | None = None) -> int:
    """How many BLAS threads the objective of a fit should use.

    Parameters
    ----------
    rows : int
        Examples per gradient evaluation (m for full batch, the batch size for mini-batch).
    sizes : sequence of int
        Layer sizes [s_1, ..., s_L].
    n_threads : int or None
        A positive int is used as given; -1 means every core this process may run on; None (default) is the
        heuristic below.

    Returns
    -------
    int
        The thread count, ≥ 1.

    Notes
    -----
    Heuristic (``n_threads=None``): let W = rows × max_l s_l·s_{l+1}, the multiply-adds of the largest matrix product
    in one forward or backward pass. W < ``SMALL_GEMM`` (4·10⁶): 1 thread. Otherwise
    ``min(cores, W // GEMM_PER_THREAD)`` threads (at least 2), and never more than the BLAS libraries are allowed
    right now, so an outer ``threadpool_limits`` or ``OPENBLAS_NUM_THREADS`` is respected.

    Measured on 16 cores (OpenBLAS, median ms per ``cost_and_gradient``, 1 → 16 threads): digits 1347 × 64-25-10
    (W = 2.2·10⁶) 0.72 → 0.76, no gain, so it stays single-threaded; 200 × 784-30-10 (4.7·10⁶) 0.81 → 0.44;
    MNIST-5k 3750 × 784-25-10 (7.4·10⁷) 10.2 → 3.3; 20000 × 784-100-10 147 → 41. Full-batch fits additionally keep
    every BLAS at 1 thread outside the objective (see :func:`glassnet.train.optimize.minimize_full_batch`).
    """
    cores = available_cores()
    if n_threads is not None:
        if isinstance(n_threads, bool) or not isinstance(n_threads, (int, np.integer)) or (
                n_threads < 1 and n_threads != -1):
            raise ValueError(
                f"n_threads: expected a positive int, -1 (all cores) or None (automatic), got {n_threads!r}"
            )
        return cores if n_threads == -1 else int(n_threads)
    sizes = list(sizes)
    work = int(rows) * max(sizes[i] * sizes[i + 1] for i in range(len(sizes) - 1))
    if work < SMALL_GEMM:
        return 1
    k = max(2, min(cores, work // GEMM_PER_THREAD))
    current = current_blas_threads()
    return int(max(1, min(k, current))) if current else int(k)


def choose_epoch_threads(rows: int, batch: int, sizes: Sequence[int], n_threads: int | None = None) -> int:
    """How many threads the compiled mini-batch epoch (:func:`glassnet._support.fused.epoch`) should run on.

    Parameters
    ----------
    rows : int
        Examples in one epoch (m).
    batch : int
        Rows per batch.
    sizes : sequence of int
        Layer sizes [s_1, ..., s_L].
    n_threads : int or None
        As for :func:`choose_blas_threads`: a positive int as given, -1 every core, None the rule below.

    Returns
    -------
    int
        The thread count, ≥ 1.

    Notes
    -----
    Those threads split the first hidden layer's units between them and meet three times per batch, each calling
    one-thread BLAS (see the epoch's docstring): they pay once a batch holds enough products to share. Rule
    (``n_threads=None``): with W = Σ s_l·s_{l+1} (multiply-adds of one example's forward products), one thread below
    ``EPOCH_SPLIT_WORK`` multiply-adds per epoch (rows × W), else one per ``EPOCH_WORK_PER_THREAD`` multiply-adds of
    a batch (batch × W), at most the cores this process may use and the BLAS limit in force (an outer
    ``threadpool_limits`` is respected).

    Measured on 2 cores (one Adam epoch, float64, ms on 1 → 2 threads): 784-100-10, 5000 rows, batch 16 (1.25·10⁶
    per batch) 90 → 45, batch 200 35 → 22; 784-25-10, 3750 rows, batch 16 (3.2·10⁵) 16.0 → 10.6; 100-50-10, 2000 rows,
    batch 32 (1.8·10⁵) 2.4 → 1.9; digits 64-25-10, 1347 rows, batch 64 (1.2·10⁵, 2.5·10⁶ an epoch) 0.64 → 0.71,
    slower, so it stays on one.
    """
    if n_threads is not None:
        return choose_blas_threads(rows, sizes, n_threads)
    sizes = list(sizes)
    work = sum(sizes[i] * sizes[i + 1] for i in range(len(sizes) - 1))
    if int(rows) * work < EPOCH_SPLIT_WORK:
        return 1
    k = max(1, min(available_cores(), int(min(batch, rows)) * work // EPOCH_WORK_PER_THREAD))
    current = current_blas_threads()
    return int(max(1, min(k, current))) if current else int(k)


def _set_blas_threads(n: int) -> list[tuple[Any, int]]:
    """Every loaded BLAS at ``n`` threads, by each library's own setter on the libraries found once (threadpoolctl's
    ``limit`` looks them all up again each time: on the course's ex4 size, a 1.4 ms J + D took 60 µs longer with it,
    15 µs this way); returns (library, its thread count before) for those it changed, for :func:`_restore_blas`."""
    changed = [(lib, k) for lib, k in _blas_counts() if k != n]
    for lib, _ in changed:
        lib.set_num_threads(int(n))
    return changed


def _restore_blas(changed: list[tuple[Any, int]]) -> None:
    for lib, k in changed:
        lib.set_num_threads(k)


@contextlib.contextmanager
def limit_blas_threads(n: int) -> Iterator[int]:
    """Within the block every loaded BLAS (numpy's and scipy's alike) uses ``n`` threads; restored afterwards."""
    changed = _set_blas_threads(n)
    try:
        yield int(n)
    finally:
        _restore_blas(changed)


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """BLAS at one thread while our worker threads run (counted, so overlapping calls restore the limit once; by the
    kernels where they set it, see :func:`limit_in_kernels`)."""
    kernels = _blas["kernels"] if _blas["handed"] else None
    if kernels is not None and kernels.blas_limit(True):
        try:
            yield
        finally:
            kernels.blas_limit(False)
        return
    with _lock:
        if _blas["users"] == 0:
            _blas["restore"] = _set_blas_threads(1)
        _blas["users"] += 1
    try:
        yield
    finally:
        with _lock:
            _blas["users"] -= 1
            if _blas["users"] == 0:
                _restore_blas(_blas["restore"])
                _blas["restore"] = None


def thread_pool(n: int) -> ThreadPoolExecutor:
    """The process's worker pool, with at least ``n`` threads (grown when a call needs more)."""
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < n:
            if _pool is not None:
                _pool.shutdown(wait=False)  # running tasks finish; the new, larger pool takes over
            _pool, _pool_size = ThreadPoolExecutor(max_workers=n, thread_name_prefix="glassnet-backprop"), n
        return _pool
