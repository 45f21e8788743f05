"""A :class:`~glassnet.explain.trace.Trace` as text: the lecture's equations with this example's numbers, and tables.

For: printing what backpropagation did, in the note's notation (δⱼ⁽ˡ⁾, Θᵢⱼ⁽ˡ⁾, 1-based indices), on a terminal or
in a notebook. Not for: computing anything (every number comes from the trace) or drawing (:mod:`.diagram`).
Numbers are written by :func:`format_number` (a true minus sign, ×10ⁿ instead of e-notation); every other rendering
of glassnet writes its numbers with it too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from glassnet.explain.trace import Trace
from glassnet.notation import a_name, delta_name, sub, sup, superscript, theta_name, z_name

__all__ = ["format_number", "unit_equation", "layer_table", "render_text", "summary", "readable_top_k",
           "GALLERY_LIMIT", "shown_text"]

#: How many examples a gallery of thumbnails shows at most: the explorer's and the HTML report's.
GALLERY_LIMIT = 48


def format_number(x: float, digits: int = 4) -> str:
    """``x`` with ``digits`` significant digits, a true minus sign and ×10ⁿ instead of e-notation.

    >>> format_number(-0.0199), format_number(2.0), format_number(1.5e-6), format_number(0.0)
    ('−0.0199', '2', '1.5×10⁻⁶', '0')
    """
    x = float(x)
    if x == 0:
        return "0"
    s = f"{x:.{digits}g}"
    if "e" in s:
        mantissa, exp = s.split("e")
        s = f"{mantissa}×10{superscript(int(exp))}"
    return s.replace("-", "−")


def shown_text(shown: int, total: int, offset: int = 0) -> str:
    """What a gallery cut to ``shown`` of ``total`` items says about the cut; empty when it shows them all.

    >>> shown_text(48, 1353), shown_text(12, 12), shown_text(48, 1353, offset=48)
    ('48 of 1353 shown', '', '49–96 of 1353 shown')
    """
    if offset == 0 and shown >= total:
        return ""
    if offset == 0:
        return f"{shown} of {total} shown"
    return f"{offset + 1}–{offset + shown} of {total} shown"


def unit_equation(trace: Trace, l: int, j: int, digits: int = 4, top_k: int | None = -1) -> str:
    """The lecture's equation for δ_j^(l) with this example's numbers, on one line.

    Hidden unit: ``δⱼ⁽ˡ⁾ = Σᵢ Θᵢⱼ⁽ˡ⁾·δᵢ⁽ˡ⁺¹⁾ = (Θ)(δ) + … = sum;  × g′(zⱼ⁽ˡ⁾) = g′ → δ``, with the k largest
    terms and the sum of the others when the trace has a ``top_k``. Output unit: ``δⱼ⁽ᴸ⁾ = aⱼ⁽ᴸ⁾ − yⱼ = a − y = δ``
    (the log costs and identity + squared), or ``δⱼ⁽ᴸ⁾ = (aⱼ⁽ᴸ⁾ − yⱼ)·g′(zⱼ⁽ᴸ⁾) = (a − y)(g′) = δ`` (sigmoid outputs
    with the squared cost).
    Input units have no δ (``ValueError``). ``top_k`` overrides the trace's own (``None``: every edge).
    """
    n = lambda v: format_number(v, digits)  # noqa: E731
    u = trace.unit(l, j, top_k=top_k)
    if u.kind == "input":
        raise ValueError(f"unit {l}:{j}: input units have no δ; choose a layer l = 2..{trace.L}")
    if u.kind == "output":
        if trace.pair.delta_text != "a − y":  # sigmoid + squared: the chain rule through h = g(z)
            return (f"{delta_name(l, j)} = ({a_name(l, j)} − y{sub(j)})·g′({z_name(l, j)}) = "
                    f"({n(u.a)} − {n(u.target)})({n(u.g_prime)}) = {n(u.delta)}")
        # a regression target may be negative: "h − (−0.11)", never "h − −0.11"
        y = f"({n(u.target)})" if u.target is not None and u.target < 0 else n(u.target)
        return (f"{delta_name(l, j)} = {a_name(l, j)} − y{sub(j)} = {n(u.a)} − {y} = {n(u.delta)}")
    symbolic = [f"{theta_name(l, e.i, j)}·{delta_name(l + 1, e.i)}" for e in u.edges]
    numeric = [f"({n(e.theta)})({n(e.delta)})" for e in u.edges]
    if u.n_omitted:
        symbolic.append("…")
        numeric.append(f"[{u.n_omitted} smaller terms: {n(u.omitted_sum)}]")
    return (f"{delta_name(l, j)} = {' + '.join(symbolic)} = {' + '.join(numeric)} = {n(u.edge_sum)};  "
            f"× g′({z_name(l, j)}) = {n(u.g_prime)} → {n(u.delta)}")


def readable_top_k(trace: Trace) -> int | None:
    """How many edge terms an equation writes out by default, so that it stays a line one can read.

    All of them (``None``) while no unit has more than 6 outgoing edges, else the 4 largest; never more than the
    trace's own ``top_k``.

    >>> import glassnet
    >>> readable_top_k(glassnet.explain(glassnet.debug_init([4, 5, 3]), [0.1, 0.2, 0.3, 0.4], 1)) is None
    True
    """
    k = None if max(trace.sizes[2:], default=0) <= 6 else 4
    if trace.top_k is not None:
        k = trace.top_k if k is None else min(trace.top_k, k)
    return k


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(h), *(len(r[c]) for r in rows)) if rows else len(h) for c, h in enumerate(header)]
    fmt = lambda cells: indent + "  ".join(c.rjust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return [fmt(header)] + [fmt(r) for r in rows]


def _layer_rows(trace: Trace, l: int, digits: int, max_rows: int | None):
    """(title, header, rows) of layer l's table, shared by the text and HTML renderings."""
    if not 1 <= l <= trace.L:
        raise IndexError(f"l: expected a layer number 1..{trace.L}, got {l!r}")
    layer = trace.layers[l - 1]
    n = lambda v: format_number(v, digits)  # noqa: E731
    js = np.arange(1, layer.size + 1)
    if max_rows is not None and layer.size > max_rows:
        key = np.abs(layer.delta if layer.delta is not None else layer.a)
        js = np.sort(np.argsort(-key, kind="stable")[:max_rows]) + 1
    bias = " + bias unit" if layer.has_bias else ""
    title = f"layer {l} ({layer.kind}): {layer.size} unit{'s' if layer.size != 1 else ''}{bias}"
    if len(js) < layer.size:
        what = "|δ|" if layer.delta is not None else "|x|"
        title += f", showing the {len(js)} with the largest {what}"
    if layer.kind == "input":
        header = ["j", "x = a"]
        rows = [["0", "1"]] if layer.has_bias else []
        rows += [[str(j), n(layer.a[j - 1])] for j in js]
    else:
        header = ["j", "z", "a", "g′(z)", "δ"] + (["y"] if layer.kind == "output" else [])
        rows = [["0", "", "1", "", ""]] if layer.has_bias else []
        for j in js:
            row = [str(j), n(layer.z[j - 1]), n(layer.a[j - 1]), n(layer.g_prime[j - 1]), n(layer.delta[j - 1])]
            if layer.kind == "output":
                row.append(n(trace.y[j - 1]))
            rows.append(row)
    return title, header, rows


