"""Training where users train: mini-batch epochs, float32 vs float64, and whole fits, beside scikit-learn and torch.

Rows, each measured in this one process on the same data, medians of interleaved repeats:

- ``epoch``: one epoch of Adam on 5000 × 784 pixels-like data, 784-100-10, at batch 16, 64 and 200:
  ``glassnet.Classifier(solver="adam", max_iter=1)`` vs ``MLPClassifier(solver="adam", max_iter=1)`` vs a plain torch
  CPU loop (``torch.optim.Adam``, sigmoid units, BCE-with-logits + λ/2m ΣW²). Ratios > 1: glassnet is faster.
- ``dtype``: the same fit on the same data in float32 and in float64 (digits and MNIST-5k, Adam): time and test
  accuracy of each; the ratio float64 time / float32 time.
- ``fit``: whole fits on digits and MNIST-5k (75/25 split): glassnet and scikit-learn with L-BFGS (200 iterations)
  and with Adam (30 epochs), and the torch loop with Adam (30 epochs): seconds and test accuracy.

Beside every time, the FLOP floor: the GEMM FLOPs of the run divided by the measured GEMM peak of this machine
(a plain matrix product of the same shapes), the time no implementation of backprop can beat.

Run: ``python benchmarks/bench_training.py`` (``--quick`` for a smoke run, ``--out FILE.json`` to keep the result).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import _harness as h

import glassnet
from glassnet.holdout import split

LAM = 1.0
SIZES = [784, 100, 10]


def pixels(m: int, seed: int = 0):
    """Pixel-like X in [0, 1) and labels 0..9 that depend on X (so there is something to learn)."""
    rng = np.random.default_rng(seed)
    X = rng.random((m, SIZES[0]))
    W = rng.standard_normal((SIZES[0], 10))
    y = np.argmax((X - 0.5) @ W, axis=1)
    return X, y


def glassnet_fit(X, y, solver: str, epochs: int, batch: int = 200, dtype=np.float64, hidden: int = 100):
    clf = glassnet.Classifier(hidden_layer_sizes=(hidden,), alpha=LAM, solver=solver, max_iter=epochs,
                              batch_size=batch, random_state=0, shuffle=True)
    return lambda: clf.fit(X.astype(dtype, copy=False), y)


def sklearn_fit(X, y, solver: str, epochs: int, batch: int = 200, hidden: int = 100):
    from sklearn.neural_network import MLPClassifier

    def run():
        clf = MLPClassifier(hidden_layer_sizes=(hidden,), activation="logistic", solver=solver, alpha=LAM,
                            max_iter=epochs, batch_size=batch, random_state=0, learning_rate_init=0.01, tol=0.0,
                            n_iter_no_change=10**9)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter is the budget here
            return clf.fit(X, y)

    return run


def torch_fit(torch, X, y, epochs: int, batch: int, hidden: int = 100):
    """A plain torch CPU loop: the same network, cost and Adam (learning rate 0.01), mini-batches reshuffled."""
    Xt = torch.tensor(X)
    Yt = torch.nn.functional.one_hot(torch.tensor(y), 10).to(Xt.dtype)
    m = Xt.shape[0]

    def run():
        gen = torch.Generator().manual_seed(0)
        l1, l2 = torch.nn.Linear(X.shape[1], hidden).double(), torch.nn.Linear(hidden, 10).double()
        opt = torch.optim.Adam([*l1.parameters(), *l2.parameters()], lr=0.01)
        for _ in range(epochs):
            order = torch.randperm(m, generator=gen)
            for start in range(0, m, batch):
                idx = order[start:start + batch]
                zL = l2(torch.sigmoid(l1(Xt[idx])))
                n = len(idx)
                J = (torch.nn.functional.binary_cross_entropy_with_logits(zL, Yt[idx], reduction="sum") / n
                     + LAM * n / m / (2 * n) * (l1.weight.pow(2).sum() + l2.weight.pow(2).sum()))
                opt.zero_grad()
                J.backward()
                opt.step()
        return l1, l2

    return run


def torch_accuracy(torch, net, X, y) -> float:
    l1, l2 = net
    with torch.no_grad():
        return float((l2(torch.sigmoid(l1(torch.tensor(X)))).argmax(1).numpy() == y).mean())


def floor_ms(m: int, sizes, epochs: int, peak: float) -> float:
    """FLOPs of ``epochs`` passes of J + D over m rows ÷ the GEMM peak (GFLOP/s), in ms."""
    return h.gemm_flops(m, sizes) * epochs / (peak * 1e9) * 1e3


def timed(runs: dict, repeats: int) -> dict[str, float]:
    return {name: h.median_ms(t) for name, t in h.interleaved(runs, repeats).items()}


def epoch_rows(args, torch, peak) -> list[dict]:
    X, y = pixels(1000 if args.quick else 5000)
    rows = []
    for batch in (16, 64, 200):
        runs = {"glassnet": glassnet_fit(X, y, "adam", 1, batch), "sklearn": sklearn_fit(X, y, "adam", 1, batch)}
        if torch is not None:
            runs["torch"] = torch_fit(torch, X, y, 1, batch)
        ms = timed(runs, args.repeats)
        rows.append({"row": "epoch", "batch": batch, "m": len(y), "ms": ms,
                     "vs_sklearn": ms["sklearn"] / ms["glassnet"],
                     "vs_torch": ms["torch"] / ms["glassnet"] if "torch" in ms else None,
                     "floor_ms": floor_ms(len(y), SIZES, 1, peak)})
    return rows


def datasets(quick: bool):
    out = [("digits", glassnet.datasets.load("digits"))]
    if not quick and glassnet.datasets.REGISTRY["mnist_5k"].available():
        out.append(("mnist_5k", glassnet.datasets.load("mnist_5k")))
    return out


def dtype_rows(args, peak) -> list[dict]:
    rows = []
    for name, data in datasets(args.quick):
        Xtr, Xte, ytr, yte = split(np.asarray(data.X), np.asarray(data.y), 0.25, 0)
        epochs = 5 if args.quick else 30
        fits = {"float64": glassnet_fit(Xtr, ytr, "adam", epochs, 64, np.float64, 25),
                "float32": glassnet_fit(Xtr, ytr, "adam", epochs, 64, np.float32, 25)}
        ms = timed(fits, args.repeats)
        acc = {k: float(f().score(Xte.astype(k), yte)) for k, f in fits.items()}
        sizes = [Xtr.shape[1], 25, 10]
        rows.append({"row": "dtype", "data": name, "ms": ms, "test_accuracy": acc,
                     "float32_speedup": ms["float64"] / ms["float32"],
                     "floor_ms": floor_ms(len(ytr), sizes, epochs, peak)})
    return rows


def fit_rows(args, torch, peak) -> list[dict]:
    rows = []
    for name, data in datasets(args.quick):
        Xtr, Xte, ytr, yte = split(np.asarray(data.X, dtype=np.float64), np.asarray(data.y), 0.25, 0)
        sizes = [Xtr.shape[1], 25, 10]
        iters, epochs = (20, 3) if args.quick else (200, 30)
        for solver, n in (("lbfgs", iters), ("adam", epochs)):
            fits = {"glassnet": glassnet_fit(Xtr, ytr, solver, n, 64, hidden=25),
                    "sklearn": sklearn_fit(Xtr, ytr, solver, n, 64, hidden=25)}
            if torch is not None and solver == "adam":
                fits["torch"] = torch_fit(torch, Xtr, ytr, n, 64, hidden=25)
            seconds, acc = {}, {}
            for k, f in fits.items():
                t0 = time.perf_counter()
                model = f()
                seconds[k] = time.perf_counter() - t0
                acc[k] = torch_accuracy(torch, model, Xte, yte) if k == "torch" else float(model.score(Xte, yte))
            rows.append({"row": "fit", "data": name, "solver": solver, "iterations": n, "seconds": seconds,
                         "test_accuracy": acc,
                         "vs_sklearn": seconds["sklearn"] / seconds["glassnet"],
                         "vs_torch": seconds["torch"] / seconds["glassnet"] if "torch" in seconds else None,
                         "floor_ms": floor_ms(len(ytr), sizes, n, peak)})
    return rows


def report(result: dict) -> str:
    lines = [f"glassnet training benchmark · {result['meta']['cpu']} · {h.blas_line(result['meta'])}",
             f"GEMM peak {result['peak_gflops']:.1f} GFLOP/s (float64)", "",
             "one Adam epoch, 784-100-10 (ms; ratio = their time / glassnet's):"]
    for r in result["rows"]:
        if r["row"] == "epoch":
            t = r["ms"]
            torch_part = f"  torch {t['torch']:7.1f} ({r['vs_torch']:.2f}×)" if r["vs_torch"] else ""
            lines.append(f"  batch {r['batch']:>3}  glassnet {t['glassnet']:7.1f}  sklearn {t['sklearn']:7.1f} "
                         f"({r['vs_sklearn']:.2f}×){torch_part}   floor {r['floor_ms']:.1f}")
    lines += ["", "float32 vs float64 (Adam, 64-row batches; ms, test accuracy):"]
    for r in result["rows"]:
        if r["row"] == "dtype":
            t, a = r["ms"], r["test_accuracy"]
            lines.append(f"  {r['data']:<9} float64 {t['float64']:7.1f} ({a['float64']:.1%})  float32 {t['float32']:7.1f} "
                         f"({a['float32']:.1%})  float32 {r['float32_speedup']:.2f}× faster   floor {r['floor_ms']:.1f}")
    lines += ["", "whole fits, 25 hidden units (s, test accuracy; ratio = their time / glassnet's):"]
    for r in result["rows"]:
        if r["row"] == "fit":
            s, a = r["seconds"], r["test_accuracy"]
            parts = [f"{k} {s[k]:6.2f} s ({a[k]:.1%})" for k in s]
            ratios = f"sklearn {r['vs_sklearn']:.2f}×" + (f", torch {r['vs_torch']:.2f}×" if r["vs_torch"] else "")
            lines.append(f"  {r['data']:<9} {r['solver']:<5} ×{r['iterations']:<4} " + "  ".join(parts) + f"   [{ratios}]"
                         f"   floor {r['floor_ms'] / 1e3:.2f} s")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes, one repeat (a smoke run, not a measurement)")
    p.add_argument("--repeats", type=int, default=5, help="interleaved repeats per timing (default 5)")
    p.add_argument("--threads", type=int, default=None, help="BLAS threads (default: as the machine allows)")
    p.add_argument("--rows", default="epoch,dtype,fit",
                   help="which rows to run, comma-separated from epoch, dtype, fit (default: all)")
    p.add_argument("--out", help="write the result as JSON to this file")
    args = p.parse_args(argv)
    if args.quick:
        args.repeats = 1
    torch = h.optional_torch()
    threads = args.threads or h.blas_threads() or 1
    if torch is not None:
        torch.set_num_threads(threads)
    peak = h.gemm_rate(5000, SIZES[0], SIZES[1], 1 if args.quick else 5)
    kinds = {"epoch": lambda: epoch_rows(args, torch, peak), "dtype": lambda: dtype_rows(args, peak),
             "fit": lambda: fit_rows(args, torch, peak)}
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
