"""Scale-out benchmark: J(Θ) and D over Dask workers vs in memory, and (optional) on a CUDA GPU vs NumPy on the CPU.

MNIST-size synthetic data (default 60000×784, network 784-300-10). Sections:

- ``gemm``: GFLOP/s of a plain float64 matrix product of the network's largest size (the machine's GEMM rate) and the
  BLAS thread count;
- ``memory``: glassnet.cost_and_gradient on NumPy arrays (the in-memory baseline) and one L-BFGS run;
- ``dask``: the same on a LocalCluster (``--workers`` worker processes, 1 BLAS thread each, data generated on the
  workers chunk by chunk so the driver never holds it): one-shot cost_and_gradient, the per-evaluation time inside
  fit_full_batch (chunks persisted), overhead vs in memory, the bytes each worker holds and its RSS (and peak)
  during the fit, and sweeps over m, the number of chunks and the hidden layer size for docs/scaling.md;
- ``gpu``: glassnet.cost_and_gradient with torch CUDA tensors (float64 and float32) vs the NumPy CPU path, and torch
  autograd on the same GPU as the peer; skipped cleanly without torch or CUDA.

Run: ``python benchmarks/bench_dask.py`` (all), ``--gpu-only`` on a GPU machine without Dask, ``--quick`` for a smoke
run. Prints medians and ratios; ``--out FILE`` also writes them as JSON (``make bench``:
``benchmarks/results/bench_dask.json``). The numbers of a shared 2-core
machine are noisy: read ratios, and rerun before trusting a difference under ~20%.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import time
from pathlib import Path

import numpy as np

import _harness as h  # puts the checkout's src/ on the path when glassnet is not installed
import glassnet


def make_chunk(seed: int, rows: int, n: int, K: int):
    """One chunk of synthetic data, made where it is needed (a worker), reproducible from its seed."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((rows, n)), rng.integers(0, K, rows)


def chunk_rows(m: int, n_chunks: int) -> list[int]:
    base, extra = divmod(m, n_chunks)
    return [base + (i < extra) for i in range(n_chunks)]


def in_memory_data(m, n, K, n_chunks):
    parts = [make_chunk(1000 + i, r, n, K) for i, r in enumerate(chunk_rows(m, n_chunks))]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def dask_data(m, n, K, n_chunks):
    import dask
    import dask.array as da

    X_blocks, y_blocks = [], []
    for i, r in enumerate(chunk_rows(m, n_chunks)):
        part = dask.delayed(make_chunk, pure=True)(1000 + i, r, n, K)
        X_blocks.append(da.from_delayed(part[0], shape=(r, n), dtype=np.float64))
        y_blocks.append(da.from_delayed(part[1], shape=(r,), dtype=np.int64))
    return da.concatenate(X_blocks), da.concatenate(y_blocks)


def rel_diff(a, b) -> float:
    J, g = a
    J0, g0 = b
    worst = abs(J - J0) / abs(J0)
    for x, x0 in zip(g, g0):
        x = x.cpu().numpy() if hasattr(x, "cpu") else np.asarray(x)
        worst = max(worst, float(np.abs(x - x0).max() / np.abs(x0).max()))
    return worst


# ------------------------------------------------------------------------------------------------------------ sections


def limited_blas(n: int | None):
    """BLAS threads capped at ``n`` inside the block (no cap for None)."""
    import contextlib

    if n is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(n, user_api="blas")


def section_memory(args, sizes, X, y, thetas):
    with limited_blas(args.threads):
        t = h.median_seconds(lambda: glassnet.cost_and_gradient(thetas, X, y, 1.0), args.repeats)
        t0 = time.perf_counter()
        _, hist = glassnet.train.optimize.minimize_full_batch(lambda th: glassnet.cost_and_gradient(th, X, y, 1.0),
                                                              thetas, max_iter=args.fit_iters)
        per_eval = (time.perf_counter() - t0) / hist.n_evals
        gemm = h.gemm_rate(X.shape[0], sizes[1], sizes[0], args.repeats)
    return {"blas_threads": args.threads, "cost_and_gradient_s": t, "fit_per_evaluation_s": per_eval,
            "fit_evaluations": hist.n_evals, "gemm_gflops": gemm}


def memory_time(args, thetas, X, y) -> float:
    with limited_blas(args.threads):
        return h.median_seconds(lambda: glassnet.cost_and_gradient(thetas, X, y, 1.0), args.repeats)


