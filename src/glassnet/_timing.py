"""Timing one J(Θ) + gradient side by side: glassnet, scikit-learn's MLP loss/grad and torch autograd, same arrays.

Shared by ``glassnet bench`` (the user's network) and the scripts in ``benchmarks/`` (which add machine facts, the
GEMM peak, memory and whole fits on top). Each contender builder takes ``(thetas, X, y, Y, lam)`` and returns
``run() -> J`` for one evaluation; :func:`interleaved` times them in rotating order, so a change of machine load hits
all of them alike. Not for: printing, files or plots (no matplotlib); nothing of the library imports this module.

>>> gemm_flops(2, [3, 2, 1])  # forward z and Δ: 2·2·(3·2 + 2·1) = 32 each; δ^(2) = δ^(3) Θ^(2): 2·2·1·2 = 8
72
"""

from __future__ import annotations

import inspect
import statistics
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from glassnet._fast.workspace import Workspace
from glassnet._support.threads import current_blas_threads as blas_threads  # the one BLAS policy module
from glassnet.api import cost_and_gradient
from glassnet.outputs import encode_labels, n_classes_for
from glassnet.params import random_init

__all__ = [
    "Workspace",
    "gemm_flops",
    "interleaved",
    "median_ms",
    "median_seconds",
    "blas_threads",
    "random_problem",
    "optional_torch",
    "glassnet_workspace",
    "glassnet_workspace_fresh",
    "glassnet_api",
    "sklearn_mlp",
    "torch_autograd",
]


def gemm_flops(m: int, sizes: Sequence[int]) -> int:
    """Multiply-add FLOPs (2·M·N·K) of the matrix products in one J + gradient: forward z, backward δ, Δ."""
    flops = 0
    for i in range(len(sizes) - 1):
        flops += 2 * m * sizes[i] * sizes[i + 1] * 2  # z^(l+1) = a Θᵀ and Δ^(l) = δᵀ a
        if i > 0:
            flops += 2 * m * sizes[i] * sizes[i + 1]  # δ^(l) = δ^(l+1) Θ (not for the input layer)
    return flops


#: :func:`interleaved` with ``burst`` > 1: seconds of untimed calls after each pause, before the timed ones.
BURST_WARMUP = 0.15


