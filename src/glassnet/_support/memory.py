"""Memory budgets: how many bytes an array or a network will take, checked before anything is allocated.

The one home of two rules. Loaders (model files, ``.npz``/``.mat``/CSV data) size the arrays a file's headers declare
*as they will be after conversion* (:func:`converted_nbytes`: the stored array plus its float64 copy) and refuse
what exceeds their limit before reading any data. Training and gradient checks size a network
(:func:`network_bytes`: parameters, gradients, optimizer state and per-example buffers) and refuse one that does
not fit in the memory this process can get (:func:`available_bytes`), naming the size, instead of dying with an
out-of-memory traceback. Not for measuring memory in use, and nothing here allocates.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

__all__ = ["converted_nbytes", "available_bytes", "network_bytes", "check_network_fits", "format_bytes",
           "MemoryBudgetError"]

#: Bytes per element once converted for computing (float64).
CONVERTED_ITEMSIZE = 8

# Flat parameter-sized vectors alive at once during training, besides Θ itself: gradient, update, optimizer state
# and scipy's copies (L-BFGS keeps 10 (s, y) pairs plus x, g and its line-search copies).
_COPIES = {"lbfgs": 28, "cg": 8, "sgd": 5, "adam": 7, "gradcheck": 6}
#: A network whose training needs less than this is not checked against the memory available: it is too small to
#: refuse (a Python process with NumPy takes more to start), and reading /proc costs each small fit 0.1-0.2 ms.
UNCHECKED_BYTES = 64 << 20


def format_bytes(n: float) -> str:
    """``1536`` -> ``'1.5 KiB'``; binary units, three significant digits."""
    n = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{int(n)} bytes" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"  # pragma: no cover - the loop always returns


def converted_nbytes(count: int, dtype: np.dtype) -> int:
    """Bytes that ``count`` elements of ``dtype`` cost once read and converted: the array plus its float64 copy
    (numbers stored in another dtype are converted for computing; float64 and text need no copy)."""
    dtype = np.dtype(dtype)
    raw = int(count) * dtype.itemsize
    if dtype.kind in "biuf" and dtype != np.float64:
        raw += int(count) * CONVERTED_ITEMSIZE
    return raw


def available_bytes() -> int | None:
    """Memory this process may still allocate: the smaller of the free physical memory (``MemAvailable``) and the
    room left under an address-space limit (``RLIMIT_AS``); None where neither can be read."""
    limits = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
                    break
    except (OSError, ValueError, IndexError):
        try:
            limits.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            used = 0
            with open("/proc/self/statm") as f:
                used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            limits.append(max(soft - used, 0))
    except (ImportError, OSError, ValueError, IndexError):
        pass
    return min(limits) if limits else None


def network_bytes(sizes: Sequence[int], rows: int, solver: str = "lbfgs") -> tuple[int, int]:
    """``(parameter_bytes, total_bytes)`` of training a network of layer ``sizes`` on ``rows`` examples at a time.

    Parameters: Σ s_{l+1}(s_l + 1) float64 numbers. Total: those times the copies the solver keeps, plus a, z and δ
    for every unit of every row (three float64 per unit and row).
    """
    n_params = sum(int(b) * (int(a) + 1) for a, b in zip(sizes[:-1], sizes[1:]))
    params = n_params * CONVERTED_ITEMSIZE
    buffers = 3 * int(rows) * sum(int(s) for s in sizes) * CONVERTED_ITEMSIZE
    return params, params * (1 + _COPIES.get(solver, _COPIES["lbfgs"])) + buffers


def check_network_fits(sizes: Sequence[int], rows: int, solver: str = "lbfgs", *, what: str = "network") -> None:
    """Raise :class:`MemoryBudgetError` naming the sizes when training ``sizes`` cannot fit in
    :func:`available_bytes`."""
    params, total = network_bytes(sizes, rows, solver)
    if total < UNCHECKED_BYTES:
        return
    room = available_bytes()
    if room is not None and total > room:
        net = "-".join(str(int(s)) for s in sizes)
        n_params = params // CONVERTED_ITEMSIZE
        raise MemoryBudgetError(f"{what} {net}: {n_params:,} parameters take {format_bytes(params)}, and {solver} on "
                          f"{rows} rows needs about {format_bytes(total)}, more than the {format_bytes(room)} of "
                          f"memory available; use smaller layers")


class MemoryBudgetError(MemoryError, ValueError):
    """A network or a file's arrays would need more memory than is available or allowed; the message says how much.

    A ``MemoryError`` raised *before* allocating, and a ``ValueError`` (bad input), so either handler catches it."""
