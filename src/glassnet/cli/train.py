"""``glassnet train``: train a network on a dataset, print a summary and save the model.

A thin shell over :class:`glassnet.Classifier` (its public API only), :mod:`glassnet.datasets`, :func:`glassnet.save`
and :mod:`glassnet.io`'s checkpoints: parse, call the library, print. The command reads as its steps: read the data,
choose the settings (the options, else the resumed model's), split, build or resume the model, fit with progress and
checkpoints, report, save. Exit codes and ``--json`` follow :mod:`glassnet.cli._common` (0 success, 1 failure such
as a bad file or a diverged run, 2 usage error, 130 interrupted).

Output lines (stable; ``--json`` gives the same numbers as one JSON object)::

    glassnet train: digits, 1797 examples, 64 features, 10 classes
    split (seed 0): 1347 train / 450 test                              (or: no held-out data: all 1797 examples train)
    network 64-25-10, λ = 1, solver lbfgs, up to 400 iterations
    resumed from m.npz after 5 iterations                             (only with --resume)
    J(Θ) before training: 7.012345
    J(Θ) after training:  0.312345  (400 iterations, 1.2 s)          (--resume: "(5 iterations, 10 in total, 0.1 s)")
    stopped at the limit: 400 iterations without converging (raise --epochs to train longer)   (only then)
    early stopping: kept the weights of iteration 37 (lowest validation cost)    (only when it stopped early)
    train accuracy:      100.00%
    validation accuracy:  97.04%                                       (only with validation data)
    test accuracy:        97.78%                                       (only with --test-size > 0)
    checkpoints: 4 written to m.npz.ckpt (every 50 iterations), removed after saving   (only with --checkpoint-every)
    saved model: m.npz                                                 (only with --save)

J is the lecture's regularized cost on the training part. ``iterations`` reads ``epochs`` for the mini-batch solvers
sgd and adam.

Saving is all-or-nothing per run: checkpoints go to the sibling file ``FILE.ckpt`` of ``--save FILE``
(:func:`glassnet.io.checkpoint_path`), rewritten atomically every N iterations/epochs, and ``FILE`` is replaced only
when the run ends well (the checkpoint is then removed). A run that diverges (J or Θ no longer finite, or J more than
:data:`glassnet.train.optimize.DIVERGENCE_FACTOR` times its lowest value) or is interrupted exits 1 (130 for Ctrl-C),
leaves ``FILE`` as it was and names the last good checkpoint. Continue it with ``--resume FILE.ckpt``: ``--epochs`` is
the total, so the run continues where the checkpoint stopped (``n_iter_`` keeps counting) with the checkpoint's
settings unless an option overrides them. For sgd and adam a checkpoint holds the optimizer's state, the shuffling
generator and the early-stopping state (:func:`glassnet.io.save_checkpoint`), so the resumed run ends with exactly
the weights of an uninterrupted one. lbfgs and cg cannot resume exactly: scipy keeps their memory to itself, so a
resumed run restarts it from the saved weights (the command says so).

``train --dask-scheduler ADDRESS`` trains the same Classifier on that cluster. A data file is opened with
:func:`glassnet.scale.distributed.read_chunks`, so the workers read it chunk by chunk and keep it in their memory; this
process sees labels and row counts only. Its test part is chosen by a seeded hash of the row number (not stratified,
independent of the chunking), a split of the workers' chunks that needs no data here.

Not for: any computation of its own (everything is the library's) or for plots (see ``glassnet plot``).
"""

from __future__ import annotations

import argparse
import glob
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glassnet.cli._common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Failure,
    UsageError,
    add_data_options,
    add_json_option,
    add_kind_options,
    add_progress_option,
    check_fits_model,
    check_memory,
    check_writable,
    command,
    emit,
    fail,
    fraction,
    fraction_or_zero,
    hidden_sizes,
    kinds_of,
    load_data,
    nonnegative_float,
    positive_float,
    positive_int,
    same_file,
    split,
    want_progress,
)
from glassnet.cli._common import seed as seed_number
from glassnet.datasets.builtin import FIT_SCALINGS
from glassnet.train.optimize import SOLVERS

DEFAULT_EPOCHS = 200
DEFAULT_TEST_SIZE = 0.25


