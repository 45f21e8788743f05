"""``glassnet train``, ``evaluate``, ``predict`` and ``gradcheck``: the learning workflow from the command line.

A thin shell over :class:`glassnet.Classifier`, :mod:`glassnet.datasets`, :func:`glassnet.save` /
:func:`glassnet.load` and :func:`glassnet.gradient_check`: parse, call the library, print. Exit codes and ``--json``
follow :mod:`glassnet.cli._common` (0 success, 1 failure such as a bad file or a failed check, 2 usage error).

Output lines (stable; ``--json`` gives the same numbers as one JSON object):

``train``::

    glassnet train: digits, 1797 examples, 64 features, 10 classes
    split (seed 0): 1347 train / 450 test                              (or: no held-out data: all 1797 examples train)
    network 64-25-10, λ = 1, solver lbfgs, up to 200 iterations
    resumed from m.npz after 5 iterations                             (only with --resume)
    J(Θ) before training: 7.012345
    J(Θ) after training:  0.312345  (200 iterations, 0.6 s)          (--resume: "(5 iterations, 10 in total, 0.1 s)")
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

``evaluate`` prints the accuracy, J(Θ), a per-class precision/recall/F1 table and the confusion matrix; ``predict``
writes CSV (``prediction`` and, with ``--proba``, ``p_<class>`` columns) to stdout or atomically to ``-o FILE``;
``gradcheck`` prints :meth:`glassnet.GradCheckReport.table` and exits 1 when the check fails.

Not for: any computation of its own (everything is the library's) or for plots (see ``glassnet plot``).
"""

from __future__ import annotations

import argparse
import csv
import functools
import glob
import io
import sys
import time
from pathlib import Path

import numpy as np

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
    add_raw_features_option,
    check_fits_model,
    check_labels_known,
    check_writable,
    command,
    emit,
    fail,
    fraction,
    fraction_or_zero,
    hidden_sizes,
    kinds_of,
    label_column,
    layer_sizes,
    load_data,
    load_model,
    model_features,
    nonnegative_float,
    positive_float,
    positive_int,
    split,
    want_progress,
    write_atomic,
)
from glassnet.cli._common import seed as seed_number
from glassnet.outputs import n_classes_for, n_outputs
from glassnet.train.optimize import SOLVERS, is_mini_batch

DEFAULT_EPOCHS = 200
DEFAULT_TEST_SIZE = 0.25


def register(sub) -> None:
    _register_train(sub)
    _register_evaluate(sub)
    _register_predict(sub)
    _register_gradcheck(sub)


# ---------------------------------------------------------------------------------------------------------------
# train


def _register_train(sub) -> None:
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
                   help="hidden layer sizes, e.g. 25 or 100,50; none for no hidden layer (default 25)")
    p.add_argument("--lam", "--alpha", dest="lam", type=nonnegative_float, metavar="λ",
                   help="regularization λ ≥ 0 (default 1)")
    p.add_argument("--solver", choices=SOLVERS,
                   help="lbfgs (default) or cg: full batch; sgd (momentum, Nesterov) or adam: mini-batch")
    p.add_argument("--epochs", "--max-iter", dest="epochs", type=positive_int, metavar="N",
                   help=f"iterations (lbfgs, cg) or epochs (sgd, adam) in total (default {DEFAULT_EPOCHS})")
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


def _snapshot_maker(clf, prior, units, target: int, scaling=None):
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


@command("train")
def _cmd_train(args: argparse.Namespace) -> int:
    from glassnet import io as gio

    if args.checkpoint_every is not None and args.save is None:
        raise UsageError("--checkpoint-every: needs --save FILE (the checkpoints are written beside it, FILE.ckpt)")
    if args.save is not None:
        ckpt = gio.checkpoint_path(args.save)
        if ckpt.exists() and not args.force and not (args.resume is not None and _same(ckpt, args.resume)):
            raise Failure(f"--save {args.save}: the checkpoint {ckpt} of an unfinished run exists; continue it with "
                          f"--resume {ckpt}, or use --force to start over")
        check_writable(args.save, args.force, "--save", allowed=args.resume)
    resumed, args.resume_state = _load_resume(args.resume) if args.resume is not None else (None, None)
    if args.dask_scheduler is None:
        return _train(args, resumed, None)
    if args.early_stopping or args.validation_fraction is not None:  # refused before connecting to anything
        raise UsageError("--dask-scheduler: validation data and early stopping are not available on Dask; leave "
                         "out --validation-fraction and --early-stopping")
    from glassnet.scale.distributed import _client_for

    with _client_for(None, args.dask_scheduler) as client, client.as_current():
        return _train(args, resumed, client)


