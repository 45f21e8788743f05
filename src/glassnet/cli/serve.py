"""``glassnet serve``: start the interactive explorer on 127.0.0.1 and print its URL (with the access token)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from glassnet.cli._common import (
    EXIT_OK,
    Failure,
    UsageError,
    add_json_option,
    add_kind_options,
    builtin_names_help,
    command,
    emit_json,
    kinds_of,
    nonnegative_float,
)
from glassnet.cli._common import seed as seed_number


def register(sub) -> None:
    p = sub.add_parser(
        "serve", help="start the interactive explorer (a local web page) and print its URL",
        description="Start the glassnet explorer: a web page on 127.0.0.1 where you train a network and watch z, a, "
                    "δ and the lecture's equations live. The printed URL carries a per-launch access token; nothing "
                    "is opened or exposed beyond this machine. Stop with Ctrl-C.")
    p.add_argument("--data", default="digits", metavar="NAME|FILE",
                   help=f"{builtin_names_help()} or a CSV/.npz/.mat file (default: digits)")
    p.add_argument("--model", type=Path, metavar="FILE",
                   help="start from this model file: glassnet .npz (train --save), the course's .mat weights (with "
                        "data of as many features, e.g. --data ex4data1.mat) or Nielsen JSON")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: any free port)")
    p.add_argument("--hidden", metavar="SIZES",
                   help="hidden layer sizes, e.g. 25 or 50,20 (default: the built-in dataset's, as glassnet train "
                        "and the explorer's menu, e.g. 25 for digits and 4 for xor; 25 for a file)")
    p.add_argument("--lam", type=nonnegative_float,
                   help="regularization λ (default: the built-in dataset's, e.g. 1 for digits and 0.1 for xor; 1 for "
                        "a file)")
    p.add_argument("--seed", type=seed_number, default=0, help="seed of the initial weights and the validation split")
    add_kind_options(p, classify=True)
    p.add_argument("--max-upload-mb", type=float, default=64.0,
                   help="largest upload (data or model file) the page may send, in MiB (default 64)")
    add_json_option(p, what="the URL, port and token (once the explorer accepts connections)")
    p.set_defaults(func=_cmd_serve)


def _settings(args: argparse.Namespace, dataset: str) -> dict:
    """Hidden layers, λ and iterations: the options given, else the built-in dataset's defaults (the registry's,
    :func:`glassnet.datasets.training_defaults`, as ``glassnet train`` and the explorer's menu), else the explorer's."""
    from glassnet.datasets import training_defaults

    settings = training_defaults(dataset)
    if args.hidden is not None:
        try:
            settings["hidden"] = tuple(int(s) for s in args.hidden.replace(" ", "").split(",") if s)
        except ValueError:
            raise UsageError(f"--hidden: expected sizes like 25 or 50,20, got {args.hidden!r}") from None
    if args.lam is not None:
        settings["lam"] = args.lam
    return settings


@command("serve")
def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        from glassnet.datasets import apply_scaling, scaling_name, scaling_words
        from glassnet.server import ExplorerServer, Session, TrainConfig, bridge
    except ImportError as exc:
        raise Failure(str(exc)) from None
    settings = _settings(args, bridge.canonical(args.data))
    if not 0 < args.max_upload_mb <= 4096:
        raise UsageError(f"--max-upload-mb: expected a size in (0, 4096], got {args.max_upload_mb:g}")
    extra = {}
    dataset = bridge.canonical(args.data)
    if dataset not in bridge.available_datasets():
        path = Path(dataset)
        if not path.is_file():
            raise UsageError(f"--data: {dataset!r} is neither a built-in dataset "
                             f"({', '.join(bridge.available_datasets())}) nor a file")
        dataset = f"file:{path.name}"
        data = replace(bridge.load_user_file(path, path.name), name=dataset)
    else:
        data = bridge.load_builtin(dataset)
    extra[dataset] = data  # loaded once, here
    kinds = kinds_of(args)
    config = TrainConfig(dataset=dataset, seed=args.seed, **settings, **kinds)
    thetas = None
    if args.model is not None:
        if not args.model.is_file():
            raise UsageError(f"--model: no such file {args.model}")
        thetas, settings = bridge.load_model(args.model, str(args.model), data)
        data = bridge.in_unit_order(data, settings.pop("classes"))  # the model's unit order in every view
        extra[dataset] = data
        scaling = settings.pop("feature_scaling", None)
        if scaling is not None:  # glassnet train --scale: the model's first step, applied to what the page shows
            data = replace(data, X=apply_scaling(data.X, scaling))
            extra[dataset] = data
            print(f"glassnet serve: features scaled as the model's training data (train --scale "
                  f"{scaling_name(scaling)}: {scaling_words(scaling)})", file=sys.stderr)
        for name in kinds:  # the weights were trained for their own units and cost: an option cannot change them
            if getattr(args, name) is not None and getattr(args, name) != settings.get(name, kinds[name]):
                raise UsageError(f"--{name}: {args.model} was trained with {name} {settings.get(name)!r}; leave "
                                 f"--{name} out to use the model's")
        config = replace(config, **settings)
    if data.regression and (args.output is not None or args.loss is not None):
        raise UsageError(f"--output/--loss: {dataset!r} is a regression set, whose network has one identity output "
                         "unit with the squared cost; leave --output and --loss out")
    try:
        bridge.check_kinds(config.activation, config.output, config.loss, data.K)
    except ValueError as exc:
        raise UsageError(f"--activation/--output/--loss: {exc}") from None
    session = Session(config, thetas=thetas, extra_datasets=extra, model_name=args.model.name if args.model else None)
    config = session.config  # as the session matched it to the data (a regression set: identity + squared)
    try:
        server = ExplorerServer(session, port=args.port, max_body_bytes=int(args.max_upload_mb * 2**20))
    except (OSError, ValueError):
        session.close()
        raise
    sizes = [int(s) for s in session.state()["sizes"]]

    def ready() -> None:
        if args.json:
            emit_json({"command": "serve", "url": server.url, "host": "127.0.0.1", "port": server.port,
                       "token": server.token, "data": dataset, "n_examples": session.data.m, "layer_sizes": sizes,
                       "activation": config.activation, "output": config.output, "loss": config.loss})
        else:
            print(f"glassnet explorer: {server.url}")
            units = ("" if (config.activation, config.output, config.loss) == ("sigmoid", "sigmoid", "log") else
                     f" ({config.activation} hidden units, {config.output} outputs, {config.loss} cost)")
            print(f"  data {dataset} ({session.data.m} examples), network {'-'.join(map(str, sizes))}{units}; only "
                  f"this machine can connect. Ctrl-C stops.")
        sys.stdout.flush()

    server.serve_forever(on_ready=ready)
    return EXIT_OK