def register(sub) -> None:
    p = sub.add_parser(
        "train", help="train a network on a dataset, print a summary and save the model",
        description="Train glassnet.Classifier (sigmoid units, the lecture's regularized cost J(Θ)) on a built-in "
                    "dataset or a data file. A stratified part of the data is held out as a test set "
                    "(--test-size, default 0.25) and, optionally, a validation set from the rest. Prints J(Θ) "
                    "before and after, the accuracies and the time. --epochs is the total number of "
                    "iterations/epochs, also with --resume.")
    add_data_options(p, default="digits", what="the training data")
    add_kind_options(p, classify=True)
    p.add_argument("--hidden", type=hidden_sizes, metavar="SIZES",
                   help="hidden layer sizes, e.g. 25 or 100,50; none for no hidden layer (default: the built-in "
                        "dataset's, as in the explorer, e.g. 25 for digits and 4 for xor; 25 for a file)")
    p.add_argument("--lam", "--alpha", dest="lam", type=nonnegative_float, metavar="λ",
                   help="regularization λ ≥ 0 (default: the built-in dataset's, e.g. 1 for digits and 0.1 for xor; 1 "
                        "for a file)")
    p.add_argument("--solver", choices=SOLVERS,
                   help="lbfgs (default) or cg: full batch; sgd (momentum, Nesterov) or adam: mini-batch")
    p.add_argument("--epochs", "--max-iter", dest="epochs", type=positive_int, metavar="N",
                   help=f"iterations (lbfgs, cg) or epochs (sgd, adam) in total (default: the built-in dataset's, "
                        f"e.g. 400 for digits; {DEFAULT_EPOCHS} for a file)")
    p.add_argument("--batch-size", type=positive_int, metavar="N", help="sgd/adam: rows per mini-batch (default 200)")
    p.add_argument("--learning-rate", type=positive_float, metavar="η",
                   help="sgd/adam: step size (default 0.1 for sgd, 0.01 for adam)")
    p.add_argument("--tol", type=nonnegative_float, metavar="TOL",
                   help="lbfgs/cg: gradient tolerance; sgd/adam and early stopping: smallest improvement that "
                        "counts (default 1e-4)")
    p.add_argument("--validation-fraction", type=fraction, metavar="F",
                   help="hold out this share of the training part as validation data; its cost and accuracy are "
                        "recorded every iteration/epoch (default: none, or 0.1 with --early-stopping)")
    p.add_argument("--early-stopping", action="store_true", default=None,
                   help="stop when the validation cost stops improving and keep the best weights")
    p.add_argument("--patience", type=positive_int, metavar="N",
                   help="iterations/epochs without improvement before stopping (default 10)")
    p.add_argument("--test-size", type=fraction_or_zero, default=DEFAULT_TEST_SIZE, metavar="F",
                   help=f"share of the data held out as a test set, stratified (default {DEFAULT_TEST_SIZE}; 0: "
                        f"train on everything). With --dask-scheduler and a data file: not stratified; row t is held "
                        f"out when a hash of (--seed, t) falls below F, the same rows however the file is chunked "
                        f"('glassnet evaluate --test-size' does not reproduce this split)")
    p.add_argument("--scale", choices=FIT_SCALINGS,
                   help="scale the features, fitted on the training rows only and stored in the model file, so that "
                        "predict, evaluate and explain scale their data the same way: standard (mean 0, sd 1) or "
                        "minmax ([0, 1]); default none, or the --resume model's")
    p.add_argument("--seed", type=seed_number, metavar="S",
                   help="seed of the initial weights, the splits and the shuffling (default 0; with --resume the "
                        "checkpoint's)")
    p.add_argument("--save", type=Path, metavar="FILE.npz", help="write the trained model to this file (atomically)")
    p.add_argument("--force", action="store_true", help="replace the --save file if it exists")
    p.add_argument("--checkpoint-every", type=positive_int, metavar="N",
                   help="write a checkpoint every N iterations/epochs to FILE.ckpt beside the --save FILE (replaced "
                        "by --save only when the run ends well); continue a killed run with --resume FILE.ckpt")
    p.add_argument("--resume", type=Path, metavar="FILE.npz",
                   help="continue training the model in this file (a checkpoint or a saved model) up to --epochs "
                        "in total; it may be the --save file")
    p.add_argument("--threads", type=positive_int, metavar="N",
                   help="BLAS threads while training (default: chosen from the problem size)")
    p.add_argument("--dtype", choices=("float64", "float32"),
                   help="compute and store in this precision (float32: faster, half the memory, the weights saved "
                        "as float32; default float64, or the --resume model's)")
    p.add_argument("--dask-scheduler", metavar="ADDRESS",
                   help="train on this Dask cluster (e.g. tcp://host:8786): J and the gradient are sums over row "
                        "chunks computed on the workers (glassnet.scale.distributed; needs glassnet[dask]); not with "
                        "validation or early stopping. A --data file (CSV with a header, .npz with arrays X and y, "
                        "Parquet files or folder, or a quoted glob such as 'data/part-*.csv') is read chunk by chunk "
                        "by the workers, which must see the same paths, and kept in their memory: this process "
                        "never loads it; labels must be numbers. Built-in datasets and .mat files are loaded here "
                        "and then cut into chunks")
    p.add_argument("--chunk-rows", type=positive_int, default=10_000, metavar="N",
                   help="with --dask-scheduler: examples per chunk (default 10000; CSV: about that many, from the "
                        "line lengths; Parquet: as stored)")
    add_progress_option(p)
    add_json_option(p)
    p.set_defaults(func=_cmd_train)


class _Checkpoint:
    """``on_epoch_end`` callback: every ``every`` iterations/epochs (counted in total), checkpoint the run so far."""

    def __init__(self, every: int, path: Path, snapshot):
        self.every = every
        self.path = path
        self.snapshot = snapshot  # (thetas, run_history) -> a Classifier ready for glassnet.save
        self.written = 0
        self.last_epoch: int | None = None

    def on_epoch_end(self, state) -> None:
        from glassnet import io as gio

        model = self.snapshot(state.thetas, state.history)
        if model.n_iter_ % self.every == 0:
            self.last_epoch = model.n_iter_  # attempted: an interruption may land inside save (atomic either way)
            gio.save_checkpoint(model, self.path, state.solver_state)
            self.written += 1


