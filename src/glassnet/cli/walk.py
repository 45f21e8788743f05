"""``glassnet walk``: backpropagation step by step as an animated GIF, an MP4, SVG frames or an HTML slide deck.

A thin shell over :func:`glassnet.explain.walk` and its renderers (:mod:`glassnet.explain.animation`,
:mod:`glassnet.explain.slides`): parse, load the model and the data (or take the built-in 2-2-2 network and its three
examples), call the library, write. Files are written atomically and never replace an existing one without
``--force``; SVG frames go into a folder, one file per step. Exit codes follow :mod:`glassnet.cli._common`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from glassnet.cli._common import (
    EXIT_OK,
    Failure,
    UsageError,
    add_json_option,
    builtin_names_help,
    check_fits_model,
    command,
    emit,
    load_data,
    load_model,
    model_features,
    nonnegative_float,
    output_layer,
    positive_float,
    positive_int,
    write_atomic,
)

FORMATS = ("gif", "mp4", "svg", "slides")
_SUFFIX = {".gif": "gif", ".mp4": "mp4", ".html": "slides", ".htm": "slides"}


def register(sub) -> None:
    p = sub.add_parser(
        "walk", help="backprop step by step for a lecture: animated GIF, MP4, SVG frames or an HTML slide deck",
        description="The explorer's walk through backpropagation as files: for each of a few examples, forward "
                    "layer by layer, the output error δ⁽ᴸ⁾, each hidden δ with the lecture's equation filled in "
                    "(the edges it uses lit), its part of Δ (Δ adding up over the examples), then "
                    "D = Δ/m + (λ/m)Θ. Without --model: a small 2-2-2 network like the note's, with round weights, "
                    "and three examples.")
    p.add_argument("--model", type=Path, metavar="FILE",
                   help="model file (glassnet .npz, the course's .mat weights, Nielsen JSON); default: the built-in "
                        "2-2-2 network")
    p.add_argument("--data", metavar="NAME|FILE",
                   help=f"with --model: {builtin_names_help()} or a CSV/.npz/.mat file (default digits)")
    p.add_argument("--example", type=int, default=0, metavar="N", help="first row of the data to walk (default 0)")
    p.add_argument("--examples", type=positive_int, default=3, metavar="N",
                   help="how many examples (rows N, N+1, ...) Δ adds up over before D (default 3)")
    p.add_argument("--lam", type=nonnegative_float, metavar="λ",
                   help="λ of D (default: the model's own; 0 for the built-in network)")
    p.add_argument("--format", choices=FORMATS,
                   help="gif or mp4 (an animation, matplotlib; mp4 also ffmpeg: pip install 'glassnet[video]'), svg "
                        "(a folder of frames) or "
                        "slides (one HTML file, offline, arrow keys); default: from the suffix of -o")
    p.add_argument("--seconds", type=positive_float, default=3.0, metavar="S",
                   help="gif, mp4: seconds each step is shown (default 3)")
    p.add_argument("--digits", type=int, default=4, help="significant digits of the numbers (default 4)")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="PATH",
                   help="the file to write (.gif, .mp4, .html), or the folder for svg frames")
    p.add_argument("--force", action="store_true", help="replace existing files")
    add_json_option(p, what="what was written (files, steps, examples)")
    p.set_defaults(func=_cmd_walk)


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    fmt = _SUFFIX.get(args.output.suffix.lower())
    if fmt is None and args.output.suffix == "":
        return "svg"
    if fmt is None:
        raise UsageError(f"-o {args.output}: cannot tell the format from the suffix; give --format "
                         f"({', '.join(FORMATS)}) or name the file .gif, .mp4 or .html (a folder for svg)")
    return fmt


def _inputs(args: argparse.Namespace):
    """(thetas, X, y, lam) of the examples to walk."""
    from glassnet.explain.walkthrough import NOTE_THETAS, NOTE_X, NOTE_Y

    if args.model is None:
        if args.data is not None:
            raise UsageError("--data: only with --model (the built-in network walks its own three examples)")
        X, y, thetas, lam = NOTE_X, NOTE_Y, list(NOTE_THETAS), 0.0
    else:
        model = load_model(args.model)
        source = args.data or "digits"
        data = load_data(source, None)
        X, _ = model_features(model, data, source)
        check_fits_model(model, X, source)
        try:
            y = output_layer(model, data).unit_of(np.asarray(data.y), name=f"--data {source}")
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        thetas, lam = model.thetas_, float(model.alpha)
    m = X.shape[0]
    if not 0 <= args.example < m:
        raise UsageError(f"--example {args.example}: the data has rows 0..{m - 1}")
    if args.example + args.examples > m:
        raise UsageError(f"--examples {args.examples}: rows {args.example}..{args.example + args.examples - 1} "
                         f"asked, but the data has rows 0..{m - 1}")
    rows = slice(args.example, args.example + args.examples)
    return thetas, X[rows], np.asarray(y)[rows], float(args.lam if args.lam is not None else lam)


@command("walk")
def _cmd_walk(args: argparse.Namespace) -> int:
    import glassnet

    fmt = _format(args)
    if not 1 <= args.digits <= 17:
        raise UsageError(f"--digits: expected 1..17 significant digits, got {args.digits}")
    out = args.output
    if fmt == "svg":
        if out.exists() and not out.is_dir():
            raise Failure(f"-o {out}: is a file; svg frames go into a folder")
    elif out.is_dir():
        raise Failure(f"-o {out}: is a folder; expected a file name")
    elif out.exists() and not args.force:
        raise Failure(f"-o {out}: file exists; use --force to replace it")
    if not out.parent.is_dir():
        raise Failure(f"-o {out}: folder {out.parent} does not exist")
    thetas, X, y, lam = _inputs(args)
    walk = glassnet.explain.walk(thetas, X, y, lam, digits=args.digits)
    written: list[Path] = []
    if fmt == "svg":
        from glassnet.explain.animation import frame_svgs

        svgs = frame_svgs(walk)
        names = [out / f"step-{k:02d}.svg" for k in range(1, len(svgs) + 1)]
        clash = [p for p in names if p.exists()]
        if clash and not args.force:
            raise Failure(f"-o {out}: {clash[0].name} exists; use --force to replace the frames")
        out.mkdir(exist_ok=True)
        for path, svg in zip(names, svgs):
            write_atomic(path, svg.encode())
            written.append(path)
    elif fmt == "slides":
        from glassnet.explain.slides import slides_html

        write_atomic(out, slides_html(walk).encode())
        written.append(out)
    else:
        from glassnet.explain.animation import animation_bytes

        try:
            data = animation_bytes(walk, "gif" if fmt == "gif" else "mp4", seconds_per_frame=args.seconds)
        except RuntimeError as exc:  # ffmpeg missing: the message says what to install
            raise Failure(str(exc)) from None
        write_atomic(out, data)
        written.append(out)
    what = f"{len(walk.frames)} steps ({walk.m} example{'s' if walk.m > 1 else ''}, then D)"
    lines = [f"wrote {written[0]}" if len(written) == 1 else f"wrote {len(written)} SVG frames to {out}", what]
    emit(args, {"command": "walk", "format": fmt, "files": [str(p) for p in written], "steps": len(walk.frames),
                "examples": walk.m, "lam": lam}, lines)
    return EXIT_OK
