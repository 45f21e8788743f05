"""Decision boundaries: XOR needs a hidden layer.

Logistic regression (no hidden layer) can only draw a straight line, so it cannot separate XOR. Three hidden sigmoid
units already can (two can in principle, but L-BFGS from small random weights usually stalls at 75%), and eight bend
the boundary around the two moons. Each panel shades h_Θ(x) over the plane and
shows the training points.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np

from glassnet import Classifier
from glassnet.datasets import make_moons, make_xor
from glassnet.io import atomic_write

CASES = [
    ("XOR, no hidden layer", "xor", ()),
    ("XOR, 3 hidden units", "xor", (3,)),
    ("moons, 8 hidden units", "moons", (8,)),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for the figure (default: .)")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    data = {"xor": make_xor(200, noise=0.15, random_state=0), "moons": make_moons(200, noise=0.15, random_state=0)}
    fig = Figure(figsize=(11, 3.8))
    FigureCanvasAgg(fig)
    for k, (title, name, hidden) in enumerate(CASES):
        X, y = data[name]
        clf = Classifier(hidden_layer_sizes=hidden, alpha=0.0, max_iter=400, random_state=1).fit(X, y)
        lo, hi = X.min(axis=0) - 0.3, X.max(axis=0) + 0.3
        g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
        h = clf.predict_proba(np.column_stack([g0.ravel(), g1.ravel()]))[:, 1].reshape(g0.shape)
        ax = fig.add_subplot(1, len(CASES), k + 1)
        ax.contourf(g0, g1, h, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        ax.contour(g0, g1, h, levels=[0.5], colors="k", linewidths=1.5)
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=18, vmin=0, vmax=1)
        acc = clf.score(X, y)
        ax.set_title(f"{title}\ntraining accuracy {acc:.0%}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        print(f"{title}: training accuracy {acc:.3f}")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    path = atomic_write(out / "decision_boundaries.png", lambda f: f.write(buf.getvalue()))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