def _snapshot_maker(clf, prior, units, target: int, scaling=None, feature_scaling=None):
    """A function building a savable Classifier from the weights and run history a callback sees.

    ``units``: the classes in the network's output-unit order.
    """
    from glassnet.train.optimize import History

    def snapshot(thetas, run_history):
        history = History.from_dict(prior.to_dict()) if prior is not None else History()
        history.extend(run_history)
        params = {**clf.get_params(), "max_iter": target, "warm_start": False, "verbose": False}
        model = type(clf).from_weights(thetas, units, history=history, **params)
        if scaling is not None:
            model.input_scaling_ = scaling
        if feature_scaling is not None:
            model.feature_scaling_ = feature_scaling
        return model

    return snapshot


def _load_resume(path: Path):
    """``(model, solver_state)`` to continue (:func:`glassnet.io.load_checkpoint`; state None for a plain model)."""
    from glassnet import io as gio

    if not path.exists():
        raise Failure(f"--resume: no such file {path}")
    if not path.is_file():
        raise Failure(f"--resume: {path} is not a file")
    return gio.load_checkpoint(path)



@dataclass
class _Data:
    """The training data as read: in this process, or (a data file on Dask) as chunks kept by the workers.

    X: (m, n) features (an ndarray, or a Dask array on the workers); y: (m,) labels; classes: (K,) sorted.
    """

    name: str
    X: Any
    y: Any
    classes: Any
    m: int
    fmt: str | None = None  # 'csv', 'npz' or 'parquet' when the workers read the file chunk by chunk
    chunk_sizes: Any = None  # rows per chunk of such a file
    scaling: dict | None = None  # how a built-in dataset loaded by name scaled its features (kept in the model file)


@dataclass
class _Settings:
    """What this run trains with: the Classifier's parameters and the choices made around them."""

    params: dict  # glassnet.Classifier parameters
    seed: int
    val_fraction: float | None  # share of the training part held out as validation data (None: none)

    @property
    def solver(self) -> str:
        return self.params["solver"]

    @property
    def target(self) -> int:
        return self.params["max_iter"]  # iterations/epochs in total, also when resuming

    @property
    def unit(self) -> str:
        from glassnet.train.optimize import is_mini_batch

        return "epochs" if is_mini_batch(self.solver) else "iterations"


@dataclass
class _Parts:
    """The split: rows that fit, validation rows (or None) and test rows (or None); their counts."""

    X_fit: Any
    y_fit: Any
    X_val: Any
    y_val: Any
    X_test: Any
    y_test: Any
    n_fit: int
    n_test: int

    @property
    def n_val(self) -> int:
        return 0 if self.y_val is None else len(self.y_val)


@dataclass
class _Model:
    """The Classifier to train, how many iterations/epochs it has done, its earlier history and J(Θ) before."""

    clf: Any
    resumed: bool
    done: int
    prior: Any  # History of the resumed run, or None
    J_before: float


