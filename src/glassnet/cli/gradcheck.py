"""``glassnet gradcheck``: backprop's gradient next to central differences, PASS/FAIL at a tolerance.

A thin shell over :func:`glassnet.gradient_check`: by default the course's problem (debug-initialized weights for
``--sizes``, m synthetic examples); with ``--model`` at a saved model's weights, and with ``--data`` on m examples
of a dataset, whose labels become output units by the model's own output layer (:mod:`glassnet.outputs`: for the
course's ``ex4weights.mat`` the digit 0 is unit 10). Prints :meth:`glassnet.GradCheckReport.table` and exits 1 when
the check fails; ``--json`` and the other exit codes follow :mod:`glassnet.cli._common`.

Not for: any computation of its own (everything is the library's).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from glassnet.cli._common import (
    EXIT_FAILURE,
    EXIT_OK,
    UsageError,
    add_json_option,
    add_kind_options,
    check_fits_model,
    check_labels_known,
    check_memory,
    command,
    emit,
    kinds_of,
    label_column,
    layer_sizes,
    load_data,
    load_model,
    nonnegative_float,
    positive_float,
    positive_int,
)
from glassnet.cli._common import seed as seed_number

#: Checks of up to this many parameters print every row (the course's 3-5-3 check: 38); larger ones a summary.
SHOW_ALL_UP_TO = 100
#: The rows of the summary: those with the largest absolute error.
SUMMARY_ROWS = 10


def register(sub) -> None:
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
    p.add_argument("--show", type=int, metavar="N",
                   help=f"print the first N rows of the table (default: all rows up to {SHOW_ALL_UP_TO} parameters, "
                        f"else a summary: the {SUMMARY_ROWS} rows with the largest error)")
    add_json_option(p)
    p.set_defaults(func=_cmd_gradcheck)


@command("gradcheck")
def _cmd_gradcheck(args: argparse.Namespace) -> int:
    import numpy as np

    import glassnet
    from glassnet.gradcheck import course_problem
    from glassnet.outputs import n_classes_for
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
            # labels → output units by the model's own output layer: the course's networks put digit 0 on unit 10
            y = model.output_layer_.unit_of(np.asarray(data.y)[rows], name=f"--data {args.data}")
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
        check_memory(sizes, args.m, "gradcheck", "--sizes")
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
    summary = args.show is None and len(report.rows) > SHOW_ALL_UP_TO
    table = report.table(limit=args.show, largest=SUMMARY_ROWS if summary else None).splitlines()
    if not report.rows:
        table = table[-1:]  # directions: no per-parameter rows, only the verdict
    elif summary:
        table.insert(0, f"the {SUMMARY_ROWS} of {len(report.rows)} rows with the largest abs error (--show N prints "
                        f"the first N rows):")
    elif args.show is not None and args.show < len(report.rows):
        more = "all of them without --show" if len(report.rows) <= SHOW_ALL_UP_TO else f"--show {len(report.rows)}"
        table.insert(-1, f"... {len(report.rows) - args.show} more rows ({more})")
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


