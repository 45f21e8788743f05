"""``glassnet explain`` and ``glassnet plot``: backpropagation of one example, diagrams and curves, written to files.

A thin shell over :mod:`glassnet.explain`: parse, load the model and the data, call the library, write. Files given
with ``-o`` are written atomically and never replace an existing file unless ``--force`` is given. Exit codes: 0 done,
1 a file could not be read or written (or would be overwritten), 2 a bad argument (the message names the valid range).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMATS = ("text", "svg", "png", "html", "json")


class _Usage(Exception):
    """A bad argument: exit code 2."""


class _Failure(Exception):
    """A file problem: exit code 1."""


# ---------------------------------------------------------------------------------------------------------------
# parsers


def register(sub) -> None:
    p = sub.add_parser(
        "explain", help="show backpropagation of one example: the δ equations with numbers, a diagram or a report",
        description="Trace one example through a trained network: z, a, g′(z) and δ of every unit, the lecture's "
                    "equation δⱼ⁽ˡ⁾ = Σᵢ Θᵢⱼ⁽ˡ⁾δᵢ⁽ˡ⁺¹⁾ · g′(zⱼ⁽ˡ⁾) with the numbers filled in, and the example's part "
                    "of the gradient. Text goes to the terminal unless -o is given; svg, png and html are files.")
    p.add_argument("--model", required=True, type=Path, metavar="FILE",
                   help="model file (glassnet .npz from Classifier/save, bare weights from save_thetas, or a course "
                        ".mat with Theta1, Theta2, ...)")
    p.add_argument("--data", default="digits", metavar="NAME|FILE",
                   help="built-in dataset (digits, mnist_5k, iris, breast_cancer, xor, moons) or a CSV/.npz/.mat "
                        "file (default: digits)")
    p.add_argument("--example", type=int, default=0, metavar="N", help="row of the data to explain (default 0)")
    p.add_argument("--unit", metavar="L:J", help="one unit, e.g. 2:2 for δ₂⁽²⁾: its equation and every edge term")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
    p.add_argument("--view", choices=("backward", "forward"), default="backward",
                   help="diagram view: backward (δ, edge terms Θ·δ) or forward (a, weights Θ); default backward")
    p.add_argument("--top-k", type=int, metavar="K",
                   help="write out only the K largest edge terms per equation (default: all when the next layer "
                        "has at most 6 units, else 4)")
    p.add_argument("--digits", type=int, default=4, help="significant digits of the numbers (default 4)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE (needed for png)")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.set_defaults(func=_cmd_explain)

    plot = sub.add_parser("plot", help="draw training curves, hidden units, learning or validation curves (PNG)",
                          description="Plots as PNG files. Every kind needs -o FILE.png.")
    kinds = plot.add_subparsers(dest="kind", metavar="KIND")
    c = kinds.add_parser("curves", help="training and validation cost per iteration of a trained model")
    c.add_argument("--model", type=Path, metavar="FILE", help="model file whose training history to plot")
    c.add_argument("--history", type=Path, metavar="FILE.json",
                   help='a JSON history instead: History.to_dict() or {"train": [...], "validation": [...]}')
    h = kinds.add_parser("hidden", help="the hidden units of layer 2 as images (rows of Θ⁽¹⁾ without bias)")
    h.add_argument("--model", required=True, type=Path, metavar="FILE")
    h.add_argument("--image-shape", metavar="HxW", help="shape of one input image, e.g. 20x20 (default: square)")
    h.add_argument("--order", choices=("C", "F"), default="C",
                   help="pixel order of the inputs: C row by row (default), F column by column (course .mat data)")
    for name, helptext in (("learning-curve", "training and validation error vs number of examples m"),
                           ("validation-curve", "training and validation error vs λ")):
        q = kinds.add_parser(name, help=helptext + " (trains a network per point)")
        q.add_argument("--data", default="digits", metavar="NAME|FILE", help="dataset (default digits)")
        q.add_argument("--hidden", default="25", metavar="SIZES", help="hidden layer sizes, e.g. 25 or 50,20")
        q.add_argument("--max-iter", type=int, default=100, help="L-BFGS iterations per fit (default 100)")
        q.add_argument("--val-fraction", type=float, default=0.25,
                       help="share of the data held out for validation (default 0.25, stratified)")
        q.add_argument("--metric", choices=("cost", "error"), default="cost",
                       help="cost J(Θ) without regularization (the course's) or misclassification error")
        q.add_argument("--seed", type=int, default=0, help="seed of the split, the shuffle and the initial Θ")
        q.add_argument("--json", type=Path, metavar="FILE", help="also write the numbers as JSON")
        if name == "learning-curve":
            q.add_argument("--lam", type=float, default=1.0, help="λ for training (default 1)")
            q.add_argument("--sizes", metavar="M1,M2,...", help="training-set sizes (default: 8 from 10%% to 100%%)")
        else:
            q.add_argument("--lams", metavar="L1,L2,...", help="λ values (default the course's 0,0.001,...,10)")
    for q in (c, h) + tuple(kinds.choices[n] for n in ("learning-curve", "validation-curve")):
        q.add_argument("-o", "--output", required=True, type=Path, metavar="FILE.png", help="the PNG to write")
        q.add_argument("--force", action="store_true", help="replace FILE if it exists")
    plot.set_defaults(func=_cmd_plot, plot_parser=plot)


def _run(fn, args) -> int:
    try:
        return fn(args)
    except _Usage as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except _Failure as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


# ---------------------------------------------------------------------------------------------------------------
# loading


@dataclass
class _Model:
    thetas: list[np.ndarray]
    classes: np.ndarray  # class labels, in the order of the output units (K = 1: [negative, positive])
    lam: float
    history: Any = None


def _load_model(path: Path) -> _Model:
    from glassnet import io as gio

    if not path.is_file():
        raise _Failure(f"--model: no file {path}")
    try:
        if path.suffix.lower() == ".mat":
            from glassnet.datasets import load_mat_thetas

            thetas = load_mat_thetas(path)
            return _Model(thetas, _default_classes(thetas), 0.0)
        model, thetas, meta = gio.load_any(path)
        if model is None:  # bare weights (glassnet.io.save_thetas)
            lam = meta.get("lam", meta.get("alpha", 0.0))
            return _Model(thetas, _default_classes(thetas), float(lam or 0.0), meta.get("history"))
    except (ValueError, OSError) as exc:  # ModelFileError / DataError are ValueErrors naming the file
        raise _Failure(str(exc)) from None
    return _Model([np.asarray(t) for t in model.thetas_], np.asarray(model.classes_),
                  float(getattr(model, "alpha", 0.0) or 0.0), getattr(model, "history_", None))


def _default_classes(thetas) -> np.ndarray:
    K = np.shape(thetas[-1])[0]
    return np.arange(2 if K == 1 else K)


def _load_data(source: str):
    from glassnet import datasets

    try:
        return datasets.load(source)
    except FileNotFoundError as exc:
        raise _Failure(str(exc)) from None
    except ImportError as exc:
        raise _Failure(str(exc)) from None
    except ValueError as exc:
        if "neither a built-in" in str(exc):
            raise _Usage(f"--data: {exc}") from None
        raise _Failure(str(exc)) from None


def _label_indices(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Dataset labels as output-unit indices 0..K-1 (for K = 1: 0/1), by position in the model's classes."""
    lookup = {c.item() if hasattr(c, "item") else c: k for k, c in enumerate(classes)}
    out = np.empty(len(y), dtype=np.intp)
    for t, label in enumerate(y):
        key = label.item() if hasattr(label, "item") else label
        if key not in lookup:
            raise _Usage(f"--data: label {key!r} of example {t} is not one of the model's classes "
                         f"{[c.item() if hasattr(c, 'item') else c for c in classes]}")
        out[t] = lookup[key]
    return out


