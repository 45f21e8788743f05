"""Renderings of a :class:`~glassnet.explain.trace.Trace`: the lecture's equations as text, network diagrams (SVG, PNG),
hidden units as images, cost / learning / validation curves and a self-contained HTML report.

For: showing a student what backpropagation did with their numbers. Not for: computing anything new — every number
shown comes from a :class:`Trace` (or a training history / curve record); this module only lays it out.

This is the only module of glassnet that imports matplotlib (lazily, inside the PNG functions, through the
object-oriented ``Figure`` API so that no global pyplot state or backend is touched) and the only one that writes
markup. SVG is built by hand as a string; PNG functions return the file's bytes; nothing here writes files.

Diagram conventions (SVG and PNG share one layout):

- layers are columns, left to right; units are circles, the bias unit of a layer is a dashed square "+1" on top;
- **forward view**: unit colour = a (white 0 → dark blue 1), edge colour = sign of Θ_ij, width ∝ |Θ_ij|;
- **backward view**: unit colour = δ (blue negative, white 0, red positive, scaled per layer to its largest |δ|),
  edge colour = sign of the edge term Θ_ij·δ_i^(l+1), width ∝ |Θ_ij·δ_i^(l+1)|; bias edges are thin grey dashes
  (a bias unit has no δ);
- widths are scaled per pair of layers to its largest value; red = positive, blue = negative everywhere;
- collapsed forms for big layers: an input layer whose size is a square (64, 400, 784 …) or given an ``image_shape``
  is drawn as the image itself, one ``<rect class="unit input pixel">`` per pixel; a layer with more than
  ``max_units`` units shows only its ``max_units`` largest (|δ| backward, a forward), and its ``<g class="layer">``
  carries ``data-units`` (total) and ``data-shown``; a pair of layers with more than ``max_edges`` edges keeps, for each
  unit on the right, only its strongest incoming edges (``data-edges`` / ``data-edges-shown`` on the edge group).

SVG ids (prefix ``id_prefix``): ``layer-{l}``, ``unit-{l}-{j}``, ``bias-{l}``, ``edge-{l}-{i}-{j}`` (the edge of
Θ_ij^(l); j = 0 for a bias edge); every unit and edge has a ``<title>`` with its numbers (a tooltip in browsers).
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .trace import Trace

__all__ = [
    "format_number",
    "unit_equation",
    "layer_table",
    "render_text",
    "diagram_svg",
    "diagram_png",
    "display_grid",
    "hidden_units_png",
    "examples_png",
    "cost_curves_png",
    "learning_curve_png",
    "validation_curve_png",
    "html_report",
    "infer_image_shape",
]

View = Literal["forward", "backward"]

# ---------------------------------------------------------------------------------------------------------------
# Text: unicode sub/superscripts, the lecture's equations with numbers, tables.

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _sub(*indices: int) -> str:
    """Subscript indices; several multi-digit ones are separated by a comma (Θ₁₂,₃ is Θ_{12,3})."""
    parts = [str(i).translate(_SUB) for i in indices]
    return ("," if any(i >= 10 for i in indices) else "").join(parts)


def _sup(l: int) -> str:
    return "⁽" + str(l).translate(_SUP) + "⁾"


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
        s = f"{mantissa}×10{str(int(exp)).translate(_SUP)}"
    return s.replace("-", "−")


def unit_equation(trace: Trace, l: int, j: int, digits: int = 4, top_k: int | None = -1) -> str:
    """The lecture's equation for δ_j^(l) with this example's numbers, on one line.

    Hidden unit: ``δⱼ⁽ˡ⁾ = Σᵢ Θᵢⱼ⁽ˡ⁾·δᵢ⁽ˡ⁺¹⁾ = (Θ)(δ) + … = sum;  × g′(zⱼ⁽ˡ⁾) = g′ → δ``, with the k largest
    terms and the sum of the others when the trace has a ``top_k``. Output unit: ``δⱼ⁽ᴸ⁾ = aⱼ⁽ᴸ⁾ − yⱼ = a − y = δ``.
    Input units have no δ (``ValueError``). ``top_k`` overrides the trace's own (``None``: every edge).
    """
    n = lambda v: format_number(v, digits)  # noqa: E731
    u = trace.unit(l, j, top_k=top_k)
    if u.kind == "input":
        raise ValueError(f"unit {l}:{j}: input units have no δ; choose a layer l = 2..{trace.L}")
    if u.kind == "output":
        return (f"δ{_sub(j)}{_sup(l)} = a{_sub(j)}{_sup(l)} − y{_sub(j)} = {n(u.a)} − {n(u.target)} = {n(u.delta)}")
    symbolic = [f"Θ{_sub(e.i, j)}{_sup(l)}·δ{_sub(e.i)}{_sup(l + 1)}" for e in u.edges]
    numeric = [f"({n(e.theta)})({n(e.delta)})" for e in u.edges]
    if u.n_omitted:
        symbolic.append("…")
        numeric.append(f"[{u.n_omitted} smaller terms: {n(u.omitted_sum)}]")
    return (f"δ{_sub(j)}{_sup(l)} = {' + '.join(symbolic)} = {' + '.join(numeric)} = {n(u.edge_sum)};  "
            f"× g′(z{_sub(j)}{_sup(l)}) = {n(u.g_prime)} → {n(u.delta)}")


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
    if trace.label is not None:
        target = f"label {format_number(trace.label)}"
    else:
        target = "y = [" + ", ".join(n(v) for v in trace.y) + "]"
    net = "-".join(map(str, trace.sizes))
    head = f"{who[0].upper()}{who[1:]}: {target} · network {net} · λ = {n(trace.lam)}"
    h = trace.output
    if trace.K == 1:
        name = class_names[trace.prediction] if class_names is not None else trace.prediction
        pred = f"h_Θ(x) = {n(h[0])} → predicted {name}"
    else:
        k = trace.prediction
        name = class_names[k] if class_names is not None else k
        pred = f"h_Θ(x): largest h{_sub(k + 1)} = {n(h[k])} → predicted class {name}"
    verdict = {True: " (correct)", False: " (wrong)", None: ""}[trace.correct]
    return [head, f"{pred}{verdict} · cost(t) = {n(trace.cost)}"]


def _gradient_lines(trace: Trace, digits: int) -> list[str]:
    n = lambda v: format_number(v, digits)  # noqa: E731
    lines = ["Gradient: this example adds δ⁽ˡ⁺¹⁾(a⁽ˡ⁾)ᵀ to Δ⁽ˡ⁾ (a⁽ˡ⁾ with its bias unit 1 first):"]
    for g in trace.gradients:
        l = g.l
        c = g.contribution
        lhs = f"  Δ{_sup(l)} += δ{_sup(l + 1)}(a{_sup(l)})ᵀ"
        if c.size <= 12:
            rows = ["[" + "  ".join(n(v) for v in row) + "]" for row in c]
            value = " = " + (rows[0] if len(rows) == 1 else "[" + ", ".join(rows) + "]")
        else:
            i, jj = np.unravel_index(int(np.argmax(np.abs(c))), c.shape)
            value = (f": {c.shape[0]}×{c.shape[1]}, ‖·‖ = {n(np.linalg.norm(c))}, largest "
                     f"({i + 1}, {jj}) = {n(c[i, jj])}")
        extra = ""
        if g.share is not None:
            extra = f"; share of the batch's Δ{_sup(l)}: {format_number(100 * g.share, 3)}% of m = {g.m}"
        elif g.m is not None:
            extra = f"; D{_sup(l)} gets 1/m = 1/{g.m} of it"
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
            lines += _table(["i", f"Θᵢ{_sub(j)}{_sup(l)}", f"δᵢ{_sup(l + 1)}", "term"], rows)
        return "\n".join(lines) + "\n"
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


# ---------------------------------------------------------------------------------------------------------------
# Colours (hand-made so that SVG needs no matplotlib).

_DIVERGING = [(-1.0, (33, 102, 172)), (-0.5, (146, 197, 222)), (0.0, (247, 247, 247)), (0.5, (244, 165, 130)),
              (1.0, (178, 24, 43))]  # blue (negative) – white – red (positive), like ColorBrewer RdBu
_SEQUENTIAL = [(0.0, (247, 251, 255)), (0.5, (107, 174, 214)), (1.0, (8, 48, 107))]  # white → dark blue
POSITIVE, NEGATIVE, NEUTRAL = "#b2182b", "#2166ac", "#9a9a9a"


def _interp(anchors, t: float) -> tuple[int, int, int]:
    t = min(max(t, anchors[0][0]), anchors[-1][0])
    for (t0, c0), (t1, c1) in zip(anchors, anchors[1:]):
        if t <= t1:
            f = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
            return tuple(round(a + f * (b - a)) for a, b in zip(c0, c1))  # type: ignore[return-value]
    return anchors[-1][1]


def _hex(rgb) -> str:
    return "#%02x%02x%02x" % tuple(rgb)


def _ink_for(rgb) -> str:
    """Black or white text, whichever reads on this fill."""
    r, g, b = rgb
    return "#ffffff" if 0.299 * r + 0.587 * g + 0.114 * b < 140 else "#111111"


# ---------------------------------------------------------------------------------------------------------------
# Diagram layout shared by SVG and PNG.


@dataclass
class _Shape:
    kind: Literal["circle", "rect", "line", "text"]
    a: dict[str, Any]
    title: str | None = None
    group: str = "main"


@dataclass
class _Layout:
    width: float
    height: float
    shapes: list[_Shape] = field(default_factory=list)
    groups: dict[str, dict[str, str]] = field(default_factory=dict)  # group name -> attributes (order kept)

    def add(self, kind, group="main", title=None, **a) -> None:
        self.shapes.append(_Shape(kind, a, title, group))


def infer_image_shape(n: int, image_shape: tuple[int, int] | None = None) -> tuple[int, int] | None:
    """(rows, cols) to draw n inputs as an image: ``image_shape`` if given (checked), else a square ≥ 8×8, else None."""
    if image_shape is not None:
        r, c = (int(v) for v in image_shape)
        if r * c != n:
            raise ValueError(f"image_shape: {r}×{c} = {r * c} pixels, but the input layer has {n} units")
        return r, c
    side = math.isqrt(n)
    return (side, side) if side * side == n and side >= 8 else None


def _as_image(x: np.ndarray, shape: tuple[int, int], order: str) -> np.ndarray:
    if order not in ("C", "F"):
        raise ValueError(f"image_order: expected 'C' (row-major, e.g. MNIST, scikit-learn digits) or 'F' "
                         f"(column-major, the course's 20×20 data), got {order!r}")
    return np.asarray(x).reshape(shape, order=order)


def _pick_units(values: np.ndarray, max_units: int) -> np.ndarray:
    """0-based indices of the units to draw: all, or the max_units largest |values| in index order."""
    if values.shape[0] <= max_units:
        return np.arange(values.shape[0])
    return np.sort(np.argsort(-np.abs(values), kind="stable")[:max_units])


def _layout(trace: Trace, view: View, *, max_units: int, max_edges: int, image_shape, image_order: str,
            class_names: Sequence[str] | None, title: str | None, digits: int = 3,
            image_edges: int = 50, highlight: tuple[int, int] | None = None) -> _Layout:
    if view not in ("forward", "backward"):
        raise ValueError(f"view: expected 'forward' or 'backward', got {view!r}")
    if max_units < 2 or max_edges < 1:
        raise ValueError(f"max_units/max_edges: expected max_units ≥ 2 and max_edges ≥ 1, got {max_units}, {max_edges}")
    if class_names is not None and len(class_names) != max(trace.K, 2):
        raise ValueError(f"class_names: expected {max(trace.K, 2)} names (one per output unit; two when K = 1), "
                         f"got {len(class_names)}")
    n = lambda v: format_number(v, digits)  # noqa: E731
    backward = view == "backward"
    L = trace.L
    if highlight is not None:
        trace.unit(*highlight)  # range check
    if highlight is not None and highlight[0] > 1:  # keep the highlighted unit on the drawing
        l_h, j_h = highlight
        forced = {l_h: j_h - 1}
    else:
        forced = {}
    img_shape = infer_image_shape(trace.sizes[0], image_shape)
    # Which units of each layer are drawn (0-based).
    shown: list[np.ndarray] = []
    for layer in trace.layers:
        if layer.kind == "input":
            shown.append(np.arange(layer.size) if img_shape else _pick_units(layer.a, max_units))
        else:
            pick = _pick_units(layer.delta if backward else layer.a, max_units)
            if layer.l in forced and forced[layer.l] not in pick:
                pick = np.sort(np.append(pick[np.argsort(-np.abs((layer.delta if backward else layer.a)[pick]),
                                                         kind="stable")][:-1], forced[layer.l]))
            shown.append(pick)
    n_rows = max([len(s) for s, layer in zip(shown, trace.layers) if not (layer.kind == "input" and img_shape)] + [2])
    dy = float(np.clip(520.0 / n_rows, 24.0, 64.0))
    r = float(min(20.0, dy * 0.40))
    col_gap = 250.0 if L <= 4 else 190.0
    left = 90.0
    right_label = 150.0
    top = 92.0 + dy  # title, column headers, then the bias row
    body = n_rows * dy
    img_px = 0.0
    xs = [left + k * col_gap for k in range(L)]
    if img_shape:
        img_px = min(300.0, max(160.0, body * 0.6))
        left = max(30.0 + img_px / 2.0, 130.0)  # room for the image and for its column header
        # the image's right edge, not its centre, is where the gap to layer 2 starts
        xs = [left] + [left + img_px / 2.0 + 170.0 + k * col_gap for k in range(L - 1)]
    width = xs[-1] + right_label
    legend_h = 118.0
    height = top + body + 30.0 + legend_h
    lay = _Layout(width=width, height=height)
    mid = top + body / 2.0

    # Positions: (x, y) of each drawn unit (0-based j) and of the bias unit.
    pos: list[dict[int, tuple[float, float]]] = []
    bias_pos: list[tuple[float, float] | None] = []
    cell = 0.0
    for k, layer in enumerate(trace.layers):
        p: dict[int, tuple[float, float]] = {}
        if layer.kind == "input" and img_shape:
            rows_, cols_ = img_shape
            cell = img_px / max(rows_, cols_)
            x0, y0 = xs[0] - cols_ * cell / 2.0, mid - rows_ * cell / 2.0
            # pixel j (0-based) sits where _as_image puts it
            idx = _as_image(np.arange(layer.size), img_shape, image_order)
            for rr in range(rows_):
                for cc in range(cols_):
                    p[int(idx[rr, cc])] = (x0 + (cc + 0.5) * cell, y0 + (rr + 0.5) * cell)
            first_y = y0
        else:
            cnt = len(shown[k])
            y_start = mid - cnt * dy / 2.0
            for slot, j in enumerate(shown[k]):
                p[int(j)] = (xs[k], y_start + (slot + 0.5) * dy)
            first_y = y_start
        pos.append(p)
        bias_pos.append((xs[k], first_y - dy * 0.75) if layer.has_bias else None)

    # Title and column headers.
    net = "-".join(map(str, trace.sizes))
    if title is None:
        who = "" if trace.example is None else f" · example {trace.example}"
        lab = f"label {format_number(trace.label)}" if trace.label is not None else "multilabel target"
        kind = "Backward view: δ = ∂cost/∂z" if backward else "Forward view: a = g(z)"
        title = (f"{kind} · network {net}{who} · {lab}, predicted {trace.prediction} · "
                 f"cost {format_number(trace.cost, 4)}")
    lay.add("text", x=18, y=30, text=title, size=17, anchor="start", weight="bold", cls="title")
    for k, layer in enumerate(trace.layers):
        l = k + 1
        head = f"layer {l} · {layer.kind}"
        if layer.kind == "input":
            sub = f"x = a{_sup(1)}" + (f" as a {img_shape[0]}×{img_shape[1]} image" if img_shape else "")
            if backward:
                sub += " (no δ)"
        elif backward:
            sub = f"δ{_sup(l)}, max |δ| = {n(np.abs(layer.delta).max())}"
        else:
            sub = f"a{_sup(l)} = g(z{_sup(l)})"
        lay.add("text", x=xs[k], y=58, text=head, size=14, anchor="middle", weight="bold", cls="layer-title")
        lay.add("text", x=xs[k], y=76, text=sub, size=12, anchor="middle", cls="layer-subtitle")
        if len(shown[k]) < layer.size:
            what = "|δ|" if backward and layer.kind != "input" else ("|x|" if layer.kind == "input" else "a")
            lay.add("text", x=xs[k], y=top + body + 18, text=f"{len(shown[k])} of {layer.size} units shown "
                    f"(largest {what})", size=11, anchor="middle", cls="collapsed-note", style="italic")

    # Edges, grouped per pair of layers; weak edges first so strong ones are drawn on top.
    for k in range(L - 1):
        l = k + 1
        theta = trace.thetas[k]
        d_next = trace.layers[k + 1].delta
        weights = theta[:, 1:] * d_next[:, None] if backward else theta[:, 1:]
        vmax = float(np.abs(weights).max()) or 1.0
        src, dst = shown[k], shown[k + 1]
        sub_w = np.abs(weights[np.ix_(dst, src)])
        total = weights.size
        from_image = trace.layers[k].kind == "input" and img_shape is not None
        if from_image or sub_w.size > max_edges:
            # per unit on the right, its strongest incoming edges (from an image: the pixels that matter most)
            per = max(1, round(image_edges / len(dst))) if from_image else max(1, max_edges // len(dst))
            keep_cols = np.argsort(-sub_w, axis=1, kind="stable")[:, :per]
            pairs = [(int(dst[a]), int(src[b])) for a in range(len(dst)) for b in keep_cols[a]]
        else:
            pairs = [(int(i), int(j)) for i in dst for j in src]
        pairs.sort(key=lambda ij: abs(weights[ij[0], ij[1]]))
        label_edges = len(pairs) <= 8 and r >= 14
        # many edges: thinner and lighter, so that the strongest still stand out
        w_max, op_min, op_span = (5.6, 0.25, 0.7) if len(pairs) <= 60 and not from_image else (3.0, 0.15, 0.6)
        labels: list[dict[str, Any]] = []
        group = f"edges-{l}"
        lay.groups[group] = {"class": "edges", "id": f"edges-{l}", "data-l": str(l), "data-edges": str(total),
                             "data-edges-shown": str(len(pairs))}
        # bias edges
        bp = bias_pos[k]
        # Backward, bias edges carry nothing back; past a dozen they would only clutter.
        if bp is not None and (not backward or len(dst) <= 12):
            for i in dst:
                i = int(i)
                x2, y2 = pos[k + 1][i]
                if backward:
                    color, w, op = NEUTRAL, 0.8, 0.45
                else:
                    v = theta[i, 0]
                    bmax = float(np.abs(theta[:, 0]).max()) or 1.0
                    color, w, op = POSITIVE if v >= 0 else NEGATIVE, 0.5 + 3.0 * abs(v) / max(bmax, vmax), 0.55
                tip = (f"Θ{_sub(i + 1, 0)}{_sup(l)} = {n(theta[i, 0])} (bias weight"
                       + ("; bias units have no δ)" if backward else ")"))
                lay.add("line", group=group, title=tip, x1=bp[0] + 8, y1=bp[1], x2=x2 - r, y2=y2, color=color,
                        width=w, opacity=op, dash="4 3", cls="edge bias-edge", id=f"edge-{l}-{i + 1}-0",
                        data={"l": l, "i": i + 1, "j": 0, "value": float(theta[i, 0])})
        for i, j in pairs:
            v = float(weights[i, j])
            t = abs(v) / vmax
            x1, y1 = pos[k][j]
            x2, y2 = pos[k + 1][i]
            start = x1 + (0 if (trace.layers[k].kind == "input" and img_shape) else r)
            sym = f"Θ{_sub(i + 1, j + 1)}{_sup(l)}"
            if backward:
                tip = (f"{sym}·δ{_sub(i + 1)}{_sup(l + 1)} = ({n(theta[i, j + 1])})({n(d_next[i])}) = {n(v)}")
            else:
                tip = f"{sym} = {n(v)}"
            lay.add("line", group=group, title=tip, x1=start, y1=y1, x2=x2 - r, y2=y2,
                    color=POSITIVE if v >= 0 else NEGATIVE, width=0.4 + w_max * t, opacity=op_min + op_span * t,
                    cls=f"edge {'pos' if v >= 0 else 'neg'}", id=f"edge-{l}-{i + 1}-{j + 1}",
                    data={"l": l, "i": i + 1, "j": j + 1, "value": v})
            if from_image:  # mark the pixel the edge starts from
                lay.add("circle", group=group, cx=x1, cy=y1, r=min(3.5, max(1.5, cell * 0.3)), fill=POSITIVE if v >= 0
                        else NEGATIVE, stroke="#ffffff", stroke_width=0.6)
            if label_edges:  # small nets: write the number on the edge, near its left end
                f = 0.3
                labels.append(dict(x=start + f * (x2 - r - start), y=y1 + f * (y2 - y1), text=n(v), size=10.5,
                                   anchor="middle", color=POSITIVE if v >= 0 else NEGATIVE))
        for label in labels:  # after all the lines, on a white patch, so that no line crosses a number
            w, h = len(label["text"]) * label["size"] * 0.6 + 6, label["size"] + 5
            lay.add("rect", group=group, x=label["x"] - w / 2, y=label["y"] - h / 2, w=w, h=h, fill="#ffffff",
                    stroke=None, rx=3, opacity=0.85)
            lay.add("text", group=group, cls="edge-label", **label)

    # Units.
    for k, layer in enumerate(trace.layers):
        l = k + 1
        group = f"layer-{l}"
        is_image = layer.kind == "input" and img_shape is not None
        lay.groups[group] = {"class": "layer input-image" if is_image else "layer", "id": f"layer-{l}",
                             "data-l": str(l), "data-kind": layer.kind, "data-units": str(layer.size),
                             "data-shown": str(len(shown[k]))}
        bp = bias_pos[k]
        if bp is not None:
            lay.add("rect", group=group, title=f"bias unit a{_sub(0)}{_sup(l)} = 1", x=bp[0] - 11, y=bp[1] - 11,
                    w=22, h=22, fill="#ffffff", stroke="#555555", stroke_width=1.2, dash="3 2", rx=3,
                    cls="unit bias", id=f"bias-{l}", data={"l": l, "j": 0, "value": 1.0})
            lay.add("text", group=group, x=bp[0], y=bp[1], text="+1", size=10, anchor="middle", color="#333333")
        if layer.kind == "input":
            lo, hi = float(layer.a.min()), float(layer.a.max())
            span = (hi - lo) or 1.0
            for j in shown[k]:
                j = int(j)
                x, y = pos[k][j]
                g = round(255 * (1 - (layer.a[j] - lo) / span))  # ink: large values dark, like pen on paper
                rgb = (g, g, g)
                tip = f"x{_sub(j + 1)} = a{_sub(j + 1)}{_sup(1)} = {n(layer.a[j])}"
                data = {"l": 1, "j": j + 1, "value": float(layer.a[j])}
                if is_image:
                    lay.add("rect", group=group, title=tip, x=x - cell / 2, y=y - cell / 2, w=cell, h=cell,
                            fill=_hex(rgb), stroke=None, cls="unit input pixel", id=f"unit-1-{j + 1}", data=data)
                else:
                    lay.add("circle", group=group, title=tip, cx=x, cy=y, r=r, fill=_hex(rgb), stroke="#444444",
                            stroke_width=1.0, cls="unit input", id=f"unit-1-{j + 1}", data=data)
                    if r >= 12:
                        _circle_label(lay, group, x, y, r, format_number(layer.a[j], 2), rgb)
                    if r >= 16:
                        _unit_name(lay, group, x, y, r, f"x{_sub(j + 1)}")
            if is_image:
                rows_, cols_ = img_shape
                x0, y0 = pos[k][int(_as_image(np.arange(layer.size), img_shape, image_order)[0, 0])]
                lay.add("rect", group=group, x=x0 - cell / 2, y=y0 - cell / 2, w=cols_ * cell, h=rows_ * cell,
                        fill="none", stroke="#444444", stroke_width=1.0, cls="image-frame")
            continue
        dmax = float(np.abs(layer.delta).max()) or 1.0
        for j in shown[k]:
            j = int(j)
            x, y = pos[k][j]
            if backward:
                rgb = _interp(_DIVERGING, float(layer.delta[j]) / dmax)
                shown_value = layer.delta[j]
            else:
                rgb = _interp(_SEQUENTIAL, float(layer.a[j]))
                shown_value = layer.a[j]
            tip = (f"unit {l}:{j + 1} · z{_sub(j + 1)}{_sup(l)} = {n(layer.z[j])} · a = {n(layer.a[j])} · "
                   f"g′(z) = {n(layer.g_prime[j])} · δ{_sub(j + 1)}{_sup(l)} = {n(layer.delta[j])}")
            if layer.kind == "output":
                tip += f" · y = {n(trace.y[j])}"
            hl = highlight == (l, j + 1)
            lay.add("circle", group=group, title=tip, cx=x, cy=y, r=r, fill=_hex(rgb),
                    stroke="#000000" if hl else "#333333",
                    stroke_width=4.0 if hl else (1.6 if layer.kind == "output" else 1.1),
                    cls=f"unit {layer.kind}" + (" highlight" if hl else ""),
                    id=f"unit-{l}-{j + 1}", data={"l": l, "j": j + 1, "value": float(shown_value)})
            if r >= 12:
                _circle_label(lay, group, x, y, r, format_number(shown_value, 2), rgb)
            if r >= 16:
                _unit_name(lay, group, x, y, r, f"{'δ' if backward else 'a'}{_sub(j + 1)}{_sup(l)}")
            if layer.kind == "output":
                if trace.K == 1:
                    text = f"h = {n(layer.a[j])} (y = {n(trace.y[j])})"
                else:
                    name = class_names[j] if class_names is not None else str(j)
                    text = f"{name}: h = {n(layer.a[j])}"
                if backward:
                    text += f", δ = {n(layer.delta[j])}"
                marks = [w for w, on in (("target", trace.y[j] == 1), ("predicted", j == trace.prediction)) if on]
                if trace.K > 1 and marks:
                    text += " ← " + " and ".join(marks)
                lay.add("text", group=group, x=x + r + 8, y=y, text=text, size=min(13.0, max(10.0, dy * 0.42)),
                        anchor="start", color="#111111", weight="bold" if trace.y[j] == 1 else "normal")

    _legend(lay, view, top + body + 34.0)
    # Widen the canvas to the text that was laid out (DejaVu Sans: about 0.6 em per character, bold 0.66).
    right = 0.0
    for sh in lay.shapes:
        if sh.kind == "text":
            w = len(sh.a["text"]) * float(sh.a["size"]) * (0.66 if sh.a.get("weight") == "bold" else 0.6)
            anchor = sh.a.get("anchor", "start")
            right = max(right, sh.a["x"] + (w if anchor == "start" else w / 2 if anchor == "middle" else 0))
    lay.width = float(math.ceil(max(lay.width, right + 18.0)))
    lay.height = float(math.ceil(lay.height))  # whole pixels, so that the PNG has exactly the SVG's size
    return lay


def _circle_label(lay: _Layout, group: str, x: float, y: float, r: float, text: str, rgb) -> None:
    """The unit's value inside its circle, shrunk to fit."""
    size = min(11.0, r * 0.62, 1.8 * r / (0.6 * max(len(text), 1)))
    lay.add("text", group=group, x=x, y=y, text=text, size=round(size, 1), anchor="middle", color=_ink_for(rgb))