def _train(args: argparse.Namespace, resumed, client) -> int:
    """The train command once the model to resume is loaded; ``client``: the Dask cluster to train on, or None."""
    import glassnet

    # the precision: --dtype, else the resumed model's weights' (a file from before the dtype parameter has none)
    dtype = args.dtype or (str(np.asarray(resumed.thetas_[0]).dtype) if resumed is not None else "float64")
    fmt = _chunked_format(args.data) if client is not None else None
    scaling = None  # how a built-in dataset loaded by name scaled its features: recorded in the model file
    if fmt is not None:  # a data file on Dask: read chunk by chunk by the workers, never loaded here
        name, X, y, classes, chunk_sizes = _read_file_chunks(args, client, fmt)
        m = int(sum(chunk_sizes))
    else:
        data = load_data(args.data, args.label_column)
        X, y = np.asarray(data.X, dtype=dtype), np.asarray(data.y)  # converted once, here
        classes = np.unique(y)
        name, m = data.name, len(y)
        if glassnet.datasets.is_builtin(args.data) and data.extra.get("scaling", {}).get("kind", "none") != "none":
            scaling = data.extra["scaling"]
    if resumed is not None and getattr(resumed, "input_scaling_", None) is not None:
        scaling = resumed.input_scaling_
    if len(classes) < 2:
        raise UsageError(f"--data {args.data}: training needs at least two classes, found only {classes.tolist()}")

    saved = resumed.get_params() if resumed is not None else {}

    def setting(value, name, default):
        """The option if given, else the resumed model's setting, else the default."""
        if value is not None:
            return value
        return saved.get(name, default) if resumed is not None else default

    if resumed is not None:
        check_fits_model(resumed, X, args.data)
        if not np.array_equal(np.asarray(resumed.classes_), classes):
            raise UsageError(f"--data {args.data}: classes {classes.tolist()}, but the model in --resume "
                             f"{args.resume} was trained on {np.asarray(resumed.classes_).tolist()}")
        model_hidden = tuple(resumed.layer_sizes_[1:-1])
        if args.hidden is not None and tuple(args.hidden) != model_hidden:
            raise UsageError(f"--hidden {','.join(map(str, args.hidden)) or 'none'}: the model in --resume "
                             f"{args.resume} has hidden layers {','.join(map(str, model_hidden)) or 'none'}; "
                             f"leave --hidden out to continue it")
        hidden = model_hidden
    else:
        hidden = args.hidden if args.hidden is not None else (25,)
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
    target = setting(args.epochs, "max_iter", DEFAULT_EPOCHS)
    params = dict(
        hidden_layer_sizes=tuple(hidden),
        alpha=float(setting(args.lam, "alpha", 1.0)),
        max_iter=int(target),
        solver=solver,
        batch_size=setting(args.batch_size, "batch_size", "auto"),
        learning_rate=setting(args.learning_rate, "learning_rate", "auto"),
        tol=float(setting(args.tol, "tol", 1e-4)),
        early_stopping=bool(early),
        validation_fraction=float(val_fraction) if val_fraction is not None else 0.1,
        n_iter_no_change=int(setting(args.patience, "n_iter_no_change", 10)),
        random_state=int(seed),
        n_threads=setting(args.threads, "n_threads", None),
        dtype=dtype,
        warm_start=False,
        verbose=False,
        **kinds_of(args, saved),
    )
    if client is not None and (params["activation"], params["output"], params["loss"]) != ("sigmoid", "sigmoid", "log"):
        raise UsageError("--activation/--output/--loss: Dask training (--dask-scheduler) runs the lecture's network "
                         "only (sigmoid, sigmoid, log)")

    if fmt is not None:
        from glassnet.scale.distributed import hash_split

        try:
            X_fit, X_test, y_fit, y_test, n_fit, n_test = hash_split(X, y, chunk_sizes, args.test_size, seed)
        except ValueError as exc:
            raise UsageError(f"--test-size{str(exc).removeprefix('fraction')}") from None
        X_val = y_val = None
    else:
        if args.test_size > 0:
            X_train, X_test, y_train, y_test = split(X, y, args.test_size, seed, "--test-size")
        else:
            X_train, X_test, y_train, y_test = X, None, y, None
        if val_fraction is not None:
            X_fit, X_val, y_fit, y_val = split(X_train, y_train, val_fraction, seed, "--validation-fraction")
        else:
            X_fit, X_val, y_fit, y_val = X_train, None, y_train, None
        if len(np.unique(y_fit)) < 2:
            raise UsageError(f"--data {args.data}: the training part holds a single class; use more data or a "
                             f"smaller --test-size/--validation-fraction")
        n_fit, n_test = len(y_fit), 0 if y_test is None else len(y_test)

    sizes = [X.shape[1], *hidden, n_outputs(len(classes))]
    lam = params["alpha"]
    if resumed is not None:
        clf = resumed
        clf.set_params(**params)
        done = int(resumed.n_iter_)
        prior = resumed.history_
        J_before = float(clf.cost_and_gradient(X_fit, y_fit)[0])
    else:
        _check_fits(sizes, n_fit, solver, "--hidden")
        clf = glassnet.Classifier(**params)
        done, prior = 0, None
        # the weights fit() starts from: an int random_state s gives random_init(sizes, rng=s)
        thetas0 = glassnet.random_init(sizes, rng=int(seed))
        if fmt is not None:
            y_idx = y_fit.map_blocks(functools.partial(np.searchsorted, classes), dtype=np.intp,
                                     meta=np.empty(0, dtype=np.intp))
            J_before = float(glassnet.cost_and_gradient(thetas0, X_fit, y_idx, lam)[0])
        else:
            J_before = float(glassnet.cost(thetas0, X_fit, np.searchsorted(classes, y_fit), lam,
                                           **kinds_of(args, params)))
    remaining = int(target) - done
    unit = "epochs" if is_mini_batch(solver) else "iterations"

    units = resumed.output_layer_.classes if resumed is not None else classes
    snapshot = _snapshot_maker(clf, prior, units, int(target), scaling)
    checkpoint = None
    callbacks = []
    if args.checkpoint_every is not None:
        checkpoint = _Checkpoint(args.checkpoint_every, glassnet.io.checkpoint_path(args.save), snapshot)
        callbacks.append(checkpoint)
    resume_state, notes = _exact_resume(args, resumed, solver, client)

    n_val = 0 if y_val is None else len(y_val)
    parts = [f"{n_fit} train"] + ([f"{n_val} validation"] if n_val else []) + ([f"{n_test} test"] if n_test else [])
    solver_text = f"solver {solver}"
    if is_mini_batch(solver):
        opt = clf._optimizer()
        solver_text += f" (learning rate {opt.learning_rate:g}, batch size {clf._batch_size(n_fit)})"
    header = [
        f"glassnet train: {name}, {m} examples, {X.shape[1]} features, {len(classes)} classes",
        f"split (seed {seed}): {' / '.join(parts)}" if len(parts) > 1 else
        f"no held-out data: all {n_fit} examples train",
        f"network {'-'.join(map(str, sizes))}, λ = {lam:g}, {solver_text}, up to {target} {unit}",
    ]
    if (params["activation"], params["output"], params["loss"]) != ("sigmoid", "sigmoid", "log"):
        header.append(f"units and cost: {params['activation']} hidden, {params['output']} output, "
                      f"{params['loss']} cost")
    if resumed is not None:
        header.append(f"resumed from {args.resume} after {done} {unit}")
        header += notes
    header.append(f"J(Θ) before training: {J_before:.6f}")
    if not args.json:  # what is about to happen, before the long part starts
        print("\n".join(header), flush=True)

    seconds, n_run = 0.0, 0
    if remaining > 0:
        clf.set_params(max_iter=remaining, warm_start=resumed is not None, verbose=want_progress(args))
        t0 = time.perf_counter()
        try:
            if client is not None:
                # glassnet.Classifier trains on the current client (this one): J and D are summed over row chunks on
                # the workers (lbfgs/cg), or Θ travels from chunk to chunk (sgd/adam)
                import dask.array as da

                chunked = X_fit if fmt is not None else da.from_array(
                    X_fit, chunks=(min(args.chunk_rows, len(X_fit)), X_fit.shape[1]))
                clf.fit(chunked, y_fit, callbacks=callbacks or None)
            else:
                clf.fit(X_fit, y_fit, X_val=X_val, y_val=y_val, callbacks=callbacks or None, resume=resume_state)
        except KeyboardInterrupt:
            return fail(args, "train", "interrupted" + _untouched(args.save) + _checkpoint_note(checkpoint, unit),
                        EXIT_INTERRUPTED)
        except FloatingPointError as exc:  # glassnet.train.optimize.TrainingDiverged and the Dask loop's divergence
            return fail(args, "train", f"{exc}{_untouched(args.save)}{_checkpoint_note(checkpoint, unit)}",
                        EXIT_FAILURE)
        seconds = time.perf_counter() - t0
        n_run = int(clf.n_iter_) - done
    clf.set_params(max_iter=int(target), warm_start=False, verbose=False)
    J_after = float(clf.cost_and_gradient(X_fit, y_fit)[0])
    acc_train = float(clf.score(X_fit, y_fit))
    acc_val = float(clf.score(X_val, y_val)) if X_val is not None else None
    acc_test = float(clf.score(X_test, y_test)) if X_test is not None else None
    if scaling is not None:
        clf.input_scaling_ = scaling
    if args.save is not None and not (remaining <= 0 and args.resume is not None and _same(args.save, args.resume)):
        glassnet.save(clf, args.save)
        ckpt = glassnet.io.checkpoint_path(args.save)
        if ckpt.exists():  # the run ended well and is saved: its checkpoint (perhaps the --resume file) is obsolete
            ckpt.unlink()

    h = clf.history_
    total = f", {clf.n_iter_} in total" if resumed is not None else ""
    lines = [f"J(Θ) after training:  {J_after:.6f}  ({n_run} {unit}{total}, {seconds:.1f} s)"]
    if remaining <= 0:
        lines.append(f"nothing to train: the model has {done} {unit}, --epochs asks for {target}")
    if n_run and h.stopped_early and h.best_epoch is not None and params["early_stopping"]:
        lines.append(f"early stopping: kept the weights of {unit[:-1]} {h.best_epoch} (lowest validation cost)")
    lines.append(f"{'train accuracy:':<20} {acc_train:7.2%}")
    if acc_val is not None:
        lines.append(f"{'validation accuracy:':<20} {acc_val:7.2%}")
    if acc_test is not None:
        lines.append(f"{'test accuracy:':<20} {acc_test:7.2%}")
    if checkpoint is not None:
        lines.append(f"checkpoints: {checkpoint.written} written to {checkpoint.path} (every {checkpoint.every} "
                     f"{unit}), removed after saving")
    if args.save is not None:
        lines.append(f"saved model: {args.save}")
    payload = {
        "command": "train",
        "data": name,
        "n_examples": m,
        "n_features": X.shape[1],
        "classes": classes,
        "seed": seed,
        "n_train": n_fit,
        "n_validation": n_val,
        "n_test": n_test,
        "layer_sizes": clf.layer_sizes_,
        "lam": lam,
        "solver": solver,
        "dtype": str(np.asarray(clf.thetas_[0]).dtype),
        "epochs": int(target),
        "J_before": J_before,
        "J_after": J_after,
        "n_iter": int(clf.n_iter_),
        "n_iter_run": n_run,
        "seconds": seconds,
        "converged": bool(h.converged),
        "message": h.message,
        "reason": h.reason,
        "stopped_early": bool(h.stopped_early),
        "best_epoch": h.best_epoch,
        "train_accuracy": acc_train,
        "validation_accuracy": acc_val,
        "test_accuracy": acc_test,
        "resumed_from": args.resume,
        "resumed_after": done if resumed is not None else None,
        "checkpoints": None if checkpoint is None else {"every": checkpoint.every, "written": checkpoint.written,
                                                        "last": checkpoint.last_epoch},
        "saved": args.save,
    }
    emit(args, payload, lines)
    return EXIT_OK