@command("train")
def _cmd_train(args: argparse.Namespace) -> int:
    _check_outputs(args)
    resumed, resume_state = _load_resume(args.resume) if args.resume is not None else (None, None)
    if args.dask_scheduler is None:
        return _train(args, resumed, resume_state, None)
    if args.early_stopping or args.validation_fraction is not None:  # refused before connecting to anything
        raise UsageError("--dask-scheduler: validation data and early stopping are not available on Dask; leave "
                         "out --validation-fraction and --early-stopping")
    from glassnet.scale.distributed import connect

    with connect(args.dask_scheduler) as client, client.as_current():
        return _train(args, resumed, resume_state, client)


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before any work, a --save file (or its checkpoint) that this run must not replace."""
    from glassnet import io as gio

    if args.checkpoint_every is not None and args.save is None:
        raise UsageError("--checkpoint-every: needs --save FILE (the checkpoints are written beside it, FILE.ckpt)")
    if args.save is not None:
        ckpt = gio.checkpoint_path(args.save)
        if ckpt.exists() and not args.force and not (args.resume is not None and same_file(ckpt, args.resume)):
            raise Failure(f"--save {args.save}: the checkpoint {ckpt} of an unfinished run exists; continue it with "
                          f"--resume {ckpt}, or use --force to start over")
        check_writable(args.save, args.force, "--save", allowed=args.resume)


def _train(args: argparse.Namespace, resumed, resume_state, client) -> int:
    """The train command once the model to resume is loaded; ``client``: the Dask cluster to train on, or None."""
    data = _read_data(args, resumed, client)
    settings = _settings(args, resumed, data, client)
    parts = _split(args, data, settings)
    feature_scaling, notes = _scale(args, resumed, parts, client)
    model = _build_model(args, resumed, data, settings, parts)
    checkpoint = None
    if args.checkpoint_every is not None:
        from glassnet.io import checkpoint_path

        snapshot = _snapshot_maker(model.clf, model.prior, _units(resumed, data), settings.target, data.scaling,
                                   feature_scaling)
        checkpoint = _Checkpoint(args.checkpoint_every, checkpoint_path(args.save), snapshot)
    resume_state, resume_notes = _exact_resume(args, resumed, resume_state, settings.solver, client)
    header = _header(args, data, settings, parts, model, resume_notes)
    header[-1:-1] = notes  # before "J(Θ) before training", which is computed on the scaled features
    if not args.json:  # what is about to happen, before the long part starts
        print("\n".join(header), flush=True)
    try:
        seconds, n_run = _fit(args, model, parts, data, settings, checkpoint, resume_state, client)
    except KeyboardInterrupt:
        return fail(args, "train", "interrupted" + _untouched(args.save) + _checkpoint_note(checkpoint, settings.unit),
                    EXIT_INTERRUPTED)
    except FloatingPointError as exc:  # glassnet.train.optimize.TrainingDiverged and the Dask loop's divergence
        return fail(args, "train", f"{exc}{_untouched(args.save)}{_checkpoint_note(checkpoint, settings.unit)}",
                    EXIT_FAILURE)
    if feature_scaling is not None:
        model.clf.feature_scaling_ = feature_scaling
    scores = _scores(model.clf, parts)
    _save(args, model, data, settings)
    lines, payload = _report(args, data, settings, parts, model, scores, seconds, n_run, checkpoint)
    emit(args, payload, lines)
    return EXIT_OK


# step 1: the data


def _dtype(args: argparse.Namespace, resumed) -> str:
    """The precision: --dtype, else the resumed model's weights' (a file from before the dtype parameter has none)."""
    import numpy as np

    return args.dtype or (str(np.asarray(resumed.thetas_[0]).dtype) if resumed is not None else "float64")


def _read_data(args: argparse.Namespace, resumed, client) -> _Data:
    """The training data: a built-in or a file read here, or a data file the workers read chunk by chunk (Dask)."""
    import numpy as np

    from glassnet import datasets

    fmt = _chunked_format(args.data) if client is not None else None
    if fmt is not None:  # a data file on Dask: read chunk by chunk by the workers, never loaded here
        name, X, y, classes, chunk_sizes = _read_file_chunks(args, client, fmt)
        data = _Data(name, X, y, classes, int(sum(chunk_sizes)), fmt, chunk_sizes)
    else:
        read = load_data(args.data, args.label_column)
        X, y = np.asarray(read.X, dtype=_dtype(args, resumed)), np.asarray(read.y)  # converted once, here
        data = _Data(read.name, X, y, np.unique(y), len(y))
        if datasets.is_builtin(args.data) and read.extra.get("scaling", {}).get("kind", "none") != "none":
            data.scaling = read.extra["scaling"]
    if resumed is not None and getattr(resumed, "input_scaling_", None) is not None:
        data.scaling = resumed.input_scaling_
    if len(data.classes) < 2:
        raise UsageError(f"--data {args.data}: training needs at least two classes, found only "
                         f"{data.classes.tolist()}")
    return data


# step 2: the settings, from the options, else the resumed model's, else the defaults


def _settings(args: argparse.Namespace, resumed, data: _Data, client) -> _Settings:
    """The Classifier's parameters for this run, each option checked against the solver and the resumed model."""
    from glassnet import datasets
    from glassnet.train.optimize import is_mini_batch

    saved = resumed.get_params() if resumed is not None else {}
    preset = datasets.training_defaults(args.data)  # a built-in's own hidden layers, λ and iterations ({} for a file)

    def setting(value, name, default):
        """The option if given, else the resumed model's setting, else the default."""
        if value is not None:
            return value
        return saved.get(name, default) if resumed is not None else default

    hidden = _hidden(args, resumed, data) if resumed is not None else (
        args.hidden if args.hidden is not None else preset.get("hidden", (25,)))
    solver = setting(args.solver, "solver", "lbfgs")
    if not is_mini_batch(solver):
        for option, value in (("--batch-size", args.batch_size), ("--learning-rate", args.learning_rate)):
            if value is not None:
                raise UsageError(f"{option}: only for the mini-batch solvers sgd and adam, not --solver {solver}")
    rs = saved.get("random_state") if resumed is not None else None
    seed = args.seed if args.seed is not None else (rs if isinstance(rs, int) and not isinstance(rs, bool) else 0)
    val_fraction = args.validation_fraction
    if client is not None:
        early = False
    else:
        early = setting(args.early_stopping, "early_stopping", False)
        had_validation = resumed is not None and bool(resumed.history_.val_cost)
        if val_fraction is None and (early or had_validation):
            val_fraction = float(saved.get("validation_fraction", 0.1)) if resumed is not None else 0.1
    params = dict(
        hidden_layer_sizes=tuple(hidden),
        alpha=float(setting(args.lam, "alpha", preset.get("lam", 1.0))),
        max_iter=int(setting(args.epochs, "max_iter", preset.get("max_iter", DEFAULT_EPOCHS))),
        solver=solver,
        batch_size=setting(args.batch_size, "batch_size", "auto"),
        learning_rate=setting(args.learning_rate, "learning_rate", "auto"),
        tol=float(setting(args.tol, "tol", 1e-4)),
        early_stopping=bool(early),
        validation_fraction=float(val_fraction) if val_fraction is not None else 0.1,
        n_iter_no_change=int(setting(args.patience, "n_iter_no_change", 10)),
        random_state=int(seed),
        n_threads=setting(args.threads, "n_threads", None),
        dtype=_dtype(args, resumed),
        warm_start=False,
        verbose=False,
        **kinds_of(args, saved),
    )
    if client is not None and (params["activation"], params["output"], params["loss"]) != ("sigmoid", "sigmoid", "log"):
        raise UsageError("--activation/--output/--loss: Dask training (--dask-scheduler) runs the lecture's network "
                         "only (sigmoid, sigmoid, log)")
    return _Settings(params, seed, val_fraction)


