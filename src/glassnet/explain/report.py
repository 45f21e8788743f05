"""The self-contained HTML report of a :class:`~glassnet.explain.trace.Trace`, and its compact block for notebooks.

For: one file to open or send — :func:`html_report` puts the example, both diagrams (inline SVG), the δ equations,
the layer tables and, when given, the misclassified examples, hidden units and curves (PNG data URIs) in one page
with no script and no network access. :func:`notebook_html` is the short block a trace shows in Jupyter.
Not for: computing anything (every number comes from the trace) or writing files.
"""

from __future__ import annotations

import base64
import html
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from glassnet.explain.diagram import diagram_svg, infer_image_shape
from glassnet.explain.figures import (
    cost_curves_png,
    examples_png,
    hidden_units_png,
    learning_curve_png,
    validation_curve_png,
)
from glassnet.explain.text import (
    GALLERY_LIMIT,
    _describe_example,
    _layer_rows,
    format_number,
    readable_top_k,
    render_text,
    shown_text,
    unit_equation,
)
from glassnet.explain.trace import Trace
from glassnet.forward import forward
from glassnet.outputs import predict_units

__all__ = ["html_report", "notebook_html"]

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


def _equations(trace: Trace, digits: int, max_units: int, first_layer: int) -> list[str]:
    """The δ equations from the output layer down, the gradient terms, and the layer tables from ``first_layer``."""
    esc = html.escape
    parts: list[str] = []
    parts.append("<h2>The δ equations, with this example's numbers</h2>")
    eq_lines = render_text(trace, digits=digits, max_rows=max_units, top_k=readable_top_k(trace)).split("\n\n")
    backward_block = next((b for b in eq_lines if b.startswith("Backward pass")), "")
    gradient_block = next((b for b in eq_lines if b.startswith("Gradient")), "")
    parts.append(f'<pre class="eq">{esc(backward_block)}</pre>')
    parts.append(f'<pre class="eq">{esc(gradient_block.strip())}</pre>')
    parts.append("<details open><summary>Per-layer tables (z, a, g′(z), δ)</summary>")
    parts += [_html_table(trace, l, digits, max_units) for l in range(first_layer, trace.L + 1)]
    parts.append("</details>")
    return parts


def _misclassified(trace: Trace, X, y, img_shape, image_order: str, classes) -> list[str]:
    """How many of X's examples the network gets wrong, and which (as images when the input is one).

    ``y`` and the predictions are output units (0-based); every title names their classes, ``classes[unit]``.
    """
    esc = html.escape
    parts: list[str] = []
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != trace.sizes[0] or y.shape[0] != X.shape[0]:
        raise ValueError(f"X, y: expected X of shape (m, {trace.sizes[0]}) and m labels, got X {X.shape} and "
                         f"y {y.shape}")
    pred = predict_units(forward(list(trace.thetas), X).z_out)  # the output layer's one prediction rule
    wrong = np.flatnonzero(pred != y)
    names = list(range(max(trace.K, 2))) if classes is None else list(classes)
    if len(names) != max(trace.K, 2):
        raise ValueError(f"classes: expected the {max(trace.K, 2)} classes of the output units, in unit order, got "
                         f"{len(names)}")
    label, guess = [names[u] for u in y], [names[u] for u in pred]  # the classes the units stand for
    parts.append("<h2>Misclassified examples</h2>")
    shown = wrong[:GALLERY_LIMIT]
    cut = shown_text(len(shown), len(wrong))
    parts.append(f"<p>{len(wrong)} of {len(y)} examples misclassified "
                 f"({format_number(100 * len(wrong) / len(y), 3)}% error; each titled #row: label → prediction)"
                 f"{'; ' + cut if cut else ''}.</p>")
    if len(wrong) and img_shape:
        png = examples_png(X[shown], [label[t] for t in shown], [guess[t] for t in shown], img_shape, image_order,
                           max_examples=GALLERY_LIMIT, indices=shown.tolist())
        parts.append(f'<img alt="misclassified examples" src="{_data_uri(png)}">')
    elif len(wrong):
        parts.append("<p>" + esc(", ".join(f"#{t}: {label[t]} → {guess[t]}" for t in shown)) + "</p>")
    return parts


