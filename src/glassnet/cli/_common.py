"""Shared plumbing of the learning commands (``train``, ``evaluate``, ``predict``, ``gradcheck``, ``demo``).

What is here: argument types that reject bad values while parsing (so argparse names the option and exits 2), the
error → exit-code mapping, ``--json`` output, loading a dataset or a model for a command, the stratified split the
commands share, and atomic output files that are never replaced without ``--force``.

Exit codes (the convention of every glassnet command):

- **0** success;
- **1** the work failed: a file is missing, unreadable, corrupt or would be overwritten (use ``--force``), training
  diverged, a gradient check failed;
- **2** the command line is wrong: an unknown option, a value out of range (``--lam -1``, ``--hidden 2x``), a
  ``--data`` that is neither a built-in dataset nor an existing file, data that does not fit the model;
- **130** interrupted by Ctrl-C.

Errors go to stderr as one line ``error: <message>``; the message names the option or the file. With ``--json`` the
command prints exactly one JSON object on stdout: the result, or ``{"command": ..., "error": ..., "exit_code": ...}``
when it fails after its arguments were parsed (argparse's own usage errors only print on stderr).

Not for: anything the library needs; nothing outside ``glassnet.cli`` imports this module.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from glassnet import datasets

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """A bad argument found after parsing (exit code 2); the message names the option."""


class Failure(Exception):
    """The work could not be done: a file problem, a failed check (exit code 1); the message names the file."""


# ---------------------------------------------------------------------------------------------------------------
# argument types: a bad value becomes argparse's "argument --x: ..." message and exit code 2


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


#: Seeds go to numpy and scikit-learn, which take whole numbers in [0, 2**32 - 1].
MAX_SEED = 2**32 - 1


def seed(text: str) -> int:
    """A random seed: a whole number in [0, 2**32 - 1]."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to {MAX_SEED}, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to {MAX_SEED}, got {text!r}")
    return value


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def nonnegative_float(text: str) -> float:
    value = _finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 0, got {text!r}")
    return value


