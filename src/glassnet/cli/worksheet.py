"""``glassnet worksheet``: backprop-by-hand homework with answer keys, and ``glassnet worksheet check``.

A thin shell over :mod:`glassnet.grading.worksheet` (the sheets, their answers, the checker) and
:mod:`glassnet.grading.worksheet_render` (Markdown, HTML, PDF). ``glassnet worksheet --students 30 --seed 7 -o
sheets/`` writes ``student-01.md/.html/.pdf`` … , ``key.md/.html/.pdf`` and ``answers.json`` (every file atomically;
none is replaced without ``--force``); without Chromium it says so and writes Markdown and HTML only.
``glassnet worksheet check sheets/ --student 12 answers.csv`` reads ``quantity,value`` rows and names, for each wrong
value, the slip that fits exactly. Exit codes follow :mod:`glassnet.cli._common` (check: 1 when a value is wrong).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from glassnet.cli._common import (
    EXIT_FAILURE,
    EXIT_OK,
    Failure,
    UsageError,
    add_json_option,
    command,
    emit,
    layer_sizes,
    nonnegative_float,
    positive_float,
    positive_int,
    write_atomic,
)
from glassnet.cli._common import seed as seed_number

ASK_NAMES = ("z", "a", "deltaL", "delta", "Delta", "D")  # glassnet.grading.worksheet.ASK, without importing it here


def register(sub) -> None:
    p = sub.add_parser(
        "worksheet", help="homework: a seeded small network per student to backprop by hand, with answer keys",
        description="Write one sheet per student (Markdown, HTML and PDF) with the student's own small network "
                    "(weights in steps of 0.5 in [−2, 2], inputs ±1 or ±2) and one example, asking for z, a, δ⁽ᴸ⁾, "
                    "each hidden δ in the note's form, Δ and D; the teacher's key in the same three formats; and "
                    "answers.json (every student's Θ, x, y, λ and answers, with the lecture's indices). "
                    "'glassnet worksheet check FOLDER --student K ANSWERS.csv' checks a student's values.")
    p.add_argument("--students", type=positive_int, default=30, metavar="N", help="number of sheets (default 30)")
    p.add_argument("--seed", type=seed_number, default=0, help="seed of the networks (default 0)")
    p.add_argument("--sizes", type=layer_sizes, default=[2, 2, 2], metavar="S1,S2,...",
                   help="layer sizes, 3 or 4 layers of at most 4 units (default 2,2,2)")
    p.add_argument("--ask", default=",".join(ASK_NAMES), metavar="WHAT",
                   help="what the sheets ask for, comma-separated from z, a, deltaL (δ⁽ᴸ⁾), delta (hidden δ), Delta, "
                        "D (default all)")
    p.add_argument("--lam", type=nonnegative_float, default=1.0, metavar="λ",
                   help="λ of D, in steps of 0.5 (default 1)")
    p.add_argument("--no-pdf", action="store_true", help="write Markdown and HTML only")
    p.add_argument("-o", "--output", type=Path, metavar="FOLDER", help="the folder to write (created if missing)")
    p.add_argument("--force", action="store_true", help="replace existing sheets")
    add_json_option(p, what="what was written")
    p.set_defaults(func=_cmd_worksheet, worksheet_parser=p)
    actions = p.add_subparsers(dest="action", metavar="check")
    c = actions.add_parser("check", help="check a student's answers against the key",
                           description="Check a student's values: which are right (within --tol), and for each "
                                       "wrong one the slip that fits exactly (g′ forgotten, a used where z belongs, "
                                       "the bias weight included, the wrong edge, δ⁽ᴸ⁾ with a g′ factor, a sign, ...) "
                                       "or that it follows from the student's own earlier wrong value.")
    c.add_argument("folder", type=Path, metavar="FOLDER", help="the folder with answers.json (or the file itself)")
    c.add_argument("answers", type=Path, metavar="ANSWERS.csv",
                   help="quantity,value rows, e.g. z_1^(2),-2 or delta_2^(2),0.1493 (the lecture's δ₂⁽²⁾ is read "
                        "too); names: z_j^(l), a_j^(l), delta_j^(l), Delta_ij^(l), D_ij^(l)")
    c.add_argument("--student", type=positive_int, required=True, metavar="K", help="the student's sheet number")
    c.add_argument("--tol", type=positive_float, default=1e-3, help="how close counts as right (default 0.001)")
    add_json_option(c, what="the check, value by value")
    c.set_defaults(func=_cmd_check)


def _parse_ask(text: str) -> list[str]:
    asked = [a for a in text.replace(" ", "").split(",") if a]
    unknown = [a for a in asked if a not in ASK_NAMES]
    if unknown or not asked:
        raise UsageError(f"--ask: expected some of {', '.join(ASK_NAMES)} separated by commas, got {text!r}")
    return asked


@command("worksheet")
def _cmd_worksheet(args: argparse.Namespace) -> int:
    if args.output is None:
        args.worksheet_parser.print_usage(sys.stderr)
        raise UsageError("-o FOLDER: give the folder to write the sheets to (or use 'worksheet check')")
    from glassnet.grading import worksheet_render as render
    from glassnet.grading.worksheet import make_worksheet

    ask = _parse_ask(args.ask)
    out: Path = args.output
    if out.exists() and not out.is_dir():
        raise Failure(f"-o {out}: is a file; expected a folder")
    if not out.parent.is_dir():
        raise Failure(f"-o {out}: folder {out.parent} does not exist")
    if (out / "answers.json").exists() and not args.force:
        raise Failure(f"-o {out}: holds sheets already (answers.json); use --force to replace them")
    try:
        ws = make_worksheet(args.students, args.seed, args.sizes, ask, args.lam)
    except ValueError as exc:
        raise UsageError(str(exc).replace("sizes:", "--sizes:").replace("lam:", "--lam:")) from None
    width = max(2, len(str(len(ws.sheets))))
    docs: dict[str, tuple[str, str]] = {}  # stem -> (markdown, html)
    for s in ws.sheets:
        docs[f"student-{s.student:0{width}d}"] = (render.sheet_markdown(ws, s), render.sheet_html(ws, s))
    docs["key"] = (render.key_markdown(ws), render.key_html(ws))
    out.mkdir(exist_ok=True)
    written = []
    for stem, (md, page) in docs.items():
        for suffix, text in ((".md", md), (".html", page)):
            write_atomic(out / f"{stem}{suffix}", text.encode())
            written.append(out / f"{stem}{suffix}")
    write_atomic(out / "answers.json", ws.to_json().encode())
    written.append(out / "answers.json")
    pdf_note = "PDF: left out (--no-pdf)"
    if not args.no_pdf:
        try:
            pdfs = render.print_pdfs([page for _, page in docs.values()])
        except RuntimeError as exc:  # no Chromium: say so, keep the Markdown and HTML
            pdf_note = f"PDF: not written — {exc}"
            print(f"warning: {pdf_note}", file=sys.stderr)
        else:
            for stem, pdf in zip(docs, pdfs):
                write_atomic(out / f"{stem}.pdf", pdf)
                written.append(out / f"{stem}.pdf")
            pdf_note = f"PDF: {len(pdfs)} files"
    lines = [f"wrote {len(ws.sheets)} sheets and the key to {out} (Markdown, HTML; {pdf_note}) and "
             f"{out / 'answers.json'}"]
    emit(args, {"command": "worksheet", "folder": str(out), "students": len(ws.sheets), "seed": ws.seed,
                "sizes": list(ws.sizes), "ask": list(ws.ask), "lam": ws.lam, "pdf": pdf_note,
                "files": [str(p) for p in written]}, lines)
    return EXIT_OK


@command("worksheet check")
def _cmd_check(args: argparse.Namespace) -> int:
    from glassnet.grading.worksheet import check_answers, load_worksheet, read_answers_csv

    if not args.answers.is_file():
        raise UsageError(f"{args.answers}: no such file (expected a CSV of quantity,value rows)")
    key = args.folder / "answers.json" if args.folder.is_dir() else args.folder
    if not key.is_file():
        raise Failure(f"{args.folder}: no answers.json (the folder glassnet worksheet -o wrote)")
    ws = load_worksheet(key)
    if args.student > len(ws.sheets):
        raise UsageError(f"--student {args.student}: {key} has sheets 1..{len(ws.sheets)}")
    try:
        given = read_answers_csv(args.answers.read_text(encoding="utf-8"), str(args.answers))
    except UnicodeDecodeError:
        raise Failure(f"{args.answers}: not a text file (expected a CSV of quantity,value rows)") from None
    report = check_answers(ws.sheet(args.student), given, args.tol)
    emit(args, {"command": "worksheet check", **report.to_dict()}, report.text().splitlines())
    return EXIT_OK if report.passed else EXIT_FAILURE
