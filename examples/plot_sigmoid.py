"""The sigmoid unit g(z) and its slope g′(z) = g(z)(1 − g(z)).

Backpropagation multiplies every hidden δ by g′(z), which is at most 0.25 (at z = 0) and nearly 0 once a unit
saturates (|z| > 5): this factor is why δ shrinks on its way back through a deep sigmoid network.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np

import glassnet
from glassnet.io import atomic_write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for the figure (default: .)")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    z = np.linspace(-8, 8, 401)
    g, g_prime = glassnet.sigmoid(z), glassnet.sigmoid_gradient(z)
    fig = Figure(figsize=(7, 3.6))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(z, g, lw=2, color="#2166ac", label="g(z) = 1 / (1 + e⁻ᶻ)")
    ax.plot(z, g_prime, lw=2, color="#b2182b", label="g′(z) = g(z)(1 − g(z))")
    ax.axhline(0.25, color="#888888", lw=0.8, ls="--")
    ax.annotate("max g′ = 0.25 at z = 0", (0, 0.25), (1.2, 0.36), arrowprops={"arrowstyle": "->"})
    ax.set_xlabel("z")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    ax.set_title("The sigmoid unit and the factor it puts into every δ")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    path = atomic_write(out / "sigmoid.png", lambda f: f.write(buf.getvalue()))
    print(f"wrote {path}")
    for zi in (0.0, 2.0, 5.0, 10.0):
        print(f"g′({zi:g}) = {float(glassnet.sigmoid_gradient(zi)):.3g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