def layer_table(trace: Trace, l: int, digits: int = 4, max_rows: int | None = None) -> str:
    """Layer l as a text table: one row per unit (and the bias unit, j = 0), columns z, a, g′(z), δ (y for outputs).

    ``max_rows`` keeps only that many units (the largest |δ|, or |x| for inputs), in order, and says so.
    """
    title, header, rows = _layer_rows(trace, l, digits, max_rows)
    return "\n".join([title] + _table(header, rows))


def _describe_example(trace: Trace, digits: int, class_names: Sequence[str] | None = None) -> list[str]:
    n = lambda v: format_number(v, digits)  # noqa: E731
    who = "example" if trace.example is None else f"example {trace.example}"
    if trace.pair.is_regression:
        target = "target y = " + ", ".join(n(v) for v in trace.y)
    elif trace.label is not None:
        target = f"label {format_number(trace.label)}"
    else:
        target = "y = [" + ", ".join(n(v) for v in trace.y) + "]"
    net = "-".join(map(str, trace.sizes))
    head = f"{who[0].upper()}{who[1:]}: {target} · network {net} · λ = {n(trace.lam)}"
    h = trace.output
    if trace.pair.is_regression:  # identity outputs: the predicted values themselves, no class
        pred = "h_Θ(x) = " + ", ".join(n(v) for v in h) + " (the prediction of y)"
    elif trace.K == 1:
        name = class_names[trace.prediction] if class_names is not None else trace.prediction
        pred = f"h_Θ(x) = {n(h[0])} → predicted {name}"
    else:
        k = trace.prediction
        name = class_names[k] if class_names is not None else k
        shown = name if class_names is not None else f"class {k}"
        pred = f"h_Θ(x): largest h{sub(k + 1)} = {n(h[k])} → predicted {shown}"
    verdict = {True: " (correct)", False: " (wrong)", None: ""}[trace.correct]
    return [head, f"{pred}{verdict} · cost(t) = {n(trace.cost)}"]


def _gradient_lines(trace: Trace, digits: int) -> list[str]:
    n = lambda v: format_number(v, digits)  # noqa: E731
    lines = ["Gradient: this example adds δ⁽ˡ⁺¹⁾(a⁽ˡ⁾)ᵀ to Δ⁽ˡ⁾ (a⁽ˡ⁾ with its bias unit 1 first):"]
    for g in trace.gradients:
        l = g.l
        c = g.contribution
        lhs = f"  Δ{sup(l)} += δ{sup(l + 1)}(a{sup(l)})ᵀ"
        if c.size <= 12:
            rows = ["[" + "  ".join(n(v) for v in row) + "]" for row in c]
            value = " = " + (rows[0] if len(rows) == 1 else "[" + ", ".join(rows) + "]")
        else:
            i, jj = np.unravel_index(int(np.argmax(np.abs(c))), c.shape)
            value = (f": {c.shape[0]}×{c.shape[1]}, ‖·‖ = {n(np.linalg.norm(c))}, largest "
                     f"({i + 1}, {jj}) = {n(c[i, jj])}")
        extra = ""
        if g.share is not None:
            extra = f"; share of the batch's Δ{sup(l)}: {format_number(100 * g.share, 3)}% of m = {g.m}"
        elif g.m is not None:
            extra = f"; D{sup(l)} gets 1/m = 1/{g.m} of it"
        lines.append(lhs + value + extra)
    return lines


