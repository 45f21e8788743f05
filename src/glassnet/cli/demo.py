"""``glassnet demo``: what ``make demo`` runs — a real digits model in about a second, with J, accuracy and a gradcheck.

It checks backprop on the course's 3-5-3 problem, then trains :class:`glassnet.Classifier` (64-25-10, λ = 1,
L-BFGS) on a stratified 75/25 split of scikit-learn's 8×8 digits (``random_state = 0``) and prints seven lines whose
format is stable (numbers vary a little with the BLAS)::

    glassnet demo: scikit-learn digits, 1347 train / 450 test, network 64-25-10, λ = 1, L-BFGS, up to 400 iterations
    gradient check (course 3-5-3, λ = 3): relative difference 2.24e-11 PASS
    J(Θ) before training: 6.211565
    J(Θ) after training:  0.514478  (359 iterations, 0.3 s)
    train accuracy: 99.55%
    test accuracy:  98.00%
    explained test example 38 (a 4 that the network reads as 8): glassnet-demo.html

The last line names the HTML report it wrote (``-o FILE``; ``--no-report`` for none): one test example, the first
the network gets wrong, with its diagrams, δ equations, hidden units and cost curve. J(Θ) is the regularized cost on the
training part, before training at the initial random weights. ``--json`` prints
the same numbers as one JSON object. Exit code 1 when the gradient check fails.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from glassnet.cli._common import (
    EXIT_FAILURE,
    EXIT_OK,
    add_json_option,
    command,
    emit,
    positive_int,
    split,
    write_atomic,
)
from glassnet.cli._common import seed as seed_number

DEFAULT_REPORT = "glassnet-demo.html"


def register(sub) -> None:
    p = sub.add_parser("demo", help="train a digits classifier and print cost, accuracy and a gradient check",
                       description="Gradient check on the course's 3-5-3 problem, then a 64-25-10 digits classifier "
                                   "(λ = 1, L-BFGS) trained on a stratified 75/25 split: J(Θ) before and after, "
                                   "train and test accuracy. Takes about a second.")
    p.add_argument("--max-iter", type=positive_int, default=400, metavar="N", help="L-BFGS iterations (default 400)")
    p.add_argument("--seed", type=seed_number, default=0, metavar="S",
                   help="seed of the split and the initial weights (default 0)")
    p.add_argument("-o", "--report", type=Path, default=Path(DEFAULT_REPORT), metavar="FILE.html",
                   help=f"where to write the HTML report explaining one test example (default {DEFAULT_REPORT}; "
                        "replaced if it exists)")
    p.add_argument("--no-report", dest="report", action="store_const", const=None, help="write no report")
    add_json_option(p)
    p.set_defaults(func=_cmd_demo)


@command("demo")
def _cmd_demo(args: argparse.Namespace) -> int:
    import glassnet
    from glassnet.datasets import load_digits

    X, y = load_digits()  # pixels / 16, in [0, 1]
    Xtr, Xte, ytr, yte = split(X, y, 0.25, args.seed, "--test-size")
    hidden, lam = 25, 1.0
    sizes = [X.shape[1], hidden, len(np.unique(y))]
    report = glassnet.course_gradient_check(lam=3.0)
    clf = glassnet.Classifier(hidden_layer_sizes=(hidden,), alpha=lam, max_iter=args.max_iter, solver="lbfgs",
                              random_state=args.seed)
    # fit() starts from random_init(sizes, rng=seed) when random_state is an int
    J0 = float(glassnet.cost(glassnet.random_init(sizes, rng=args.seed), Xtr, ytr, lam))
    t0 = time.perf_counter()
    clf.fit(Xtr, ytr)
    seconds = time.perf_counter() - t0
    J1 = float(clf.cost_and_gradient(Xtr, ytr)[0])
    acc_tr, acc_te = float(clf.score(Xtr, ytr)), float(clf.score(Xte, yte))
    verdict = "PASS" if report.passed else "FAIL"
    lines = [
        f"glassnet demo: scikit-learn digits, {len(ytr)} train / {len(yte)} test, network "
        f"{'-'.join(map(str, sizes))}, λ = {lam:g}, L-BFGS, up to {args.max_iter} iterations",
        f"gradient check (course 3-5-3, λ = 3): relative difference {report.relative_difference:.2e} {verdict}",
        f"J(Θ) before training: {J0:.6f}",
        f"J(Θ) after training:  {J1:.6f}  ({clf.n_iter_} iterations, {seconds:.1f} s)",
        f"train accuracy: {acc_tr:.2%}",
        f"test accuracy:  {acc_te:.2%}",
    ]
    payload = {
        "command": "demo",
        "data": "digits",
        "n_train": len(ytr),
        "n_test": len(yte),
        "layer_sizes": sizes,
        "lam": lam,
        "max_iter": args.max_iter,
        "seed": args.seed,
        "gradcheck": {"problem": "course 3-5-3", "lam": 3.0, "relative_difference": report.relative_difference,
                      "tol": report.tol, "passed": report.passed},
        "J_before": J0,
        "J_after": J1,
        "n_iter": int(clf.n_iter_),
        "seconds": seconds,
        "train_accuracy": acc_tr,
        "test_accuracy": acc_te,
    }
    if args.report is not None:
        explained = _write_report(clf, Xte, yte, args.report)
        lines.append(f"explained {explained}: {args.report}")
        payload["report"] = {"path": args.report, "example": explained}
    emit(args, payload, lines)
    return EXIT_OK if report.passed else EXIT_FAILURE


def _write_report(clf, Xte: np.ndarray, yte: np.ndarray, path: Path) -> str:
    """Write the HTML report of one test example (the first one the network gets wrong, else the first); its words."""
    from glassnet.explain.report import html_report

    wrong = np.flatnonzero(clf.predict(Xte) != yte)
    t = int(wrong[0]) if len(wrong) else 0
    trace = replace(clf.explain(Xte[t], yte[t]), example=t)
    layer = clf.output_layer_
    page = html_report(trace, X=Xte, y=layer.unit_of(yte), history=clf.history_,
                       class_names=[f"digit {c}" for c in layer.classes.tolist()], classes=layer.classes.tolist(),
                       image_shape=(8, 8),
                       title=f"glassnet demo: backpropagation of test example {t} (a {yte[t]})")
    write_atomic(path, page.encode())
    guess = layer.predict(trace.layers[-1].z[None, :])[0]
    return f"test example {t} (a {yte[t]}" + (f" that the network reads as {guess})" if len(wrong) else ")")