def worker_memory(client):
    """Bytes of Dask data each worker holds, and its process's RSS and peak RSS."""

    def rss():
        import psutil

        # VmHWM, not getrusage's ru_maxrss: the latter carries over the peak of the process the worker was forked
        # from (the driver, holding the in-memory copy of X), which says nothing about the worker.
        peak = None
        try:
            with open("/proc/self/status") as f:
                peak = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
        except (OSError, StopIteration):
            pass
        return {"rss": psutil.Process().memory_info().rss, "peak_rss": peak}

    held = client.run_on_scheduler(
        lambda dask_scheduler: {w.address: w.nbytes for w in dask_scheduler.workers.values()})
    procs = client.run(rss)
    return {addr: {"data_bytes": held.get(addr, 0), **procs[addr]} for addr in procs}


def section_dask(args, sizes, X, y, thetas, memory_result):
    import dask
    import distributed

    from glassnet.scale import distributed as gd

    out: dict = {"workers": args.workers, "chunks": args.chunks}
    n, K = sizes[0], sizes[-1]
    with dask.config.set({"distributed.worker.memory.target": False, "distributed.worker.memory.spill": False}):
        with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                      dashboard_address=":0", memory_limit=0) as cluster, \
                distributed.Client(cluster, set_as_default=False) as client:
            # Dask's nanny starts workers with OMP/OPENBLAS/MKL_NUM_THREADS=1: together they use as many cores as the
            # in-memory path's BLAS threads when workers = cores.
            out["worker_blas_threads"] = sorted(set(client.run(h.blas_threads).values()))
            out["memory_before"] = worker_memory(client)
            Xd, yd = dask_data(args.m, n, K, args.chunks)
            Xd, yd = client.persist([Xd, yd])
            with client.as_current():
                distributed.wait(distributed.futures_of([Xd, yd]))
            out["memory_after_persist"] = worker_memory(client)
            result = gd.cost_and_gradient_dask(thetas, Xd, yd, 1.0, client=client)
            out["max_rel_diff_vs_memory"] = rel_diff(result, glassnet.cost_and_gradient(thetas, X, y, 1.0))
            out["cost_and_gradient_s"] = h.median_seconds(
                functools.partial(gd.cost_and_gradient_dask, thetas, Xd, yd, 1.0, client=client), args.repeats)
            during = {}

            def measure(state):  # while the fit holds its validated chunks
                if state.epoch == 1:
                    during.update(worker_memory(client))

            t0 = time.perf_counter()
            _, hist = gd.fit_full_batch(thetas, Xd, yd, 1.0, client=client, max_iter=args.fit_iters,
                                        callbacks=measure)
            out["fit_total_s"] = time.perf_counter() - t0
            out["fit_evaluations"] = hist.n_evals
            out["fit_per_evaluation_s"] = out["fit_total_s"] / hist.n_evals
            out["memory_during_fit"] = during
            out["overhead_per_evaluation_s"] = out["fit_per_evaluation_s"] - memory_result["fit_per_evaluation_s"]
            out["ratio_fit_per_evaluation"] = out["fit_per_evaluation_s"] / memory_result["fit_per_evaluation_s"]
            del Xd, yd

            # Sweeps for the cost model: m (fixed chunks), chunks (fixed m), network size (fixed m).
            sweep = []
            for m in args.sweep_m:
                Xd, yd = client.persist(list(dask_data(m, n, K, args.chunks)))
                Xm, ym = in_memory_data(m, n, K, args.chunks)
                evaluate = functools.partial(gd.cost_and_gradient_dask, thetas, Xd, yd, 1.0, client=client)
                sweep.append({
                    "m": m, "chunks": args.chunks, "sizes": sizes,
                    "dask_s": h.median_seconds(evaluate, args.repeats),
                    "memory_s": memory_time(args, thetas, Xm, ym),
                })
                del Xd, yd, Xm, ym, evaluate  # the persisted chunks leave the workers
            for c in args.sweep_chunks:
                Xd, yd = client.persist(list(dask_data(args.sweep_m[0], n, K, c)))
                evaluate = functools.partial(gd.cost_and_gradient_dask, thetas, Xd, yd, 1.0, client=client)
                sweep.append({
                    "m": args.sweep_m[0], "chunks": c, "sizes": sizes,
                    "dask_s": h.median_seconds(evaluate, args.repeats),
                })
                del Xd, yd, evaluate
            for hidden in args.sweep_hidden:
                net = [n, hidden, K]
                th = glassnet.random_init(net, rng=0)
                Xd, yd = client.persist(list(dask_data(args.sweep_m[0], n, K, args.chunks)))
                Xm, ym = in_memory_data(args.sweep_m[0], n, K, args.chunks)
                evaluate = functools.partial(gd.cost_and_gradient_dask, th, Xd, yd, 1.0, client=client)
                sweep.append({
                    "m": args.sweep_m[0], "chunks": args.chunks, "sizes": net,
                    "dask_s": h.median_seconds(evaluate, args.repeats),
                    "memory_s": memory_time(args, th, Xm, ym),
                })
                del Xd, yd, Xm, ym, evaluate  # the persisted chunks leave the workers
            out["sweep"] = sweep
    return out