def _pictures(trace: Trace, img_shape, image_order: str, history, learning_curve, validation_curve) -> list[str]:
    """The hidden units as images (an image input and a hidden layer), and the curves that were given."""
    parts: list[str] = []
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
    return parts


def html_report(trace: Trace, *, X: np.ndarray | None = None, y: np.ndarray | None = None,
                history=None, learning_curve=None, validation_curve=None,
                image_shape: tuple[int, int] | None = None, image_order: str = "C",
                class_names: Sequence[str] | None = None, classes: Sequence | None = None, title: str | None = None,
                digits: int = 4, max_units: int = 30, max_edges: int = 300, unit: tuple[int, int] | None = None) -> str:
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
    kw: dict[str, Any] = dict(max_units=max_units, max_edges=max_edges, image_shape=image_shape,
                              image_order=image_order, class_names=class_names, highlight=unit)
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{esc(title)}</title>"
             f"<style>{_CSS}</style></head><body>", f"<h1>{esc(title)}</h1>"]
    desc = _describe_example(trace, digits, class_names)
    mood = {True: "good", False: "bad", None: "meta"}[trace.correct]
    setup = "" if trace.is_lecture else f"<br>{esc(trace.setup)}"
    parts.append(f'<p class="meta">{esc(desc[0])}<br><span class="{mood}">{esc(desc[1])}</span>{setup}</p>')
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
    # an image input is in the diagram; 400 rows of x in a table would say less
    parts += _equations(trace, digits, max_units, first_layer=2 if img_shape else 1)
    parts.append("<h2>Forward pass: what the network computed</h2>")
    parts.append('<div class="figure">' + _strip_xml_decl(diagram_svg(trace, "forward", id_prefix="fw-", **kw))
                 + "</div>")
    if X is not None and y is not None:
        parts += _misclassified(trace, X, y, img_shape, image_order, classes)
    parts += _pictures(trace, img_shape, image_order, history, learning_curve, validation_curve)
    parts.append(f'<p class="note">Made by glassnet for network {esc(net)}. Everything is in this file; it needs no '
                 "network access.</p></body></html>\n")
    return "\n".join(parts)


_NOTEBOOK_IDS = itertools.count(1)  # each block's SVG ids get their own prefix: a notebook page holds many


def notebook_html(trace: Trace, digits: int = 4) -> str:
    """The block a trace shows in Jupyter (``trace._repr_html_()``): one line about the example, the backward
    diagram as inline SVG, and the δ equations with numbers for the output layer and for one hidden unit.

    The hidden unit is the one of layer L − 1 with the largest |δ|. A layer of more than 10 output units shows only
    the target's and the prediction's equations. Square inputs of 8×8 or more are drawn as an image, row by row
    (:func:`html_report` and :func:`glassnet.explain.diagram.diagram_svg` take ``image_order`` for other data).
    """
    esc = html.escape
    head = " · ".join(_describe_example(trace, digits))
    svg = _strip_xml_decl(diagram_svg(trace, "backward", id_prefix=f"glassnet-{next(_NOTEBOOK_IDS)}-"))
    L, K = trace.L, trace.K
    outputs: Sequence[int] = range(1, K + 1)
    if K > 10:
        outputs = sorted({trace.prediction + 1} | {int(k) + 1 for k in np.flatnonzero(trace.y == 1)})
    eqs = [unit_equation(trace, L, j, digits) for j in outputs]
    if L >= 3:
        j = int(np.argmax(np.abs(trace.layers[L - 2].delta))) + 1
        eqs.append(unit_equation(trace, L - 1, j, digits, top_k=readable_top_k(trace)))
    # The diagram keeps its own size (its text is 11-17 px) and scrolls sideways in a narrow column rather than
    # shrinking to unreadable text; the equations wrap only between words, never inside a number (notebook and
    # docs style sheets break output text anywhere by default).
    svg = svg.replace("<svg ", '<svg style="max-width: none" ', 1)
    return (f'<div class="glassnet-trace"><p style="font-family: monospace">{esc(head)}</p>'
            f'<div style="overflow-x: auto">{svg}</div>'
            f'<pre style="white-space: pre-wrap; word-break: normal; overflow-wrap: normal; overflow-x: auto">'
            f'{esc(chr(10).join(eqs))}</pre></div>')