# --dask-scheduler with a data file: read per chunk by the workers, split by a hash of the row number


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
    suffix = path.suffix.lower()
    if suffix == ".mat":
        return None
    if suffix not in _CHUNKED_FORMATS:
        raise UsageError(f"--data {source}: with --dask-scheduler, expected CSV (.csv/.txt), .npz or Parquet "
                         f"(.parquet/.pq or a folder of them) files, a glob of them, or a built-in dataset")
    return _CHUNKED_FORMATS[suffix]


_CHUNKED_FORMATS = {".csv": "csv", ".txt": "csv", ".npz": "npz", ".parquet": "parquet", ".pq": "parquet"}


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
    """``(name, X, y, classes, chunk_sizes)`` of a data file on the cluster (see
    glassnet.scale.distributed.read_labelled)."""
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


def _check_fits(sizes, rows: int, solver: str, option: str) -> None:
    """A usage error naming ``option`` when the network cannot fit in memory (glassnet._support.memory's estimate)."""
    from glassnet._support.memory import MemoryBudgetError, check_network_fits

    try:
        check_network_fits(sizes, min(rows, 2048), solver)
    except MemoryBudgetError as exc:
        raise UsageError(f"{option}: {exc}") from None


def _untouched(save: Path | None) -> str:
    return "" if save is None else f"; {save} was not changed"