def interleaved(runs: dict[str, Callable[[], object]], repeats: int, *, warmup: int = 1, pause: float = 0.0,
                clock: Callable[[], float] = time.perf_counter, burst: int = 1) -> dict[str, list[float]]:
    """Seconds per call of each run: ``warmup`` untimed rounds, then ``repeats`` rounds of one call each.

    The order rotates from round to round; ``pause`` seconds before each call let another library's spinning worker
    threads go to sleep first. ``burst`` > 1: in every round each run is first called untimed for ``BURST_WARMUP``
    seconds after the pause (once at least), then ``burst`` times back to back, each timed (``repeats × burst`` times
    per run): the steady state of an optimizer's loop, not calls on a core that has just idled (its clock not yet
    up, its caches another library's), which on a 2-core VM made calls up to 1.5× slower for ~0.1 s.
    """
    names = list(runs)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(warmup + repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            if pause:
                time.sleep(pause)
            if burst > 1:
                start = time.perf_counter()
                runs[name]()
                while time.perf_counter() - start < BURST_WARMUP:
                    runs[name]()
            for _ in range(burst):
                t0 = clock()
                runs[name]()
                dt = clock() - t0
                if r >= warmup:
                    times[name].append(dt)
    return times


def median_ms(seconds: Sequence[float]) -> float:
    """The median of call times in seconds, in milliseconds."""
    return statistics.median(seconds) * 1e3


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median seconds of ``repeats`` calls of ``fn`` after ``warmup`` calls."""
    return statistics.median(interleaved({"fn": fn}, repeats, warmup=warmup)["fn"])


def random_problem(sizes: Sequence[int], m: int, dtype=np.float64, seed: int = 0):
    """``(thetas, X, y, Y)``: random Θ, X (m, s_1) in [0, 1) like pixels, labels y and their 0/1 targets Y (m, K)."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    K = int(sizes[-1])
    X = rng.random((m, int(sizes[0]))).astype(dtype)
    y = rng.integers(0, n_classes_for(K), size=m)
    Y = encode_labels(y, K, m, dtype=dtype)
    thetas = [t.astype(dtype) for t in random_init(list(sizes), rng)]
    return thetas, X, y, Y


def _sizes(thetas) -> list[int]:
    return [thetas[0].shape[1] - 1] + [t.shape[0] for t in thetas]


def optional_torch():
    """The torch module, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


# --------------------------------------------------------------------------------------------------------------------
# Contenders: each builder returns run() -> J for one cost + gradient evaluation
# --------------------------------------------------------------------------------------------------------------------


def glassnet_workspace(thetas, X, y, Y, lam, activation="sigmoid"):
    """What an optimizer calls each iteration: a :class:`Workspace` objective (input checked once, buffers reused)."""
    f = Workspace(_sizes(thetas), X.shape[0], X.dtype, activation=activation).objective(X, y, lam)
    return lambda: f(thetas)[0]


def glassnet_workspace_fresh(thetas, X, y, Y, lam):
    """For memory probes: the workspace is created inside the measured call, so its buffers count."""
    sizes = _sizes(thetas)
    return lambda: Workspace(sizes, X.shape[0], X.dtype).cost_and_gradient(thetas, X, Y, lam, check_input=False)[0]


def glassnet_api(thetas, X, y, Y, lam):
    """The public ``glassnet.cost_and_gradient`` (validates X and y on every call)."""
    return lambda: cost_and_gradient(thetas, X, y, lam)[0]


_SKLEARN_ACTIVATION = {"sigmoid": "logistic", "tanh": "tanh", "relu": "relu", "identity": "identity"}


def sklearn_mlp(thetas, X, y, Y, lam, activation="sigmoid"):
    """``MLPClassifier(activation="logistic")._backprop`` on 0/1 targets Y: K sigmoid outputs, the lecture's J
    (``activation``: the hidden units, glassnet's name)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    sizes = _sizes(thetas)
    clf = MLPClassifier(hidden_layer_sizes=tuple(sizes[1:-1]), activation=_SKLEARN_ACTIVATION[activation], alpha=lam,
                        max_iter=1, random_state=0)
    K = sizes[-1]
    rows = np.arange(min(X.shape[0], 4 * K))
    if K == 1:  # one output unit: a binary target with both classes present
        rows = np.arange(4) % X.shape[0]
        Yfit = np.array([0, 1, 0, 1])
    else:
        Yfit = Y[rows].copy()
        Yfit[0] = 1 - Yfit[0]  # a genuine multilabel target: K independent logistic outputs, the lecture's cost
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X[rows], Yfit)  # one tiny fit only builds scikit-learn's internal state
    if clf.out_activation_ != "logistic":
        raise RuntimeError(f"scikit-learn chose output activation {clf.out_activation_!r}, expected 'logistic'")
    clf.coefs_ = [np.ascontiguousarray(t[:, 1:].T) for t in thetas]
    clf.intercepts_ = [t[:, 0].copy() for t in thetas]
    with_weight = "sample_weight" in inspect.signature(clf._backprop).parameters

    def run():
        # The buffers exactly as MLPClassifier._fit sets them up for L-BFGS (activations and deltas are reassigned
        # by _backprop on every call).
        activations = [X] + [None] * (len(sizes) - 1)
        deltas = [None] * (len(activations) - 1)
        coef_grads = [np.empty((a, b), dtype=X.dtype) for a, b in zip(sizes[:-1], sizes[1:])]
        intercept_grads = [np.empty(b, dtype=X.dtype) for b in sizes[1:]]
        extra = (None,) if with_weight else ()
        return clf._backprop(X, Y, *extra, activations, deltas, coef_grads, intercept_grads)[0]

    return run


def glassnet_torch(torch):
    """A builder for glassnet's own backprop on torch CPU tensors (:func:`glassnet.cost_and_gradient` → the NumPy
    path on views of the tensors' memory, see :func:`glassnet.scale.backends.torch_cpu_views`): the same tensors as
    :func:`torch_autograd`, no autograd graph, torch tensors back."""

    def build(thetas, X, y, Y, lam):
        Xt, Yt = torch.from_numpy(X), torch.from_numpy(np.ascontiguousarray(Y))  # shares the arrays: no copy
        tt = [torch.from_numpy(np.ascontiguousarray(t)) for t in thetas]
        return lambda: cost_and_gradient(tt, Xt, Yt, lam)[0]

    return build


def torch_autograd(torch):
    """A builder for torch CPU autograd: F.linear + sigmoid + binary_cross_entropy_with_logits + backward()."""

    def build(thetas, X, y, Y, lam):
        F = torch.nn.functional
        m = X.shape[0]
        Xt, Yt = torch.from_numpy(X), torch.from_numpy(np.ascontiguousarray(Y))  # shares the arrays: no copy
        W = [torch.tensor(np.ascontiguousarray(t[:, 1:]), requires_grad=True) for t in thetas]
        b = [torch.tensor(t[:, 0].copy(), requires_grad=True) for t in thetas]
        c = lam / (2.0 * m)

        def run():
            for p in (*W, *b):
                p.grad = None
            a = Xt
            for i in range(len(W)):
                z = F.linear(a, W[i], b[i])
                a = torch.sigmoid(z) if i < len(W) - 1 else z
            J = F.binary_cross_entropy_with_logits(z, Yt, reduction="sum") / m + c * sum((w * w).sum() for w in W)
            J.backward()
            return J.item()

        return run

    return build
