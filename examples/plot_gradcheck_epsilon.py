"""Gradient checking: why ε = 1e-4.

The central difference (J(θ + ε) − J(θ − ε)) / 2ε has a truncation error that shrinks like ε², and a rounding error
that grows like 1e-16 / ε. Their sum is smallest near ε = 1e-4: there a correct backpropagation agrees to a
relative difference far below 1e-9, while a gradient with a real bug misses by orders of magnitude at every ε.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np

import glassnet
from glassnet.gradcheck import course_problem
from glassnet.io import atomic_write

EPSILONS = np.logspace(-10, -1, 19)


def broken(thetas, X, y, lam):
    """A backprop with a classic bug: the bias column is regularized too."""
    J, grads = glassnet.cost_and_gradient(thetas, X, y, lam)
    m = X.shape[0]
    return J, [g + np.pad((lam / m) * t[:, :1], ((0, 0), (0, t.shape[1] - 1))) for g, t in zip(grads, thetas)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for the figure (default: .)")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)

    lam = 3.0
    thetas, X, y = course_problem(lam)  # the course's checkNNGradients: 3-5-3 network, m = 5, debug init
    good = [glassnet.gradient_check(thetas, X, y, lam, epsilon=e).relative_difference for e in EPSILONS]
    bad = [glassnet.gradient_check(thetas, X, y, lam, epsilon=e, grad_fn=broken).relative_difference for e in EPSILONS]

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.loglog(EPSILONS, good, "o-", color="#2166ac", lw=2, label="glassnet's backprop")
    ax.loglog(EPSILONS, bad, "s-", color="#b2182b", lw=2, label="broken: bias column regularized")
    ax.axhline(1e-9, color="#555555", ls="--", lw=1, label="pass below 1e-9")
    ax.axvline(1e-4, color="#888888", ls=":", lw=1, label="the course's ε = 1e-4")
    ax.set_xlabel("ε")
    ax.set_ylabel("relative difference ‖num − ana‖ / ‖num + ana‖")
    ax.set_title(f"Gradient check of the course's 3-5-3 network (λ = {lam:g})")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    path = atomic_write(out / "gradcheck_epsilon.png", lambda f: f.write(buf.getvalue()))
    print(f"wrote {path}")
    best = int(np.argmin(good))
    print(f"smallest relative difference {good[best]:.1e} at ε = {EPSILONS[best]:.0e}; "
          f"at ε = 1e-4: {good[int(np.argmin(abs(np.log10(EPSILONS) + 4)))]:.1e}")
    print(f"broken gradient at ε = 1e-4: {bad[int(np.argmin(abs(np.log10(EPSILONS) + 4)))]:.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
