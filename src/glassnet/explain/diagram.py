"""The network diagram of a :class:`~glassnet.explain.trace.Trace`: a layout (data), and its SVG writer.

For: seeing where the error goes. :func:`layout` computes, from a trace, every shape of the drawing — positions,
sizes, colours, labels, tooltips, grouped per layer and per pair of layers — as plain data (:class:`Layout`);
:func:`diagram_svg` writes that layout as SVG (a string, built by hand: no matplotlib), and
:func:`glassnet.explain.figures.diagram_png` draws the same layout with matplotlib. Not for: computing anything
(every number comes from the trace) or writing files.

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

The colours (:data:`POSITIVE`, :data:`NEGATIVE` and the unit scales) and the image helpers
(:func:`infer_image_shape`) live here, once, for every picture of glassnet.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from glassnet.activations import get_activation
from glassnet.explain.text import format_number
from glassnet.explain.trace import Trace
from glassnet.notation import a_name, delta_name, sub, sup, theta_name, z_name

__all__ = ["diagram_svg", "layout", "Layout", "Shape", "infer_image_shape", "POSITIVE", "NEGATIVE", "NEUTRAL",
           "COLOR_SCALES"]

View = Literal["forward", "backward"]

_DIVERGING = [(-1.0, (33, 102, 172)), (-0.5, (146, 197, 222)), (0.0, (247, 247, 247)), (0.5, (244, 165, 130)),
              (1.0, (178, 24, 43))]  # blue (negative) – white – red (positive), like ColorBrewer RdBu
_SEQUENTIAL = [(0.0, (247, 251, 255)), (0.5, (107, 174, 214)), (1.0, (8, 48, 107))]  # white → dark blue
POSITIVE, NEGATIVE, NEUTRAL = "#b2182b", "#2166ac", "#9a9a9a"
#: The colour scales as (value, (r, g, b)) anchors, for other pictures of the same numbers (the explorer's maps and
#: thumbnails): "sequential" for a in [0, 1], "diverging" for signed values scaled to [−1, 1].
COLOR_SCALES = {"sequential": _SEQUENTIAL, "diverging": _DIVERGING}


def _interp(anchors, t: float) -> tuple[int, int, int]:
    t = min(max(t, anchors[0][0]), anchors[-1][0])
    for (t0, c0), (t1, c1) in zip(anchors, anchors[1:]):
        if t <= t1:
            f = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
            return tuple(round(a + f * (b - a)) for a, b in zip(c0, c1))
    return anchors[-1][1]


def _hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _ink_for(rgb) -> str:
    """Black or white text, whichever reads on this fill."""
    r, g, b = rgb
    return "#ffffff" if 0.299 * r + 0.587 * g + 0.114 * b < 140 else "#111111"




# ---------------------------------------------------------------------------------------------------------------
# Layout data, shared by the SVG writer and the PNG drawing.


@dataclass
class Shape:
    """One drawn element: ``kind`` with its attributes ``a`` (coordinates in pixels, colours as #rrggbb)."""

    kind: Literal["circle", "rect", "line", "text"]
    a: dict[str, Any]
    title: str | None = None
    group: str = "main"


@dataclass
class Layout:
    """A diagram as data: canvas size, shapes in drawing order within their group, and the groups' attributes."""

    width: float
    height: float
    shapes: list[Shape] = field(default_factory=list)
    groups: dict[str, dict[str, str]] = field(default_factory=dict)  # group name -> attributes (order kept)

    def add(self, kind, group="main", title=None, **a) -> None:
        self.shapes.append(Shape(kind, a, title, group))

    def drawing_order(self) -> list[str]:
        """Groups in drawing order: title, an input image, edges, units, legend (pixel edges go over their image)."""
        image = [g for g, a in self.groups.items() if "input-image" in a.get("class", "")]
        edges = [g for g in self.groups if g.startswith("edges-")]
        return ["main"] + image + edges + [g for g in self.groups if g not in image and g not in edges]


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


@dataclass
class _Frame:
    """Where everything of one diagram goes, computed once and read by the functions that add each part."""

    trace: Trace
    backward: bool
    digits: int
    img_shape: tuple[int, int] | None
    image_order: str
    shown: list[np.ndarray]  # per layer, the 0-based units that are drawn
    dy: float  # row height
    r: float  # unit radius
    xs: list[float]  # column centres
    top: float  # y of the first unit row
    body: float  # height of the unit rows
    pos: list[dict[int, tuple[float, float]]] = field(default_factory=list)  # per layer: 0-based j -> (x, y)
    bias_pos: list[tuple[float, float] | None] = field(default_factory=list)
    cell: float = 0.0  # pixel size of an input image

    def n(self, v) -> str:
        return format_number(v, self.digits)

    def is_image(self, k: int) -> bool:
        """Whether layer k + 1 is drawn as an image (only ever the input layer)."""
        return self.trace.layers[k].kind == "input" and self.img_shape is not None


def _check_options(trace: Trace, view: View, max_units: int, max_edges: int, class_names, highlight) -> None:
    if view not in ("forward", "backward"):
        raise ValueError(f"view: expected 'forward' or 'backward', got {view!r}")
    if max_units < 2 or max_edges < 1:
        raise ValueError(f"max_units/max_edges: expected max_units ≥ 2 and max_edges ≥ 1, got {max_units}, {max_edges}")
    if class_names is not None and len(class_names) != max(trace.K, 2):
        raise ValueError(f"class_names: expected {max(trace.K, 2)} names (one per output unit; two when K = 1), "
                         f"got {len(class_names)}")
    if highlight is not None:
        trace.unit(*highlight)  # range check


def _shown_units(trace: Trace, backward: bool, max_units: int, img_shape, highlight) -> list[np.ndarray]:
    """Per layer, the 0-based units to draw; a highlighted unit (l ≥ 2) is kept on the drawing."""
    forced = {highlight[0]: highlight[1] - 1} if highlight is not None and highlight[0] > 1 else {}
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
    return shown


def _frame(trace: Trace, backward: bool, digits: int, img_shape, image_order: str, shown) -> tuple[_Frame, Layout]:
    """Rows, columns and canvas size, then every unit's position (an input image pixel by pixel)."""
    L = trace.L
    n_rows = max([len(s) for s, layer in zip(shown, trace.layers) if not (layer.kind == "input" and img_shape)] + [2])
    dy = float(np.clip(520.0 / n_rows, 24.0, 64.0))
    col_gap = 250.0 if L <= 4 else 190.0
    left = 90.0
    right_label = 150.0
    body = n_rows * dy
    img_px = 0.0
    xs = [left + k * col_gap for k in range(L)]
    if img_shape:
        img_px = min(300.0, max(160.0, body * 0.6))
        left = max(30.0 + img_px / 2.0, 130.0)  # room for the image and for its column header
        # the image's right edge, not its centre, is where the gap to layer 2 starts
        xs = [left] + [left + img_px / 2.0 + 170.0 + k * col_gap for k in range(L - 1)]
    top = 92.0 + dy  # title, column headers, then the bias row
    legend_h = 118.0
    f = _Frame(trace=trace, backward=backward, digits=digits, img_shape=img_shape, image_order=image_order,
               shown=shown, dy=dy, r=float(min(20.0, dy * 0.40)), xs=xs, top=top, body=body)
    lay = Layout(width=xs[-1] + right_label, height=top + body + 30.0 + legend_h)
    mid = top + body / 2.0
    for k, layer in enumerate(trace.layers):
        p: dict[int, tuple[float, float]] = {}
        if f.is_image(k):
            rows_, cols_ = img_shape
            f.cell = cell = img_px / max(rows_, cols_)
            x0, y0 = xs[0] - cols_ * cell / 2.0, mid - rows_ * cell / 2.0
            # pixel j (0-based) sits where _as_image puts it
            idx = _as_image(np.arange(layer.size), img_shape, image_order)
            for rr in range(rows_):
                for cc in range(cols_):
                    p[int(idx[rr, cc])] = (x0 + (cc + 0.5) * cell, y0 + (rr + 0.5) * cell)
            first_y = y0
        else:
            y_start = mid - len(shown[k]) * dy / 2.0
            for slot, j in enumerate(shown[k]):
                p[int(j)] = (xs[k], y_start + (slot + 0.5) * dy)
            first_y = y_start
        f.pos.append(p)
        f.bias_pos.append((xs[k], first_y - dy * 0.75) if layer.has_bias else None)
    return f, lay


def _add_headers(lay: Layout, f: _Frame, title: str | None, class_names=None) -> None:
    """The title line, a header per column, and a note under each collapsed layer."""
    trace, n, img_shape = f.trace, f.n, f.img_shape
    if title is None:
        def named(k) -> str:  # a class number as its class's name, when the output units have names
            whole = isinstance(k, (int, np.integer)) or float(k).is_integer()
            return str(class_names[int(k)]) if class_names is not None and whole else format_number(k)

        who = "" if trace.example is None else f" · example {trace.example}"
        lab = f"label {named(trace.label)}" if trace.label is not None else "multilabel target"
        kind = "Backward view: δ = ∂cost/∂z" if f.backward else "Forward view: a = g(z)"
        setup = "" if trace.is_lecture else (
            f" · {trace.activation} hidden, {trace.pair.output} + {trace.pair.loss} cost")
        pred = f"predicted {named(trace.prediction)}"
        if trace.pair.is_regression:  # a real target and the predicted value: no classes to name
            lab = "target y = " + ", ".join(format_number(float(v), 4) for v in np.ravel(trace.y))
            pred = "h = " + ", ".join(format_number(float(v), 4) for v in np.ravel(trace.output))
        title = (f"{kind} · network {'-'.join(map(str, trace.sizes))}{who} · {lab}, "
                 f"{pred} · cost {format_number(trace.cost, 4)}{setup}")
    lay.add("text", x=18, y=30, text=title, size=17, anchor="start", weight="bold", cls="title")
    for k, layer in enumerate(trace.layers):
        l = k + 1
        head = f"layer {l} · {layer.kind}"
        if layer.kind == "input":
            caption = f"x = a{sup(1)}" + (f" as a {img_shape[0]}×{img_shape[1]} image" if img_shape else "")
            if f.backward:
                caption += " (no δ)"
        elif f.backward:
            caption = f"δ{sup(l)}, max |δ| = {n(np.abs(layer.delta).max())}"
        else:
            caption = f"a{sup(l)} = g(z{sup(l)})"
        lay.add("text", x=f.xs[k], y=58, text=head, size=14, anchor="middle", weight="bold", cls="layer-title")
        lay.add("text", x=f.xs[k], y=76, text=caption, size=12, anchor="middle", cls="layer-subtitle")
        if len(f.shown[k]) < layer.size:
            what = "|δ|" if f.backward and layer.kind != "input" else ("|x|" if layer.kind == "input" else "a")
            lay.add("text", x=f.xs[k], y=f.top + f.body + 18, text=f"{len(f.shown[k])} of {layer.size} units shown "
                    f"(largest {what})", size=11, anchor="middle", cls="collapsed-note", style="italic")


# -- edges -------------------------------------------------------------------------------------------------------


def _edge_pairs(weights: np.ndarray, src, dst, from_image: bool, max_edges: int, image_edges: int):
    """The (i, j) edges drawn between two layers (0-based), weakest first so that strong ones are drawn on top."""
    sub_w = np.abs(weights[np.ix_(dst, src)])
    if from_image or sub_w.size > max_edges:
        # per unit on the right, its strongest incoming edges (from an image: the pixels that matter most)
        per = max(1, round(image_edges / len(dst))) if from_image else max(1, max_edges // len(dst))
        keep_cols = np.argsort(-sub_w, axis=1, kind="stable")[:, :per]
        pairs = [(int(dst[a]), int(src[b])) for a in range(len(dst)) for b in keep_cols[a]]
    else:
        pairs = [(int(i), int(j)) for i in dst for j in src]
    pairs.sort(key=lambda ij: abs(weights[ij[0], ij[1]]))
    return pairs


def _add_edges(lay: Layout, f: _Frame, k: int, max_edges: int, image_edges: int) -> None:
    """The edges of Θ^(l), l = k + 1, in their own group: bias edges, weighted edges, then numbers on them."""
    l = k + 1
    theta = f.trace.thetas[k]
    weights = theta[:, 1:] * f.trace.layers[k + 1].delta[:, None] if f.backward else theta[:, 1:]
    vmax = float(np.abs(weights).max()) or 1.0
    pairs = _edge_pairs(weights, f.shown[k], f.shown[k + 1], f.is_image(k), max_edges, image_edges)
    group = f"edges-{l}"
    lay.groups[group] = {"class": "edges", "id": f"edges-{l}", "data-l": str(l), "data-edges": str(weights.size),
                         "data-edges-shown": str(len(pairs))}
    _add_bias_edges(lay, f, k, group, vmax)
    labels = _add_weighted_edges(lay, f, k, group, pairs, weights, vmax)
    for label in labels:  # after all the lines, on a white patch, so that no line crosses a number
        w, h = len(label["text"]) * label["size"] * 0.6 + 6, label["size"] + 5
        lay.add("rect", group=group, x=label["x"] - w / 2, y=label["y"] - h / 2, w=w, h=h, fill="#ffffff",
                stroke=None, rx=3, opacity=0.85)
        lay.add("text", group=group, cls="edge-label", **label)


def _add_bias_edges(lay: Layout, f: _Frame, k: int, group: str, vmax: float) -> None:
    l, dst, bp = k + 1, f.shown[k + 1], f.bias_pos[k]
    theta = f.trace.thetas[k]
    # Backward, bias edges carry nothing back; past a dozen they would only clutter.
    if bp is None or (f.backward and len(dst) > 12):
        return
    for i in dst:
        i = int(i)
        x2, y2 = f.pos[k + 1][i]
        if f.backward:
            color, w, op = NEUTRAL, 0.8, 0.45
        else:
            v = theta[i, 0]
            bmax = float(np.abs(theta[:, 0]).max()) or 1.0
            color, w, op = POSITIVE if v >= 0 else NEGATIVE, 0.5 + 3.0 * abs(v) / max(bmax, vmax), 0.55
        tip = (f"{theta_name(l, i + 1, 0)} = {f.n(theta[i, 0])} (bias weight"
               + ("; bias units have no δ)" if f.backward else ")"))
        lay.add("line", group=group, title=tip, x1=bp[0] + 8, y1=bp[1], x2=x2 - f.r, y2=y2, color=color,
                width=w, opacity=op, dash="4 3", cls="edge bias-edge", id=f"edge-{l}-{i + 1}-0",
                data={"l": l, "i": i + 1, "j": 0, "value": float(theta[i, 0])})


def _add_weighted_edges(lay: Layout, f: _Frame, k: int, group: str, pairs, weights, vmax: float) -> list[dict]:
    """One line per edge (from an image: and a dot on its pixel); returns the numbers to write on a small net."""
    l, n, r = k + 1, f.n, f.r
    theta, d_next = f.trace.thetas[k], f.trace.layers[k + 1].delta
    from_image = f.is_image(k)
    label_edges = len(pairs) <= 8 and r >= 14
    # many edges: thinner and lighter, so that the strongest still stand out
    w_max, op_min, op_span = (5.6, 0.25, 0.7) if len(pairs) <= 60 and not from_image else (3.0, 0.15, 0.6)
    labels: list[dict[str, Any]] = []
    for i, j in pairs:
        v = float(weights[i, j])
        t = abs(v) / vmax
        x1, y1 = f.pos[k][j]
        x2, y2 = f.pos[k + 1][i]
        start = x1 + (0 if from_image else r)
        sym = theta_name(l, i + 1, j + 1)
        if f.backward:
            tip = (f"{sym}·{delta_name(l + 1, i + 1)} = ({n(theta[i, j + 1])})({n(d_next[i])}) = {n(v)}")
        else:
            tip = f"{sym} = {n(v)}"
        lay.add("line", group=group, title=tip, x1=start, y1=y1, x2=x2 - r, y2=y2,
                color=POSITIVE if v >= 0 else NEGATIVE, width=0.4 + w_max * t, opacity=op_min + op_span * t,
                cls=f"edge {'pos' if v >= 0 else 'neg'}", id=f"edge-{l}-{i + 1}-{j + 1}",
                data={"l": l, "i": i + 1, "j": j + 1, "value": v})
        if from_image:  # mark the pixel the edge starts from
            lay.add("circle", group=group, cx=x1, cy=y1, r=min(3.5, max(1.5, f.cell * 0.3)), fill=POSITIVE if v >= 0
                    else NEGATIVE, stroke="#ffffff", stroke_width=0.6)
        if label_edges:  # small nets: write the number on the edge, near its left end
            c = 0.3
            labels.append(dict(x=start + c * (x2 - r - start), y=y1 + c * (y2 - y1), text=n(v), size=11,
                               anchor="middle", color=POSITIVE if v >= 0 else NEGATIVE))
    return labels


# -- units -------------------------------------------------------------------------------------------------------


def _add_units(lay: Layout, f: _Frame, k: int, class_names, highlight) -> None:
    """Layer l = k + 1 in its own group: its bias unit, then its drawn units."""
    l, layer = k + 1, f.trace.layers[k]
    group = f"layer-{l}"
    lay.groups[group] = {"class": "layer input-image" if f.is_image(k) else "layer", "id": f"layer-{l}",
                         "data-l": str(l), "data-kind": layer.kind, "data-units": str(layer.size),
                         "data-shown": str(len(f.shown[k]))}
    bp = f.bias_pos[k]
    if bp is not None:
        lay.add("rect", group=group, title=f"bias unit {a_name(l, 0)} = 1", x=bp[0] - 11, y=bp[1] - 11,
                w=22, h=22, fill="#ffffff", stroke="#555555", stroke_width=1.2, dash="3 2", rx=3,
                cls="unit bias", id=f"bias-{l}", data={"l": l, "j": 0, "value": 1.0})
        lay.add("text", group=group, x=bp[0], y=bp[1], text="+1", size=11, anchor="middle", color="#333333")
    if layer.kind == "input":
        _add_inputs(lay, f, group)
        return
    scale = float(np.abs(layer.delta if f.backward else layer.a).max()) or 1.0
    for j in f.shown[k]:
        _add_unit(lay, f, k, int(j), group, scale, highlight)
        if layer.kind == "output":
            _add_output_label(lay, f, int(j), group, class_names)


def _add_inputs(lay: Layout, f: _Frame, group: str) -> None:
    """x as grey circles with their values, or as the image itself (one square per pixel, in a frame)."""
    layer, r, cell = f.trace.layers[0], f.r, f.cell
    lo, hi = float(layer.a.min()), float(layer.a.max())
    span = (hi - lo) or 1.0
    for j in f.shown[0]:
        j = int(j)
        x, y = f.pos[0][j]
        g = round(255 * (1 - (layer.a[j] - lo) / span))  # ink: large values dark, like pen on paper
        rgb = (g, g, g)
        tip = f"x{sub(j + 1)} = {a_name(1, j + 1)} = {f.n(layer.a[j])}"
        data = {"l": 1, "j": j + 1, "value": float(layer.a[j])}
        if f.is_image(0):
            lay.add("rect", group=group, title=tip, x=x - cell / 2, y=y - cell / 2, w=cell, h=cell,
                    fill=_hex(rgb), stroke=None, cls="unit input pixel", id=f"unit-1-{j + 1}", data=data)
        else:
            lay.add("circle", group=group, title=tip, cx=x, cy=y, r=r, fill=_hex(rgb), stroke="#444444",
                    stroke_width=1.0, cls="unit input", id=f"unit-1-{j + 1}", data=data)
            if r >= 12:
                _circle_label(lay, group, x, y, r, format_number(layer.a[j], 2), rgb)
            if r >= 16:
                _unit_name(lay, group, x, y, r, f"x{sub(j + 1)}")
    if f.is_image(0):
        rows_, cols_ = f.img_shape
        x0, y0 = f.pos[0][int(_as_image(np.arange(layer.size), f.img_shape, f.image_order)[0, 0])]
        lay.add("rect", group=group, x=x0 - cell / 2, y=y0 - cell / 2, w=cols_ * cell, h=rows_ * cell,
                fill="none", stroke="#444444", stroke_width=1.0, cls="image-frame")


def _signed_units(trace: Trace, k: int) -> bool:
    """Whether the activations of layer k + 1 can leave [0, 1] (tanh, ReLU, identity units): then they are drawn on
    the diverging scale, each layer scaled to its own largest |a|, as δ is; sigmoid and softmax units keep 0..1."""
    kind = trace.layers[k].kind
    if kind == "hidden":
        return not get_activation(trace.activation).in_unit_interval
    return kind == "output" and trace.pair.is_regression


def _add_unit(lay: Layout, f: _Frame, k: int, j: int, group: str, scale: float, highlight) -> None:
    """Hidden or output unit j (0-based) of layer l = k + 1: a circle coloured by δ or a, its value and name.

    ``scale``: the layer's largest |δ| (backward) or |a| (forward), for the diverging scale."""
    l, layer, n, r = k + 1, f.trace.layers[k], f.n, f.r
    x, y = f.pos[k][j]
    if f.backward:
        rgb = _interp(_DIVERGING, float(layer.delta[j]) / scale)
        shown_value = layer.delta[j]
    elif _signed_units(f.trace, k):
        rgb = _interp(_DIVERGING, float(layer.a[j]) / scale)
        shown_value = layer.a[j]
    else:
        rgb = _interp(_SEQUENTIAL, float(layer.a[j]))
        shown_value = layer.a[j]
    tip = (f"unit {l}:{j + 1} · {z_name(l, j + 1)} = {n(layer.z[j])} · a = {n(layer.a[j])} · "
           f"g′(z) = {n(layer.g_prime[j])} · {delta_name(l, j + 1)} = {n(layer.delta[j])}")
    if layer.kind == "output":
        tip += f" · y = {n(f.trace.y[j])}"
    hl = highlight == (l, j + 1)
    lay.add("circle", group=group, title=tip, cx=x, cy=y, r=r, fill=_hex(rgb),
            stroke="#000000" if hl else "#333333",
            stroke_width=4.0 if hl else (1.6 if layer.kind == "output" else 1.1),
            cls=f"unit {layer.kind}" + (" highlight" if hl else ""),
            id=f"unit-{l}-{j + 1}", data={"l": l, "j": j + 1, "value": float(shown_value)})
    if r >= 12:
        _circle_label(lay, group, x, y, r, format_number(shown_value, 2), rgb)
    if r >= 16:
        _unit_name(lay, group, x, y, r, f"{'δ' if f.backward else 'a'}{sub(j + 1)}{sup(l)}")


def _add_output_label(lay: Layout, f: _Frame, j: int, group: str, class_names) -> None:
    """Beside output unit j (0-based): its class and h (and δ), marked as the target and/or the prediction."""
    trace, n = f.trace, f.n
    layer = trace.layers[-1]
    x, y = f.pos[-1][j]
    if trace.K == 1:
        text = f"h = {n(layer.a[j])} (y = {n(trace.y[j])})"
    else:
        name = class_names[j] if class_names is not None else str(j)
        text = f"{name}: h = {n(layer.a[j])}"
    if f.backward:
        text += f", δ = {n(layer.delta[j])}"
    marks = [w for w, on in (("target", trace.y[j] == 1), ("predicted", j == trace.prediction)) if on]
    if trace.K > 1 and marks:
        text += " ← " + " and ".join(marks)
    lay.add("text", group=group, x=x + f.r + 8, y=y, text=text, size=min(13.0, max(10.0, f.dy * 0.42)),
            anchor="start", color="#111111", weight="bold" if trace.y[j] == 1 else "normal")


def _circle_label(lay: Layout, group: str, x: float, y: float, r: float, text: str, rgb) -> None:
    """The unit's value inside its circle, shrunk to fit."""
    size = min(11.0, r * 0.62, 1.8 * r / (0.6 * max(len(text), 1)))
    lay.add("text", group=group, x=x, y=y, text=text, size=round(size, 1), anchor="middle", color=_ink_for(rgb))


def _unit_name(lay: Layout, group: str, x: float, y: float, r: float, text: str) -> None:
    """The unit's lecture name (δ₂⁽²⁾, a₂⁽²⁾, x₁) just above its circle, for small nets."""
    lay.add("text", group=group, x=x - r * 0.55, y=y - r - 7, text=text, size=11, anchor="end", color="#333333",
            cls="unit-name")


# -- the whole diagram, and its legend ---------------------------------------------------------------------------


def layout(trace: Trace, view: View = "backward", *, max_units: int = 30, max_edges: int = 300,
           image_shape: tuple[int, int] | None = None, image_order: str = "C",
           class_names: Sequence[str] | None = None, title: str | None = None, digits: int = 3,
           image_edges: int = 50, highlight: tuple[int, int] | None = None, min_text: float = 0.0) -> Layout:
    """The diagram of ``trace`` as data: every shape with its position, colour, label and tooltip.

    The options are :func:`diagram_svg`'s; ``digits`` is the precision of the numbers in labels and tooltips, and
    ``image_edges`` how many edges in all leave an input drawn as an image. The SVG writer and
    :func:`glassnet.explain.figures.diagram_png` both draw this.
    """
    _check_options(trace, view, max_units, max_edges, class_names, highlight)
    backward = view == "backward"
    img_shape = infer_image_shape(trace.sizes[0], image_shape)
    shown = _shown_units(trace, backward, max_units, img_shape, highlight)
    f, lay = _frame(trace, backward, digits, img_shape, image_order, shown)
    _add_headers(lay, f, title, class_names)
    for k in range(trace.L - 1):
        _add_edges(lay, f, k, max_edges, image_edges)
    for k in range(trace.L):
        _add_units(lay, f, k, class_names, highlight)
    signed = [] if backward else [trace.layers[k].kind for k in range(1, trace.L) if _signed_units(trace, k)]
    names = {"hidden": f"{trace.activation} hidden units", "output": f"{trace.pair.output} output units"}
    label = " and ".join(dict.fromkeys(names[kind] for kind in signed))
    _legend(lay, view, f.top + f.body + 34.0,
            f"{label}: a, each layer scaled to its own largest |a|" if label else None)
    if min_text > 0:  # text that would be too small to read is left out (the numbers stay in the tooltips)
        lay.shapes = [s for s in lay.shapes if s.kind != "text" or float(s.a["size"]) >= min_text]
    _fit_canvas(lay)
    return lay


def _fit_canvas(lay: Layout) -> None:
    """Widen the canvas to the text that was laid out (DejaVu Sans: about 0.6 em per character, bold 0.66)."""
    right = 0.0
    for sh in lay.shapes:
        if sh.kind == "text":
            w = len(sh.a["text"]) * float(sh.a["size"]) * (0.66 if sh.a.get("weight") == "bold" else 0.6)
            anchor = sh.a.get("anchor", "start")
            right = max(right, sh.a["x"] + (w if anchor == "start" else w / 2 if anchor == "middle" else 0))
    lay.width = float(math.ceil(max(lay.width, right + 18.0)))
    lay.height = float(math.ceil(lay.height))  # whole pixels, so that the PNG has exactly the SVG's size


def _legend(lay: Layout, view: View, y0: float, signed: str | None = None) -> None:
    """The legend below the units; ``signed``: the caption of the diverging scale that some units of the forward
    view are drawn on (None: every unit is on the 0..1 scale)."""
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
        lay.add("text", group=g, x=x + 56, y=y1 + 20, text="−max|δ|", size=11, anchor="start")
        lay.add("text", group=g, x=x + 144, y=y1 + 20, text="0", size=11, anchor="middle")
        lay.add("text", group=g, x=x + 232, y=y1 + 20, text="+max|δ|", size=11, anchor="end")
        note = "δ, each layer scaled to its own largest |δ|; inputs (grey) show x"
    else:
        lay.add("text", group=g, x=x + 56, y=y1 + 20, text="a = 0", size=11, anchor="start")
        lay.add("text", group=g, x=x + 232, y=y1 + 20, text="a = 1", size=11, anchor="end")
        note = "activation a = g(z); inputs (grey) show x"
    lay.add("text", group=g, x=x + 244, y=y1, text=note, size=12, anchor="start")
    if signed:  # the second scale, on the same row after the note (the canvas widens to fit)
        x2 = x + 244 + 0.6 * 12 * len(note) + 24
        for s in range(11):
            lay.add("rect", group=g, x=x2 + s * 16, y=y1 - 8, w=16, h=16,
                    fill=_hex(_interp(_DIVERGING, -1.0 + s / 5)), stroke=None)
        lay.add("rect", group=g, x=x2, y=y1 - 8, w=176, h=16, fill="none", stroke="#555555", stroke_width=0.8)
        lay.add("text", group=g, x=x2, y=y1 + 20, text="−max|a|", size=11, anchor="start")
        lay.add("text", group=g, x=x2 + 88, y=y1 + 20, text="0", size=11, anchor="middle")
        lay.add("text", group=g, x=x2 + 176, y=y1 + 20, text="+max|a|", size=11, anchor="end")
        lay.add("text", group=g, x=x2 + 188, y=y1, text=signed, size=12, anchor="start")
    y2 = y1 + 42
    lay.add("rect", group=g, x=x + 56, y=y2 - 10, w=20, h=20, fill="#ffffff", stroke="#555555", stroke_width=1.2,
            dash="3 2", rx=3)
    lay.add("text", group=g, x=x + 66, y=y2, text="+1", size=11, anchor="middle", color="#333333")
    bias_note = ("bias unit a₀ = 1 (dashed edges: it has no δ, so nothing flows back to it)" if backward
                 else "bias unit a₀ = 1 (dashed edges: the bias weights Θᵢ₀)")
    lay.add("text", group=g, x=x + 84, y=y2, text=bias_note, size=12, anchor="start")
    lay.add("text", group=g, x=x, y=y2 + 24, text="In a browser, hover over a unit or an edge to see its numbers.",
            size=11, anchor="start", color="#555555", svg_only=True)


# ---------------------------------------------------------------------------------------------------------------
# SVG writer


def _fmt(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)


def _svg_shape(s: Shape, prefix: str) -> str:
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


def _to_svg(lay: Layout, prefix: str, view: View, sizes: Sequence[int]) -> str:
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="glassnet-diagram" data-view="{view}" '
           f'data-sizes="{"-".join(map(str, sizes))}" width="{_fmt(lay.width)}" height="{_fmt(lay.height)}" '
           f'viewBox="0 0 {_fmt(lay.width)} {_fmt(lay.height)}" '
           f'font-family="DejaVu Sans, Verdana, Arial, sans-serif">',
           f'<rect x="0" y="0" width="{_fmt(lay.width)}" height="{_fmt(lay.height)}" fill="#ffffff"/>']
    by_group: dict[str, list[Shape]] = {}
    for s in lay.shapes:
        by_group.setdefault(s.group, []).append(s)
    for g in lay.drawing_order():
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
                highlight: tuple[int, int] | None = None, min_text: float = 0.0) -> str:
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
    min_text : float
        Leave out text smaller than this font size (e.g. the values inside the circles of a crowded layer), for a
        drawing that must stay readable at its displayed size; the numbers remain in the tooltips.

    Returns
    -------
    str
        A standalone SVG document (module docstring: ids, classes and collapsed forms).
    """
    lay = layout(trace, view, max_units=max_units, max_edges=max_edges, image_shape=image_shape,
                 image_order=image_order, class_names=class_names, title=title, highlight=highlight,
                 min_text=min_text)
    return _to_svg(lay, id_prefix, view, trace.sizes)