def _checkpoint_note(checkpoint: _Checkpoint | None, unit: str) -> str:
    """Where training can be resumed from after a failure (read from the file: Ctrl-C may hit mid-save)."""
    import glassnet

    if checkpoint is None:
        return ""
    path = checkpoint.path
    if checkpoint.last_epoch is None:
        return f"; no checkpoint was written (the first would have been {unit[:-1]} {checkpoint.every})"
    try:
        n_iter = glassnet.load(path).n_iter_
    except (OSError, ValueError):
        return ""
    return f"; the last good checkpoint, of {unit[:-1]} {n_iter}, is {path}: continue with --resume {path}"


def _exact_resume(args: argparse.Namespace, resumed, solver: str, client) -> tuple[object, list[str]]:
    """The solver state to continue exactly (or None) and the lines that say how exact the resumed run is."""
    if resumed is None:
        return None, []
    state = args.resume_state
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


def _same(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------------------------
# evaluate


def _register_evaluate(sub) -> None:
    p = sub.add_parser(
        "evaluate", help="accuracy, per-class precision/recall/F1 and the confusion matrix of a saved model",
        description="Evaluate a saved model (glassnet train --save) on a dataset: accuracy, J(Θ) with the model's "
                    "λ, a per-class precision/recall/F1 table and the confusion matrix. With --test-size and "
                    "--seed, only the held-out part that 'glassnet train' used with the same values is evaluated.")
    p.add_argument("--model", required=True, type=Path, metavar="FILE",
                   help="the model file: glassnet .npz, the course's .mat weights or Nielsen JSON")
    add_data_options(p, default=None, what="the data to evaluate on")
    p.add_argument("--test-size", type=fraction_or_zero, metavar="F",
                   help="evaluate only the held-out test part of this share (as 'train --test-size F'); 0 or "
                        "leaving it out: every example")
    p.add_argument("--seed", type=seed_number, default=0, metavar="S", help="seed of that split (default 0)")
    p.add_argument("--lam", "--alpha", dest="lam", type=nonnegative_float, metavar="λ",
                   help="λ of the reported J(Θ) (default: the model's own)")
    add_raw_features_option(p)
    add_json_option(p)
    p.set_defaults(func=_cmd_evaluate)


def _class_table(classes, precision, recall, f1, support) -> list[str]:
    names = [str(c) for c in classes]
    w = max([12] + [len(n) for n in names])
    lines = [f"{'class':>{w}}  {'precision':>9}  {'recall':>9}  {'f1-score':>9}  {'support':>7}"]
    for n, p, r, f, s in zip(names, precision, recall, f1, support):
        lines.append(f"{n:>{w}}  {p:9.4f}  {r:9.4f}  {f:9.4f}  {s:7d}")
    total = int(np.sum(support))
    weights = np.asarray(support, dtype=np.float64) / max(total, 1)
    for name, avg in (("macro avg", lambda v: float(np.mean(v))), ("weighted avg", lambda v: float(weights @ v))):
        lines.append(f"{name:>{w}}  {avg(precision):9.4f}  {avg(recall):9.4f}  {avg(f1):9.4f}  {total:7d}")
    return lines


def _confusion_lines(classes, cm: np.ndarray) -> list[str]:
    names = [str(c) for c in classes]
    w = max([len(n) for n in names] + [len(str(int(cm.max(initial=0))))])
    lines = [" " * w + " " + " ".join(f"{n:>{w}}" for n in names)]
    for n, row in zip(names, cm):
        lines.append(f"{n:>{w}} " + " ".join(f"{int(v):>{w}}" for v in row))
    return lines


@command("evaluate")
def _cmd_evaluate(args: argparse.Namespace) -> int:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    model = load_model(args.model)
    data = load_data(args.data, args.label_column)
    (X, scaled), y = model_features(model, data, args.data, args.raw_features), np.asarray(data.y)
    check_fits_model(model, X, args.data)
    check_labels_known(model, y, args.data)
    where = f"{data.name} ({len(y)} examples)"
    if args.test_size:
        _, X, _, y = split(X, y, args.test_size, args.seed, "--test-size")
        where = f"the {len(y)} held-out examples of {data.name} (test size {args.test_size:g}, seed {args.seed})"
    classes = np.asarray(model.classes_)
    pred = model.predict(X)
    correct = int(np.sum(pred == y))
    accuracy = correct / len(y)
    lam = float(args.lam if args.lam is not None else model.alpha)
    J = float(model.set_params(alpha=lam).cost_and_gradient(X, y)[0])
    precision, recall, f1, support = precision_recall_fscore_support(y, pred, labels=classes, zero_division=0)
    cm = confusion_matrix(y, pred, labels=classes)
    net = "-".join(map(str, model.layer_sizes_))
    lines = [
        f"glassnet evaluate: model {args.model} ({net}, {len(classes)} classes) on {where}",
        *([scaled] if scaled else []),
        f"accuracy: {accuracy:.2%} ({correct} of {len(y)})",
        f"J(Θ) = {J:.6f} (λ = {lam:g}, on these {len(y)} examples)",
        "",
        *_class_table(classes, precision, recall, f1, support),
        "",
        "confusion matrix (rows: true class, columns: predicted class)",
        *_confusion_lines(classes, cm),
    ]
    weights = support / max(int(support.sum()), 1)
    payload = {
        "command": "evaluate",
        "model": args.model,
        "data": data.name,
        "n_examples": len(y),
        "test_size": args.test_size or 0.0,
        "input_scaling": scaled,
        "seed": args.seed if args.test_size else None,
        "layer_sizes": model.layer_sizes_,
        "lam": lam,
        "accuracy": accuracy,
        "correct": correct,
        "cost": J,
        "classes": classes,
        "per_class": [{"class": c, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                      for c, p, r, f, s in zip(classes.tolist(), precision, recall, f1, support)],
        "macro_avg": {"precision": float(np.mean(precision)), "recall": float(np.mean(recall)),
                      "f1": float(np.mean(f1))},
        "weighted_avg": {"precision": float(weights @ precision), "recall": float(weights @ recall),
                         "f1": float(weights @ f1)},
        "confusion_matrix": cm,
    }
    emit(args, payload, lines)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------------------------
# predict


def _register_predict(sub) -> None:
    p = sub.add_parser(
        "predict", help="predict the labels (and class probabilities) of a dataset with a saved model",
        description="Predict with a saved model. Writes CSV: a 'prediction' column and, with --proba, one "
                    "'p_<class>' column per class (6 significant digits), to stdout or atomically to -o FILE. A CSV "
                    "file may hold features only (as many columns as the model has inputs); otherwise its label "
                    "column (--label-column, default the last) is ignored.")
    p.add_argument("--model", required=True, type=Path, metavar="FILE.npz", help="the model file")
    add_data_options(p, default=None, what="the examples to predict")
    p.add_argument("--proba", action="store_true", help="also write the class probabilities")
    add_raw_features_option(p)
    p.add_argument("-o", "--output", type=Path, metavar="FILE.csv", help="write the CSV to this file, not stdout")
    p.add_argument("--force", action="store_true", help="replace the -o file if it exists")
    add_json_option(p)
    p.set_defaults(func=_cmd_predict)


def _examples_to_predict(args: argparse.Namespace, model):
    """The examples to predict. A CSV without --label-column may hold features only: when its width is exactly the
    model's input size, every column is a feature; otherwise the last column is taken as labels and ignored."""
    if args.label_column is None and Path(args.data).suffix.lower() in (".csv", ".txt") and Path(args.data).is_file():
        try:
            data = load_data(args.data, None, features_only=True)
        except Failure:  # e.g. a text label column: fall back to the labelled reading, which names any real problem
            data = None
        if data is not None and data.X.shape[1] == model.n_features_in_:
            return data
    return load_data(args.data, args.label_column)


@command("predict")
def _cmd_predict(args: argparse.Namespace) -> int:
    if args.output is not None:
        check_writable(args.output, args.force, "-o")
    model = load_model(args.model)
    data = _examples_to_predict(args, model)
    X, scaled = model_features(model, data, args.data, args.raw_features)
    check_fits_model(model, X, args.data)
    classes = np.asarray(model.classes_)
    pred = model.predict(X)
    proba = model.predict_proba(X) if args.proba else None
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["prediction"] + ([f"p_{c}" for c in classes.tolist()] if args.proba else []))
    for t, label in enumerate(pred.tolist()):
        writer.writerow([label] + ([f"{v:.6g}" for v in proba[t]] if proba is not None else []))
    text = buf.getvalue()
    if args.output is not None:
        write_atomic(args.output, text.encode())
        payload = {"command": "predict", "model": args.model, "data": data.name, "n_examples": len(pred),
                   "classes": classes, "output": args.output}
        emit(args, payload, [f"wrote {len(pred)} predictions to {args.output}"])
        return EXIT_OK
    if args.json:
        payload = {"command": "predict", "model": args.model, "data": data.name, "n_examples": len(pred),
                   "classes": classes, "input_scaling": scaled, "predictions": pred}
        if proba is not None:
            payload["probabilities"] = proba
        emit(args, payload, [])
    else:
        sys.stdout.write(text)
    return EXIT_OK


# ---------------------------------------------------------------------------------------------------------------
# gradcheck


def _register_gradcheck(sub) -> None:
    p = sub.add_parser(
        "gradcheck", help="compare backprop's gradient with central differences (PASS/FAIL at 1e-9)",
        description="Gradient checking as in the course: numeric_i = (J(θ+εe_i) − J(θ−εe_i))/2ε next to backprop's "
                    "D, and the relative difference ‖num − ana‖/‖num + ana‖, which passes below --tol. By default "
                    "the course's problem: debug-initialized weights for --sizes (3,5,3), m = 5 synthetic examples. "
                    "Exit code 1 when the check fails.")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--sizes", type=layer_sizes, metavar="S1,...,SL",
                     help="layer sizes of the checked network, input to output (default 3,5,3)")
    src.add_argument("--model", type=Path, metavar="FILE.npz", help="check at the weights of this saved model")
    p.add_argument("--data", metavar="NAME|FILE",
                   help="with --model: check on m examples of this dataset (default: the course's synthetic ones)")
    p.add_argument("--label-column", type=label_column, metavar="COL",
                   help="CSV files: the label column (name or index)")
    p.add_argument("-m", "--m", dest="m", type=positive_int, default=5, metavar="M",
                   help="number of examples (default 5)")
    p.add_argument("--lam", type=nonnegative_float, metavar="λ", help="λ (default 0; with --model the model's)")
    p.add_argument("--seed", type=seed_number, default=0, metavar="S",
                   help="seed of the parameters/directions sampled and of the examples picked from --data (default 0)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--params", type=positive_int, metavar="N", help="check only N parameters chosen at random")
    which.add_argument("--directions", type=positive_int, metavar="N",
                       help="check N random directions instead of single parameters")
    p.add_argument("--epsilon", type=positive_float, default=1e-4, metavar="ε", help="finite-difference step (1e-4)")
    add_kind_options(p, classify=False)
    p.add_argument("--tol", type=positive_float, default=1e-9, metavar="TOL",
                   help="pass when the relative difference is below this (default 1e-9)")
    p.add_argument("--show", type=int, metavar="N", help="print only the first N rows of the table (default all)")
    add_json_option(p)
    p.set_defaults(func=_cmd_gradcheck)


