"""What the benchmarks in this folder share: machine facts, the GEMM peak, memory probes and the JSON result file.

The contenders and the interleaved timing are glassnet's own (``glassnet._timing``, which ``glassnet bench`` uses
too); this module adds what only a benchmark run records. Benchmarks import glassnet; glassnet never imports this.
Run the scripts from a checkout (``python benchmarks/bench_cost_gradient.py``): the ``src`` folder beside this one
comes first on the path when glassnet is not installed.
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import gc
import json
import os
import platform
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

_SRC = Path(__file__).resolve().parents[1] / "src"
if (_SRC / "glassnet").is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))

from glassnet import _timing  # noqa: E402
from glassnet._timing import (  # noqa: E402,F401  (re-exported for the benchmark scripts)
    Workspace,
    blas_threads,
    gemm_flops,
    interleaved,
    median_ms,
    median_seconds,
    optional_torch,
    random_problem,
)
from glassnet.io import atomic_write  # noqa: E402

#: The contenders of a cost + gradient benchmark: name -> builder(thetas, X, y, Y, lam) -> run() -> J.
CONTENDERS = {
    "glassnet": _timing.glassnet_workspace,
    "glassnet.api": _timing.glassnet_api,
    "sklearn": _timing.sklearn_mlp,
}
#: What each contender's call does, for reports.
WHAT = {
    "glassnet": "glassnet Workspace objective: what an optimizer run calls (input validated once, buffers reused)",
    "glassnet.api": "the public glassnet.cost_and_gradient (validates X and y on every call)",
    "sklearn": "MLPClassifier(activation='logistic')._backprop on 0/1 targets: the lecture's J with alpha = λ",
    "torch": "torch CPU autograd: F.linear + sigmoid + binary_cross_entropy_with_logits + backward()",
    "jax": "jax.jit(jax.value_and_grad(J)) on device arrays (compile time reported apart, not counted)",
    "glassnet.torch": "glassnet.cost_and_gradient on the same torch CPU tensors (its own backprop, no autograd graph)",
}


# --------------------------------------------------------------------------------------------------------------------
# JAX: the peer a user would pick for small networks (jit-compiled, float64 switched on)
# --------------------------------------------------------------------------------------------------------------------


def optional_jax():
    """The jax module with float64 switched on (``jax_enable_x64``), or None when JAX is not installed."""
    try:
        import jax
        import jax.numpy
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    return jax


def jax_cost(jax, lam: float, m: int):
    """The lecture's J in JAX on Θ in glassnet's layout (bias column 0): sigmoid units, Σ softplus((1 − 2y) z)."""
    jnp = jax.numpy

    def J(thetas, X, Y):
        a = X
        for i, t in enumerate(thetas):
            z = a @ t[:, 1:].T + t[:, 0]
            a = jax.nn.sigmoid(z) if i < len(thetas) - 1 else z
        reg = sum(jnp.sum(t[:, 1:] ** 2) for t in thetas)
        return jnp.sum(jax.nn.softplus((1 - 2 * Y) * a)) / m + lam / (2 * m) * reg

    return J


def jax_value_and_grad(jax):
    """Builder of the ``jax`` contender: ``jit(value_and_grad(J))``, compiled in the builder (``run.compile_s``)."""

    def build(thetas, X, y, Y, lam):
        jnp = jax.numpy
        f = jax.jit(jax.value_and_grad(jax_cost(jax, lam, X.shape[0])))
        args = ([jnp.asarray(t) for t in thetas], jnp.asarray(X), jnp.asarray(Y.astype(X.dtype)))
        import time as _time

        t0 = _time.perf_counter()
        compiled = f.lower(*args).compile()
        compile_s = _time.perf_counter() - t0

        def run():
            J, grads = compiled(*args)
            jax.block_until_ready(grads)
            return float(J)

        run.compile_s = compile_s  # type: ignore[attr-defined]
        return run

    return build


# --------------------------------------------------------------------------------------------------------------------
# Machine facts
# --------------------------------------------------------------------------------------------------------------------


def cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info() -> list[dict]:
    """Every thread pool threadpoolctl sees (BLAS and OpenMP): library, version, kernel, threads, file."""
    from threadpoolctl import threadpool_info

    keep = ("user_api", "internal_api", "version", "architecture", "threading_layer", "num_threads", "filepath")
    return [{k: lib.get(k) for k in keep} for lib in threadpool_info()]


def loadavg() -> list[float] | None:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def machine_facts(threads: int, torch=None) -> dict:
    """Date, CPU, cores, BLAS libraries and their threads, versions and the thread environment variables."""
    import scipy
    import sklearn

    meta = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_name(),
        "cores_available": cores(),
        "threads": threads,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "torch": None,
        "torch_blas": None,
        "jax": _version("jax"),
        "optax": _version("optax"),
        "blas": blas_info(),
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                              "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
        "load_average_start": loadavg(),
    }
    if torch is not None:
        meta["torch"] = torch.__version__
        cfg = torch.__config__.show()
        meta["torch_blas"] = "MKL" if "BLAS_INFO=mkl" in cfg else ("OpenBLAS" if "openblas" in cfg.lower() else "?")
    return meta


def _version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def blas_line(meta: dict) -> str:
    """One line naming the BLAS kernels that ran and their threads."""
    libs = "; ".join(f"{b['internal_api']} {b['version']} {b.get('architecture') or ''} {b['num_threads']} thr "
                     f"({Path(b['filepath']).name})" for b in meta["blas"] if b["user_api"] == "blas")
    torch = f"; torch {meta['torch']} uses {meta['torch_blas']}" if meta["torch"] else "; torch not installed"
    jax = f"; jax {meta['jax']} (XLA's own CPU kernels)" if meta.get("jax") else "; jax not installed"
    return f"BLAS: {libs}{torch}{jax}"


# --------------------------------------------------------------------------------------------------------------------
# GEMM peak: the matrix products of one cost + gradient, alone
# --------------------------------------------------------------------------------------------------------------------


def gemm_runs(X: np.ndarray, thetas, chunk_rows: int):
    """(whole-batch run, chunked run): the matrix products of one cost + gradient on preallocated operands, alone.

    Whole batch: rows are examples, z = a Θᵀ, as scikit-learn and torch compute it. Chunked: exactly the products of
    glassnet's Workspace — chunks of ``chunk_rows`` examples as columns, z = Θ a, Δ = δ aᵀ, δ = Θᵀ δ.
    """
    m, dt = X.shape[0], X.dtype
    rng = np.random.default_rng(1)
    sizes = [X.shape[1]] + [t.shape[0] for t in thetas]
    W = [t[:, 1:] for t in thetas]
    acts = [X] + [rng.random((m, s)).astype(dt) for s in sizes[1:]]
    dels = [None] + [rng.random((m, s)).astype(dt) * 1e-3 for s in sizes[1:]]
    prods = [np.empty((t.shape[0], t.shape[1] - 1), dt) for t in thetas]

    def whole():
        for i, w in enumerate(W):
            np.matmul(acts[i], w.T, out=acts[i + 1])
        for i in range(len(W) - 1, -1, -1):
            np.matmul(dels[i + 1].T, acts[i], out=prods[i])
            if i > 0:
                np.matmul(dels[i + 1], W[i], out=dels[i])

    c = min(chunk_rows, m)
    cacts = [None] + [np.empty(s * c, dt) for s in sizes[1:]]
    cdels = [None] + [rng.random(s * c).astype(dt) * 1e-3 for s in sizes[1:]]

    def chunked():
        for start in range(0, m, c):
            n = min(start + c, m) - start
            a = [X[start : start + n].T] + [buf[: s * n].reshape(s, n) for buf, s in zip(cacts[1:], sizes[1:])]
            d = [None] + [buf[: s * n].reshape(s, n) for buf, s in zip(cdels[1:], sizes[1:])]
            for i, w in enumerate(W):
                np.matmul(w, a[i], out=a[i + 1])
            for i in range(len(W) - 1, -1, -1):
                np.matmul(d[i + 1], a[i].T, out=prods[i])
                if i > 0:
                    np.matmul(W[i].T, d[i + 1], out=d[i])

    return whole, chunked


def torch_gemm_run(torch, X: np.ndarray, thetas):
    """The whole-batch products of one cost + gradient with torch (its BLAS), for reference."""
    m, sizes = X.shape[0], [X.shape[1]] + [t.shape[0] for t in thetas]
    Xt = torch.from_numpy(X)
    W = [torch.from_numpy(np.ascontiguousarray(t[:, 1:])) for t in thetas]
    acts = [Xt] + [torch.rand(m, s, dtype=Xt.dtype) for s in sizes[1:]]
    dels = [None] + [torch.rand(m, s, dtype=Xt.dtype) * 1e-3 for s in sizes[1:]]
    prods = [torch.empty(w.shape, dtype=Xt.dtype) for w in W]

    def run():
        for i, w in enumerate(W):
            torch.matmul(acts[i], w.T, out=acts[i + 1])
        for i in range(len(W) - 1, -1, -1):
            torch.matmul(dels[i + 1].T, acts[i], out=prods[i])
            if i > 0:
                torch.matmul(dels[i + 1], W[i], out=dels[i])

    return run


def gemm_rate(m: int, n: int, k: int, repeats: int, dtype=np.float64) -> float:
    """GFLOP/s of one plain (m × k) @ (k × n) matrix product, median of ``repeats``."""
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    return 2.0 * m * n * k / median_seconds(lambda: A @ B, repeats) / 1e9


# --------------------------------------------------------------------------------------------------------------------
# Memory probes
# --------------------------------------------------------------------------------------------------------------------


def _malloc_trim() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _status_bytes(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:  # "5" resets VmHWM (peak RSS) to the current RSS
            fh.write("5")
        return True
    except OSError:
        return False


def measure_memory(run: Callable[[], object], traced: bool) -> tuple[int | None, int | None]:
    """(tracemalloc peak above the start, peak RSS rise) of one ``run()`` — both in bytes, None if unavailable."""
    gc.collect()
    _malloc_trim()
    rss_ok = _reset_peak_rss()
    rss0 = _status_bytes("VmRSS")
    if traced:
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
    try:
        run()
    finally:
        peak = None
        if traced:
            peak = tracemalloc.get_traced_memory()[1] - base
            tracemalloc.stop()
    hwm = _status_bytes("VmHWM")
    rss = hwm - rss0 if rss_ok and hwm is not None and rss0 is not None else None
    return peak, (max(rss, 0) if rss is not None else None)


# --------------------------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------------------------


def write_json(path: Path, data: dict) -> None:
    """``data`` as JSON at ``path``, atomically (readers see the old file or the whole new one); makes the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: f.write(json.dumps(data, indent=1).encode("utf-8")))