def _unit_name(lay: _Layout, group: str, x: float, y: float, r: float, text: str) -> None:
    """The unit's lecture name (δ₂⁽²⁾, a₂⁽²⁾, x₁) just above its circle, for small nets."""
    lay.add("text", group=group, x=x - r * 0.55, y=y - r - 7, text=text, size=11, anchor="end", color="#333333",
            cls="unit-name")


def _legend(lay: _Layout, view: View, y0: float) -> None:
    backward = view == "backward"
    g = "legend"
    lay.groups[g] = {"class": "legend", "id": "legend"}
    x = 18.0
    lay.add("text", group=g, x=x, y=y0 + 8, text="edges:", size=12, anchor="start", weight="bold")
    lay.add("line", group=g, x1=x + 56, y1=y0 + 8, x2=x + 96, y2=y0 + 8, color=POSITIVE, width=4, opacity=0.9)
    lay.add("text", group=g, x=x + 102, y=y0 + 8, text="positive", size=12, anchor="start")
    lay.add("line", group=g, x1=x + 162, y1=y0 + 8, x2=x + 202, y2=y0 + 8, color=NEGATIVE, width=4, opacity=0.9)
    lay.add("text", group=g, x=x + 208, y=y0 + 8, text="negative", size=12, anchor="start")
    what = "width ∝ |Θᵢⱼ⁽ˡ⁾·δᵢ⁽ˡ⁺¹⁾| (the edge terms)" if backward else "width ∝ |Θᵢⱼ⁽ˡ⁾|"
    lay.add("text", group=g, x=x + 272, y=y0 + 8, text=what + ", scaled per layer", size=12, anchor="start")
    y1 = y0 + 34
    lay.add("text", group=g, x=x, y=y1, text="units:", size=12, anchor="start", weight="bold")
    anchors = _DIVERGING if backward else _SEQUENTIAL
    lo, hi = (-1.0, 1.0) if backward else (0.0, 1.0)
    for s in range(11):
        t = lo + (hi - lo) * s / 10
        lay.add("rect", group=g, x=x + 56 + s * 16, y=y1 - 8, w=16, h=16, fill=_hex(_interp(anchors, t)),
                stroke=None)
    lay.add("rect", group=g, x=x + 56, y=y1 - 8, w=176, h=16, fill="none", stroke="#555555", stroke_width=0.8)
    if backward:
        lay.add("text", group=g, x=x + 56, y=y1 + 20, text="−max|δ|", size=10, anchor="start")
        lay.add("text", group=g, x=x + 144, y=y1 + 20, text="0", size=10, anchor="middle")
        lay.add("text", group=g, x=x + 232, y=y1 + 20, text="+max|δ|", size=10, anchor="end")
        note = "δ, each layer scaled to its own largest |δ|; inputs (grey) show x"
    else:
        lay.add("text", group=g, x=x + 56, y=y1 + 20, text="a = 0", size=10, anchor="start")
        lay.add("text", group=g, x=x + 232, y=y1 + 20, text="a = 1", size=10, anchor="end")
        note = "activation a = g(z); inputs (grey) show x"
    lay.add("text", group=g, x=x + 244, y=y1, text=note, size=12, anchor="start")
    y2 = y1 + 42
    lay.add("rect", group=g, x=x + 56, y=y2 - 10, w=20, h=20, fill="#ffffff", stroke="#555555", stroke_width=1.2,
            dash="3 2", rx=3)
    lay.add("text", group=g, x=x + 66, y=y2, text="+1", size=10, anchor="middle", color="#333333")
    bias_note = ("bias unit a₀ = 1 (dashed edges: it has no δ, so nothing flows back to it)" if backward
                 else "bias unit a₀ = 1 (dashed edges: the bias weights Θᵢ₀)")
    lay.add("text", group=g, x=x + 84, y=y2, text=bias_note, size=12, anchor="start")
    lay.add("text", group=g, x=x, y=y2 + 24, text="In a browser, hover over a unit or an edge to see its numbers.",
            size=11, anchor="start", color="#555555", svg_only=True)


