"""The explorer's step-by-step walk as data for animations and slides: a few examples, Δ adding up, then D.

For: :func:`walk` (``glassnet.explain.walk``), which the renderers (:mod:`glassnet.explain.animation`: GIF, MP4, SVG
frames; :mod:`glassnet.explain.slides`: the HTML slide deck) draw. It traces the batch with :func:`glassnet.explain`
and turns each example's trace into the explorer's steps (:func:`glassnet.explain.steps.backprop_steps`: forward layer
by layer, δ⁽ᴸ⁾, each hidden δ with the lecture's equation filled in, the example's δaᵀ), adds to each gradient step
the running Δ⁽ˡ⁾ over the examples walked so far, and ends with D⁽ˡ⁾ = Δ⁽ˡ⁾/m + (λ/m)Θ⁽ˡ⁾ from the trace. Every
number of a frame is also in ``frame.values`` under its quantity key (:func:`glassnet.notation.quantity_key`),
read from the traces. Not for: drawing, or computing anything the traces do not hold.

>>> import numpy as np
>>> w = walk(NOTE_THETAS, NOTE_X, NOTE_Y, examples=2)
>>> len(w.frames), w.frames[0].step.title
(15, 'Example 1 of 2 · Forward: layer 2 (hidden layer)')
>>> w.frames[-1].step.title, bool(np.allclose(w.frames[-2].Delta[0], w.traces[0].gradients[0].Delta))
('The batch’s gradient D = Δ/m + (λ/m)Θ', True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from glassnet.explain.steps import Step, backprop_steps
from glassnet.explain.text import format_number
from glassnet.explain.trace import Trace, explain
from glassnet.notation import quantity_key, sup

__all__ = ["Frame", "Walk", "walk", "NOTE_THETAS", "NOTE_X", "NOTE_Y"]

#: The default network: 2-2-2 like the note's, with round weights (Θ^(l): (s_{l+1}, s_l + 1), bias column first).
NOTE_THETAS = (np.array([[0.5, 1.0, -1.0], [-0.5, 2.0, 0.5]]), np.array([[1.0, -1.5, 2.0], [-1.0, 1.0, -0.5]]))
#: Three examples for it (x in small integers) and their labels (class 0 or 1: output unit 1 or 2).
NOTE_X = np.array([[1.0, 2.0], [-1.0, 1.0], [2.0, -1.0]])
NOTE_Y = np.array([1, 0, 1])


@dataclass(frozen=True)
class Frame:
    """One picture of the walk: the step, which example (t = 1..m; ``None`` for D), Δ so far, the numbers shown.

    ``Delta[l-1]`` is Δ⁽ˡ⁾ summed over the examples 1..t walked so far (after this frame); ``values`` maps the
    quantity key of every number the step computes (``z_1^(2)``, ``delta_2^(2)``, ``Delta_12^(1)``, ``D_12^(1)``)
    to its value.
    """

    step: Step
    example: int | None
    Delta: tuple[np.ndarray, ...]
    values: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {**self.step.to_dict(), "example": self.example, "values": dict(self.values)}


@dataclass(frozen=True, eq=False)
class Walk:
    """The walk over ``traces`` (one per example, in order) and its ``frames``; ``D`` is the batch's gradient."""

    traces: tuple[Trace, ...]
    frames: tuple[Frame, ...]
    D: tuple[np.ndarray, ...]
    lam: float

    @property
    def m(self) -> int:
        """The number of examples walked (the batch: D = Δ/m + (λ/m)Θ is over these)."""
        return len(self.traces)

    @property
    def thetas(self) -> tuple[np.ndarray, ...]:
        return self.traces[0].thetas

    def to_dict(self) -> dict[str, Any]:
        return {"sizes": self.traces[0].sizes, "m": self.m, "lam": self.lam,
                "thetas": [t.tolist() for t in self.thetas], "x": [tr.x.tolist() for tr in self.traces],
                "y": [tr.y.tolist() for tr in self.traces], "D": [d.tolist() for d in self.D],
                "frames": [f.to_dict() for f in self.frames]}


def _step_values(trace: Trace, step: Step, contribution_of: dict[int, np.ndarray], Delta) -> dict[str, float]:
    """The numbers ``step`` computes, by quantity key, read from the trace (and the running Δ)."""
    out: dict[str, float] = {}
    if step.phase == "forward":
        (l_theta,) = step.layers
        layer = trace.layers[l_theta]
        for j in range(1, layer.size + 1):
            out[quantity_key("z", l_theta + 1, j)] = float(layer.z[j - 1])
            out[quantity_key("a", l_theta + 1, j)] = float(layer.a[j - 1])
    elif step.phase == "output":
        for j in range(1, trace.K + 1):
            out[quantity_key("delta", trace.L, j)] = float(trace.layers[-1].delta[j - 1])
    elif step.phase == "hidden":
        l, j = step.unit
        out[quantity_key("delta", l, j)] = float(trace.layers[l - 1].delta[j - 1])
    elif step.phase == "gradient":
        (l,) = step.layers
        for (i, j), v in np.ndenumerate(Delta[l - 1]):
            out[quantity_key("Delta", l, i + 1, j)] = float(v)
    return out