def _parse_unit(text: str, sizes: list[int]) -> tuple[int, int]:
    L = len(sizes)
    try:
        l_s, j_s = text.split(":")
        l, j = int(l_s), int(j_s)
    except ValueError:
        raise _Usage(f"--unit: expected LAYER:UNIT such as 2:2 (δ₂⁽²⁾), got {text!r}") from None
    if not 2 <= l <= L:
        raise _Usage(f"--unit {text}: layer must be 2..{L} (layer 1 is the input and has no δ)")
    if not 1 <= j <= sizes[l - 1]:
        raise _Usage(f"--unit {text}: layer {l} has units 1..{sizes[l - 1]}")
    return l, j


def _write(path: Path, data: bytes, force: bool) -> None:
    from glassnet.io import atomic_write

    if path.exists() and not force:
        raise _Failure(f"{path} exists; use --force to replace it")
    try:
        atomic_write(path, lambda f: f.write(data))
    except OSError as exc:
        raise _Failure(f"cannot write {path}: {exc}") from None


# ---------------------------------------------------------------------------------------------------------------
# explain


def _cmd_explain(args: argparse.Namespace) -> int:
    return _run(_explain, args)


def _explain(args: argparse.Namespace) -> int:
    import glassnet
    from glassnet.explain.diagram import diagram_svg
    from glassnet.explain.figures import diagram_png
    from glassnet.explain.report import html_report
    from glassnet.explain.text import readable_top_k, render_text
    from glassnet.params import sizes_from_thetas

    if args.format == "png" and args.output is None:
        raise _Usage("--format png: give the file to write with -o FILE.png")
    if args.top_k is not None and args.top_k < 1:
        raise _Usage(f"--top-k: expected a positive number of terms, got {args.top_k}")
    if not 1 <= args.digits <= 17:
        raise _Usage(f"--digits: expected 1..17 significant digits, got {args.digits}")
    if args.output is not None and args.output.exists() and not args.force:
        raise _Failure(f"{args.output} exists; use --force to replace it")
    model = _load_model(args.model)
    sizes = sizes_from_thetas(model.thetas)
    unit = _parse_unit(args.unit, sizes) if args.unit else None
    data = _load_data(args.data)
    X = np.asarray(data.X, dtype=np.float64)
    if X.shape[1] != sizes[0]:
        raise _Usage(f"--data {args.data}: {X.shape[1]} features per example, but the model's input layer has "
                     f"{sizes[0]} units")
    m = X.shape[0]
    if not 0 <= args.example < m:
        raise _Usage(f"--example {args.example}: the data has examples 0..{m - 1}")
    y = _label_indices(np.asarray(data.y), model.classes)
    trace = glassnet.explain(model.thetas, X, y, lam=model.lam, rows=args.example)
    label = data.y[args.example]
    trace = _with_label(trace, label.item() if hasattr(label, "item") else label)
    top_k = args.top_k if args.top_k is not None else readable_top_k(trace)
    image = dict(image_shape=data.image_shape, image_order=data.image_order) if data.image_shape else {}
    class_names = [str(c) for c in model.classes]
    if args.format == "text":
        out = render_text(trace, unit=unit, digits=args.digits, top_k=top_k, class_names=class_names).encode()
    elif args.format == "json":
        out = (json.dumps(trace.to_dict(), ensure_ascii=False, indent=1) + "\n").encode()
    elif args.format == "svg":
        out = diagram_svg(trace, args.view, class_names=class_names, highlight=unit, **image).encode()
    elif args.format == "png":
        out = diagram_png(trace, args.view, class_names=class_names, highlight=unit, **image)
    else:
        history = model.history if model.history is not None and _has_costs(model.history) else None
        out = html_report(trace, X=X, y=y, history=history, class_names=class_names, unit=unit,
                          digits=args.digits, **image).encode()
    if args.output is None:
        sys.stdout.write(out.decode())
        return 0
    _write(args.output, out, args.force)
    print(f"wrote {args.output}")
    return 0