def _hidden(args: argparse.Namespace, resumed, data: _Data) -> tuple[int, ...]:
    """The resumed model's hidden layers, once its inputs and classes are checked against the data and options."""
    import numpy as np

    check_fits_model(resumed, data.X, args.data)
    if not np.array_equal(np.asarray(resumed.classes_), data.classes):
        raise UsageError(f"--data {args.data}: classes {data.classes.tolist()}, but the model in --resume "
                         f"{args.resume} was trained on {np.asarray(resumed.classes_).tolist()}")
    model_hidden = tuple(resumed.layer_sizes_[1:-1])
    if args.hidden is not None and tuple(args.hidden) != model_hidden:
        raise UsageError(f"--hidden {','.join(map(str, args.hidden)) or 'none'}: the model in --resume "
                         f"{args.resume} has hidden layers {','.join(map(str, model_hidden)) or 'none'}; "
                         f"leave --hidden out to continue it")
    return model_hidden


# step 3: the split into the rows that fit, validation and test rows


def _split(args: argparse.Namespace, data: _Data, settings: _Settings) -> _Parts:
    """Held-out rows by the library's split rules: stratified in memory, by a row hash for a file on Dask."""
    import numpy as np

    if data.fmt is not None:
        from glassnet.scale.distributed import hash_split

        try:
            X_fit, X_test, y_fit, y_test, n_fit, n_test = hash_split(data.X, data.y, data.chunk_sizes, args.test_size,
                                                                     settings.seed)
        except ValueError as exc:
            raise UsageError(f"--test-size{str(exc).removeprefix('fraction')}") from None
        return _Parts(X_fit, y_fit, None, None, X_test, y_test, n_fit, n_test)
    if args.test_size > 0:
        X_train, X_test, y_train, y_test = split(data.X, data.y, args.test_size, settings.seed, "--test-size")
    else:
        X_train, X_test, y_train, y_test = data.X, None, data.y, None
    if settings.val_fraction is not None:
        X_fit, X_val, y_fit, y_val = split(X_train, y_train, settings.val_fraction, settings.seed,
                                           "--validation-fraction")
    else:
        X_fit, X_val, y_fit, y_val = X_train, None, y_train, None
    if len(np.unique(y_fit)) < 2:
        raise UsageError(f"--data {args.data}: the training part holds a single class; use more data or a "
                         f"smaller --test-size/--validation-fraction")
    return _Parts(X_fit, y_fit, X_val, y_val, X_test, y_test, len(y_fit), 0 if y_test is None else len(y_test))


# step 3b: --scale, fitted on the rows that fit, applied to every part; or a warning when it is missing


def _scale(args: argparse.Namespace, resumed, parts: _Parts, client) -> tuple[dict | None, list[str]]:
    """``(record, notes)``: the feature scaling of this run (--scale, else the resumed model's; None: none), already
    applied to ``parts``, and the header lines about it."""
    from glassnet import datasets

    kept = getattr(resumed, "feature_scaling_", None) if resumed is not None else None
    if kept is not None and args.scale not in (None, datasets.scaling_name(kept)):
        raise UsageError(f"--scale {args.scale}: the model in --resume {args.resume} scales its features "
                         f"({datasets.scaling_name(kept)}); leave --scale out to continue it")
    if kept is None and resumed is not None and args.scale not in (None, "none"):
        raise UsageError(f"--scale {args.scale}: the model in --resume {args.resume} was trained on unscaled "
                         "features; leave --scale out to continue it")
    if args.scale not in (None, "none") and client is not None:
        raise UsageError("--scale: not with --dask-scheduler (scale the data file beforehand)")
    record = kept if kept is not None else (
        datasets.fit_scaling(parts.X_fit, args.scale) if args.scale not in (None, "none") else None)
    if record is None:
        spread = datasets.feature_ranges_differ(parts.X_fit) if client is None and args.scale is None else None
        if spread is not None:
            import sys

            print(f"warning: the features' ranges differ by orders of magnitude (from {spread[0]:.3g} to "
                  f"{spread[1]:.3g}); sigmoid units train poorly on such data: add --scale standard (or minmax)",
                  file=sys.stderr, flush=True)
        return None, []
    dtype = parts.X_fit.dtype
    for name in ("X_fit", "X_val", "X_test"):
        X = getattr(parts, name)
        if X is not None:
            setattr(parts, name, datasets.apply_scaling(X, record).astype(dtype, copy=False))
    return record, [f"features scaled ({datasets.scaling_name(record)}: {datasets.scaling_words(record)} on the "
                    f"{parts.n_fit} training rows), stored in the model"]


