"""``glassnet predict``: the labels (and class probabilities) of a dataset under a saved model, as CSV.

A thin shell over :func:`glassnet.io.load_any` and the model's ``predict`` / ``predict_proba``: writes a
``prediction`` column and, with ``--proba``, one ``p_<class>`` column per class to stdout or atomically to
``-o FILE``. Exit codes and ``--json`` follow :mod:`glassnet.cli._common`.

Not for: any computation of its own (everything is the library's).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

from glassnet.cli._common import (
    EXIT_OK,
    Failure,
    add_data_options,
    add_json_option,
    add_raw_features_option,
    check_fits_model,
    check_writable,
    command,
    emit,
    load_data,
    load_model,
    model_features,
    write_atomic,
)


def register(sub) -> None:
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
    from glassnet import datasets

    if args.label_column is None and datasets.format_of(args.data) == "csv" and Path(args.data).is_file():
        try:
            data = load_data(args.data, None, features_only=True)
        except Failure:  # e.g. a text label column: fall back to the labelled reading, which names any real problem
            data = None
        if data is not None and data.X.shape[1] == model.n_features_in_:
            return data
    return load_data(args.data, args.label_column)


@command("predict")
def _cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np

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
