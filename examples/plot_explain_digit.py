"""Backpropagation on one misclassified digit.

After training a 64-25-10 network on scikit-learn's digits, take the first test digit it gets wrong and draw the
backward pass: the input drawn as the 8×8 image, the hidden units coloured by δ^(2), the output units by
δ^(3) = a^(3) − y. The strongest edges show which hidden units carry the blame back to which pixels.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

import glassnet
from glassnet import Classifier
from glassnet.datasets import load_digits
from glassnet.explain import figures, text
from glassnet.io import atomic_write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for the figure (default: .)")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)

    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    with warnings.catch_warnings():  # 150 iterations, a fixed budget as the course trains, not run to convergence
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = Classifier(hidden_layer_sizes=(25,), alpha=1.0, max_iter=150, random_state=0).fit(X_train, y_train)
    wrong = np.flatnonzero(clf.predict(X_test) != y_test)
    t = int(wrong[0])
    trace = glassnet.explain(clf.thetas_, X_test[t], int(y_test[t]), top_k=3)
    png = figures.diagram_png(trace, "backward", scale=1.0, max_units=25, max_edges=120, image_shape=(8, 8))
    path = atomic_write(out / "misclassified_digit_backward.png", lambda f: f.write(png))
    print(f"wrote {path}")
    print(f"{len(wrong)} of {len(y_test)} test digits are wrong; test digit #{t}: label {y_test[t]}, "
          f"predicted {trace.prediction}, cost {trace.cost:.3f}")
    print(text.unit_equation(trace, 3, int(y_test[t]) + 1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
