"""Fused elementwise steps: one pass over memory for what NumPy does in one pass per operation.

A mini-batch step on a 784-100-10 network touches ~80k weights a dozen times (Adam's moments, the square root, the
division, the update; D = Δ/m + (λ/m)Θ); each NumPy operation is one pass over arrays that no longer fit in cache.
The C kernels of the optional extension ``glassnet._support._kernels`` do the same IEEE operations in the same order per
element, so their results are bit for bit the NumPy code's (tests/test_kernels.py): the NumPy code stays the
definition, next to its callers (:mod:`glassnet.train.optimize`, :func:`glassnet.backprop.finish`), and runs whenever
the extension was not built (no compiler at install time) or the arrays do not fit (other dtypes, layouts, overlap).

Each step function here returns True when it did the step and False when the caller has to run its NumPy code.

:func:`epoch` goes further: a whole mini-batch epoch (rows gathered, forward, cost, δ, Δ, D and the Adam/SGD step) in
compiled code, its matrix products in the BLAS that SciPy ships (``scipy.linalg.cython_blas``, reached through its
capsules: nothing is linked at build time). Its products and its sums over examples round differently from NumPy's,
so it agrees with the NumPy loop to rounding (tests/test_epoch.py), not bit for bit. :func:`sums` does the same for
a full-batch J and D. Both run on the extension's own worker threads, started once and kept: between back-to-back
calls (an optimizer's loop) they spin for a millisecond before they sleep, so a call does not wait for a thread to wake
(``_kernels.pool_status()`` tells how many there are and how many are working).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import numpy as np

from glassnet._support.threads import limit_in_kernels, rescan_blas, single_threaded_blas

try:  # an optional build: pip installs glassnet without it where no C compiler is found
    from glassnet._support import _kernels
except ImportError:  # pragma: no cover - depends on the install
    _kernels = None  # type: ignore[assignment]  # the module is optional: None where it was not built

__all__ = ["available", "adam", "sgd", "finish", "finish_matches", "all_finite", "same_contents", "is_finite",
           "disabled", "blas_ready", "epoch", "sums", "sums_finished", "predict",
           "EPOCH_OK", "EPOCH_DIVERGED", "EPOCH_STOPPED", "EPOCH_NOT_FINITE"]

#: GLASSNET_KERNELS=0 in the environment turns the kernels off (the NumPy code runs, with the same results).
_enabled = _kernels is not None and os.environ.get("GLASSNET_KERNELS", "1") != "0"


def available() -> bool:
    """Whether the C kernels are built and switched on."""
    return _enabled


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Run the NumPy code inside the block (for tests and for measuring what the kernels buy)."""
    global _enabled
    before, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = before


#: What a kernel raises for arrays it cannot take (dtype, size, layout, read-only, overlap), before touching any.
#: Anything else (a TypeError from a wrong call, say) is a bug and propagates.
_REFUSED = (ValueError, BufferError)
_DECLINED = object()  # what _call returns when the caller has to run its NumPy code


def _call(name: str, *args):
    """``_kernels.<name>(*args)``, or ``_DECLINED`` where the kernels are off or refuse these arrays."""
    if not _enabled:
        return _DECLINED
    try:
        return getattr(_kernels, name)(*args)
    except _REFUSED:
        return _DECLINED


def adam(theta: np.ndarray, m: np.ndarray, v: np.ndarray, g: np.ndarray, beta_1: float, beta_2: float,
         epsilon: float, step: float) -> bool:
    """:func:`glassnet.train.optimize.adam`'s step on one array, in place (``g`` is left as it was)."""
    return _call("adam", theta, m, v, g, beta_1, beta_2, epsilon, step) is not _DECLINED


def sgd(theta: np.ndarray, velocity: np.ndarray, g: np.ndarray, learning_rate: float, momentum: float,
        nesterov: bool) -> bool:
    """:func:`glassnet.train.optimize.sgd`'s step on one array, in place (``g`` is left as it was)."""
    return _call("sgd", theta, velocity, g, learning_rate, momentum, nesterov) is not _DECLINED