def render_text(trace: Trace, unit: tuple[int, int] | None = None, digits: int = 4, max_rows: int = 30,
                top_k: int | None = -1, class_names: Sequence[str] | None = None) -> str:
    """The whole trace as text: the example, a table per layer, the δ equations from the output down, the gradient.

    With ``unit=(l, j)``: the example, layer l's table and the equation for δ_j^(l) with its edges by size.
    Layers with more than ``max_rows`` units list only the largest (|δ|, or |x| for inputs). ``top_k`` limits the
    terms written out per equation (default: the trace's ``top_k``; ``None``: all). ``class_names`` names the
    predicted class (one name per output unit; for K = 1 the names of classes 0 and 1).
    """
    lines = _describe_example(trace, digits, class_names)
    if unit is not None:
        l, j = unit
        trace.unit(l, j)  # range check with a clear message
        lines += ["", layer_table(trace, l, digits, max_rows), "", unit_equation(trace, l, j, digits, top_k)]
        u = trace.unit(l, j, top_k=None)
        if u.kind == "hidden":
            total = format_number(u.edge_sum, digits)
            lines += ["", f"Edges of unit {l}:{j} by size of Θᵢⱼ·δᵢ (they add up to {total}):"]
            order = sorted(u.edges, key=lambda e: -abs(e.term))[:max_rows]
            rows = [[str(e.i), format_number(e.theta, digits), format_number(e.delta, digits),
                     format_number(e.term, digits)] for e in order]
            lines += _table(["i", f"Θᵢ{sub(j)}{sup(l)}", f"δᵢ{sup(l + 1)}", "term"], rows)
        return "\n".join(lines) + "\n"
    if not trace.is_lecture:  # the lecture's network needs no word; anything else says what it is
        lines += ["", f"Network: {trace.setup}"]
    lines += ["", "Forward pass, z⁽ˡ⁺¹⁾ = Θ⁽ˡ⁾a⁽ˡ⁾ and a = g(z):"]
    for l in range(1, trace.L + 1):
        lines += [layer_table(trace, l, digits, max_rows)]
    lines += ["", "Backward pass, δ = ∂cost/∂z from the output layer down:"]
    for l in range(trace.L, 1, -1):
        layer = trace.layers[l - 1]
        js = np.arange(1, layer.size + 1)
        if layer.size > max_rows:
            js = np.sort(np.argsort(-np.abs(layer.delta), kind="stable")[:max_rows]) + 1
            lines.append(f"  (layer {l}: the {max_rows} of {layer.size} units with the largest |δ|)")
        lines += [unit_equation(trace, l, int(j), digits, top_k) for j in js]
    lines += [""] + _gradient_lines(trace, digits)
    return "\n".join(lines) + "\n"




def summary(trace: Trace, digits: int = 4) -> str:
    """A few lines about ``trace`` (its ``repr`` and ``str``): the example, network and λ; the prediction and the
    cost(t); the target's output unit; where to look next.

    >>> import numpy as np, glassnet
    >>> print(summary(glassnet.explain(glassnet.debug_init([2, 3, 2]), np.array([0.5, -1.0]), 1)))
    Trace · Example: label 1 · network 2-3-2 · λ = 0
    h_Θ(x): largest h₂ = 0.5221 → predicted class 1 (correct) · cost(t) = 1.382
    target: output unit 2 (y₂ = 1)
    δⱼ⁽ˡ⁾ = trace.delta[l][j] · edge terms: trace.unit(l, j) · every equation: glassnet.explain.text.render_text(trace)
    """
    head, prediction = _describe_example(trace, digits)
    if trace.K == 1:
        target = f"y₁ = {format_number(trace.y[0], digits)}"
    else:
        ones = [int(k) + 1 for k in np.flatnonzero(trace.y == 1)]
        target = ", ".join(f"output unit {k} (y{sub(k)} = 1)" for k in ones) or "no output unit (y = 0)"
    g = trace.gradients[0] if trace.gradients else None
    if g is not None and g.Delta is not None:
        target += f" · from a batch of m = {g.m}: its Δ, D and this example's share are in trace.gradients"
    elif g is not None and g.m is not None:
        target += f" · m = {g.m}"
    return "\n".join([f"Trace · {head}", prediction, f"target: {target}",
                      "δⱼ⁽ˡ⁾ = trace.delta[l][j] · edge terms: trace.unit(l, j) · every equation: "
                      "glassnet.explain.text.render_text(trace)"])
