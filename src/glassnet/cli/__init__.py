"""The ``glassnet`` command line: a thin shell that parses arguments, calls the library and prints.

``main(argv=None) -> int`` returns the exit code (0 ok, 1 failure such as a failed check, 2 usage error), so tests
call it in-process. Nothing in the library imports this package. Each subcommand lives in a module of this package
with a ``register(subparsers)`` function that adds its parser and sets ``func``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from glassnet import __version__

# Subcommand modules, in the order their commands appear in --help.
SUBCOMMAND_MODULES = ["demo", "train", "evaluate", "predict", "gradcheck", "serve", "explain", "walk", "grade",
                      "worksheet", "bench"]

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand (also used to generate the CLI reference)."""
    parser = argparse.ArgumentParser(prog="glassnet", description="Backpropagation, exact and visible.")
    parser.add_argument("--version", action="version", version=f"glassnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:  # said by the subcommand's own parser, with its usage and the option meant
            _refuse_unknown(parser, args, unknown)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    return args.func(args)


def _refuse_unknown(parser: argparse.ArgumentParser, args: argparse.Namespace, unknown: list[str]) -> None:
    """Exit 2 naming the unrecognized arguments in the usage of the (sub)command they were given to, with the
    closest option of that command ("--hiden": did you mean --hidden?)."""
    import difflib

    while True:  # the innermost command chosen: glassnet explain curves ... is the parser of "curves"
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        chosen = getattr(args, subs[0].dest, None) if subs else None
        if chosen is None or chosen not in subs[0].choices:
            break
        parser = subs[0].choices[chosen]
    options = [o for a in parser._actions for o in a.option_strings if o.startswith("--")]
    hints = []
    for arg in unknown:
        if arg.startswith("--"):
            close = difflib.get_close_matches(arg.split("=", 1)[0], options, n=1, cutoff=0.7)
            if close:
                hints.append(f"{arg.split('=', 1)[0]}: did you mean {close[0]}?")
    parser.error(f"unrecognized arguments: {' '.join(unknown)}" + (f" ({'; '.join(hints)})" if hints else ""))
