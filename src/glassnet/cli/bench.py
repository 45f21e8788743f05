"""``glassnet bench``: how long one J(Θ) + gradient of your network takes, beside scikit-learn and torch.

Times glassnet on random data of the given size (``--sizes``, ``--rows``, ``--dtype``), and, when they are installed,
scikit-learn's MLP loss/grad and torch CPU autograd on the same arrays in the same process; prints medians and each
one's time relative to glassnet's. The full benchmark (machine facts, GEMM peak, memory, whole fits) is
``benchmarks/bench_cost_gradient.py`` in the source tree.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from glassnet.cli._common import (
    EXIT_OK,
    add_json_option,
    check_writable,
    command,
    emit,
    layer_sizes,
    nonnegative_float,
    positive_int,
    write_atomic,
)

#: name -> (what the user reads, needs).
IMPLEMENTATIONS = {
    "glassnet": ("glassnet (as a fit calls it)", None),
    "glassnet.cost_and_gradient": ("glassnet.cost_and_gradient", None),
    "scikit-learn": ("scikit-learn MLP loss/grad", "sklearn"),
    "torch": ("torch autograd (CPU)", "torch"),
}


def register(sub) -> None:
    p = sub.add_parser(
        "bench", help="time J + gradient of a network, beside scikit-learn and torch when installed",
        description="Time one J(Θ) + gradient of a network (--sizes) on random data (--rows, --dtype), and, when "
                    "they are installed, scikit-learn's MLP loss/grad and torch CPU autograd on the same arrays in "
                    "the same process. Prints medians and each one's time relative to glassnet's. The full "
                    "benchmark (machine facts, GEMM peak, memory, whole fits) is benchmarks/bench_cost_gradient.py "
                    "in the source tree.")
    p.add_argument("--sizes", type=layer_sizes, default=[400, 25, 10], metavar="S1,S2,...",
                   help="layer sizes, input first (default 400,25,10: the course's network)")
    p.add_argument("--rows", type=positive_int, default=5000, metavar="M",
                   help="examples m of the random data (default 5000)")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64", help="float type (default float64)")
    p.add_argument("--lam", type=nonnegative_float, default=1.0, help="regularization λ (default 1)")
    p.add_argument("--repeats", type=positive_int, default=5,
                   help="timed rounds after one warm-up round, one call of each per round (default 5)")
    p.add_argument("--threads", type=positive_int, metavar="N", help="BLAS threads (default: as configured)")
    p.add_argument("--no-peers", action="store_true", help="time glassnet only (no scikit-learn, no torch)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE.json", help="also write the result as JSON to FILE")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    add_json_option(p)
    p.set_defaults(func=_cmd_bench)


def _available(module: str | None) -> bool:
    import importlib.util

    return module is None or importlib.util.find_spec(module) is not None


@command("bench")
def _cmd_bench(args: argparse.Namespace) -> int:
    from glassnet import _timing

    sizes = list(args.sizes)
    if args.output is not None:
        check_writable(args.output, args.force, "-o")
    net = "-".join(map(str, sizes))
    if not args.json:
        print(f"glassnet bench: J(Θ) + gradient of a {net} network on {args.rows} random rows, {args.dtype}, "
              f"λ = {args.lam:g}", flush=True)

    builders = {"glassnet": _timing.glassnet_workspace, "glassnet.cost_and_gradient": _timing.glassnet_api}
    skipped = {}
    for name, module in (("scikit-learn", "sklearn"), ("torch", "torch")):
        if args.no_peers:
            skipped[name] = "left out (--no-peers)"
        elif not _available(module):
            skipped[name] = f"not installed (pip install {module if module != 'sklearn' else 'scikit-learn'})"
        elif name == "scikit-learn":
            builders[name] = _timing.sklearn_mlp
        else:
            builders[name] = _timing.torch_autograd(_timing.optional_torch())

    from threadpoolctl import threadpool_limits

    thetas, X, y, Y = _timing.random_problem(sizes, args.rows, args.dtype)
    with threadpool_limits(limits=args.threads):
        runs = {name: build(thetas, X, y, Y, args.lam) for name, build in builders.items()}
        J = {name: float(run()) for name, run in runs.items()}
        times = _timing.interleaved(runs, args.repeats)
        threads = _timing.blas_threads()
    med = {name: _timing.median_ms(ts) for name, ts in times.items()}
    ref, tol = J["glassnet"], (1e-9 if args.dtype == "float64" else 1e-4)
    results: list[dict[str, Any]] = [{
        "name": name,
        "median_ms": med[name],
        "times_ms": [t * 1e3 for t in times[name]],
        "time_vs_glassnet": med[name] / med["glassnet"],
        "J": J[name],
        "J_agrees": abs(J[name] - ref) <= tol * max(abs(ref), 1e-300),
    } for name in runs]
    payload = {
        "command": "bench",
        "sizes": sizes,
        "rows": args.rows,
        "dtype": args.dtype,
        "lam": args.lam,
        "repeats": args.repeats,
        "warmup_rounds": 1,
        "blas_threads": threads,
        "gemm_flops": _timing.gemm_flops(args.rows, sizes),
        "results": results,
        "skipped": skipped,
    }
    if args.output is not None:
        write_atomic(args.output, (json.dumps(payload, indent=1) + "\n").encode("utf-8"))

    width = max(len(IMPLEMENTATIONS[r["name"]][0]) for r in results)
    lines = [f"median of {args.repeats} interleaved rounds after one warm-up round; BLAS threads: {threads}", "",
             f"{'implementation':<{width}}  {'median ms':>10}  {'time vs glassnet':>16}  J agrees",
             "-" * (width + 40)]
    for r in results:
        lines.append(f"{IMPLEMENTATIONS[r['name']][0]:<{width}}  {r['median_ms']:>10.3f}  "
                     f"{r['time_vs_glassnet']:>15.2f}×  {'yes' if r['J_agrees'] else 'NO'}")
    lines += [f"{name}: {why}" for name, why in skipped.items()]
    if args.output is not None:
        lines.append(f"wrote {args.output}")
    emit(args, payload, lines)
    return EXIT_OK
