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


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose (sub)commands refuse unknown arguments themselves: the error shows the usage of
    ``glassnet train``, not the top-level one, and names the option meant ("--hiden: did you mean --hidden?").

    ``add_subparsers`` makes every subcommand's parser of this class too."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, unknown = super().parse_known_args(args, namespace)
        if unknown:
            import difflib
            import re

            options = sorted(set(re.findall(r"--[A-Za-z][\w-]*", self.format_help())))
            hints = []
            for arg in unknown:
                name = arg.split("=", 1)[0]
                close = difflib.get_close_matches(name, options, n=1, cutoff=0.7) if name.startswith("--") else []
                if close:
                    hints.append(f"{name}: did you mean {close[0]}?")
            self.error(f"unrecognized arguments: {' '.join(unknown)}" + (f" ({'; '.join(hints)})" if hints else ""))
        return namespace, unknown


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand (also used to generate the CLI reference)."""
    parser = _Parser(prog="glassnet", description="Backpropagation, exact and visible.")
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