def finish(G: np.ndarray, Delta: np.ndarray, theta: np.ndarray, m: int, lam: float) -> bool:
    """:func:`glassnet.backprop.finish` on one layer: G = Δ/m + (λ/m)Θ, column 0 not regularized.

    ``G`` may be ``Delta`` itself (finish in place); it must not overlap Θ. For float32 arrays ``m`` and ``lam`` must
    be Python numbers: NumPy computes a float32 array with a NumPy int64 or float64 scalar in float64 and rounds once at
    the end, which the float32 kernel would not match.
    """
    if not finish_matches(Delta.dtype, m, lam):
        return False
    try:  # arrays (anything else: the NumPy code)
        shape = G.shape
        if len(shape) != 2 or shape != Delta.shape or shape != theta.shape or 0 in shape:
            return False
    except AttributeError:
        return False
    return _call("finish", G, Delta, theta, shape[0], m, lam / m, bool(lam)) is not _DECLINED


def finish_matches(dtype, m, lam) -> bool:
    """Whether the finish kernel computes what NumPy computes for D = Δ/m + (λ/m)Θ with these m and λ: always in
    float64; in float32 only for Python numbers (NumPy computes a float32 array with a NumPy int64 or float64 scalar in
    float64 and rounds once at the end, which the float32 kernel would not match)."""
    return dtype != np.float32 or (type(m) is int and type(lam) in (int, float))


def all_finite(a: np.ndarray) -> bool | None:
    """Whether ``a`` holds no inf and no NaN (one pass, nothing allocated); None where the kernels cannot tell."""
    result = _call("all_finite", a)
    return None if result is _DECLINED else result


def same_contents(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays have one dtype, one shape and the same contents: the same bytes (one memcmp where both are
    C-ordered and the kernels are built), else NumPy's comparison, where NaN never equals itself (such arrays count as
    changed, which for a cache is the safe side)."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if _enabled:
        try:
            return bool(_kernels.equal_bytes(a, b))
        except (*_REFUSED, AttributeError):  # not C-ordered; a build without it
            pass
    return bool(np.array_equal(a, b))


def is_finite(a: np.ndarray) -> bool:
    """Whether ``a`` holds no inf and no NaN: :func:`all_finite` where the kernels can tell, NumPy's scan otherwise."""
    if _enabled:  # the kernel called directly: this runs on every public call, for each Θ and each D
        try:
            return bool(_kernels.all_finite(a))
        except _REFUSED:
            pass
    return bool(np.isfinite(a).all())


# --------------------------------------------------------------------------------------------------------------------
# The compiled epoch
# --------------------------------------------------------------------------------------------------------------------

#: What :func:`epoch` reports: the epoch ran to its end; the cost or the weights stopped being finite; should_stop
#: said stop; a row of X held NaN or inf (asked to look: ``check=True``). The caller raises its own errors for all
#: but the first.
EPOCH_OK, EPOCH_DIVERGED, EPOCH_STOPPED, EPOCH_NOT_FINITE = 0, 1, 2, 5
_ACTIVATIONS = {"sigmoid": 0, "tanh": 1, "relu": 2, "identity": 3}
_PAIRS = {("sigmoid", "log"): 0, ("softmax", "log"): 1, ("sigmoid", "squared"): 2, ("identity", "squared"): 3}
_RULES = {"sgd": 0, "adam": 1}
_blas: bool | None = None  # None: not asked yet; then whether SciPy's GEMMs were handed to the kernels


def blas_ready() -> bool:
    """Whether :func:`epoch` has its GEMMs: SciPy's ``dgemm``/``sgemm`` capsules handed over once (imports SciPy's
    BLAS wrappers on first call: call it before limiting BLAS threads, so that the limit reaches that library too)."""
    global _blas
    if _blas is None:
        _blas = False
        if _kernels is not None and hasattr(_kernels, "epoch"):
            try:
                from scipy.linalg import cython_blas
                capi = cython_blas.__pyx_capi__
                _kernels.set_blas(capi["dgemm"], capi["sgemm"])
                _blas = True
                if _enabled and hasattr(_kernels, "set_blas_threads"):
                    limit_in_kernels(_kernels)  # the one-thread limit set from C (and SciPy's BLAS found, as below)
                else:
                    rescan_blas()  # SciPy's BLAS may have just been loaded: thread limits must reach it
            except (ImportError, KeyError, TypeError, ValueError, AttributeError):
                _blas = False  # an unusual SciPy: the NumPy loop runs
    return _enabled and _blas


