"""The ``glassnet`` command line: a thin shell that parses arguments, calls the library and prints.

``main(argv=None) -> int`` returns the exit code (0 ok, 1 failure such as a failed check, 2 usage error), so tests
call it in-process. Nothing imports this module.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import numpy as np

__all__ = ["main", "build_parser"]


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
        lambda th: glassnet.cost_and_gradient(th, Xtr, ytr, lam), thetas, max_iter=args.max_iter
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand (also used to generate the CLI reference)."""
    parser = argparse.ArgumentParser(prog="glassnet", description="Backpropagation, exact and visible.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="train a digits classifier and print cost, accuracy and a gradient check")
    demo.add_argument("--max-iter", type=int, default=400, help="L-BFGS iterations (default 400)")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    return args.func(args)
