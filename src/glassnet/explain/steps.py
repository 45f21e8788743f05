"""Backpropagation of one example as a walk of small steps, in the lecture's order, with the example's numbers.

For: a page (or a notebook) that shows backprop one step at a time. :func:`backprop_steps` turns a
:class:`~glassnet.explain.trace.Trace` into a list of :class:`Step`: forward layer by layer (z, then a = g(z)), the
output error δ^(L) (a − y for the lecture's pair; the trace's output/loss pair decides), each hidden δ_j as the sum
over its outgoing edges of Θ_ij·δ_i times g′(z_j) (the text of :func:`glassnet.explain.text.unit_equation`), the
example's Δ^(l) += δ^(l+1)(a^(l))ᵀ, and, when the batch's gradient is given, D^(l) = Δ^(l)/m + (λ/m)Θ^(l). Each
step names the units and edges a drawing should light. Not for: computing anything the trace does not hold, or drawing.

>>> import numpy as np
>>> from glassnet.explain import explain
>>> thetas = [np.array([[0.0, 1.0], [0.0, -1.0]]), np.array([[0.0, 2.0, 3.0]])]   # a 1-2-1 network
>>> steps = backprop_steps(explain(thetas, np.array([0.0]), 1))
>>> [s.phase for s in steps]
['forward', 'forward', 'output', 'hidden', 'hidden', 'gradient', 'gradient']
>>> steps[3].edges, steps[3].value == explain(thetas, np.array([0.0]), 1).delta[2][1]
(((2, 1, 1),), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from glassnet.explain.text import format_number, unit_equation
from glassnet.explain.trace import Trace
from glassnet.notation import a_name, delta_name, sub, sup, theta_name, z_name

__all__ = ["Step", "backprop_steps"]

Phase = Literal["forward", "output", "hidden", "gradient", "batch"]


@dataclass(frozen=True)
class Step:
    """One step of the walk.

    ``title`` and ``lines`` are the text; ``units`` the (l, j) units and ``edges`` the (l, i, j) edges of Θ_ij^(l) it
    is about (lecture indices, j = 0 the bias); ``layers`` the edge groups Θ^(l) lit as a whole; ``value`` the
    number the step computes (δ_j^(l) for an output or hidden unit) and ``unit`` that unit.
    """

    phase: Phase
    title: str
    lines: tuple[str, ...]
    units: tuple[tuple[int, int], ...] = ()
    edges: tuple[tuple[int, int, int], ...] = ()
    layers: tuple[int, ...] = ()
    unit: tuple[int, int] | None = None
    value: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"phase": self.phase, "title": self.title, "lines": list(self.lines),
                "units": [list(u) for u in self.units], "edges": [list(e) for e in self.edges],
                "layers": list(self.layers), "unit": None if self.unit is None else list(self.unit),
                "value": self.value}


def _g_name(trace: Trace, output_layer: bool) -> str:
    """How a layer's activation is written: g for the lecture's sigmoid network, else by name (tanh, softmax, ...)."""
    if trace.is_lecture:
        return "g"
    return trace.pair.output if output_layer else trace.activation


def _forward_steps(trace: Trace, n, max_units: int) -> list[Step]:
    out = []
    for l in range(2, trace.L + 1):
        prev, layer, theta = trace.layers[l - 2], trace.layers[l - 1], trace.thetas[l - 2]
        a_prev = np.concatenate([[1.0], prev.a])
        g = _g_name(trace, layer.kind == "output")
        lines = [f"z{sup(l)} = Θ{sup(l - 1)} a{sup(l - 1)} (a₀ = 1 first), then a{sup(l)} = {g}(z{sup(l)}):"]
        for j in range(1, min(layer.size, max_units) + 1):
            if theta.shape[1] <= 5:
                terms = " + ".join(f"({n(theta[j - 1, k])})({n(a_prev[k])})" for k in range(theta.shape[1]))
            else:
                terms = f"Σₖ Θ{sub(j)}ₖ{sup(l - 1)}·aₖ{sup(l - 1)} ({theta.shape[1]} terms)"
            # softmax is not elementwise: a_j is entry j of softmax of the whole z^(L)
            g_of = f"{g}(z{sup(l)}){sub(j)}" if g == "softmax" else f"{g}({n(layer.z[j - 1])})"
            lines.append(f"{z_name(l, j)} = {terms} = {n(layer.z[j - 1])};  "
                         f"{a_name(l, j)} = {g_of} = {n(layer.a[j - 1])}")
        if layer.size > max_units:
            lines.append(f"… and {layer.size - max_units} more units")
        what = "the output h_Θ(x)" if layer.kind == "output" else "hidden layer"
        out.append(Step("forward", f"Forward: layer {l} ({what})", tuple(lines),
                        units=tuple((l, j) for j in range(1, layer.size + 1)), layers=(l - 1,)))
    return out


def backprop_steps(trace: Trace, D: Sequence[np.ndarray] | None = None, m: int | None = None, lam: float = 0.0,
                   digits: int = 4, max_units: int = 12) -> list[Step]:
    """The walk through backpropagation of ``trace``'s example (see the module docstring).

    Parameters
    ----------
    trace : Trace
        One example's trace (:func:`glassnet.explain`).
    D : list of arrays, optional
        The batch's gradient D^(l) (e.g. from :func:`glassnet.cost_and_gradient`), for the last step.
    m, lam : int, float
        The batch size and λ behind ``D`` (for its text).
    digits : int
        Significant digits of the numbers in the text.
    max_units : int
        A forward step writes out at most this many units (the δ steps cover every hidden unit).
    """
    n = lambda v: format_number(v, digits)  # noqa: E731
    L = trace.L
    steps = _forward_steps(trace, n, max_units)
    out_layer = trace.layers[-1]
    pair = trace.pair
    if pair.delta_text == "a − y":  # the log costs (and identity + squared): g′ cancels
        lines = [f"δ{sup(L)} = a{sup(L)} − y ({pair.output} output with the "
                 f"{'logistic' if pair.is_lecture else pair.loss} cost: no g′ factor):"]
    else:  # sigmoid + squared: the chain rule through h = g(z), as unit_equation writes it
        lines = [f"δ{sup(L)} = (a{sup(L)} − y)·g′(z{sup(L)}) ({pair.output} output with the {pair.loss} cost: "
                 f"g′(z) = a(1 − a) stays):"]
    lines.append(pair.cost_text)
    lines += [unit_equation(trace, L, j, digits) for j in range(1, out_layer.size + 1)]
    steps.append(Step("output", f"Output error δ{sup(L)}", tuple(lines),
                      units=tuple((L, j) for j in range(1, out_layer.size + 1)),
                      unit=(L, 1) if out_layer.size == 1 else None,
                      value=float(out_layer.delta[0]) if out_layer.size == 1 else None))
    for l in range(L - 1, 1, -1):
        layer, nxt = trace.layers[l - 1], trace.layers[l]
        for j in range(1, layer.size + 1):
            eq = unit_equation(trace, l, j, digits, top_k=None)
            steps.append(Step("hidden", f"{delta_name(l, j)}: back along the edges leaving unit {j} of layer {l}",
                              (f"{delta_name(l, j)} = (Σᵢ Θᵢ{sub(j)}{sup(l)}·δᵢ{sup(l + 1)}) · "
                               f"g′({z_name(l, j)}), the sum over the {nxt.size} "
                               f"edge{'s' if nxt.size > 1 else ''} to layer {l + 1}:", eq),
                              units=((l, j), *((l + 1, i) for i in range(1, nxt.size + 1))),
                              edges=tuple((l, i, j) for i in range(1, nxt.size + 1)),
                              unit=(l, j), value=float(layer.delta[j - 1])))
    for g in trace.gradients:
        c = g.contribution
        lines = [f"Δ{sup(g.l)} += δ{sup(g.l + 1)}(a{sup(g.l)})ᵀ: entry (i, j) is δᵢ{sup(g.l + 1)}·aⱼ{sup(g.l)} "
                 f"({c.shape[0]}×{c.shape[1]}, bias column j = 0 first)"]
        if c.size <= 12:
            lines += ["[" + "  ".join(n(v) for v in row) + "]" for row in c]
        else:
            i, jj = np.unravel_index(int(np.argmax(np.abs(c))), c.shape)
            lines.append(f"largest entry ({i + 1}, {jj}) = {delta_name(g.l + 1, i + 1)}·{a_name(g.l, jj)} = "
                         f"{n(c[i, jj])};  ‖δaᵀ‖ = {n(np.linalg.norm(c))}")
        steps.append(Step("gradient", f"This example's part of Δ{sup(g.l)}", tuple(lines), layers=(g.l,)))
    if D is not None:
        mm = "m" if m is None else str(int(m))
        lines = [f"Over the whole batch (m = {mm}): D{sup(1)}…D{sup(L - 1)} = Δ/m + (λ/m)Θ, λ = {n(lam)}, "
                 f"bias column j = 0 without λ; D is ∂J/∂Θ, what the optimizer follows downhill."]
        for l, d in enumerate(D, start=1):
            d = np.asarray(d)
            i, jj = np.unravel_index(int(np.argmax(np.abs(d))), d.shape)
            lines.append(f"D{sup(l)}: {d.shape[0]}×{d.shape[1]}, ‖D{sup(l)}‖ = {n(np.linalg.norm(d))}, largest "
                         f"∂J/∂{theta_name(l, i + 1, jj)} = {n(d[i, jj])}")
        steps.append(Step("batch", "The batch's gradient D", tuple(lines), layers=tuple(range(1, L))))
    return steps
