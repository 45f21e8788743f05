"""``glassnet demo``: what ``make demo`` runs — a real digits model in seconds, with J, accuracy and a gradcheck."""

from __future__ import annotations

import argparse
import time

import numpy as np


def register(sub) -> None:
    p = sub.add_parser("demo", help="train a digits classifier and print cost, accuracy and a gradient check")
    p.add_argument("--max-iter", type=int, default=400, help="L-BFGS iterations (default 400)")
    p.set_defaults(func=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    import glassnet
    from glassnet.optimize import minimize_full_batch

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    sizes = [64, 25, 10]
    lam = 1.0
    print(f"glassnet demo: scikit-learn digits, {Xtr.shape[0]} train / {Xte.shape[0]} test, "
          f"network {'-'.join(map(str, sizes))}, λ = {lam:g}, L-BFGS, {args.max_iter} iterations")
    report = glassnet.course_gradient_check(lam=3.0)
    print(f"gradient check (course 3-5-3, λ = 3): relative difference {report.relative_difference:.2e} "
          f"{'PASS' if report.passed else 'FAIL'}")
    thetas = glassnet.random_init(sizes, rng=0)
    J0 = glassnet.cost(thetas, Xtr, ytr, lam)
    t0 = time.perf_counter()
    thetas, history = minimize_full_batch(
        lambda th: glassnet.cost_and_gradient(th, Xtr, ytr, lam), thetas, max_iter=args.max_iter, rows=len(Xtr)
    )
    seconds = time.perf_counter() - t0
    J1 = glassnet.cost(thetas, Xtr, ytr, lam)
    acc_tr = float(np.mean(glassnet.forward(thetas, Xtr).output.argmax(axis=1) == ytr))
    acc_te = float(np.mean(glassnet.forward(thetas, Xte).output.argmax(axis=1) == yte))
    print(f"J(Θ) before training: {J0:.6f}")
    print(f"J(Θ) after training:  {J1:.6f}  ({history.n_iter} iterations, {seconds:.1f} s)")
    print(f"train accuracy: {acc_tr:.2%}")
    print(f"test accuracy:  {acc_te:.2%}")
    return 0 if report.passed else 1