# -- SVG writer --------------------------------------------------------------------------------------------------


def _fmt(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)


def _svg_shape(s: _Shape, prefix: str) -> str:
    a = s.a
    common = ""
    if a.get("id"):
        common += f' id="{prefix}{a["id"]}"'
    if a.get("cls"):
        common += f' class="{a["cls"]}"'
    for key, val in (a.get("data") or {}).items():
        common += f' data-{key}="{val if not isinstance(val, float) else repr(val)}"'
    title = f"<title>{html.escape(s.title)}</title>" if s.title else ""
    dash = f' stroke-dasharray="{a["dash"]}"' if a.get("dash") else ""
    if s.kind == "circle":
        body = (f'<circle cx="{_fmt(a["cx"])}" cy="{_fmt(a["cy"])}" r="{_fmt(a["r"])}" fill="{a["fill"]}" '
                f'stroke="{a["stroke"]}" stroke-width="{_fmt(a["stroke_width"])}"{dash}{common}')
    elif s.kind == "rect":
        stroke = (f' stroke="{a["stroke"]}" stroke-width="{_fmt(a.get("stroke_width", 1.0))}"'
                  if a.get("stroke") else "")
        rx = f' rx="{_fmt(a["rx"])}"' if a.get("rx") else ""
        rx += f' fill-opacity="{_fmt(a["opacity"])}"' if a.get("opacity") is not None else ""
        body = (f'<rect x="{_fmt(a["x"])}" y="{_fmt(a["y"])}" width="{_fmt(a["w"])}" height="{_fmt(a["h"])}" '
                f'fill="{a["fill"]}"{stroke}{rx}{dash}{common}')
    elif s.kind == "line":
        body = (f'<line x1="{_fmt(a["x1"])}" y1="{_fmt(a["y1"])}" x2="{_fmt(a["x2"])}" y2="{_fmt(a["y2"])}" '
                f'stroke="{a["color"]}" stroke-width="{_fmt(a["width"])}" stroke-opacity="{_fmt(a["opacity"])}"'
                f'{dash}{common}')
    else:
        weight = ' font-weight="bold"' if a.get("weight") == "bold" else ""
        style = ' font-style="italic"' if a.get("style") == "italic" else ""
        anchor = {"start": "start", "middle": "middle", "end": "end"}[a.get("anchor", "start")]
        body = (f'<text x="{_fmt(a["x"])}" y="{_fmt(a["y"])}" dy="0.35em" font-size="{_fmt(float(a["size"]))}" '
                f'text-anchor="{anchor}" fill="{a.get("color", "#111111")}"{weight}{style}{common}>'
                f'{html.escape(a["text"])}</text>')
        return body
    return body + (f">{title}</{s.kind}>" if title else "/>")


