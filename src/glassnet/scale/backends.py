"""J(Θ) and its gradient for arrays that are not NumPy: torch (CPU or GPU), CuPy, JAX, array-api-strict.

:func:`glassnet.cost_and_gradient` (:mod:`glassnet.api`) sends any X of another array library here, except Dask
collections (:mod:`glassnet.scale.distributed`). torch tensors on the CPU first get :func:`torch_cpu_views`: NumPy
arrays on the tensors' own memory (no copy), so the tuned NumPy path computes them and its gradients come back as CPU
tensors. Everything else (GPUs, CuPy, JAX, array-api-strict) runs :func:`cost_and_gradient_xp`, which is
the lecture's backpropagation written once against the Python array API standard
(``xp = array_namespace(X)`` via ``array-api-compat``), so the arithmetic runs where X lives and the gradients come back
as arrays of X's library on X's device. NumPy arrays never come here: they keep the tuned NumPy path of
:mod:`glassnet._fast.workspace`. The math is the same (and tested equal):

- z^(l+1) = a^(l) Θ^(l)[:, 1:]ᵀ + Θ^(l)[:, 0], a^(l+1) = g(z^(l+1)) (rows are examples; no bias column concatenated)
- J = (1/m) Σ softplus((1 − 2Y) ∘ z^(L)) + (λ/2m) Σ Θ[:, 1:]², from z so that J never takes log(0)
- δ^(L) = a^(L) − Y, δ^(l) = δ^(l+1) Θ^(l)[:, 1:] ∘ a^(l)(1 − a^(l)), Δ^(l) = δ^(l+1)ᵀ [1, a^(l)]
- D^(l) = Δ^(l)/m + (λ/m)Θ^(l), the bias column not regularized (:func:`glassnet.backprop.finish`, with ``xp``).

Not here: training loops, validation of NumPy input (see :mod:`glassnet._validation`), anything that moves data between
machines (see :mod:`glassnet.scale.distributed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassnet._fast.workspace import default_chunk_rows
from glassnet._validation import check_lam, check_thetas, float_kind, is_foreign_array
from glassnet.backprop import finish
from glassnet.outputs import encode_labels
from glassnet.params import sizes_from_thetas

__all__ = ["cost_and_gradient_xp", "torch_cpu_views"]

_INSTALL_HINT = "install it with: pip install 'glassnet[array-api]' (or pip install array-api-compat)"


def _namespace(X):
    try:
        from array_api_compat import array_namespace
    except ImportError:  # pragma: no cover - the array-api extra is part of dev installs
        raise ImportError(f"glassnet needs array-api-compat for {type(X).__module__} arrays; {_INSTALL_HINT}") from None
    try:
        return array_namespace(X)
    except TypeError:
        raise ValueError(
            f"X: expected an array of an array-API library, got {type(X).__module__}.{type(X).__name__}"
        ) from None


def _same_library(xp, obj) -> bool:
    from array_api_compat import array_namespace

    try:
        return array_namespace(obj) is xp
    except TypeError:
        return False


def _to(xp, obj, dtype, device, name: str):
    """``obj`` as an xp array of ``dtype`` on ``device``; NumPy arrays and lists are copied over."""
    from array_api_compat import device as device_of
    from array_api_compat import to_device

    if _same_library(xp, obj):
        if getattr(obj, "requires_grad", False):  # torch parameters: this gradient is ours, not autograd's
            obj = obj.detach()
        if device_of(obj) != device:
            obj = to_device(obj, device)
        if obj.dtype != dtype:
            obj = xp.astype(obj, dtype)
        return obj
    try:
        host = np.asarray(obj)
    except Exception as exc:
        raise ValueError(f"{name}: expected an array, got {type(obj).__name__} ({exc})") from None
    if host.dtype.kind not in "biuf":
        raise ValueError(f"{name}: expected numbers, got dtype {host.dtype}")
    return xp.asarray(host, dtype=dtype, device=device)


def _check_X(xp, X, n_features: int):
    """X (m, s_1) as float32 (kept) or float64 (anything else), finite; same rules as the NumPy path."""
    if getattr(X, "requires_grad", False):
        X = X.detach()
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array of shape (m, n_features), got shape {tuple(X.shape)}")
    if X.shape[0] == 0:
        raise ValueError(f"X: expected at least one example (row), got shape {tuple(X.shape)}")
    if X.shape[1] != n_features:
        raise ValueError(
            f"X: expected {n_features} columns (s_1, the input layer size of thetas[0]), got shape {tuple(X.shape)}"
        )
    if not (xp.isdtype(X.dtype, "numeric") or X.dtype == xp.bool):
        raise ValueError(f"X: expected numbers, got dtype {X.dtype}")
    dtype = float_kind(X.dtype, xp.float32, xp.float64)
    if X.dtype != dtype:
        X = xp.astype(X, dtype)
    # One sum instead of an (m, n) boolean temporary (as the NumPy path): any NaN/inf makes it non-finite; only then,
    # or when huge finite values overflow the sum, the elementwise scan decides. The sum stays in X's dtype: asking
    # torch for a float64 sum of float32 X first makes a float64 copy of all of X.
    total = xp.sum(X)
    if not bool(xp.isfinite(total)) and not bool(xp.all(xp.isfinite(X))):
        raise ValueError("X: expected finite values, found NaN or inf")
    return X, dtype


def _labels_to_host(y) -> np.ndarray:
    """Labels of any array library as a NumPy array (m numbers, copied off the device when they live on one)."""
    if getattr(y, "requires_grad", False):
        y = y.detach()
    try:
        return np.asarray(y)
    except Exception:  # a GPU array (torch CUDA, CuPy) has no implicit host copy
        from array_api_compat import to_device

        return np.asarray(to_device(y, "cpu"))


def _targets(xp, y, K: int, m: int, dtype, device):
    """Y (m, K) on X's device: the labels are checked and encoded on the host by :func:`glassnet.outputs.encode_labels`
    (the one home of the rules and messages), then Y makes one copy to the device."""
    host_dtype = np.float32 if dtype == xp.float32 else np.float64
    return xp.asarray(encode_labels(_labels_to_host(y), K, m, dtype=host_dtype), device=device)


def torch_cpu_views(thetas: Sequence[Any], X: Any, y: Any):
    """``(thetas, X, y, to_tensor)`` as NumPy arrays on the same memory when X is a dense torch tensor on the CPU; else
    None (the caller then runs :func:`cost_and_gradient_xp`).

    On a CPU the same math runs faster in glassnet's NumPy workspace (row chunks through reused buffers, worker
    threads, fused kernels) than in torch ops, and ``Tensor.numpy()`` shares the tensor's memory: nothing is copied,
    no autograd graph is built. The rules are the array-API path's: float32 X stays float32, any other dtype is
    computed in float64 (converted here, in torch, because NumPy has no bfloat16); tensors that require grad are
    detached (the gradient is glassnet's own); Θ given on another device is copied to the CPU in the compute dtype.
    ``to_tensor(array)`` wraps a NumPy result as a CPU tensor on the same memory.
    """
    if not (type(X).__module__.startswith("torch") and getattr(getattr(X, "device", None), "type", None) == "cpu"):
        return None
    import torch

    if X.layout != torch.strided:  # sparse tensors: the array-API path decides what it can do with them
        return None
    dtype = float_kind(X.dtype, torch.float32, torch.float64)

    def view(t):  # detached first (a dtype change records no graph); numpy(force=True) resolves neg/conj view bits
        return t.detach().to(device="cpu", dtype=dtype).numpy(force=True) if isinstance(t, torch.Tensor) else t

    labels = _labels_to_host(y) if is_foreign_array(y) else y
    return [view(t) for t in thetas], view(X), labels, torch.from_numpy


def _is_torch(xp) -> bool:
    return getattr(xp, "__name__", "").endswith("torch")


def _layer(xp, a, theta, last: bool, out=None):
    """z = a Θ[:, 1:]ᵀ + Θ[:, 0], then a' = g(z) for a hidden layer (z itself for the output layer, whose J needs z).

    torch: one fused multiply-add into ``out`` (a reused chunk buffer, or None) and the sigmoid in place.
    """
    if _is_torch(xp):
        import torch

        z = torch.addmm(theta[:, 0], a, theta[:, 1:].T, out=out)
        return z if last else torch.sigmoid_(z)
    z = a @ theta[:, 1:].T + theta[:, 0]
    if last:
        return z
    return _sigmoid(xp, z)


def _sigmoid(xp, z):
    """g(z) without overflow: with e = exp(-|z|) ≤ 1, g = 1/(1+e) for z ≥ 0 and e/(1+e) for z < 0."""
    e = xp.exp(-xp.abs(z))
    r = 1.0 / (1.0 + e)
    return xp.where(z >= 0, r, e * r)


def _cost_sum(xp, z, Y, scratch=None):
    """Σ softplus((1 − 2y) z) = Σ −[y log g(z) + (1 − y) log(1 − g(z))], in float64; exact for saturated units.

    torch: computed in ``scratch`` (a reused chunk buffer shaped like z, or None)."""
    if _is_torch(xp) and scratch is not None:
        import torch

        torch.mul(Y, -2.0, out=scratch).add_(1.0).mul_(z)
        zero = torch.zeros((), dtype=z.dtype, device=z.device)
        return torch.logaddexp(zero, scratch, out=scratch).sum(dtype=torch.float64)
    signed = z * (1.0 - 2.0 * Y)
    return xp.sum(xp.logaddexp(xp.zeros_like(signed), signed), dtype=xp.float64)


def _output_delta(xp, z, Y):
    """δ^(L) = g(z^(L)) − Y; torch: in place in z (the cost has been taken from it already)."""
    if _is_torch(xp):
        import torch

        return torch.sigmoid_(z).sub_(Y)
    return _sigmoid(xp, z) - Y


def _back(xp, delta, theta, a, out=None):
    """δ^(l) = δ^(l+1) Θ^(l)[:, 1:] ∘ a(1 − a) (g′ from a); torch: the product into ``out`` (or a new tensor), then
    the fused sigmoid backward in place."""
    if _is_torch(xp):
        import torch

        back = torch.mm(delta, theta[:, 1:], out=out)
        return torch.ops.aten.sigmoid_backward.grad_input(back, a, grad_input=back)  # back ∘ a ∘ (1 − a)
    back = delta @ theta[:, 1:]
    return back * (a * (1.0 - a))


class _ChunkBuffers:
    """torch: one buffer per layer and role, made for the first chunk and reused by the next (a CPU allocation of
    this size is a fresh mapping of memory, page faults included); other libraries: None, they allocate."""

    def __init__(self, xp, rows: int, dtype, device) -> None:
        self.torch = _is_torch(xp)
        self.rows, self.dtype, self.device = rows, dtype, device
        self.made: dict[Any, Any] = {}

    def __call__(self, key, n: int, cols: int):
        if not self.torch:
            return None
        if key not in self.made:
            import torch

            self.made[key] = torch.empty((self.rows, cols), dtype=self.dtype, device=self.device)
        return self.made[key][:n]


def cost_and_gradient_xp(thetas: Sequence[Any], X: Any, Y: Any, lam: float = 0.0, *, activation="sigmoid",
                         output="sigmoid", loss="log") -> tuple[float, list[Any]]:
    """J(Θ) and D^(l) = ∂J/∂Θ^(l) with the arithmetic of X's array library, on X's device.

    Parameters
    ----------
    thetas : list of arrays
        ``thetas[l-1]`` is Θ^(l), shape (s_{l+1}, s_l + 1), bias column first. NumPy arrays (or arrays on another
        device) are copied to X's library and device.
    X : array of an array-API library (torch, CuPy, array-api-strict, NumPy...), shape (m, s_1)
        float32 is computed in float32; anything else in float64.
    Y : array or array-like
        Integer labels 0..K-1, shape (m,); or an (m, K) 0/1 matrix; or 0/1 labels for one output (K = 1).
    lam : float
        λ ≥ 0.
    activation, output, loss : str
        Only the lecture's ``"sigmoid"``, ``"sigmoid"``, ``"log"`` here: the other activations and output/loss
        pairs are written once, for NumPy (:mod:`glassnet.activations`, :class:`glassnet.outputs.OutputLoss`), and
        this path does not keep a second copy of them; anything else is a NotImplementedError.

    Returns
    -------
    J : float
    grads : list of arrays
        ``grads[l-1]`` = D^(l), shaped like Θ^(l), arrays of X's library on X's device in the compute dtype.

    Examples
    --------
    >>> import numpy as np, glassnet
    >>> from glassnet.scale.backends import cost_and_gradient_xp
    >>> thetas = glassnet.debug_init([3, 5, 3])
    >>> X = glassnet.debug_initialize_weights(5, 2)
    >>> J, grads = cost_and_gradient_xp(thetas, X, np.array([1, 2, 0, 1, 2]), 3.0)
    >>> f"{J:.6f}"
    '2.146360'
    """
    if (activation, output, loss) != ("sigmoid", "sigmoid", "log"):
        raise NotImplementedError(
            f"{type(X).__module__.split('.')[0]} arrays: only activation='sigmoid', output='sigmoid', loss='log' "
            f"(the lecture's network) are supported on the array-API path, got activation={activation!r}, "
            f"output={output!r}, loss={loss!r}; pass NumPy arrays for the other activations and costs")
    xp = _namespace(X)
    from array_api_compat import device as device_of

    device = device_of(X)
    sizes = sizes_from_thetas(thetas)
    lam = check_lam(lam)
    X, dtype = _check_X(xp, X, sizes[0])
    m = X.shape[0]
    thetas, _ = check_thetas(thetas, convert=lambda t, where: _to(xp, t, dtype, device, where), xp=xp)
    Y = _targets(xp, Y, sizes[-1], m, dtype, device)

    # Row chunks on a CPU (z, a and δ of a chunk stay in cache, as on the NumPy path); one chunk on a GPU, whose
    # kernels want the whole batch. The sums add up chunk by chunk: the same J and Δ.
    rows = default_chunk_rows(sizes) if _on_cpu(device) else m
    buffers = _ChunkBuffers(xp, min(rows, m), dtype, device)
    J_sum = 0.0
    Delta: list[Any] = [None] * len(thetas)  # filled from the output layer down
    for start in range(0, m, rows):
        stop = min(start + rows, m)  # the array API wants slices inside the array
        n, x, Yc = stop - start, X[start:stop, ...], Y[start:stop, ...]
        # Forward: keep each a^(l) (without bias) and the output z^(L) for the cost.
        acts = [x]
        for i, theta in enumerate(thetas):
            acts.append(_layer(xp, acts[-1], theta, last=i == len(thetas) - 1,
                               out=buffers(("a", i), n, theta.shape[0])))
        J_sum = J_sum + _cost_sum(xp, acts[-1], Yc, buffers("cost", n, sizes[-1]))
        # Backward: δ^(L) = a^(L) - Y; δ^(l) = δ^(l+1) Θ^(l)[:, 1:] ∘ a^(l)(1 - a^(l)); Δ^(l) += δ^(l+1)ᵀ [1, a^(l)].
        delta = _output_delta(xp, acts[-1], Yc)
        for i in range(len(thetas) - 1, -1, -1):
            Delta[i] = _add_outer(xp, Delta[i], delta, acts[i])
            if i > 0:
                delta = _back(xp, delta, thetas[i], acts[i], out=buffers(("delta", i), n, sizes[i]))
    J_sum = float(J_sum)
    reg_sum = sum(float(xp.sum(t[:, 1:] * t[:, 1:], dtype=xp.float64)) for t in thetas) if lam else 0.0
    return J_sum / m + lam / (2.0 * m) * reg_sum, finish(thetas, Delta, m, lam, xp=xp)


def _on_cpu(device) -> bool:
    """True for a CPU device of any array library (torch "cpu", array-api-strict's CPU_DEVICE, JAX's CpuDevice)."""
    return "cpu" in str(device).lower()


def _add_outer(xp, Delta, delta, a):
    """Δ + [Σ_t δ_t, δᵀa] (shape (s_{l+1}, s_l + 1)); ``Delta=None`` starts the sum. torch: in place, one GEMM that
    adds into Δ's columns 1.. (no chunk-sized temporary); other libraries: a new array (JAX arrays are immutable)."""
    if _is_torch(xp):
        if Delta is None:
            import torch

            Delta = torch.zeros((delta.shape[1], a.shape[1] + 1), dtype=delta.dtype, device=delta.device)
        Delta[:, 0] += delta.sum(dim=0)
        Delta[:, 1:].addmm_(delta.T, a)
        return Delta
    part = xp.concat([xp.expand_dims(xp.sum(delta, axis=0), axis=1), delta.T @ a], axis=1)
    return part if Delta is None else Delta + part