# step 4: the model, new or resumed, and J(Θ) before training


def _sizes(data: _Data, settings: _Settings) -> list[int]:
    """s_1, ..., s_L: the inputs, the hidden layers and the output units of the classes (glassnet.outputs)."""
    from glassnet.outputs import n_outputs

    return [data.X.shape[1], *settings.params["hidden_layer_sizes"], n_outputs(len(data.classes))]


def _build_model(args: argparse.Namespace, resumed, data: _Data, settings: _Settings, parts: _Parts) -> _Model:
    """The resumed model with this run's settings, or a new Classifier; J(Θ) at the weights training starts from."""
    import numpy as np

    import glassnet
    from glassnet.outputs import OutputLayer

    params, lam = settings.params, settings.params["alpha"]
    if resumed is not None:
        resumed.set_params(**params)
        J_before = float(resumed.cost_and_gradient(parts.X_fit, parts.y_fit)[0])
        return _Model(resumed, True, int(resumed.n_iter_), resumed.history_, J_before)
    check_memory(_sizes(data, settings), parts.n_fit, settings.solver, "--hidden")
    clf = glassnet.Classifier(**params)
    # the weights fit() starts from: an int random_state s gives random_init(sizes, rng=s); a new model's output
    # units are its sorted classes
    thetas0 = glassnet.random_init(_sizes(data, settings), rng=int(settings.seed))
    unit_of = OutputLayer(data.classes).unit_of
    if data.fmt is not None:
        y_idx = parts.y_fit.map_blocks(unit_of, dtype=np.intp, meta=np.empty(0, dtype=np.intp))
        J_before = float(glassnet.cost_and_gradient(thetas0, parts.X_fit, y_idx, lam)[0])
    else:
        J_before = float(glassnet.cost(thetas0, parts.X_fit, unit_of(parts.y_fit), lam, **kinds_of(args, params)))
    return _Model(clf, False, 0, None, J_before)


def _units(resumed, data: _Data):
    """The classes in the network's output-unit order (an imported network keeps its own)."""
    return resumed.output_layer_.classes if resumed is not None else data.classes


def _header(args: argparse.Namespace, data: _Data, settings: _Settings, parts: _Parts, model: _Model,
            notes: list[str]) -> list[str]:
    """The lines printed before training starts: the data, the split, the network, the settings, J(Θ) before."""
    from glassnet.train.optimize import batch_size_for, is_mini_batch, learning_rate_for

    params, solver, unit = settings.params, settings.solver, settings.unit
    parts_text = ([f"{parts.n_fit} train"] + ([f"{parts.n_val} validation"] if parts.n_val else [])
                  + ([f"{parts.n_test} test"] if parts.n_test else []))
    solver_text = f"solver {solver}"
    if is_mini_batch(solver):
        solver_text += (f" (learning rate {learning_rate_for(solver, params['learning_rate']):g}, batch size "
                        f"{batch_size_for(params['batch_size'], parts.n_fit)})")
    header = [
        f"glassnet train: {data.name}, {data.m} examples, {data.X.shape[1]} features, {len(data.classes)} classes",
        f"split (seed {settings.seed}): {' / '.join(parts_text)}" if len(parts_text) > 1 else
        f"no held-out data: all {parts.n_fit} examples train",
        f"network {'-'.join(map(str, _sizes(data, settings)))}, λ = {params['alpha']:g}, {solver_text}, up to "
        f"{settings.target} {unit}",
    ]
    if (params["activation"], params["output"], params["loss"]) != ("sigmoid", "sigmoid", "log"):
        header.append(f"units and cost: {params['activation']} hidden, {params['output']} output, "
                      f"{params['loss']} cost")
    if model.resumed:
        header.append(f"resumed from {args.resume} after {model.done} {unit}")
        header += notes
    header.append(f"J(Θ) before training: {model.J_before:.6f}")
    return header


# step 5: fit, with a progress bar and checkpoints