def epoch(X: np.ndarray, Y: np.ndarray, order: np.ndarray, theta: np.ndarray, G: np.ndarray,
          arrays: list[np.ndarray], sizes: list[int], batch: int, activation: str, output: str, loss: str,
          lam: float, rule: str, params: tuple, t: int, should_stop,
          workers: int = 1, check: bool = False) -> tuple[int, float, int, int, int, float] | None:
    """One mini-batch epoch in compiled code, or None where it cannot run (the caller runs the NumPy loop).

    X (M, s_1) and Y (M, K): the training rows and their targets, C-ordered, one float dtype; ``order`` (M,) int64:
    the epoch's row order, cut into batches of ``batch`` rows; ``theta``: every Θ^(l) C-ordered in one flat buffer
    (updated in place), ``G`` a scratch buffer like it; ``arrays``: the rule's flat state (Adam: m, v; SGD: the
    velocity), updated in place. ``lam`` is the full λ (each batch carries λ·|b|/M). ``params``: Adam's
    (η, β₁, β₂, ε), SGD's (η, μ, nesterov); ``t`` Adam's step count before the epoch. ``should_stop``: None or a
    callable polled before every batch. ``workers``: threads at most (the caller's choice, by
    :func:`~glassnet._support.threads.choose_epoch_threads`). ``check``: look at every row of X as it is gathered
    for NaN and inf (while it is in cache: no pass over X of its own), and stop before the first batch that holds
    one, with :data:`EPOCH_NOT_FINITE` (``bad_batch`` is that batch; the batches before it were stepped).

    With more than one worker the epoch runs on threads of its own: each owns a share of the first hidden layer's
    units (their rows of Θ^(1), a^(2) and δ^(2): forward, Δ rows and step), the caller's thread also every later
    layer, and they meet three times per batch (a waiting thread spins up to 0.2 ms, then sleeps). Their products are
    one-thread BLAS calls (the BLAS is held at one thread meanwhile): BLAS threads on these small products spend more
    time waking up than multiplying. Where the threads wait at those meetings more than they work (they have no core
    each: several fits at once, other programs), the caller's thread finishes the epoch alone after 16 batches.

    Returns ``(status, Σ_b J_b·|b|, batches, t, bad_batch, bad_J)``; status is one of :data:`EPOCH_OK`,
    :data:`EPOCH_DIVERGED` (batch ``bad_batch`` gave J = ``bad_J`` or non-finite weights), :data:`EPOCH_STOPPED` or
    :data:`EPOCH_NOT_FINITE`.
    """
    if not blas_ready() or rule not in _RULES or activation not in _ACTIVATIONS or (output, loss) not in _PAIRS:
        return None
    if check and getattr(_kernels, "EPOCH_NOT_FINITE", None) != EPOCH_NOT_FINITE:
        return None  # a build older than this module cannot look: the NumPy loop runs (its caller scans X)
    s1, s2 = (arrays[0], arrays[1]) if rule == "adam" else (arrays[0], None)
    workers = max(1, int(workers))
    try:
        with single_threaded_blas() if workers > 1 else contextlib.nullcontext():  # counted: calls may overlap
            return _kernels.epoch(X, Y, order, theta, G, s1, s2, sizes, batch, _ACTIVATIONS[activation],
                                  _PAIRS[output, loss], float(lam), _RULES[rule], params, int(t), should_stop, workers,
                                  bool(check))
    except _REFUSED:
        return None


def _lanes_take(feature: str, activation: str, output: str, loss: str) -> bool:
    """Whether the compiled lanes can run this activation and output/loss pair, in a build that has ``feature`` (a
    build older than this module lacks the newer ones: the NumPy code runs)."""
    return (blas_ready() and hasattr(_kernels, "sums") and hasattr(_kernels, feature)
            and activation in _ACTIVATIONS and (output, loss) in _PAIRS)