def _group_order(lay: _Layout) -> list[str]:
    """Drawing order: title, an input image, edges, units, legend (pixel edges go over the image they start in)."""
    image = [g for g, a in lay.groups.items() if "input-image" in a.get("class", "")]
    edges = [g for g in lay.groups if g.startswith("edges-")]
    return ["main"] + image + edges + [g for g in lay.groups if g not in image and g not in edges]


def _to_svg(lay: _Layout, prefix: str, view: View, sizes: Sequence[int]) -> str:
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="glassnet-diagram" data-view="{view}" '
           f'data-sizes="{"-".join(map(str, sizes))}" width="{_fmt(lay.width)}" height="{_fmt(lay.height)}" '
           f'viewBox="0 0 {_fmt(lay.width)} {_fmt(lay.height)}" '
           f'font-family="DejaVu Sans, Verdana, Arial, sans-serif">',
           f'<rect x="0" y="0" width="{_fmt(lay.width)}" height="{_fmt(lay.height)}" fill="#ffffff"/>']
    by_group: dict[str, list[_Shape]] = {}
    for s in lay.shapes:
        by_group.setdefault(s.group, []).append(s)
    for g in _group_order(lay):
        shapes = by_group.get(g, [])
        if g == "main":
            out += [_svg_shape(s, prefix) for s in shapes]
            continue
        attrs = dict(lay.groups[g])
        attrs["id"] = prefix + attrs["id"]
        out.append("<g " + " ".join(f'{k}="{html.escape(v)}"' for k, v in attrs.items()) + ">")
        out += [_svg_shape(s, prefix) for s in shapes]
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def diagram_svg(trace: Trace, view: View = "backward", *, max_units: int = 30, max_edges: int = 300,
                image_shape: tuple[int, int] | None = None, image_order: str = "C",
                class_names: Sequence[str] | None = None, title: str | None = None, id_prefix: str = "",
                highlight: tuple[int, int] | None = None) -> str:
    """The network of ``trace`` as an SVG document (a string), in the forward or the backward view.

    Parameters
    ----------
    trace : Trace
    view : {"backward", "forward"}
        Backward: units coloured by δ, edges by the edge terms Θ_ij·δ_i. Forward: units by a, edges by Θ_ij.
    max_units : int
        Layers with more units show only this many (the largest |δ| or a); inputs that form an image are all drawn.
    max_edges : int
        Pairs of layers with more edges keep, per unit of the right layer, only its strongest incoming edges.
    image_shape : (rows, cols), optional
        Draw the input layer as an image of this shape (default: any square input of 8×8 or more).
    image_order : {"C", "F"}
        How x fills the image: "C" row by row (MNIST, scikit-learn digits), "F" column by column (the course's 20×20
        ex4 data).
    class_names : list of str, optional
        Labels for the output units (default "0".."K-1").
    title : str, optional
        Replaces the default title line.
    id_prefix : str
        Prefix for every id (to put several diagrams in one HTML page).
    highlight : (l, j), optional
        Draw unit j of layer l (l ≥ 2) with a thick black outline (class ``highlight``), shown even when collapsed.

    Returns
    -------
    str
        A standalone SVG document (module docstring: ids, classes and collapsed forms).
    """
    lay = _layout(trace, view, max_units=max_units, max_edges=max_edges, image_shape=image_shape,
                  image_order=image_order, class_names=class_names, title=title, highlight=highlight)
    return _to_svg(lay, id_prefix, view, trace.sizes)


