"""Picking λ with a validation curve.

One 64-25-10 network is trained per λ on 600 digits (same initial Θ each time); J without the regularization term is
then measured on those training digits and on 600 held-out ones. Small λ overfits (training cost far below
validation cost), large λ underfits (both high); the lowest validation cost marks the λ to use.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sklearn.model_selection import train_test_split

from glassnet.datasets import load_digits
from glassnet.explain import figures
from glassnet.explain.curves import validation_curve
from glassnet.io import atomic_write

LAMS = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for the figure (default: .)")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)

    X, y = load_digits()
    X_train, X_val, y_train, y_val = train_test_split(X, y, train_size=600, test_size=600, stratify=y,
                                                      random_state=0)
    curve = validation_curve(X_train, y_train, X_val, y_val, lams=LAMS, hidden_layer_sizes=(25,), max_iter=100,
                             random_state=0)
    png = figures.validation_curve_png(curve)
    path = atomic_write(out / "validation_curve.png", lambda f: f.write(png))
    print(f"wrote {path}")
    for lam, tc, vc, ve in zip(curve.lams, curve.train_cost, curve.val_cost, curve.val_error):
        print(f"λ = {lam:<5g} J_train = {tc:.4f}  J_val = {vc:.4f}  validation error = {ve:.3f}")
    print(f"best λ = {curve.best_lam:g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