def _fit(args: argparse.Namespace, model: _Model, parts: _Parts, data: _Data, settings: _Settings,
         checkpoint: _Checkpoint | None, resume_state, client) -> tuple[float, int]:
    """Train up to --epochs in total; ``(seconds, iterations/epochs run)``. Divergence and Ctrl-C propagate."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    clf, remaining = model.clf, settings.target - model.done
    seconds, n_run = 0.0, 0
    if remaining > 0:
        callbacks = [checkpoint] if checkpoint is not None else None
        clf.set_params(max_iter=remaining, warm_start=model.resumed, verbose=want_progress(args))
        t0 = time.perf_counter()
        with warnings.catch_warnings():  # stopping at the limit is reported in the summary, in words (_report)
            warnings.simplefilter("ignore", ConvergenceWarning)
            if client is not None:
                # glassnet.Classifier trains on the current client (this one): J and D are summed over row chunks on
                # the workers (lbfgs/cg), or Θ travels from chunk to chunk (sgd/adam)
                import dask.array as da

                X_fit = parts.X_fit
                chunked = X_fit if data.fmt is not None else da.from_array(
                    X_fit, chunks=(min(args.chunk_rows, len(X_fit)), X_fit.shape[1]))
                clf.fit(chunked, parts.y_fit, callbacks=callbacks)
            else:
                clf.fit(parts.X_fit, parts.y_fit, X_val=parts.X_val, y_val=parts.y_val, callbacks=callbacks,
                        resume=resume_state)
        seconds = time.perf_counter() - t0
        n_run = int(clf.n_iter_) - model.done
    clf.set_params(max_iter=settings.target, warm_start=False, verbose=False)
    return seconds, n_run


# step 6: report and save


def _scores(clf, parts: _Parts) -> dict:
    """J(Θ) after training on the rows that fit, and the accuracy on each part (None where there is none)."""
    return {
        "J_after": float(clf.cost_and_gradient(parts.X_fit, parts.y_fit)[0]),
        "train": float(clf.score(parts.X_fit, parts.y_fit)),
        "validation": float(clf.score(parts.X_val, parts.y_val)) if parts.X_val is not None else None,
        "test": float(clf.score(parts.X_test, parts.y_test)) if parts.X_test is not None else None,
    }


def _save(args: argparse.Namespace, model: _Model, data: _Data, settings: _Settings) -> None:
    """Write --save (atomically) now that the run ended well, and remove its checkpoint, which is obsolete."""
    import glassnet

    clf = model.clf
    if data.scaling is not None:
        clf.input_scaling_ = data.scaling
    nothing_new = settings.target - model.done <= 0 and args.resume is not None
    if args.save is None or (nothing_new and same_file(args.save, args.resume)):
        return
    glassnet.save(clf, args.save)
    ckpt = glassnet.io.checkpoint_path(args.save)
    if ckpt.exists():  # the run ended well and is saved: its checkpoint (perhaps the --resume file) is obsolete
        ckpt.unlink()


def _report(args: argparse.Namespace, data: _Data, settings: _Settings, parts: _Parts, model: _Model, scores: dict,
            seconds: float, n_run: int, checkpoint: _Checkpoint | None) -> tuple[list[str], dict]:
    """The lines printed after training and the --json payload, with the same numbers."""
    import numpy as np

    clf, h, unit, done, target = model.clf, model.clf.history_, settings.unit, model.done, settings.target
    total = f", {clf.n_iter_} in total" if model.resumed else ""
    lines = [f"J(Θ) after training:  {scores['J_after']:.6f}  ({n_run} {unit}{total}, {seconds:.1f} s)"]
    if target - done <= 0:
        lines.append(f"nothing to train: the model has {done} {unit}, --epochs asks for {target}")
    at_limit = bool(n_run) and h.stopped_at_limit
    if at_limit:
        lines.append(f"stopped at the limit: {clf.n_iter_} {unit} without converging (raise --epochs to train longer)")
    if n_run and h.stopped_early and h.best_epoch is not None and settings.params["early_stopping"]:
        lines.append(f"early stopping: kept the weights of {unit[:-1]} {h.best_epoch} (lowest validation cost)")
    lines.append(f"{'train accuracy:':<20} {scores['train']:7.2%}")
    if scores["validation"] is not None:
        lines.append(f"{'validation accuracy:':<20} {scores['validation']:7.2%}")
    if scores["test"] is not None:
        lines.append(f"{'test accuracy:':<20} {scores['test']:7.2%}")
    if checkpoint is not None:
        lines.append(f"checkpoints: {checkpoint.written} written to {checkpoint.path} (every {checkpoint.every} "
                     f"{unit}), removed after saving")
    if args.save is not None:
        lines.append(f"saved model: {args.save}")
    payload = {
        "command": "train",
        "data": data.name,
        "n_examples": data.m,
        "n_features": data.X.shape[1],
        "classes": data.classes,
        "seed": settings.seed,
        "n_train": parts.n_fit,
        "n_validation": parts.n_val,
        "n_test": parts.n_test,
        "layer_sizes": clf.layer_sizes_,
        "lam": settings.params["alpha"],
        "solver": settings.solver,
        "dtype": str(np.asarray(clf.thetas_[0]).dtype),
        "epochs": int(target),
        "J_before": model.J_before,
        "J_after": scores["J_after"],
        "n_iter": int(clf.n_iter_),
        "n_iter_run": n_run,
        "seconds": seconds,
        "converged": bool(h.converged),
        "stopped_at_limit": at_limit,
        "message": h.message,
        "reason": h.reason,
        "stopped_early": bool(h.stopped_early),
        "best_epoch": h.best_epoch,
        "train_accuracy": scores["train"],
        "validation_accuracy": scores["validation"],
        "test_accuracy": scores["test"],
        "resumed_from": args.resume,
        "resumed_after": done if model.resumed else None,
        "checkpoints": None if checkpoint is None else {"every": checkpoint.every, "written": checkpoint.written,
                                                        "last": checkpoint.last_epoch},
        "saved": args.save,
    }
    return lines, payload


# step 1 on Dask: a data file read per chunk by the workers (split later by a hash of the row number)


def _chunked_format(source: str) -> str | None:
    """'csv', 'npz' or 'parquet' when ``--data`` names files that the workers read chunk by chunk, else None.

    Built-in datasets (small) and ``.mat`` files (no chunked reader) are loaded here as without Dask.
    """
    from glassnet import datasets

    if source in datasets.BUILTIN:
        return None
    path = Path(source)
    if not glob.has_magic(source):
        if not path.exists():
            raise UsageError(f"--data: {source!r} is neither a built-in dataset ({', '.join(datasets.BUILTIN)}) nor "
                             f"an existing file")
        if path.is_dir():
            return "parquet"
    fmt = datasets.format_of(path)
    if fmt == "mat":
        return None
    if fmt not in datasets.CHUNKED_FORMATS:
        raise UsageError(f"--data {source}: with --dask-scheduler, expected CSV (.csv/.txt), .npz or Parquet "
                         f"(.parquet/.pq or a folder of them) files, a glob of them, or a built-in dataset")
    return fmt


def _label_name(args: argparse.Namespace, fmt: str, files: list[str]) -> str:
    """The label column's name for CSV/Parquet (``--label-column``: a name or an index, default -1, the last)."""
    if fmt == "npz":
        if args.label_column is not None:
            raise UsageError("--label-column: only for CSV and Parquet files; .npz files hold arrays 'X' and 'y'")
        return "y"
    if fmt == "csv":
        from glassnet.datasets import csv_columns

        columns = csv_columns(files[0])[0]  # col_0, col_1, ... where the file has no header row
    else:
        import dask.dataframe as dd

        columns = [str(c) for c in dd.read_parquet(files[0] if len(files) == 1 else files).columns]
    wanted = -1 if args.label_column is None else args.label_column
    if isinstance(wanted, str):
        return wanted  # read_chunks names the file and its columns if there is no such column
    if not -len(columns) <= wanted < len(columns):
        raise UsageError(f"--label-column {wanted}: out of range for the {len(columns)} columns of {files[0]}")
    return columns[wanted]


