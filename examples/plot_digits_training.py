"""Train a digit classifier: the cost curve and what the hidden units learned.

A 64-25-10 network learns scikit-learn's 8×8 digits with L-BFGS on the regularized cost J(Θ). The first figure is
J per iteration (training, and validation on held-out digits); the second shows each hidden unit's weights Θ^(1)_j·
as an 8×8 image: the pattern of pixels that switches the unit on.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from glassnet import Classifier
from glassnet.datasets import load_digits
from glassnet.explain.figures import cost_curves_png, hidden_units_png
from glassnet.io import atomic_write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for the figures (default: .)")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)

    X, y = load_digits()  # pixels scaled to [0, 1]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    clf = Classifier(hidden_layer_sizes=(25,), alpha=1.0, max_iter=150, random_state=0)
    with warnings.catch_warnings():  # 150 iterations, a fixed budget as the course trains, not run to convergence
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train, X_val=X_test, y_val=y_test)

    figures = {
        "digits_cost_curve.png": cost_curves_png(clf.history_),
        "digits_hidden_units.png": hidden_units_png(clf.thetas_[0], image_shape=(8, 8)),
    }
    for name, png in figures.items():
        path = atomic_write(out / name, lambda f, data=png: f.write(data))
        print(f"wrote {path}")
    print(f"{clf.n_iter_} iterations, final J = {clf.loss_:.4f}")
    print(f"train accuracy {clf.score(X_train, y_train):.3f}, test accuracy {clf.score(X_test, y_test):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
