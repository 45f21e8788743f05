"""``glassnet explain`` and ``glassnet plot``: backpropagation of one example, diagrams and curves, written to files.

A thin shell over :mod:`glassnet.explain`: parse, load the model (any format :func:`glassnet.io.load_any` reads: a
glassnet file, bare weights, the course's ``.mat`` weights, Nielsen JSON) and the data, call the library, write.
Dataset labels become output units by the model's own output layer (:mod:`glassnet.outputs`: for the course's
``ex4weights.mat`` the digit 0 is unit 10). Files given with ``-o`` are written atomically and never replace an
existing file unless ``--force`` is given. ``--json`` prints one JSON document on stdout. Exit codes follow
:mod:`glassnet.cli._common`: 0 done, 1 a file could not be read or written (or would be overwritten), 2 a bad argument.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from glassnet._support.jsonsafe import read_json
from glassnet.cli._common import (
    EXIT_OK,
    Failure,
    UsageError,
    add_json_option,
    add_raw_features_option,
    builtin_names_help,
    check_fits_model,
    command,
    emit,
    emit_json,
    load_data,
    load_model,
    model_features,
    nonnegative_float,
    output_layer,
    write_atomic,
)
from glassnet.cli._common import seed as seed_number

FORMATS = ("text", "svg", "png", "html", "json")
#: A history JSON larger than this is refused before reading (a million epochs of every curve fit in it).
MAX_HISTORY_BYTES = 64 << 20


# ---------------------------------------------------------------------------------------------------------------
# parsers


def register(sub) -> None:
    p = sub.add_parser(
        "explain", help="show backpropagation of one example: the δ equations with numbers, a diagram or a report",
        description="Trace one example through a trained network: z, a, g′(z) and δ of every unit, the lecture's "
                    "equation δⱼ⁽ˡ⁾ = Σᵢ Θᵢⱼ⁽ˡ⁾δᵢ⁽ˡ⁺¹⁾ · g′(zⱼ⁽ˡ⁾) with the numbers filled in, and the example's part "
                    "of the gradient. Text goes to the terminal unless -o is given; svg, png and html are files.")
    p.add_argument("--model", required=True, type=Path, metavar="FILE",
                   help="model file: glassnet .npz (train --save, save, save_thetas), the course's .mat weights "
                        "(Theta1, Theta2, ...) or Nielsen JSON, recognised by content")
    p.add_argument("--data", default="digits", metavar="NAME|FILE",
                   help=f"{builtin_names_help()} or a CSV/.npz/.mat file, e.g. the course's ex4data1.mat "
                        "(default: digits)")
    p.add_argument("--lam", type=nonnegative_float, metavar="λ",
                   help="λ of the cost and gradient (default: the model's own; 1 for files that carry none)")
    p.add_argument("--example", type=int, default=0, metavar="N", help="row of the data to explain (default 0)")
    p.add_argument("--unit", metavar="L:J", help="one unit, e.g. 2:2 for δ₂⁽²⁾: its equation and every edge term")
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="output format (default text; json is the same as --json)")
    p.add_argument("--view", choices=("backward", "forward"), default="backward",
                   help="diagram view: backward (δ, edge terms Θ·δ) or forward (a, weights Θ); default backward")
    p.add_argument("--top-k", type=int, metavar="K",
                   help="write out only the K largest edge terms per equation (default: all when the next layer "
                        "has at most 6 units, else 4)")
    p.add_argument("--digits", type=int, default=4, help="significant digits of the numbers (default 4)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE (needed for png)")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    add_raw_features_option(p)
    add_json_option(p, what="the trace (every z, a, g′(z), δ and edge term)")
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
    h.add_argument("--order", choices=("C", "F"),
                   help="pixel order of the inputs: C row by row, F column by column (MATLAB's); default F for the "
                        "course's .mat weights, else C")
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
        q.add_argument("--seed", type=seed_number, default=0, help="seed of the split, the shuffle and the initial Θ")
        add_json_option(q, what='the numbers of the curve (and the PNG written)')
        if name == "learning-curve":
            q.add_argument("--lam", type=nonnegative_float, default=1.0, help="λ for training (default 1)")
            q.add_argument("--sizes", metavar="M1,M2,...", help="training-set sizes (default: 8 from 10%% to 100%%)")
        else:
            q.add_argument("--lams", metavar="L1,L2,...", help="λ values (default the course's 0,0.001,...,10)")
    for q in (c, h) + tuple(kinds.choices[n] for n in ("learning-curve", "validation-curve")):
        q.add_argument("-o", "--output", required=True, type=Path, metavar="FILE.png", help="the PNG to write")
        q.add_argument("--force", action="store_true", help="replace FILE if it exists")
    for q in (c, h):
        add_json_option(q, what="the PNG written")
    plot.set_defaults(func=_cmd_plot, plot_parser=plot)


def _parse_unit(text: str, sizes: list[int]) -> tuple[int, int]:
    L = len(sizes)
    try:
        l_s, j_s = text.split(":")
        l, j = int(l_s), int(j_s)
    except ValueError:
        raise UsageError(f"--unit: expected LAYER:UNIT such as 2:2 (δ₂⁽²⁾), got {text!r}") from None
    if not 2 <= l <= L:
        raise UsageError(f"--unit {text}: layer must be 2..{L} (layer 1 is the input and has no δ)")
    if not 1 <= j <= sizes[l - 1]:
        raise UsageError(f"--unit {text}: layer {l} has units 1..{sizes[l - 1]}")
    return l, j


def _write(path: Path, data: bytes, force: bool) -> None:
    if path.exists() and not force:
        raise Failure(f"{path} exists; use --force to replace it")
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise Failure(f"cannot write {path}: {exc}") from None


# ---------------------------------------------------------------------------------------------------------------
# explain


@command("explain")
def _cmd_explain(args: argparse.Namespace) -> int:
    import glassnet
    from glassnet.explain.diagram import diagram_svg
    from glassnet.explain.figures import diagram_png
    from glassnet.explain.report import html_report
    from glassnet.explain.text import readable_top_k, render_text

    if args.format == "png" and args.output is None:
        raise UsageError("--format png: give the file to write with -o FILE.png")
    if args.top_k is not None and args.top_k < 1:
        raise UsageError(f"--top-k: expected a positive number of terms, got {args.top_k}")
    if not 1 <= args.digits <= 17:
        raise UsageError(f"--digits: expected 1..17 significant digits, got {args.digits}")
    if args.output is not None and args.output.exists() and not args.force:
        raise Failure(f"{args.output} exists; use --force to replace it")
    as_json = args.json or args.format == "json"
    model = load_model(args.model)
    sizes = model.layer_sizes_
    unit = _parse_unit(args.unit, sizes) if args.unit else None
    data = load_data(args.data, None)
    X, _ = model_features(model, data, args.data, args.raw_features)
    check_fits_model(model, X, args.data)
    m = X.shape[0]
    if not 0 <= args.example < m:
        raise UsageError(f"--example {args.example}: the data has examples 0..{m - 1}")
    layer = output_layer(model, data)
    try:
        y = layer.unit_of(np.asarray(data.y), name=f"--data {args.data}")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    lam = float(args.lam if args.lam is not None else model.alpha)
    trace = glassnet.explain.explain(model.thetas_, X, y, lam=lam, rows=args.example)
    label = data.y[args.example]
    trace = replace(trace, label=label.item() if hasattr(label, "item") else label)  # the data's label, not the unit
    top_k = args.top_k if args.top_k is not None else readable_top_k(trace)
    image = dict(image_shape=data.image_shape, image_order=data.image_order) if data.image_shape else {}
    class_names = [layer.class_name(c) for c in layer.classes]
    if as_json:
        emit_json({"command": "explain", "model": args.model, "data": data.name, "output_units": layer.unit_names(),
                   **trace.to_dict()})
        return EXIT_OK
    if args.format == "text":
        out = render_text(trace, unit=unit, digits=args.digits, top_k=top_k, class_names=class_names).encode()
    elif args.format == "svg":
        out = diagram_svg(trace, args.view, class_names=class_names, highlight=unit, **image).encode()
    elif args.format == "png":
        out = diagram_png(trace, args.view, class_names=class_names, highlight=unit, **image)
    else:
        history = model.history_ if model.history_.cost else None
        out = html_report(trace, X=X, y=y, history=history, class_names=class_names, classes=layer.classes.tolist(),
                          unit=unit, digits=args.digits, **image).encode()
    if args.output is None:
        sys.stdout.write(out.decode())
        return 0
    _write(args.output, out, args.force)
    print(f"wrote {args.output}")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------------------------
# plot


def _cmd_plot(args: argparse.Namespace) -> int:
    if not getattr(args, "kind", None):
        args.plot_parser.print_help(sys.stderr)
        return 2
    return _plot(args)


@command("plot")
def _plot(args: argparse.Namespace) -> int:
    from glassnet.explain.figures import cost_curves_png, hidden_units_png

    if args.output.suffix.lower() != ".png":
        raise UsageError(f"-o {args.output}: plots are PNG files; use a name ending in .png")
    if args.output.exists() and not args.force:
        raise Failure(f"{args.output} exists; use --force to replace it")
    numbers: dict = {}
    if args.kind == "curves":
        if (args.model is None) == (args.history is None):
            raise UsageError("plot curves: give exactly one of --model FILE or --history FILE.json")
        if args.model is not None:
            history = load_model(args.model).history_
            where = str(args.model)
        else:
            try:
                history = read_json(args.history, MAX_HISTORY_BYTES)
            except FileNotFoundError:
                raise Failure(f"--history: no file {args.history}") from None
            except (OSError, ValueError) as exc:
                raise Failure(f"--history {args.history}: not a training history file: {exc}") from None
            where = str(args.history)
        if history is None or (args.model is not None and not history.cost):
            raise Failure(f"{where}: no training history with costs to plot")
        try:
            png = cost_curves_png(history)
        except ValueError as exc:
            raise Failure(f"{where}: {exc}") from None
    elif args.kind == "hidden":
        from glassnet import io as gio

        model = load_model(args.model)
        if len(model.thetas_) < 2:
            raise UsageError(f"--model {args.model}: the network has no hidden layer")
        shape = None
        if args.image_shape:
            try:
                r, c = (int(v) for v in args.image_shape.lower().split("x"))
            except ValueError:
                raise UsageError(f"--image-shape: expected HxW such as 20x20, got {args.image_shape!r}") from None
            shape = (r, c)
        try:
            order = args.order or gio.input_image_order(args.model)
            png = hidden_units_png(model.thetas_[0], shape, order)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        numbers = {"order": order}
    else:
        png, numbers = _curve(args)
    _write(args.output, png, args.force)
    emit(args, {"command": "plot", "kind": args.kind, "output": args.output, **numbers}, [f"wrote {args.output}"])
    return EXIT_OK


def _numbers(text: str, what: str, cast) -> list:
    try:
        values = [cast(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise UsageError(f"{what}: expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise UsageError(f"{what}: expected at least one number, got {text!r}")
    return values


def _curve(args):
    from glassnet.explain import curves
    from glassnet.explain.figures import learning_curve_png, validation_curve_png
    from glassnet.train import holdout

    hidden = _numbers(args.hidden, "--hidden", int)
    if any(h < 1 for h in hidden):
        raise UsageError(f"--hidden: expected positive layer sizes, got {args.hidden!r}")
    if args.max_iter < 1:
        raise UsageError(f"--max-iter: expected a positive number of iterations, got {args.max_iter}")
    if not 0 < args.val_fraction < 1:
        raise UsageError(f"--val-fraction: expected a fraction between 0 and 1, got {args.val_fraction:g}")
    data = load_data(args.data, None)
    classes, y = np.unique(np.asarray(data.y), return_inverse=True)
    if len(classes) < 2:
        raise UsageError(f"--data {args.data}: needs at least two classes")
    try:
        Xtr, Xval, ytr, yval = holdout.split(np.asarray(data.X, dtype=np.float64), y, args.val_fraction, args.seed,
                                             what="--val-fraction")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
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
        raise UsageError(str(exc)) from None
    return png, rec.to_dict()
