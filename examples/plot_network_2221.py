"""The note's 2-2-2-1 network, forward and backward.

One example x = (1, 2) with label y = 1 goes through the small network of the lecture's figure. The forward diagram
colours each unit by its activation a and each edge by its weight Θ_ij; the backward diagram colours each unit by its
error δ = ∂cost/∂z and each edge by the term Θ_ij·δ_i that it carries back (red positive, blue negative).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import glassnet
from glassnet.explain import figures, text
from glassnet.io import atomic_write

# Round weights, so the numbers are easy to check by hand; thetas[l - 1] is Θ^(l), bias in column 0.
THETAS = [
    np.array([[0.1, 0.3, -0.5], [-0.2, 0.4, 0.6]]),
    np.array([[0.2, -0.7, 0.5], [-0.1, 0.8, -0.3]]),
    np.array([[0.3, 1.2, -0.9]]),
]
X = np.array([1.0, 2.0])
Y = 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for the figures (default: .)")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)

    trace = glassnet.explain(THETAS, X, Y)
    for k, view in enumerate(("forward", "backward"), start=1):
        png = figures.diagram_png(trace, view, scale=1.0)
        path = atomic_write(out / f"network_2221_{k}_{view}.png", lambda f, data=png: f.write(data))
        print(f"wrote {path}")
    print(f"h(x) = {trace.output[0]:.4f}, cost = {trace.cost:.4f}")
    print(text.unit_equation(trace, 2, 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