def section_gpu(args, sizes, X, y, thetas):
    try:
        import torch
    except ImportError:
        return {"skipped": "torch is not installed"}
    if not torch.cuda.is_available():
        return {"skipped": "no CUDA device"}
    dev = torch.device("cuda")
    out: dict = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__}
    expected = glassnet.cost_and_gradient(thetas, X, y, 1.0)
    # The CPU side of the comparison uses every core BLAS is given by default.
    cpu_seconds = out["numpy_cpu_s"] = h.median_seconds(lambda: glassnet.cost_and_gradient(thetas, X, y, 1.0),
                                                        args.repeats)
    out["numpy_cpu_blas_threads"] = h.blas_threads()

    def timed(fn):
        def run():
            fn()
            torch.cuda.synchronize()
        return h.median_seconds(run, args.repeats * 3, warmup=2)

    def autograd(params, Xt, Y):
        for p in params:
            p.grad = None
        a = Xt
        for p in params:
            z = a @ p[:, 1:].T + p[:, 0]
            a = torch.sigmoid(z)
        m = Xt.shape[0]
        J = torch.nn.functional.binary_cross_entropy_with_logits(z, Y, reduction="sum") / m
        J = J + 1.0 / (2 * m) * sum((p[:, 1:] ** 2).sum() for p in params)
        J.backward()
        return J

    for name, dtype in (("float64", torch.float64), ("float32", torch.float32)):
        Xt = torch.as_tensor(X, device=dev, dtype=dtype)
        yt = torch.as_tensor(y, device=dev)
        tt = [torch.as_tensor(t, device=dev, dtype=dtype) for t in thetas]
        res = glassnet.cost_and_gradient(tt, Xt, yt, 1.0)
        t_glassnet = timed(functools.partial(glassnet.cost_and_gradient, tt, Xt, yt, 1.0))

        # Peer: torch autograd of the same J on the same device.
        Y = torch.nn.functional.one_hot(yt, sizes[-1]).to(dtype)
        params = [t.clone().requires_grad_(True) for t in tt]
        t_autograd = timed(functools.partial(autograd, params, Xt, Y))
        flops = h.gemm_flops(X.shape[0], sizes)
        out[name] = {
            "glassnet_s": t_glassnet, "torch_autograd_s": t_autograd,
            "ratio_glassnet_vs_autograd": t_glassnet / t_autograd,
            "speedup_vs_numpy_cpu": cpu_seconds / t_glassnet,
            "gflops": flops / t_glassnet / 1e9,
            "max_rel_diff_vs_numpy": rel_diff(res, expected),
        }
        a = torch.randn(X.shape[0], sizes[0], device=dev, dtype=dtype)
        b = torch.randn(sizes[0], sizes[1], device=dev, dtype=dtype)
        gemm_s = timed(functools.partial(torch.matmul, a, b))
        out[name]["gemm_gflops"] = 2.0 * a.shape[0] * a.shape[1] * b.shape[1] / gemm_s / 1e9
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--m", type=int, default=60000)
    p.add_argument("--sizes", type=int, nargs="+", default=[784, 300, 10])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--chunks", type=int, default=8)
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS threads of the in-memory baseline (default: --workers, the cores the workers use)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--fit-iters", type=int, default=5)
    p.add_argument("--sweep-m", type=int, nargs="*", default=[15000, 30000, 60000])
    p.add_argument("--sweep-chunks", type=int, nargs="*", default=[2, 32, 128])
    p.add_argument("--sweep-hidden", type=int, nargs="*", default=[25, 100])
    p.add_argument("--gpu-only", action="store_true", help="only the GEMM, in-memory and GPU sections (no Dask)")
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    p.add_argument("--out", type=Path, default=None,
                   help="write the JSON result to this file (default: no file)")
    args = p.parse_args(argv)
    if args.quick:
        args.m, args.sizes, args.repeats, args.fit_iters = 4000, [784, 50, 10], 1, 2
        args.sweep_m, args.sweep_chunks, args.sweep_hidden = [2000], [2], [10]

    if args.threads is None:
        args.threads = args.workers
    sizes = args.sizes
    X, y = in_memory_data(args.m, sizes[0], sizes[-1], args.chunks)
    thetas = glassnet.random_init(sizes, rng=0)
    report: dict = {
        "benchmark": "bench_dask", "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": platform.node(),
        "cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
        "m": args.m, "sizes": sizes, "params": sum(t.size for t in thetas),
        "flops_per_evaluation": h.gemm_flops(args.m, sizes), "blas_threads": h.blas_threads(),
    }
    report["gemm_gflops"] = h.gemm_rate(args.m, sizes[1], sizes[0], args.repeats)
    print(f"m={args.m} sizes={sizes} params={report['params']} BLAS threads={report['blas_threads']} "
          f"GEMM {report['gemm_gflops']:.1f} GFLOP/s ({args.m}x{sizes[0]} @ {sizes[0]}x{sizes[1]})")

    report["memory"] = section_memory(args, sizes, X, y, thetas)
    mem = report["memory"]
    print(f"in memory ({mem['blas_threads']} BLAS threads, GEMM {mem['gemm_gflops']:.1f} GFLOP/s): cost_and_gradient "
          f"{mem['cost_and_gradient_s']:.3f} s "
          f"({report['flops_per_evaluation'] / mem['cost_and_gradient_s'] / 1e9:.1f} GFLOP/s); "
          f"L-BFGS {mem['fit_per_evaluation_s']:.3f} s per evaluation")

    if not args.gpu_only:
        d = report["dask"] = section_dask(args, sizes, X, y, thetas, mem)
        print(f"dask ({d['workers']} workers x 1 thread, {d['chunks']} chunks): cost_and_gradient "
              f"{d['cost_and_gradient_s']:.3f} s; L-BFGS {d['fit_per_evaluation_s']:.3f} s per evaluation = "
              f"{d['ratio_fit_per_evaluation']:.2f}x in memory (overhead {d['overhead_per_evaluation_s']:+.3f} s); "
              f"max rel diff {d['max_rel_diff_vs_memory']:.1e}")
        for addr, w in d["memory_during_fit"].items():
            before = d["memory_before"][addr]["rss"]
            peak = f"{w['peak_rss'] / 2**20:.0f} MiB" if w["peak_rss"] else "n/a"
            print(f"  worker {addr}: holds {w['data_bytes'] / 2**20:.0f} MiB, RSS {w['rss'] / 2**20:.0f} MiB "
                  f"(started at {before / 2**20:.0f}), peak {peak}")
        for row in d["sweep"]:
            mem_s = f", in memory {row['memory_s']:.3f} s" if "memory_s" in row else ""
            print(f"  sweep m={row['m']:>6} chunks={row['chunks']:>3} sizes={row['sizes']}: dask {row['dask_s']:.3f} s"
                  + mem_s)

    g = report["gpu"] = section_gpu(args, sizes, X, y, thetas)
    if "skipped" in g:
        print(f"gpu: skipped ({g['skipped']})")
    else:
        for name in ("float64", "float32"):
            r = g[name]
            print(f"gpu {g['device']} {name}: glassnet {r['glassnet_s'] * 1e3:.2f} ms ({r['gflops']:.0f} GFLOP/s, "
                  f"GEMM {r['gemm_gflops']:.0f}), torch autograd {r['torch_autograd_s'] * 1e3:.2f} ms, ratio "
                  f"{r['ratio_glassnet_vs_autograd']:.2f}; {r['speedup_vs_numpy_cpu']:.0f}x the NumPy CPU path "
                  f"({g['numpy_cpu_s']:.3f} s, {g['numpy_cpu_blas_threads']} BLAS threads); "
                  f"max rel diff {r['max_rel_diff_vs_numpy']:.1e}")

    if args.out is None:
        return 0
    h.write_json(args.out, report)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