# -- matplotlib (PNG) ------------------------------------------------------------------------------------------


def _figure(width_in: float, height_in: float):
    """A matplotlib Figure on an Agg canvas (no pyplot, no global backend change)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("PNG output needs matplotlib: pip install 'glassnet[plot]' (or pip install matplotlib)"
                          ) from None
    fig = Figure(figsize=(width_in, height_in))
    FigureCanvasAgg(fig)
    return fig


def _png_bytes(fig, dpi: float = 100.0) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def _layout_to_png(lay: _Layout, scale: float) -> bytes:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle, FancyBboxPatch, Rectangle

    fig = _figure(lay.width / 100.0, lay.height / 100.0)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, lay.width)
    ax.set_ylim(lay.height, 0)
    ax.set_axis_off()
    pt = 0.72  # points per SVG pixel at 100 dpi
    rank = {g: k for k, g in enumerate(_group_order(lay))}
    shapes = sorted(lay.shapes, key=lambda s: rank[s.group])  # stable: keeps the SVG's drawing order
    dashes = lambda d: (0, tuple(float(v) for v in d.split())) if d else "solid"  # noqa: E731
    for z, s in enumerate(shapes):
        a = s.a
        if s.kind == "line":
            ax.add_line(Line2D([a["x1"], a["x2"]], [a["y1"], a["y2"]], color=a["color"], alpha=a["opacity"],
                               linewidth=a["width"] * pt, linestyle=dashes(a.get("dash")), zorder=z,
                               solid_capstyle="round"))
        elif s.kind == "circle":
            ax.add_patch(Circle((a["cx"], a["cy"]), a["r"], facecolor=a["fill"], edgecolor=a["stroke"],
                                linewidth=a["stroke_width"] * pt, zorder=z))
        elif s.kind == "rect":
            kw = dict(facecolor=a["fill"], edgecolor=a.get("stroke") or "none", alpha=a.get("opacity"),
                      linewidth=a.get("stroke_width", 1.0) * pt if a.get("stroke") else 0,
                      linestyle=dashes(a.get("dash")), zorder=z)
            if a.get("rx"):
                ax.add_patch(FancyBboxPatch((a["x"], a["y"]), a["w"], a["h"],
                                            boxstyle=f"round,pad=0,rounding_size={a['rx']}", **kw))
            else:
                ax.add_patch(Rectangle((a["x"], a["y"]), a["w"], a["h"], **kw))
        elif not a.get("svg_only"):
            ax.text(a["x"], a["y"], a["text"], fontsize=float(a["size"]) * pt,
                    ha={"start": "left", "middle": "center", "end": "right"}[a.get("anchor", "start")],
                    va="center_baseline", color=a.get("color", "#111111"), fontweight=a.get("weight", "normal"),
                    fontstyle=a.get("style", "normal"), zorder=z)
    return _png_bytes(fig, dpi=100.0 * scale)


def diagram_png(trace: Trace, view: View = "backward", *, scale: float = 1.5, max_units: int = 30,
                max_edges: int = 300, image_shape: tuple[int, int] | None = None, image_order: str = "C",
                class_names: Sequence[str] | None = None, title: str | None = None,
                highlight: tuple[int, int] | None = None) -> bytes:
    """The same diagram as :func:`diagram_svg`, as PNG bytes (matplotlib, Agg). ``scale`` multiplies the pixel size."""
    lay = _layout(trace, view, max_units=max_units, max_edges=max_edges, image_shape=image_shape,
                  image_order=image_order, class_names=class_names, title=title, highlight=highlight)
    return _layout_to_png(lay, scale)


# ---------------------------------------------------------------------------------------------------------------
# Images: hidden units (the course's displayData) and examples.


def display_grid(W: np.ndarray, image_shape: tuple[int, int] | None = None, order: str = "C", pad: int = 1,
                 ) -> np.ndarray:
    """The course's ``displayData``: rows of W as image patches in a grid, each scaled to [−1, 1] by its max |w|.

    Parameters
    ----------
    W : array, shape (n, p)
        One image per row, e.g. Θ^(1) without its bias column (n hidden units, p = s_1 inputs).
    image_shape : (rows, cols), optional
        Shape of one patch; default: square.
    order : {"C", "F"}
        "F" for the course's column-major 20×20 images.
    pad : int
        Pixels of −1 (black) between patches and around the grid.

    Returns
    -------
    array
        The grid image, values in [−1, 1]; ``floor(√n)`` rows of ``ceil(n / rows)`` patches, like the course.
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"W: expected a 2-D array (one image per row), got shape {W.shape}")
    n, p = W.shape
    side = math.isqrt(p)
    shape = image_shape if image_shape is not None else ((side, side) if side * side == p else None)
    if shape is None:
        raise ValueError(f"image_shape: {p} inputs do not form a square image ({side}² = {side * side}); "
                         f"pass image_shape=(rows, cols)")
    h, w = infer_image_shape(p, shape)  # checks rows × cols = p
    grid_rows = max(1, math.isqrt(n))
    grid_cols = math.ceil(n / grid_rows)
    out = -np.ones((pad + grid_rows * (h + pad), pad + grid_cols * (w + pad)))
    for k in range(n):
        rr, cc = divmod(k, grid_cols)
        patch = _as_image(W[k], (h, w), order)
        m = np.abs(patch).max()
        y0, x0 = pad + rr * (h + pad), pad + cc * (w + pad)
        out[y0 : y0 + h, x0 : x0 + w] = patch / m if m > 0 else patch
    return out