def positive_float(text: str) -> float:
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def fraction(text: str) -> float:
    """A share of the data in (0, 1)."""
    value = _finite(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1 (exclusive), got {text!r}")
    return value


def fraction_or_zero(text: str) -> float:
    """A share of the data in [0, 1); 0 means none."""
    value = _finite(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected 0 (none) or a fraction between 0 and 1, got {text!r}")
    return value


def hidden_sizes(text: str) -> tuple[int, ...]:
    """``25`` → (25,), ``100,50`` → (100, 50), ``none`` (or an empty string) → () for no hidden layer."""
    cleaned = text.replace(" ", "")
    if cleaned.lower() in ("", "none"):
        return ()
    parts = cleaned.split(",")
    if not all(re.fullmatch(r"[0-9]+", p) for p in parts) or any(int(p) < 1 for p in parts):
        raise argparse.ArgumentTypeError(
            f"expected positive layer sizes separated by commas, such as 25 or 100,50 (or none), got {text!r}")
    return tuple(int(p) for p in parts)


def layer_sizes(text: str) -> list[int]:
    """``3,5,3`` → [3, 5, 3]: every layer including input and output, at least two."""
    parts = text.replace(" ", "").split(",")
    if len(parts) < 2 or not all(re.fullmatch(r"[0-9]+", p) for p in parts) or any(int(p) < 1 for p in parts):
        raise argparse.ArgumentTypeError(
            f"expected at least two positive layer sizes separated by commas, such as 3,5,3, got {text!r}")
    return [int(p) for p in parts]


def label_column(text: str) -> int | str:
    """A CSV column by index (``-1``, ``0``) or by header name."""
    stripped = text.strip()
    return int(stripped) if re.fullmatch(r"[+-]?[0-9]+", stripped) else stripped


# ---------------------------------------------------------------------------------------------------------------
# options shared by several commands


def add_json_option(p: argparse.ArgumentParser, what: str = "the result") -> None:
    """``--json``: every subcommand's one convention, one JSON document on stdout instead of text."""
    p.add_argument("--json", action="store_true",
                   help=f'print {what} as one JSON object on stdout instead of text '
                        '(on failure: {"error": ..., "exit_code": ...})')


def add_data_options(p: argparse.ArgumentParser, *, default: str | None, what: str) -> None:
    p.add_argument("--data", default=default, required=default is None, metavar="NAME|FILE",
                   help=f"{what}: {builtin_names_help()} or a CSV/.npz/.mat file"
                        + (f" (default: {default})" if default else ""))
    p.add_argument("--label-column", type=label_column, metavar="COL",
                   help="CSV files: the label column, by header name or index (default -1, the last column)")


def builtin_names_help() -> str:
    """``a built-in dataset (digits, ...)`` for help texts: the names of :data:`glassnet.datasets.REGISTRY`."""
    return f"a built-in dataset ({', '.join(datasets.names())})"


def add_progress_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="show a progress bar on stderr (default: on when stderr is a terminal)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")


def want_progress(args: argparse.Namespace) -> bool:
    if args.progress is not None:
        return bool(args.progress)
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


# ---------------------------------------------------------------------------------------------------------------
# running a command: exceptions → one error line (or JSON object) and the exit code


def command(name: str) -> Callable:
    """Decorate ``fn(args) -> int`` so that every expected error becomes a message and an exit code."""

    def wrap(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        @functools.wraps(fn)
        def run(args: argparse.Namespace) -> int:
            from glassnet.errors import DataError, ModelFileError

            try:
                return fn(args)
            except UsageError as exc:
                return fail(args, name, str(exc), EXIT_USAGE)
            except (Failure, DataError, ModelFileError, FloatingPointError) as exc:
                return fail(args, name, str(exc), EXIT_FAILURE)
            except (OSError, ImportError) as exc:  # a file or folder we could not use; an optional package missing
                return fail(args, name, str(exc), EXIT_FAILURE)
            except ValueError as exc:  # the library's checks: every message names the argument or file
                return fail(args, name, str(exc), EXIT_FAILURE)
            except KeyboardInterrupt:
                return fail(args, name, "interrupted", EXIT_INTERRUPTED)

        return run

    return wrap


def fail(args: argparse.Namespace, name: str, message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        emit_json({"command": name, "error": message, "exit_code": code})
    return code


def emit_json(payload: dict) -> None:
    from glassnet._support.jsonsafe import dumps

    sys.stdout.write(dumps(payload, ensure_ascii=False) + "\n")


def emit(args: argparse.Namespace, payload: dict, lines: list[str]) -> None:
    """The result: ``payload`` as JSON with ``--json``, else the text ``lines``."""
    if getattr(args, "json", False):
        emit_json(payload)
    else:
        for line in lines:
            print(line)


# ---------------------------------------------------------------------------------------------------------------
# data, models, files


def load_data(source: str, label_col: int | str | None, option: str = "--data", *, features_only: bool = False):
    """A :class:`glassnet.datasets.Dataset` from a built-in name or a file, errors mapped to exit codes.

    ``features_only``: read a CSV file without a label column (``y`` is None)."""
    from glassnet.errors import DataError

    builtin = datasets.is_builtin(source)
    if not builtin and not Path(source).exists():
        raise UsageError(f"{option}: {source!r} is neither {builtin_names_help()} nor an existing file")
    if builtin and datasets.REGISTRY[source].is_regression:  # real targets: no classifier can be trained on them
        name = datasets.canonical(source)
        raise UsageError(f"{option}: {name!r} is a regression set (real-valued targets, identity output, squared "
                         f"cost); the command-line tools classify: open it in the explorer (glassnet serve --data "
                         f"{name}) or fit glassnet.Regressor on glassnet.datasets.load({name!r})")
    kwargs: dict[str, Any] = {}
    if features_only:
        kwargs["label_column"] = None
    elif label_col is not None:
        if builtin or datasets.format_of(source) != "csv":
            raise UsageError(f"--label-column: only for CSV files, but {option} is {source!r}")
        kwargs["label_column"] = label_col
    try:
        data = datasets.load(source, **kwargs)
    except DataError as exc:  # a ValueError, but a bad file, not a bad argument
        raise Failure(str(exc)) from None
    except FileNotFoundError as exc:
        raise Failure(str(exc)) from None
    except (ValueError, TypeError) as exc:  # neither a built-in nor a file; unknown suffix; label column out of range
        raise UsageError(f"{option}: {exc}") from None
    return data


def load_model(path: Path, option: str = "--model"):
    """A fitted :class:`glassnet.Classifier` from any model file :func:`glassnet.io.load_any` reads.

    glassnet's own files, bare weights, the course's ``.mat`` weights and Nielsen JSON, recognised by content.
    """
    from glassnet import io as gio

    if not path.exists():
        raise Failure(f"{option}: no such file {path}")
    if not path.is_file():
        raise Failure(f"{option}: {path} is not a file")
    return gio.load_any(path)  # ModelFileError / DataError name the file and the problem


def output_layer(model, data=None):
    """The model's :class:`glassnet.outputs.OutputLayer`, its classes named as a person reads them.

    Digits (the built-in digits and MNIST, course-format data whose label 10 was read as 0, the course's weights)
    are called "digit k".
    """
    from glassnet.outputs import COURSE_DIGIT_CLASSES, OutputLayer

    layer = model.output_layer_
    digits = (data is not None and data.class_noun == "digit") or layer.classes.tolist() == list(COURSE_DIGIT_CLASSES)
    return OutputLayer(layer.classes, class_noun="digit" if digits else None)


def add_raw_features_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--raw-features", action="store_true",
                   help="the data file holds raw features (e.g. digit pixels 0..16): scale them as the model's "
                        "training data was (recorded in model files trained on a built-in dataset by name)")


def model_features(model, data, source: str, raw: bool = False) -> tuple[np.ndarray, str | None]:
    """``(X, note)``: the features of ``data``, with ``raw``: scaled as the model's training data was.

    A model trained on a built-in dataset by name records how that dataset scaled its features
    (``input_scaling_``); ``raw`` features of a data file are scaled the same way, so that predictions equal the
    training run's. A built-in name is already scaled by its loader. A model trained with ``--scale`` scales every X
    by its own record (``feature_scaling_``, fitted on its training rows), after that. ``note`` says what was done
    (or None).
    """
    from glassnet import datasets

    X = np.asarray(data.X, dtype=np.float64)
    scaling = getattr(model, "input_scaling_", None)
    note = None
    if raw and not datasets.is_builtin(source):
        if scaling is None or scaling.get("kind") == "none":
            raise UsageError("--raw-features: the model records no scaling of its training data (only models trained "
                             "on a built-in dataset by name do); leave it out")
        check_fits_model(model, X, source)
        X, note = datasets.apply_scaling(X, scaling), f"features scaled as in training ({scaling['kind']})"
    own = getattr(model, "feature_scaling_", None)  # glassnet train --scale: the model's own first step, always
    if own is not None and own.get("kind") != "none":
        check_fits_model(model, X, source)
        X = datasets.apply_scaling(X, own)
        note = ((f"{note}; then " if note else "")
                + f"features scaled by the model's --scale {datasets.scaling_name(own)}")
    return X, note


def check_fits_model(model, X: np.ndarray, source: str) -> None:
    n = int(model.n_features_in_)
    if X.shape[1] != n:
        hint = ""
        if X.shape[1] == n - 1 and datasets.format_of(source) == "csv":
            hint = ("; glassnet reads one column of a CSV file as the labels (--label-column, default the last): "
                    "a file of features only needs a label column added (any placeholder value)")
        raise UsageError(f"--data {source}: {X.shape[1]} features per example, but the model's input layer has {n} "
                         f"units{hint}")


def check_labels_known(model, y: np.ndarray, source: str) -> None:
    known = set(np.asarray(model.classes_).tolist())
    unknown = [v for v in np.unique(y).tolist() if v not in known]
    if unknown:
        raise UsageError(f"--data {source}: labels {unknown[:5]} are not classes of the model "
                         f"{np.asarray(model.classes_).tolist()}")


def split(X: np.ndarray, y: np.ndarray, held_out: float, seed: int, what: str):
    """``(X_keep, X_out, y_keep, y_out)`` by the library's one split rule (:mod:`glassnet.train.holdout`).

    The same (fraction, seed) always gives the same split of the same data, so ``evaluate --test-size F --seed S``
    sees exactly the test part that ``train --test-size F --seed S`` held out.
    """
    from glassnet.train import holdout

    try:
        return holdout.split(X, y, held_out, seed, what=what)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def check_writable(path: Path, force: bool, option: str, allowed: Path | None = None) -> None:
    """Refuse early (before any work) to replace ``path`` without ``--force``, or to write into a missing folder.

    ``allowed`` is a file that may be replaced anyway (the checkpoint that ``--resume`` continues).
    """
    if path.is_dir():
        raise Failure(f"{option} {path}: is a folder; expected a file name")
    if not path.parent.is_dir():
        raise Failure(f"{option} {path}: folder {path.parent} does not exist")
    if path.exists() and not force and not (allowed is not None and same_file(path, allowed)):
        raise Failure(f"{option} {path}: file exists; use --force to replace it")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise Failure(f"{option} {path}: folder {path.parent} is not writable")


def same_file(a: Path, b: Path) -> bool:
    """True when both paths name one existing file."""
    try:
        return a.samefile(b)
    except OSError:
        return False


def write_atomic(path: Path, data: bytes) -> None:
    from glassnet._support.atomic import atomic_write

    atomic_write(path, lambda f: f.write(data))


# ---------------------------------------------------------------------------------------------------------------
# the network's units and cost


def add_kind_options(p, classify: bool) -> None:
    """--activation, --output, --loss: the network's units and cost (default the lecture's sigmoid + log).

    ``classify``: offer only the outputs of :data:`glassnet.outputs.CLASSIFIER_PAIRS` (else every pair's)."""
    from glassnet.activations import ACTIVATIONS
    from glassnet.outputs import CLASSIFIER_PAIRS, OUTPUT_LOSS_PAIRS

    pairs = CLASSIFIER_PAIRS if classify else OUTPUT_LOSS_PAIRS
    outputs = list(dict.fromkeys(o for o, _ in pairs))
    losses = list(dict.fromkeys(c for _, c in pairs))
    p.add_argument("--activation", choices=list(ACTIVATIONS), metavar="G",
                   help=f"hidden units: {', '.join(ACTIVATIONS)} (default sigmoid, the lecture's)")
    p.add_argument("--output", choices=outputs, metavar="OUT",
                   help=f"output units: {', '.join(outputs)} (default sigmoid)")
    p.add_argument("--loss", choices=losses, metavar="COST",
                   help="cost: log (cross-entropy, the lecture's) or squared, ½(h − y)² (default log)")


def kinds_of(args: argparse.Namespace, saved: dict | None = None) -> dict:
    """activation/output/loss from the options, else from ``saved`` (a model's params), else the lecture's."""
    saved = saved or {}
    return {name: getattr(args, name) if getattr(args, name) is not None else saved.get(name, default)
            for name, default in (("activation", "sigmoid"), ("output", "sigmoid"), ("loss", "log"))}


def check_memory(sizes, rows: int, solver: str, option: str) -> None:
    """A usage error naming ``option`` when the network cannot fit in memory (glassnet._support.memory's estimate)."""
    from glassnet._support.memory import MemoryBudgetError, check_network_fits

    try:
        check_network_fits(sizes, min(rows, 2048), solver)
    except MemoryBudgetError as exc:
        raise UsageError(f"{option}: {exc}") from None
