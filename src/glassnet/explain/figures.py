"""Pictures as PNG bytes, drawn with matplotlib: the network diagram, hidden units and examples as images, curves.

For: files and notebooks that want a bitmap — :func:`diagram_png` draws the very :func:`glassnet.explain.diagram.layout`
that the SVG writer writes, so the PNG and the SVG show the same thing at the same size; :func:`display_grid` is the
course's ``displayData``; the curve functions plot a training history or a record of :mod:`glassnet.explain.curves`.
Not for: computing anything (every number comes from a trace, a history or a curve record) or writing files.

The only module of glassnet that imports matplotlib: lazily, inside the functions that draw, and through the
object-oriented ``Figure`` API so that no global pyplot state or backend is touched. Importing it does not import
matplotlib.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

from glassnet.explain.diagram import NEGATIVE, POSITIVE, Layout, View, _as_image, infer_image_shape, layout
from glassnet.explain.text import format_number
from glassnet.explain.trace import Trace

__all__ = [
    "diagram_png",
    "display_grid",
    "hidden_units_png",
    "examples_png",
    "cost_curves_png",
    "learning_curve_png",
    "validation_curve_png",
]


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


def _layout_to_png(lay: Layout, scale: float) -> bytes:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle, FancyBboxPatch, Rectangle

    fig = _figure(lay.width / 100.0, lay.height / 100.0)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, lay.width)
    ax.set_ylim(lay.height, 0)
    ax.set_axis_off()
    pt = 0.72  # points per SVG pixel at 100 dpi
    rank = {g: k for k, g in enumerate(lay.drawing_order())}
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
    lay = layout(trace, view, max_units=max_units, max_edges=max_edges, image_shape=image_shape,
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


def _cost_list(values, key: str) -> list[float]:
    """``values`` as a list of floats; anything else (a string, a dict, a nested list, a huge int) is a ValueError
    naming ``key`` (a history read from a JSON file may hold anything)."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, (Sequence, np.ndarray)):
        raise ValueError(f"history[{key!r}]: expected a list of numbers, got {type(values).__name__}")
    out = []
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)):
            raise ValueError(f"history[{key!r}]: expected a list of numbers, found {v!r}"[:200])
        try:
            out.append(float(v))
        except OverflowError:
            raise ValueError(f"history[{key!r}]: {str(v)[:40]}... is too large for a cost") from None
    return out


def _history_series(history) -> tuple[list[float], list[float] | None]:
    """(train, validation) cost lists from a History, a dict or a plain list."""
    if hasattr(history, "cost") and not isinstance(history, Mapping):
        val = getattr(history, "val_cost", None) or getattr(history, "validation_cost", None)
        return _cost_list(history.cost, "cost"), (_cost_list(val, "val_cost") if val else None)
    if isinstance(history, Mapping):
        train_keys = ("train", "training", "cost", "train_cost", "loss")
        val_keys = ("validation", "val", "val_cost", "validation_cost", "val_loss")
        train_key = next((k for k in train_keys if k in history), None)
        val_key = next((k for k in val_keys if k in history), None)
        if train_key is None:
            raise ValueError(f"history: expected a training cost list under one of {train_keys}, "
                             f"got keys {sorted(map(str, history))[:20]}")
        val = history[val_key] if val_key is not None else None
        return _cost_list(history[train_key], train_key), (_cost_list(val, val_key) if val is not None else None)
    if isinstance(history, Sequence) and not isinstance(history, str):
        return _cost_list(history, "costs"), None
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


def _curve_png(x, train, val, xlabel: str, ylabel: str, title: str, log_x: bool, best: float | None,
               labels: tuple[str, str] = ("training", "validation"), note: str | None = None) -> bytes:
    fig = _figure(7.0, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(x, train, "o-", color=NEGATIVE, lw=2, label=labels[0])
    ax.plot(x, val, "s-", color=POSITIVE, lw=2, label=labels[1])
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
    if note:
        fig.text(0.012, 0.012, note, fontsize=8, color="#333333", ha="left", va="bottom", wrap=False)
        fig.tight_layout(rect=(0.0, 0.02 + 0.035 * (note.count("\n") + 1), 1.0, 1.0))
    else:
        fig.tight_layout()
    return _png_bytes(fig)


def _learning_curve_text(curve, metric: Literal["cost", "error"] = "cost") -> dict[str, str]:
    """What the learning-curve figure says: title, y label, the two legend entries and the note below the plot.

    The curves are the lecture's: J_train on the m examples trained on and J_val on the validation set, both
    without the λ term (the course's learningCurve). A network trained with λ > 0 is held back more on a small
    training set (the penalty λ/(2m)·ΣΘ² is larger there), so J_train may fall as m grows; the note says so.
    """
    lam = format_number(curve.lam)
    title = f"Learning curve (network {'-'.join(map(str, curve.sizes))}, trained with λ = {lam})"
    if metric == "cost":
        ylabel = "cost J(Θ) without the λ term"
        labels = ("J_train: the m training examples, no λ term", "J_val: the validation set, no λ term")
        note = (f"As in the lecture, J_train and J_val are measured without the λ term; the networks were trained "
                f"with λ = {lam}.")
    else:
        ylabel, labels = "misclassification error", ("training error (the m examples)", "validation error")
        note = (f"Errors on the m examples trained on and on the whole validation set; the networks were trained "
                f"with λ = {lam}.")
    if curve.lam > 0:
        note += ("\nWith λ > 0 the penalty λ/(2m)·ΣΘ² weighs more when m is small, so a small training set is "
                 "fitted loosely and the\ntraining curve can fall as m grows (the lecture's rising J_train is that "
                 "of a fit with little or no λ).")
    return {"title": title, "ylabel": ylabel, "train": labels[0], "val": labels[1], "note": note}


def learning_curve_png(curve, metric: Literal["cost", "error"] = "cost") -> bytes:
    """Error vs number of training examples m (a :class:`glassnet.explain.curves.LearningCurve`).

    The lecture's quantities: J_train (on the m examples trained on) and J_val, both without the λ term, or the
    misclassification errors; the figure says so, and why a curve trained with λ > 0 may fall with m.
    """
    train, val, _ = _metric(curve, metric)
    words = _learning_curve_text(curve, metric)
    return _curve_png(curve.m, train, val, "training examples m", words["ylabel"], words["title"], log_x=False,
                      best=None, labels=(words["train"], words["val"]), note=words["note"])


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
