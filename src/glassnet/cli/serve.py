"""``glassnet serve``: start the interactive explorer on 127.0.0.1 and print its URL (with the access token)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from ._common import builtin_names_help


def register(sub) -> None:
    p = sub.add_parser(
        "serve", help="start the interactive explorer (a local web page) and print its URL",
        description="Start the glassnet explorer: a web page on 127.0.0.1 where you train a network and watch z, a, "
                    "δ and the lecture's equations live. The printed URL carries a per-launch access token; nothing "
                    "is opened or exposed beyond this machine. Stop with Ctrl-C.")
    p.add_argument("--data", default="digits", metavar="NAME|FILE",
                   help=f"{builtin_names_help()} or a CSV/.npz/.mat file (default: digits)")
    p.add_argument("--model", type=Path, metavar="M.NPZ", help="start from this model file (from glassnet train --save)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: any free port)")
    p.add_argument("--hidden", default="25", metavar="SIZES", help="hidden layer sizes, e.g. 25 or 50,20 (default 25)")
    p.add_argument("--lam", type=float, default=1.0, help="regularization λ (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights and the validation split")
    p.add_argument("--max-upload-mb", type=float, default=64.0,
                   help="largest upload (data or model file) the page may send, in MiB (default 64)")
    p.set_defaults(func=_cmd_serve)


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        from glassnet.server import ExplorerServer, Session, TrainConfig, bridge
    except ImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        hidden = tuple(int(s) for s in args.hidden.replace(" ", "").split(",") if s)
    except ValueError:
        print(f"error: --hidden: expected sizes like 25 or 50,20, got {args.hidden!r}", file=sys.stderr)
        return 2
    if not 0 < args.max_upload_mb <= 4096:
        print(f"error: --max-upload-mb: expected a size in (0, 4096], got {args.max_upload_mb:g}", file=sys.stderr)
        return 2
    extra = {}
    dataset = bridge.canonical(args.data)
    try:
        if dataset not in bridge.available_datasets():
            path = Path(dataset)
            if not path.is_file():
                print(f"error: --data: {dataset!r} is neither a built-in dataset "
                      f"({', '.join(bridge.available_datasets())}) nor a file", file=sys.stderr)
                return 2
            dataset = f"file:{path.name}"
            data = replace(bridge.load_user_file(path, path.name), name=dataset)
        else:
            data = bridge.load_builtin(dataset)
        extra[dataset] = data  # loaded once, here
        config = TrainConfig(dataset=dataset, hidden=hidden, lam=args.lam, seed=args.seed)
        thetas = None
        if args.model is not None:
            if not args.model.is_file():
                print(f"error: --model: no such file {args.model}", file=sys.stderr)
                return 2
            thetas, settings = bridge.load_model(args.model, str(args.model), data)
            config = replace(config, **settings)
        session = Session(config, thetas=thetas, extra_datasets=extra,
                          model_name=args.model.name if args.model else None)
    except ValueError as exc:  # DataError / ModelFileError / bad settings: the message names the file or option
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        server = ExplorerServer(session, port=args.port, max_body_bytes=int(args.max_upload_mb * 2**20))
    except (OSError, ValueError) as exc:
        session.close()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    sizes = "-".join(str(s) for s in session.state()["sizes"])
    print(f"glassnet explorer: {server.url}", flush=True)
    print(f"  data {dataset} ({session.data.m} examples), network {sizes}; only this machine can connect. "
          f"Ctrl-C stops.", flush=True)
    server.serve_forever()
    return 0