def hidden_units_png(theta1: np.ndarray, image_shape: tuple[int, int] | None = None, order: str = "C",
                     title: str | None = None, scale: float = 1.0) -> bytes:
    """Θ^(1)'s rows without bias as images (what each hidden unit looks for), grey: white = positive weight."""
    theta1 = np.asarray(theta1)
    if theta1.ndim != 2 or theta1.shape[1] < 2:
        raise ValueError(f"theta1: expected Θ^(1) of shape (s_2, s_1 + 1), got shape {theta1.shape}")
    grid = display_grid(theta1[:, 1:], image_shape, order)
    n = theta1.shape[0]
    width = min(9.0, max(5.0, grid.shape[1] / 20.0))
    img_h = width * grid.shape[0] / grid.shape[1]
    fig = _figure(width, img_h + 0.7)
    ax = fig.add_axes((0.0, 0.0, 1.0, img_h / (img_h + 0.7)))
    ax.imshow(grid, cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    fig.suptitle(title or f"{n} hidden units: the rows of Θ⁽¹⁾ without bias\n(white = positive weight, "
                 "black = negative)", fontsize=10, y=0.985, va="top")
    return _png_bytes(fig, dpi=100 * scale)


def examples_png(X: np.ndarray, true: Sequence, predicted: Sequence, image_shape: tuple[int, int] | None = None,
                 order: str = "C", max_examples: int = 30, title: str | None = None,
                 indices: Sequence[int] | None = None) -> bytes:
    """Examples as small images titled "#row: y → ŷ" (e.g. the misclassified ones), at most ``max_examples``."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X: expected a non-empty 2-D array of examples, got shape {X.shape}")
    shape = infer_image_shape(X.shape[1], image_shape)
    if shape is None:
        raise ValueError(f"image_shape: {X.shape[1]} features do not form a square image; pass image_shape")
    k = min(max_examples, X.shape[0])
    cols = min(10, k)
    rows = math.ceil(k / cols)
    fig = _figure(1.1 * cols + 0.2, 1.25 * rows + 0.5)
    for t in range(k):
        ax = fig.add_subplot(rows, cols, t + 1)
        ax.imshow(_as_image(X[t], shape, order), cmap="gray_r", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        idx = indices[t] if indices is not None else t
        ax.set_title(f"#{idx}: {true[t]} → {predicted[t]}", fontsize=8, color=POSITIVE if true[t] != predicted[t]
                     else "#111111")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.86 if title else 0.93, wspace=0.15, hspace=0.45)
    return _png_bytes(fig)


# ---------------------------------------------------------------------------------------------------------------
# Curves.


def _history_series(history) -> tuple[list[float], list[float] | None]:
    """(train, validation) cost lists from a History, a dict or a plain list."""
    if hasattr(history, "cost") and not isinstance(history, Mapping):
        val = getattr(history, "val_cost", None) or getattr(history, "validation_cost", None)
        return [float(v) for v in history.cost], ([float(v) for v in val] if val else None)
    if isinstance(history, Mapping):
        train_keys = ("train", "training", "cost", "train_cost", "loss")
        val_keys = ("validation", "val", "val_cost", "validation_cost", "val_loss")
        train = next((history[k] for k in train_keys if k in history), None)
        val = next((history[k] for k in val_keys if k in history), None)
        if train is None:
            raise ValueError(f"history: expected a training cost list under one of {train_keys}, "
                             f"got keys {sorted(history)}")
        return [float(v) for v in train], ([float(v) for v in val] if val is not None else None)
    if isinstance(history, Sequence) and not isinstance(history, str):
        return [float(v) for v in history], None
    raise ValueError(f"history: expected a History, a dict of cost lists or a list of costs, got "
                     f"{type(history).__name__}")


def cost_curves_png(history, title: str | None = None, log_scale: bool | None = None) -> bytes:
    """Training (and validation) cost J(Θ) per iteration, from a ``History``, a dict or a list.

    Dict keys: ``train``/``cost`` and ``validation``/``val_cost``. ``log_scale=None`` uses a log y axis when the cost
    falls by more than 100×.
    """
    train, val = _history_series(history)
    is_history = hasattr(history, "cost") and not isinstance(history, Mapping)
    if not train:
        raise ValueError("history: the training cost list is empty (no iterations recorded)")
    if not all(math.isfinite(v) for v in train + (val or [])):
        raise ValueError("history: costs must be finite numbers")
    fig = _figure(7.0, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    it = np.arange(1, len(train) + 1)
    ax.plot(it, train, color=NEGATIVE, lw=2, label="training J(Θ)" + (" with the λ term" if is_history else ""))
    if val:
        ax.plot(np.arange(1, len(val) + 1), val, color=POSITIVE, lw=2,
                label="validation J(Θ)" + (" without the λ term" if is_history else ""))
    if log_scale is None:
        vals = [v for v in train + (val or []) if v > 0]
        log_scale = bool(vals) and max(vals) / min(vals) > 100
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost J(Θ)")
    ax.set_title(title or f"Cost per iteration (final training J = {format_number(train[-1], 4)})")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return _png_bytes(fig)


def _curve_png(x, train, val, xlabel: str, ylabel: str, title: str, log_x: bool, best: float | None) -> bytes:
    fig = _figure(7.0, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(x, train, "o-", color=NEGATIVE, lw=2, label="training")
    ax.plot(x, val, "s-", color=POSITIVE, lw=2, label="validation")
    if log_x:
        positive = [v for v in x if v > 0]
        ax.set_xscale("symlog", linthresh=min(positive) if positive else 1.0)
    if best is not None:
        ax.axvline(best, color="#555555", ls="--", lw=1, label=f"lowest validation at {format_number(best)}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return _png_bytes(fig)


def learning_curve_png(curve, metric: Literal["cost", "error"] = "cost") -> bytes:
    """Error vs number of training examples m (a :class:`glassnet.explain.curves.LearningCurve`)."""
    train, val, label = _metric(curve, metric)
    return _curve_png(curve.m, train, val, "training examples m", label,
                      f"Learning curve (network {'-'.join(map(str, curve.sizes))}, λ = {format_number(curve.lam)})",
                      log_x=False, best=None)


def validation_curve_png(curve, metric: Literal["cost", "error"] = "cost") -> bytes:
    """Error vs λ (a :class:`glassnet.explain.curves.ValidationCurve`), the best λ marked."""
    train, val, label = _metric(curve, metric)
    best = curve.lams[int(np.argmin(val))]
    return _curve_png(curve.lams, train, val, "λ (regularization)", label,
                      f"Validation curve (network {'-'.join(map(str, curve.sizes))}, m = {curve.m_train})",
                      log_x=True, best=best)


def _metric(curve, metric):
    if metric == "cost":
        return curve.train_cost, curve.val_cost, "cost J(Θ) without regularization"
    if metric == "error":
        return curve.train_error, curve.val_error, "misclassification error"
    raise ValueError(f"metric: expected 'cost' or 'error', got {metric!r}")


# ---------------------------------------------------------------------------------------------------------------
# HTML report.

_CSS = """
body { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; margin: 24px auto; max-width: 1280px; color: #111;
       line-height: 1.45; padding: 0 16px; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 1.6em; }
.meta { color: #333; } .good { color: #1a7f37; font-weight: bold; } .bad { color: #b2182b; font-weight: bold; }
pre.eq { background: #f6f8fa; border: 1px solid #ddd; padding: 10px 12px; white-space: pre-wrap; font-size: 14px;
         font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
table.layer { border-collapse: collapse; margin: 8px 24px 16px 0; display: inline-table; vertical-align: top;
              font-size: 13px; }
table.layer caption { text-align: left; font-weight: bold; padding-bottom: 4px; }
table.layer td, table.layer th { border: 1px solid #ddd; padding: 2px 8px; text-align: right;
              font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
table.layer th { background: #f0f0f0; }
.figure { overflow-x: auto; margin: 8px 0 16px 0; } .figure svg { max-width: 100%; height: auto; }
img { max-width: 100%; } .note { color: #444; font-size: 0.92em; }
details summary { cursor: pointer; font-weight: bold; margin: 8px 0; }
"""


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _strip_xml_decl(svg: str) -> str:
    return svg[svg.index("<svg"):]


def _html_table(trace: Trace, l: int, digits: int, max_rows: int) -> str:
    caption, header, rows = _layer_rows(trace, l, digits, max_rows)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="layer"><caption>{html.escape(caption)}</caption><tr>{head}</tr>{body}</table>'


def html_report(trace: Trace, *, X: np.ndarray | None = None, y: np.ndarray | None = None,
                history=None, learning_curve=None, validation_curve=None,
                image_shape: tuple[int, int] | None = None, image_order: str = "C",
                class_names: Sequence[str] | None = None, title: str | None = None, digits: int = 4,
                max_units: int = 30, max_edges: int = 300, unit: tuple[int, int] | None = None) -> str:
    """One self-contained HTML page (inline SVG and PNG data URIs; no script, no network) explaining ``trace``.

    Sections: the example and its prediction; the backward-view and forward-view diagrams; the δ equations and
    layer tables; with ``X, y`` (a labelled data set for the same network) the misclassified examples; the hidden
    units as images when the input is an image; the cost per iteration (``history``); learning and validation
    curves (records from :mod:`glassnet.explain.curves`). ``unit=(l, j)`` adds a section on that unit (its equation
    and every edge term) and outlines it in the diagrams.
    """
    esc = html.escape
    net = "-".join(map(str, trace.sizes))
    if title is None:
        which = "one example" if trace.example is None else f"example {trace.example}"
        title = f"glassnet: backpropagation of {which}"
    img_shape = infer_image_shape(trace.sizes[0], image_shape)
    if unit is not None and trace.unit(*unit).kind == "input":
        raise ValueError(f"unit {unit[0]}:{unit[1]}: input units have no δ; choose a layer l = 2..{trace.L}")
    kw = dict(max_units=max_units, max_edges=max_edges, image_shape=image_shape, image_order=image_order,
              class_names=class_names, highlight=unit)
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{esc(title)}</title>"
             f"<style>{_CSS}</style></head><body>", f"<h1>{esc(title)}</h1>"]
    desc = _describe_example(trace, digits, class_names)
    mood = {True: "good", False: "bad", None: "meta"}[trace.correct]
    parts.append(f'<p class="meta">{esc(desc[0])}<br><span class="{mood}">{esc(desc[1])}</span></p>')
    parts.append("<p class=\"note\">The note's intuition: δⱼ⁽ˡ⁾ = ∂cost/∂zⱼ⁽ˡ⁾ is the error of unit j. It is the sum, "
                 "over the unit's outgoing edges, of the weight times the δ the edge leads to (the <em>edge "
                 "terms</em> Θᵢⱼ⁽ˡ⁾·δᵢ⁽ˡ⁺¹⁾), times g′(zⱼ⁽ˡ⁾). Hover over a unit or an edge for its numbers.</p>")
    if unit is not None:
        l, j = unit
        parts.append(f"<h2>Unit {l}:{j}</h2>")
        focus = render_text(trace, unit=unit, digits=digits, max_rows=max_units, top_k=None).split("\n\n", 1)[1]
        parts.append(f'<pre class="eq">{esc(focus.rstrip())}</pre>')
    parts.append("<h2>Backward pass: where the error goes</h2>")
    parts.append('<div class="figure">' + _strip_xml_decl(diagram_svg(trace, "backward", id_prefix="bw-", **kw))
                 + "</div>")
    parts.append("<h2>The δ equations, with this example's numbers</h2>")
    # Written out in full, a unit with many outgoing edges makes a line too long to read: keep its 4 largest terms.
    k_eq = None if max(trace.sizes[2:], default=0) <= 6 else 4
    if trace.top_k is not None:
        k_eq = trace.top_k if k_eq is None else min(trace.top_k, k_eq)
    eq_lines = render_text(trace, digits=digits, max_rows=max_units, top_k=k_eq).split("\n\n")
    backward_block = next((b for b in eq_lines if b.startswith("Backward pass")), "")
    gradient_block = next((b for b in eq_lines if b.startswith("Gradient")), "")
    parts.append(f'<pre class="eq">{esc(backward_block)}</pre>')
    parts.append(f'<pre class="eq">{esc(gradient_block.strip())}</pre>')
    parts.append("<details open><summary>Per-layer tables (z, a, g′(z), δ)</summary>")
    first = 2 if img_shape else 1  # an image input is in the diagram; 400 rows of x would say less
    parts += [_html_table(trace, l, digits, max_units) for l in range(first, trace.L + 1)]
    parts.append("</details>")
    parts.append("<h2>Forward pass: what the network computed</h2>")
    parts.append('<div class="figure">' + _strip_xml_decl(diagram_svg(trace, "forward", id_prefix="fw-", **kw))
                 + "</div>")
    if X is not None and y is not None:
        from ..forward import forward  # the report predicts with the same network; explain may import the core

        X = np.asarray(X)
        y = np.asarray(y)
        if X.ndim != 2 or X.shape[1] != trace.sizes[0] or y.shape[0] != X.shape[0]:
            raise ValueError(f"X, y: expected X of shape (m, {trace.sizes[0]}) and m labels, got X {X.shape} and "
                             f"y {y.shape}")
        h = forward(list(trace.thetas), X).output
        pred = (h[:, 0] >= 0.5).astype(int) if trace.K == 1 else h.argmax(axis=1)
        wrong = np.flatnonzero(pred != y)
        parts.append("<h2>Misclassified examples</h2>")
        parts.append(f"<p>{len(wrong)} of {len(y)} examples misclassified "
                     f"({format_number(100 * len(wrong) / len(y), 3)}% error; each titled #row: label → prediction)."
                     "</p>")
        if len(wrong) and img_shape:
            shown = wrong[:40]
            png = examples_png(X[shown], y[shown].tolist(), pred[shown].tolist(), img_shape, image_order,
                               max_examples=40, indices=shown.tolist())
            parts.append(f'<img alt="misclassified examples" src="{_data_uri(png)}">')
        elif len(wrong):
            parts.append("<p>" + esc(", ".join(f"#{t}: {y[t]} → {pred[t]}" for t in wrong[:60])) + "</p>")
    if img_shape and trace.L >= 3:
        parts.append("<h2>Hidden units as images</h2>")
        parts.append("<p class=\"note\">Each square is one hidden unit's incoming weights Θ⁽¹⁾ (without bias), drawn "
                     "as an image and scaled to its largest |weight|: the pattern that turns the unit on.</p>")
        png = hidden_units_png(trace.thetas[0], img_shape, image_order)
        parts.append(f'<img alt="hidden units" src="{_data_uri(png)}">')
    if history is not None or learning_curve is not None or validation_curve is not None:
        parts.append("<h2>Curves</h2>")
        if history is not None:
            parts.append(f'<img alt="cost per iteration" src="{_data_uri(cost_curves_png(history))}">')
        if learning_curve is not None:
            parts.append(f'<img alt="learning curve" src="{_data_uri(learning_curve_png(learning_curve))}">')
        if validation_curve is not None:
            parts.append(f'<img alt="validation curve" src="{_data_uri(validation_curve_png(validation_curve))}">')
    parts.append(f'<p class="note">Made by glassnet for network {esc(net)}. Everything is in this file; it needs no '
                 "network access.</p></body></html>\n")
    return "\n".join(parts)