def _with_label(trace, label):
    """The trace with the data set's own label (a class name, not the output-unit index)."""
    from dataclasses import replace

    return replace(trace, label=label)


def _has_costs(history) -> bool:
    cost = history.get("cost") if isinstance(history, dict) else getattr(history, "cost", None)
    return bool(cost)


# ---------------------------------------------------------------------------------------------------------------
# plot


def _cmd_plot(args: argparse.Namespace) -> int:
    if not getattr(args, "kind", None):
        args.plot_parser.print_help(sys.stderr)
        return 2
    return _run(_plot, args)


def _plot(args: argparse.Namespace) -> int:
    from glassnet.explain.figures import cost_curves_png, hidden_units_png

    if args.output.suffix.lower() != ".png":
        raise _Usage(f"-o {args.output}: plots are PNG files; use a name ending in .png")
    if args.output.exists() and not args.force:
        raise _Failure(f"{args.output} exists; use --force to replace it")
    extra = ""
    if args.kind == "curves":
        if (args.model is None) == (args.history is None):
            raise _Usage("plot curves: give exactly one of --model FILE or --history FILE.json")
        if args.model is not None:
            history = _load_model(args.model).history
            where = str(args.model)
        else:
            try:
                history = json.loads(args.history.read_text())
            except FileNotFoundError:
                raise _Failure(f"--history: no file {args.history}") from None
            except (OSError, ValueError) as exc:
                raise _Failure(f"--history {args.history}: not a JSON file ({exc})") from None
            where = str(args.history)
        if history is None or (args.model is not None and not _has_costs(history)):
            raise _Failure(f"{where}: no training history with costs to plot")
        try:
            png = cost_curves_png(history)
        except ValueError as exc:
            raise _Failure(f"{where}: {exc}") from None
    elif args.kind == "hidden":
        model = _load_model(args.model)
        if len(model.thetas) < 2:
            raise _Usage(f"--model {args.model}: the network has no hidden layer")
        shape = None
        if args.image_shape:
            try:
                r, c = (int(v) for v in args.image_shape.lower().split("x"))
            except ValueError:
                raise _Usage(f"--image-shape: expected HxW such as 20x20, got {args.image_shape!r}") from None
            shape = (r, c)
        try:
            png = hidden_units_png(model.thetas[0], shape, args.order)
        except ValueError as exc:
            raise _Usage(str(exc)) from None
    else:
        png, numbers = _curve(args)
        if args.json is not None:
            _write(args.json, (json.dumps(numbers, indent=1) + "\n").encode(), args.force)
            extra = f" and {args.json}"
    _write(args.output, png, args.force)
    print(f"wrote {args.output}{extra}")
    return 0