@command("gradcheck")
def _cmd_gradcheck(args: argparse.Namespace) -> int:
    import glassnet
    from glassnet.gradcheck import course_problem
    from glassnet.params import debug_initialize_weights, sizes_from_thetas

    if args.show is not None and args.show < 0:
        raise UsageError(f"--show: expected a number of rows ≥ 0, got {args.show}")
    if args.data is not None and args.model is None:
        raise UsageError("--data: only with --model (the weights to check it on)")
    if args.model is not None:
        model = load_model(args.model)
        thetas = [np.asarray(t, dtype=np.float64) for t in model.thetas_]
        sizes = sizes_from_thetas(thetas)
        lam = args.lam if args.lam is not None else float(model.alpha)
        if args.data is not None:
            data = load_data(args.data, args.label_column)
            X = np.asarray(data.X, dtype=np.float64)
            check_fits_model(model, X, args.data)
            check_labels_known(model, np.asarray(data.y), args.data)
            rows = np.sort(np.random.default_rng(args.seed).choice(len(X), size=min(args.m, len(X)), replace=False))
            X = X[rows]
            y = np.searchsorted(np.asarray(model.classes_), np.asarray(data.y)[rows])
            problem = f"at the weights of {args.model}, examples of {data.name} (seed {args.seed})"
        else:
            X = debug_initialize_weights(args.m, sizes[0] - 1)
            K = sizes[-1]
            y = np.mod(np.arange(1, args.m + 1), n_classes_for(K))
            problem = f"at the weights of {args.model}, synthetic examples"
    else:
        if args.label_column is not None:
            raise UsageError("--label-column: only with --model and --data")
        sizes = args.sizes or [3, 5, 3]
        lam = args.lam if args.lam is not None else 0.0
        _check_fits(sizes, args.m, "gradcheck", "--sizes")
        thetas, X, y = course_problem(lam, sizes, args.m)
        problem = "debug-initialized weights (the course's check)"
    kinds = kinds_of(args, model.get_params() if args.model is not None else None)
    if kinds["output"] == "identity":  # regression: the labels' 0/1 target vectors as real-valued targets
        from glassnet.outputs import one_hot

        y = one_hot(y, sizes[-1]) if sizes[-1] > 1 else np.asarray(y, dtype=np.float64)
    n_total = sum(t.size for t in thetas)
    report = glassnet.gradient_check(thetas, X, y, lam, epsilon=args.epsilon, tol=args.tol, n_params=args.params,
                                     n_directions=args.directions, seed=args.seed, **kinds)
    if args.directions is not None:
        what = f"{args.directions} random directions"
    elif args.params is not None:
        what = f"{len(report.rows)} of {n_total} parameters, chosen at random (seed {args.seed})"
    else:
        what = f"all {n_total} parameters"
    net = "-".join(map(str, sizes))
    lines = [f"gradient check: network {net}, m = {X.shape[0]}, λ = {lam:g}, ε = {args.epsilon:g}, {what}; {problem}"]
    if kinds != {"activation": "sigmoid", "output": "sigmoid", "loss": "log"}:
        lines.append(f"units and cost: {kinds['activation']} hidden, {kinds['output']} output, {kinds['loss']} cost")
    table = report.table(limit=args.show).splitlines()
    if not report.rows:
        table = table[-1:]  # directions: no per-parameter rows, only the verdict
    elif args.show is not None and args.show < len(report.rows):
        table.insert(-1, f"... {len(report.rows) - args.show} more rows (all of them without --show)")
    lines += table
    payload = {
        "command": "gradcheck",
        "layer_sizes": sizes,
        "m": int(X.shape[0]),
        "lam": lam,
        "epsilon": args.epsilon,
        "tol": args.tol,
        "mode": report.mode,
        **kinds,
        "relative_difference": report.relative_difference,
        "passed": report.passed,
        "rows": [{"layer": r.layer, "i": r.i, "j": r.j, "analytic": r.analytic, "numeric": r.numeric,
                  "abs_error": r.abs_error} for r in report.rows],
    }
    emit(args, payload, lines)
    return EXIT_OK if report.passed else EXIT_FAILURE

