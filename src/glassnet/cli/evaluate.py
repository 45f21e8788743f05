"""``glassnet evaluate``: accuracy, J(Θ), per-class precision/recall/F1 and the confusion matrix of a saved model.

A thin shell over :func:`glassnet.io.load_any` and the model's own ``predict`` and ``cost_and_gradient``: parse, call
the library, print. With ``--test-size F --seed S`` it evaluates exactly the test part that ``glassnet train`` held
out with the same values (:mod:`glassnet.train.holdout`). Exit codes and ``--json`` follow
:mod:`glassnet.cli._common`.

Not for: any computation of its own (everything is the library's).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from glassnet.cli._common import (
    EXIT_OK,
    add_data_options,
    add_json_option,
    add_raw_features_option,
    check_fits_model,
    check_labels_known,
    command,
    emit,
    fraction_or_zero,
    load_data,
    load_model,
    model_features,
    nonnegative_float,
    split,
)
from glassnet.cli._common import seed as seed_number


def register(sub) -> None:
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
    """The per-class precision/recall/F1 rows, then the macro and support-weighted averages."""
    import numpy as np

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


def _confusion_lines(classes, cm) -> list[str]:
    """The confusion matrix ``cm`` (K, K) as text: rows the true class, columns the predicted class."""
    names = [str(c) for c in classes]
    w = max([len(n) for n in names] + [len(str(int(cm.max(initial=0))))])
    lines = [" " * w + " " + " ".join(f"{n:>{w}}" for n in names)]
    for n, row in zip(names, cm):
        lines.append(f"{n:>{w}} " + " ".join(f"{int(v):>{w}}" for v in row))
    return lines


@command("evaluate")
def _cmd_evaluate(args: argparse.Namespace) -> int:
    import numpy as np
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    model = load_model(args.model)
    data = load_data(args.data, args.label_column)
    (X, scaled), y = model_features(model, data, args.data, args.raw_features), np.asarray(data.y)
    check_fits_model(model, X, args.data)
    check_labels_known(model, y, args.data)
    # say which rows are scored: all of them include any the model trained on, which flatters it
    where = (f"{data.name}, all {len(y)} rows (its training rows included, if it was trained on them; "
             f"--test-size F --seed S: only the rows 'glassnet train' held out)")
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
        "rows": "held-out test part" if args.test_size else "all",
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