def _numbers(text: str, what: str, cast) -> list:
    try:
        values = [cast(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise _Usage(f"{what}: expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise _Usage(f"{what}: expected at least one number, got {text!r}")
    return values


def _curve(args):
    from sklearn.model_selection import train_test_split

    from glassnet.explain import curves
    from glassnet.explain.figures import learning_curve_png, validation_curve_png

    hidden = _numbers(args.hidden, "--hidden", int)
    if any(h < 1 for h in hidden):
        raise _Usage(f"--hidden: expected positive layer sizes, got {args.hidden!r}")
    if args.max_iter < 1:
        raise _Usage(f"--max-iter: expected a positive number of iterations, got {args.max_iter}")
    if not 0 < args.val_fraction < 1:
        raise _Usage(f"--val-fraction: expected a fraction between 0 and 1, got {args.val_fraction:g}")
    data = _load_data(args.data)
    classes, y = np.unique(np.asarray(data.y), return_inverse=True)
    if len(classes) < 2:
        raise _Usage(f"--data {args.data}: needs at least two classes")
    try:
        Xtr, Xval, ytr, yval = train_test_split(np.asarray(data.X, dtype=np.float64), y, test_size=args.val_fraction,
                                                stratify=y, random_state=args.seed)
    except ValueError as exc:
        raise _Usage(f"--val-fraction {args.val_fraction:g}: {exc}") from None
    try:
        if args.kind == "learning-curve":
            sizes = _numbers(args.sizes, "--sizes", int) if args.sizes else None
            rec = curves.learning_curve(Xtr, ytr, Xval, yval, hidden_layer_sizes=hidden, lam=args.lam,
                                        train_sizes=sizes, max_iter=args.max_iter, random_state=args.seed)
            png = learning_curve_png(rec, args.metric)
        else:
            lams = _numbers(args.lams, "--lams", float) if args.lams else curves.DEFAULT_LAMS
            rec = curves.validation_curve(Xtr, ytr, Xval, yval, lams=lams, hidden_layer_sizes=hidden,
                                          max_iter=args.max_iter, random_state=args.seed)
            png = validation_curve_png(rec, args.metric)
    except ValueError as exc:
        raise _Usage(str(exc)) from None
    return png, rec.to_dict()