def sums(X: np.ndarray, Y: np.ndarray, thetas: list[np.ndarray],
         lanes: list[tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]], sizes: list[int], rows: int,
         activation: str, output: str, loss: str, rows_form: bool | np.ndarray = False,
         limit: bool = False) -> float | None:
    """Σ_t cost(t) over the rows of X, and Δ^(l) = Σ_t δ^(l+1) [1, a^(l)]ᵀ, in compiled code (the GIL released): a
    workspace's full-batch sums. None where it cannot run (the caller runs its NumPy code; nothing was written).

    X (M, s_1) and Y (M, K), C-ordered, one float dtype; ``thetas[l]`` Θ^(l+1) C-ordered. ``lanes``: k ≥ 1 triples
    ``(A, Dl, Delta)``, one per thread; lane w takes rows ``M*w//k`` .. ``M*(w+1)//k - 1`` (M ≥ k) on a thread of the
    kernels' own pool (threads that stay awake between back-to-back calls) and writes its sums into its ``Delta``
    (C-ordered like Θ); lane 0's ``Delta`` then holds the sum over all lanes, added lane by lane in order. ``A[l]`` and
    ``Dl[l]``: flat buffers of at least s_{l+2}·rows items (a^(l+2) or z^(L), δ^(l+2)). Chunks of ``rows`` rows are
    read straight from X; ``rows_form``: the first layer's product asked as a product of rows (see
    :func:`glassnet._fast.workspace.first_layer_as_rows`), with Θ^(1) transposed into this array of at least
    s_1·s_2 items (True: into memory the call allocates). The steps are the epoch's (:func:`epoch`: forward, output
    layer, backward), so the results equal the NumPy lanes' to rounding (tests/test_compiled_sums.py). Where k > 1
    every lane runs its own products, so the BLAS must run one thread: ``limit`` asks the kernels to see to it (only
    where :func:`glassnet._support.threads.kernels_limit_blas`); otherwise call it inside
    :func:`~glassnet._support.threads.single_threaded_blas`.
    """
    if not _lanes_take("sums", activation, output, loss):
        return None
    result = _call("sums", X, Y, thetas, lanes, sizes, rows, _ACTIVATIONS[activation], _PAIRS[output, loss],
                   rows_form, limit)
    return None if result is _DECLINED else float(result)


def predict(X: np.ndarray, Z: np.ndarray, thetas: list[np.ndarray],
            lanes: list[tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]], sizes: list[int], rows: int,
            activation: str, output: str, loss: str, rows_form: bool | np.ndarray, limit: bool) -> bool | None:
    """The forward pass alone on :func:`sums`' lanes: z^(L) of every row of X (the output layer's bias added, no
    output activation) into Z (M, K), C-ordered, X's dtype. Returns whether every row's z^(2) was finite; None where
    it cannot run (nothing was written). The lanes' first buffers hold a chunk's activations; nothing else is touched.
    ``output`` and ``loss`` are not used (z^(L) is the same for every pair)."""
    if not _lanes_take("equal_bytes", activation, output, loss):
        return None
    result = _call("sums", X, Z, thetas, lanes, sizes, rows, _ACTIVATIONS[activation], _PAIRS[output, loss],
                   rows_form, limit, None, 0.0, True)
    return None if result is _DECLINED else bool(result)


def sums_finished(X: np.ndarray, Y: np.ndarray, thetas: list[np.ndarray],
                  lanes: list[tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]], sizes: list[int],
                  rows: int, activation: str, output: str, loss: str, rows_form: bool | np.ndarray, limit: bool,
                  out: list[np.ndarray], lam: float) -> tuple[float, float] | None:
    """:func:`sums`, then D^(l) into ``out`` (C-ordered arrays like Θ): :func:`glassnet.backprop.finish` with m the
    rows of X, by :func:`finish`'s kernel (bit for bit the NumPy code where :func:`finish_matches`); and beside
    Σ_t cost(t) it returns Σ Θ[:, 1:]² over every layer for the cost's regularization term
    (:func:`glassnet.cost.penalty`; 0 where λ is 0), summed as the compiled epoch sums it. One call where a
    workspace's J and D would take three: after 1.5 ms of products (the course's ex4 size) each Python step costs
    microseconds, the caches being full of X. None where it cannot run (nothing was written)."""
    if not _lanes_take("blas_limit", activation, output, loss):
        return None
    result = _call("sums", X, Y, thetas, lanes, sizes, rows, _ACTIVATIONS[activation], _PAIRS[output, loss],
                   rows_form, limit, out, lam)
    return None if result is _DECLINED else result