def _matrix_lines(M: np.ndarray, n) -> list[str]:
    return ["[" + "  ".join(n(v) for v in row) + "]" for row in M]


def walk(thetas: Sequence[np.ndarray] = NOTE_THETAS, X: np.ndarray = NOTE_X, y=NOTE_Y, lam: float = 0.0, *,
         examples: int | None = None, digits: int = 4, activation: str = "sigmoid", output: str = "sigmoid",
         loss: str = "log") -> Walk:
    """Backpropagation of the first ``examples`` rows of X step by step, Δ adding up over them, then D.

    Parameters
    ----------
    thetas : list of arrays
        ``thetas[l-1]`` is Θ^(l), shape (s_{l+1}, s_l + 1), bias column first (default: :data:`NOTE_THETAS`).
    X : array, shape (m, s_1)
        The examples, one per row (default :data:`NOTE_X`); a single example of shape (s_1,) is a batch of one.
    y : labels
        Every row's label (class 0..K-1), as :func:`glassnet.explain` takes them.
    lam : float
        λ ≥ 0 of D^(l).
    examples : int, optional
        Walk only the first ``examples`` rows (the batch of D is those rows); default all.
    digits : int
        Significant digits of the numbers in the text.
    activation, output, loss : str
        The network's units and cost (default the lecture's).

    Returns
    -------
    Walk
        ``frames``: for each example t, the explorer's steps (titles prefixed "Example t of m"), each gradient step
        with Δ⁽ˡ⁾ over examples 1..t; last, one frame with every D⁽ˡ⁾.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X, y = X.reshape(1, -1), np.asarray(y).reshape(1, *np.shape(y))
    if examples is not None:
        if isinstance(examples, bool) or not isinstance(examples, (int, np.integer)) or not 1 <= examples <= len(X):
            raise ValueError(f"examples: expected a number of examples 1..{len(X)} (the rows of X), got {examples!r}")
        X, y = X[:examples], np.asarray(y)[:examples]
    traces = explain(thetas, X, y, lam, rows=list(range(len(X))), activation=activation, output=output, loss=loss)
    m = len(traces)
    n = lambda v: format_number(v, digits)  # noqa: E731
    running = [np.zeros_like(g.contribution) for g in traces[0].gradients]
    frames: list[Frame] = []
    for t, trace in enumerate(traces, start=1):
        contributions = {part.l: part.contribution for part in trace.gradients}
        for step in backprop_steps(trace, digits=digits):
            if step.phase == "gradient":
                (l,) = step.layers
                running[l - 1] = running[l - 1] + contributions[l]
                extra = [f"Δ{sup(l)} over example{'s 1..' + str(t) if t > 1 else ' 1'} of {m}: Δ{sup(l)} = "
                         + (f"Δ{sup(l)} (before) + this example’s part" if t > 1 else "0 + this example’s part"),
                         *_matrix_lines(running[l - 1], n)] if running[l - 1].size <= 12 else \
                    [f"Δ{sup(l)} over examples 1..{t}: ‖Δ{sup(l)}‖ = {n(np.linalg.norm(running[l - 1]))}"]
                step = replace(step, lines=(*step.lines, *extra))
            step = replace(step, title=f"Example {t} of {m} · {step.title}")
            Delta = tuple(d.copy() for d in running)
            frames.append(Frame(step, t, Delta, _step_values(trace, step, contributions, Delta)))
    D = tuple(np.asarray(part.D) for part in traces[0].gradients)  # the batch's: glassnet.backprop.finish
    L = traces[0].L
    lines = [f"D = Δ/m + (λ/m)Θ for Θ{sup(1)}…Θ{sup(L - 1)}, m = {m}, λ = {n(lam)}; the bias column j = 0 has no "
             f"λ term. D is ∂J/∂Θ: the direction the optimizer follows downhill."]
    values: dict[str, float] = {}
    for l, d in enumerate(D, start=1):
        lines += [f"D{sup(l)}:", *_matrix_lines(d, n)] if d.size <= 12 else \
            [f"D{sup(l)}: {d.shape[0]}×{d.shape[1]}, ‖D{sup(l)}‖ = {n(np.linalg.norm(d))}"]
        values.update({quantity_key("D", l, i + 1, j): float(v) for (i, j), v in np.ndenumerate(d)})
    last = Step("batch", "The batch’s gradient D = Δ/m + (λ/m)Θ", tuple(lines), layers=tuple(range(1, L)))
    frames.append(Frame(last, None, tuple(d.copy() for d in running), values))
    return Walk(traces=tuple(traces), frames=tuple(frames), D=D, lam=float(lam))
