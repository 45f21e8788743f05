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
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    return args.func(args)