def _read_file_chunks(args: argparse.Namespace, client, fmt: str):
    """``(name, X, y, classes, chunk_sizes)`` of a data file on the cluster.

    See :func:`glassnet.scale.distributed.read_labelled`."""
    from glassnet.scale import distributed

    source = args.data
    files = sorted(glob.glob(source)) if glob.has_magic(source) else [source]
    if not files:
        raise UsageError(f"--data {source}: no file matches this pattern")
    try:
        X, y, classes, chunk_sizes = distributed.read_labelled(files, _label_name(args, fmt, files), client,
                                                               format=fmt, rows_per_chunk=args.chunk_rows)
    except ValueError as exc:  # names the file: a missing column, text among the numbers, ...
        raise Failure(f"--data {source}: {exc}") from None
    return Path(source).name if not glob.has_magic(source) else source, X, y, classes, chunk_sizes



def _untouched(save: Path | None) -> str:
    return "" if save is None else f"; {save} was not changed"


def _checkpoint_note(checkpoint: _Checkpoint | None, unit: str) -> str:
    """Where training can be resumed from after a failure (read from the file: Ctrl-C may hit mid-save)."""
    import glassnet

    if checkpoint is None:
        return ""
    path = checkpoint.path
    if checkpoint.last_epoch is None and not path.exists():  # a resumed run's earlier checkpoint may be there
        return f"; no checkpoint was written (the first would have been {unit[:-1]} {checkpoint.every})"
    try:
        n_iter = glassnet.load(path).n_iter_
    except (OSError, ValueError):
        return ""
    return f"; the last good checkpoint, of {unit[:-1]} {n_iter}, is {path}: continue with --resume {path}"


def _exact_resume(args: argparse.Namespace, resumed, state, solver: str, client) -> tuple[object, list[str]]:
    """The solver state to continue exactly (or None) and the lines that say how exact the resumed run is.

    ``state``: the optimizer state the --resume file holds (None for a plain model file)."""
    from glassnet.train.optimize import is_mini_batch

    if resumed is None:
        return None, []
    if not is_mini_batch(solver):
        return None, [f"note: {solver} cannot resume exactly: scipy keeps its memory to itself, so it restarts from "
                      "the saved weights (the run will differ slightly from an uninterrupted one)"]
    if state is None:
        return None, [f"note: {args.resume} holds no optimizer state (not a {solver} checkpoint): the {solver} "
                      "state starts afresh, so the run is not the uninterrupted one"]
    if state.solver != solver or client is not None:
        why = "on Dask" if client is not None else f"it is of solver {state.solver}"
        return None, [f"note: the optimizer state in {args.resume} is not used ({why}): the {solver} state starts "
                      "afresh"]
    return state, []

