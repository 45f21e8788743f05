"""Backpropagation, written twice: the lecture's literal per-example loop and the whole-batch matrix version.

Both compute, for l = L-1 down to 1 (lecture numbering):

- δ^(L) = a^(L) - y                                   (sigmoid output + logistic cost)
- δ^(l) = (Θ^(l))ᵀ δ^(l+1) .* g'(z^(l)),  bias row of (Θ^(l))ᵀδ dropped, g'(z) = a .* (1 - a)
- Δ^(l) = Σ_t δ^(l+1) (a^(l))ᵀ                        (a^(l) with its bias unit)
- D^(l) = Δ^(l)/m + (λ/m) Θ^(l), except the bias column 0, which is not regularized.

:func:`backprop_per_example` exists to be read next to the lecture and to test the fast path against; use
:func:`cost_and_gradient` for real work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ._validation import check_lam, check_thetas, check_X, compute_dtype
from .activations import sigmoid, sigmoid_gradient_from_a, softplus
from .cost import encode_labels, regularization
from .forward import ForwardCache
from .params import layer_shapes, sizes_from_thetas

__all__ = [
    "deltas",
    "accumulate",
    "finish",
    "batch_sums",
    "gradients",
    "cost_and_gradient",
    "backprop_per_example",
    "Workspace",
    "default_chunk_rows",
]


def _prepare(thetas, X, y, lam):
    """Validate and convert the public arguments once: (thetas, X, Y, lam, sizes) in the compute dtype."""
    dtype = compute_dtype(np.asarray(X) if not hasattr(X, "dtype") else X)
    thetas, sizes = check_thetas(thetas, dtype)
    X = check_X(X, n_features=sizes[0])
    lam = check_lam(lam)
    Y = encode_labels(y, sizes[-1], X.shape[0], dtype=dtype)
    return thetas, X, Y, lam, sizes


def deltas(thetas: Sequence[np.ndarray], cache: ForwardCache, Y: np.ndarray) -> list[np.ndarray | None]:
    """δ for every layer of a forward pass, whole batch at once.

    Returns a list indexed like ``cache.z``: ``delta[i]`` is δ^(i+1) with shape (m, s_{i+1}) and ``delta[0]`` is
    ``None`` (inputs have no error term). Row t is the lecture's column vector δ^(l) for example t.
    """
    L = cache.L
    delta: list[np.ndarray | None] = [None] * L
    delta[L - 1] = cache.output - Y
    for i in range(L - 2, 0, -1):
        # (Θ^(l))ᵀ δ^(l+1) without the bias row == δ^(l+1) @ Θ^(l)[:, 1:] in row layout.
        back = delta[i + 1] @ thetas[i][:, 1:]
        back *= sigmoid_gradient_from_a(cache.activations[i])
        delta[i] = back
    return delta


def accumulate(cache: ForwardCache, delta: Sequence[np.ndarray | None]) -> list[np.ndarray]:
    """Δ^(l) = Σ_t δ^(l+1) (a^(l))ᵀ over the batch, each shaped like Θ^(l) (not yet divided by m)."""
    Delta = []
    for i in range(cache.L - 1):
        d_next = delta[i + 1]
        D = np.empty((d_next.shape[1], cache.activations[i].shape[1] + 1), dtype=d_next.dtype)
        # Δ = δ^(l+1)ᵀ [1, a^(l)]: the bias column is the sum of δ, the rest one matmul; X is never concatenated.
        np.sum(d_next, axis=0, out=D[:, 0])
        np.matmul(d_next.T, cache.activations[i], out=D[:, 1:])
        Delta.append(D)
    return Delta


def finish(thetas: Sequence[np.ndarray], Delta: Sequence[np.ndarray], m: int, lam: float) -> list[np.ndarray]:
    """D^(l) = Δ^(l)/m + (λ/m)Θ^(l); the bias column 0 is not regularized. Works in place on ``Delta``."""
    grads = []
    for theta, D in zip(thetas, Delta):
        D /= m
        if lam:
            D[:, 1:] += (lam / m) * theta[:, 1:]
        grads.append(D)
    return grads


def batch_sums(thetas: Sequence[np.ndarray], X: np.ndarray, Y: np.ndarray) -> tuple[float, list[np.ndarray]]:
    """Unnormalized sums over a batch: (Σ_t cost(t), [Δ^(l)]), no regularization.

    This is the map step of J and D: sums from row chunks (or Dask workers) add up to the whole-batch sums, and
    :func:`finish` turns the total into D. Inputs must already be validated (same float dtype, Y as an (m, K) 0/1
    matrix).
    """
    X = np.asarray(X)
    # The same forward pass, δ and Δ as deltas/accumulate, streamed over row chunks (see Workspace).
    workspace = Workspace(sizes_from_thetas(thetas), max(X.shape[0], 1), compute_dtype(X))
    return workspace.batch_sums(thetas, X, Y)


def gradients(
    thetas: Sequence[np.ndarray], cache: ForwardCache, delta: Sequence[np.ndarray | None], lam: float
) -> list[np.ndarray]:
    """D^(l) = Δ^(l)/m + (λ/m)Θ^(l) (bias column unregularized), each shaped like Θ^(l)."""
    return finish(thetas, accumulate(cache, delta), cache.m, lam)


def cost_and_gradient(thetas: Sequence[np.ndarray], X, y, lam: float = 0.0) -> tuple[float, list[np.ndarray]]:
    """J(Θ) and its gradient D^(l) for every layer, by vectorized backpropagation.

    Parameters
    ----------
    thetas : list of arrays
        ``thetas[l-1]`` is Θ^(l), shape (s_{l+1}, s_l + 1), bias column first.
    X : array, shape (m, s_1)
        Examples, one per row (C- or F-ordered). float32 is computed in float32, anything else in float64.
    y : array
        Integer labels 0..K-1, shape (m,) (K > 1); or an (m, K) 0/1 matrix; or 0/1 labels for one output (K = 1).
    lam : float
        λ ≥ 0, the regularization strength.

    Returns
    -------
    J : float
    grads : list of arrays
        ``grads[l-1]`` = D^(l) = ∂J/∂Θ^(l), same shapes (and dtype) as ``thetas``.
    """
    if not isinstance(X, np.ndarray) and (
        hasattr(type(X), "__array_namespace__") or type(X).__module__.startswith(("torch", "dask."))
    ):  # Dask, torch, CuPy, array-api-strict...: see glassnet.backends (lazy: optional extras)
        from .backends import dispatch

        return dispatch(thetas, X, y, lam)
    thetas, X, Y, lam, _ = _prepare(thetas, X, y, lam)
    m = X.shape[0]
    J_sum, Delta = batch_sums(thetas, X, Y)
    return J_sum / m + regularization(thetas, lam, m), finish(thetas, Delta, m, lam)


# ---- the fast path: row chunks through preallocated buffers --------------------------------------------------------
#
# The math is the same as deltas/accumulate/finish above; only the memory traffic differs. Rows are processed in
# chunks of ``chunk_rows`` so that z, a and δ of a chunk stay in cache and the extra memory is a few chunk-sized
# buffers however large m is (the whole-batch version holds m × s_l arrays for every layer). Every elementwise step
# writes into a buffer that is already there (``out=``), and Δ^(l) adds up chunk by chunk: the same map/reduce that
# batch_sums offers to Dask, inside one process.

_CHUNK_ELEMENTS = 600_000  # about 5 MB of float64 per chunk-sized buffer of the widest layer: measured sweet spot


def default_chunk_rows(sizes: Sequence[int]) -> int:
    """Rows per chunk for a network of layer sizes ``sizes``: about 600k elements for the widest non-input layer.

    Small enough that a chunk's z, a and δ stay in cache, large enough that every matrix product is still a big,
    efficient GEMM (a few hundred rows at least).
    """
    widest = max(int(s) for s in sizes[1:])
    return int(min(8192, max(256, _CHUNK_ELEMENTS // widest)))


def _sigmoid_(z: np.ndarray, minus_b: np.ndarray | None = None) -> np.ndarray:
    """z ← g(z + b) in place, as 1 / (1 + e^{-(z + b)}) with numpy's vectorized exp; ``minus_b`` is -b or None.

    e^{-z} may overflow to inf for z < -709 (float64), which gives exactly g = 0 (the true value is below 1e-308);
    callers run this under ``np.errstate(over="ignore")``.
    """
    if minus_b is None:
        np.negative(z, out=z)
    else:
        np.subtract(minus_b, z, out=z)  # -(z + b)
    np.exp(z, out=z)
    np.add(z, 1.0, out=z)
    return np.reciprocal(z, out=z)


def _softplus_sum(s: np.ndarray, scratch: np.ndarray) -> float:
    """Σ softplus(s) = Σ max(s, 0) + Σ log1p(e^{-|s|}) in float64; exact for any |s| and faster than logaddexp."""
    np.abs(s, out=scratch)
    np.negative(scratch, out=scratch)
    np.exp(scratch, out=scratch)
    np.log1p(scratch, out=scratch)
    total = float(np.sum(scratch, dtype=np.float64))
    np.maximum(s, 0.0, out=scratch)
    return total + float(np.sum(scratch, dtype=np.float64))


class Workspace:
    """Preallocated buffers for J and D on many calls with the same network and dtype (an optimizer run).

    ``Workspace(sizes, m, dtype)`` allocates, once, a few buffers of ``chunk_rows`` rows per layer; each call then
    streams X through them chunk by chunk, so no call allocates anything of size m and X is never copied or
    concatenated with a bias column. Results equal :func:`cost_and_gradient` (same formulas, sums taken chunk by
    chunk, so they agree to rounding).

    Parameters
    ----------
    sizes : sequence of int
        Layer sizes ``[s_1, ..., s_L]``.
    m : int
        Typical number of examples per call (sizes the buffers: ``min(m, chunk_rows)`` rows). Any m works later.
    dtype : float32 or float64
        The compute dtype; Θ, X and Y are used in it (float32 end to end for float32).
    chunk_rows : int, optional
        Rows per chunk; default :func:`default_chunk_rows`.

    Notes
    -----
    One workspace serves one thread at a time (its buffers are shared between calls). The optimizer of a run owns
    one; :func:`batch_sums` and :func:`cost_and_gradient` make a fresh one per call, so they are thread-safe.

    Examples
    --------
    >>> import numpy as np, glassnet
    >>> from glassnet.backprop import Workspace
    >>> thetas = glassnet.debug_init([3, 5, 3])
    >>> X = glassnet.debug_initialize_weights(5, 2)
    >>> f = Workspace([3, 5, 3], m=5).objective(X, [1, 2, 0, 1, 2], lam=3.0)
    >>> J, grads = f(thetas)
    >>> round(J, 6), [g.shape for g in grads]
    (2.14636, [(5, 4), (3, 6)])
    """

    def __init__(self, sizes: Sequence[int], m: int, dtype=np.float64, *, chunk_rows: int | None = None) -> None:
        shapes = layer_shapes(sizes)
        self.sizes = [shapes[0][1] - 1] + [r for r, _ in shapes]
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
            raise ValueError(f"m: expected a positive number of examples, got {m!r}")
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype: expected float32 or float64, got {self.dtype}")
        if chunk_rows is None:
            chunk_rows = default_chunk_rows(self.sizes)
        if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer)) or chunk_rows < 1:
            raise ValueError(f"chunk_rows: expected a positive int, got {chunk_rows!r}")
        self.chunk_rows = c = int(min(chunk_rows, m))
        dt = self.dtype
        # a[i]: a^(i+1) of a chunk for the hidden layers (z is turned into a in place); z^(L) for the output layer.
        self._a = [np.empty((c, s), dt) for s in self.sizes[1:-1]]
        self._zL = np.empty((c, self.sizes[-1]), dt)
        self._scratch = np.empty((c, self.sizes[-1]), dt)
        self._delta = [np.empty((c, s), dt) for s in self.sizes[1:]]  # δ^(2..L) of a chunk
        self._Delta = [np.empty(shape, dt) for shape in shapes]  # Σ over chunks, shaped like Θ
        self._prod = np.empty(max(r * (k - 1) for r, k in shapes), dt)  # one chunk's δᵀa before it is added to Δ
        self._bias = np.empty(max(self.sizes[1:]), dt)  # one chunk's Σ_t δ (the bias column of Δ)
        self._ones = np.ones(c, dt)

    @property
    def nbytes(self) -> int:
        """Bytes held by the buffers."""
        bufs = [*self._a, self._zL, self._scratch, *self._delta, *self._Delta, self._prod, self._bias, self._ones]
        return int(sum(b.nbytes for b in bufs))

    def batch_sums(self, thetas: Sequence[np.ndarray], X: np.ndarray, Y: np.ndarray) -> tuple[float, list[np.ndarray]]:
        """Unnormalized (Σ_t cost(t), [Δ^(l)]) over the rows of X, like the module's :func:`batch_sums`.

        Inputs must already be validated: X (m, s_1) and Y (m, K) 0/1 in this workspace's dtype (other dtypes are
        converted). The returned Δ arrays are the workspace's own buffers, overwritten by the next call.
        """
        dt = self.dtype
        thetas = [np.asarray(t, dtype=dt) for t in thetas]
        X = np.asarray(X, dtype=dt)
        Y = np.asarray(Y, dtype=dt)
        m = X.shape[0]
        n_layers = len(thetas)
        if [t.shape for t in thetas] != [D.shape for D in self._Delta]:
            raise ValueError(
                f"thetas: expected shapes {[D.shape for D in self._Delta]} for this workspace's sizes {self.sizes}, "
                f"got {[t.shape for t in thetas]}"
            )
        W = [t[:, 1:] for t in thetas]  # views: the bias column is applied separately, never concatenated
        minus_b = [-t[:, 0] for t in thetas]
        Delta = self._Delta
        if m == 0:
            for D in Delta:
                D.fill(0)
            return 0.0, Delta
        J_sum = 0.0
        with np.errstate(over="ignore"):  # e^{-z} → inf for very negative z gives g(z) = 0 exactly: intended
            for start in range(0, m, self.chunk_rows):
                stop = min(start + self.chunk_rows, m)
                n = stop - start
                first = start == 0
                # Forward: a^(l+1) = g(a^(l) Θ^(l)[:, 1:]ᵀ + Θ^(l)[:, 0]), written into a's buffer.
                acts = [X[start:stop]] + [a[:n] for a in self._a]
                for i in range(n_layers - 1):
                    np.matmul(acts[i], W[i].T, out=acts[i + 1])
                    _sigmoid_(acts[i + 1], minus_b[i])
                zL = self._zL[:n]
                np.matmul(acts[-1], W[-1].T, out=zL)
                np.subtract(zL, minus_b[-1], out=zL)
                # Cost from z: Σ softplus((1 - 2y) z); then δ^(L) = g(z^(L)) - y.
                Yc = Y[start:stop]
                dL = self._delta[-1][:n]
                scratch = self._scratch[:n]
                np.multiply(Yc, -2.0, out=dL)
                np.add(dL, 1.0, out=dL)
                np.multiply(dL, zL, out=dL)
                J_sum += _softplus_sum(dL, scratch)
                _sigmoid_(zL)
                np.subtract(zL, Yc, out=dL)
                # Backward: Δ^(l) += δ^(l+1)ᵀ [1, a^(l)]; δ^(l) = δ^(l+1) Θ^(l)[:, 1:] .* a^(l)(1 - a^(l)).
                for i in range(n_layers - 1, -1, -1):
                    d = self._delta[i][:n]
                    D = Delta[i]
                    k = D.shape[0]
                    if first:
                        np.matmul(d.T, acts[i], out=D[:, 1:])
                        np.matmul(self._ones[:n], d, out=self._bias[:k])
                        D[:, 0] = self._bias[:k]
                    else:
                        prod = self._prod[: k * (D.shape[1] - 1)].reshape(k, D.shape[1] - 1)
                        np.matmul(d.T, acts[i], out=prod)
                        np.add(D[:, 1:], prod, out=D[:, 1:])
                        np.matmul(self._ones[:n], d, out=self._bias[:k])
                        np.add(D[:, 0], self._bias[:k], out=D[:, 0])
                    if i > 0:
                        a = acts[i]
                        d_prev = self._delta[i - 1][:n]
                        np.matmul(d, W[i], out=d_prev)
                        # g'(z) = a(1 - a), fused in place: δ *= a; a ← 1 - a (a is not needed any more); δ *= a.
                        np.multiply(d_prev, a, out=d_prev)
                        np.subtract(1.0, a, out=a)
                        np.multiply(d_prev, a, out=d_prev)
        return J_sum, Delta

    def cost_and_gradient(
        self, thetas: Sequence[np.ndarray], X, y, lam: float = 0.0, *, check_input: bool = True,
        out: Sequence[np.ndarray] | None = None,
    ) -> tuple[float, list[np.ndarray]]:
        """J(Θ) and D^(l), exactly like :func:`cost_and_gradient`, through this workspace's buffers.

        ``check_input=False`` skips validation: then X must be an (m, s_1) array and y an (m, K) 0/1 matrix Y, both
        in this workspace's dtype, and λ ≥ 0 (what :meth:`objective` prepares once). ``out``: optional arrays
        shaped like Θ (any memory layout, e.g. views of a flat vector from :func:`glassnet.params.roll`) that receive
        D; by default fresh arrays are returned.
        """
        if check_input:
            thetas, X, Y, lam, _ = _prepare(thetas, X, y, lam)
            if X.dtype != self.dtype:  # converting would copy X on every call: say so instead
                raise ValueError(
                    f"X: this workspace computes in {self.dtype} but X is computed in {X.dtype}; "
                    f"create Workspace(..., dtype={X.dtype.name}) or convert X once"
                )
        else:
            thetas, Y = [np.asarray(t, dtype=self.dtype) for t in thetas], y
        m = X.shape[0]
        J_sum, Delta = self.batch_sums(thetas, X, Y)
        J = J_sum / m + regularization(thetas, lam, m)
        if out is None:
            out = [np.empty(D.shape, D.dtype) for D in Delta]
        for theta, D, G in zip(thetas, Delta, out):
            # D = Δ/m + (λ/m)Θ, the bias column not regularized (as in finish), written into G.
            np.multiply(D, 1.0 / m, out=G)
            if lam:
                G[:, 1:] += (lam / m) * theta[:, 1:]
        return J, list(out)

    def objective(self, X, y, lam: float = 0.0) -> Callable[[Sequence[np.ndarray]], tuple[float, list[np.ndarray]]]:
        """``f(thetas) -> (J, grads)`` on fixed data, validated once here (what an optimizer run wants).

        X is converted to this workspace's dtype once (no copy when it already is), y to the 0/1 matrix Y once.
        """
        X = check_X(X, n_features=self.sizes[0])
        if X.dtype != self.dtype:
            X = X.astype(self.dtype)
        Y = encode_labels(y, self.sizes[-1], X.shape[0], dtype=self.dtype)
        lam = check_lam(lam)

        def f(thetas: Sequence[np.ndarray]) -> tuple[float, list[np.ndarray]]:
            return self.cost_and_gradient(thetas, X, Y, lam, check_input=False)

        return f


def backprop_per_example(thetas: Sequence[np.ndarray], X, y, lam: float = 0.0) -> tuple[float, list[np.ndarray]]:
    """The lecture's algorithm, literally: a loop over t = 1..m with column vectors and explicit bias units.

    Slow on purpose; same arguments and results as :func:`cost_and_gradient`.
    """
    thetas, X, Y, lam, _ = _prepare(thetas, X, y, lam)
    m = X.shape[0]
    Delta = [np.zeros_like(t) for t in thetas]
    J = 0.0
    for t in range(m):
        # Forward: a^(1) = [1; x^(t)], z^(l+1) = Θ^(l) a^(l), a^(l+1) = [1; g(z^(l+1))].
        a = [np.concatenate([[1.0], X[t]]).astype(X.dtype)[:, None]]
        z = [None]
        for l, theta in enumerate(thetas):
            z.append(theta @ a[l])
            g = sigmoid(z[-1])
            a.append(np.vstack([np.ones((1, 1), dtype=X.dtype), g]) if l < len(thetas) - 1 else g)
        y_t = Y[t][:, None]
        J += float(np.sum(y_t * softplus(-z[-1]) + (1 - y_t) * softplus(z[-1])))
        # Backward: δ^(L) = a^(L) - y; δ^(l) = (Θ^(l))ᵀ δ^(l+1) .* g'(z^(l)), dropping the bias row.
        delta = a[-1] - y_t
        for l in range(len(thetas) - 1, -1, -1):
            Delta[l] += delta @ a[l].T
            if l > 0:
                delta = (thetas[l].T @ delta)[1:] * sigmoid_gradient_from_a(a[l][1:])
    J = J / m + regularization(thetas, lam, m)
    grads = []
    for theta, Dl in zip(thetas, Delta):
        D = Dl / m
        D[:, 1:] += (lam / m) * theta[:, 1:]
        grads.append(D)
    return J, grads
