"""Forward propagation: z^(l+1) = Θ^(l) a^(l), a^(l+1) = g(z^(l+1)), for a whole batch at once.

Layout: one example per row. For m examples, the lecture's column vector a^(l) becomes row t of an (m, s_l) matrix,
so z^(l+1) = a^(l) Θ^(l)[:, 1:]ᵀ + Θ^(l)[:, 0]. The bias unit a_0 = 1 is never concatenated onto the data (that would
copy X on every call); it is applied through Θ's column 0, and :attr:`ForwardCache.a` adds it back for readers.

The returned :class:`ForwardCache` is exactly what :mod:`glassnet.backprop` consumes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from glassnet._validation import check_thetas, check_X, compute_dtype
from glassnet.activations import get_activation
from glassnet.outputs import output_loss

__all__ = ["ForwardCache", "forward", "propagate"]


@dataclass(frozen=True)
class ForwardCache:
    """Per-layer values of one forward pass over m examples.

    Python index ``i`` holds lecture layer ``l = i + 1``:

    - ``z[i]``: z^(i+1), shape (m, s_{i+1}); ``z[0]`` is ``None`` (the input layer has no z).
    - ``activations[i]``: a^(i+1) without the bias unit, shape (m, s_{i+1}); ``activations[0]`` is X itself.
    - ``a[i]``: a^(i+1) as the lecture writes it, with the bias column a_0 = 1 prepended for every layer but the
      output, i.e. shape (m, s_{i+1} + 1) for i < L-1 and (m, s_L) for the output h_Θ(x).
    """

    z: list[np.ndarray | None]
    activations: list[np.ndarray]

    @property
    def L(self) -> int:
        """Number of layers."""
        return len(self.activations)

    @property
    def m(self) -> int:
        """Number of examples."""
        return self.activations[0].shape[0]

    @property
    def output(self) -> np.ndarray:
        """h_Θ(x) = a^(L), shape (m, K)."""
        return self.activations[-1]

    @property
    def z_out(self) -> np.ndarray:
        """z^(L), shape (m, K): the cost and the predictions are computed from it."""
        z = self.z[-1]
        assert z is not None  # only z[0], the input layer's, is None, and a network has at least two layers
        return z

    @property
    def a(self) -> list[np.ndarray]:
        """Lecture-style a^(l) with the bias unit where the lecture has one (a fresh copy, for reading)."""
        out = []
        for i, act in enumerate(self.activations):
            if i < self.L - 1:
                ones = np.ones((act.shape[0], 1), dtype=act.dtype)
                out.append(np.hstack([ones, act]))
            else:
                out.append(act)
        return out

    def layer(self, l: int) -> tuple[np.ndarray | None, np.ndarray]:
        """``(z^(l), a^(l))`` by the lecture's 1-based layer number ``l`` (a^(l) with its bias unit)."""
        if not 1 <= l <= self.L:
            raise IndexError(f"l: expected a lecture layer number in 1..{self.L}, got {l}")
        return self.z[l - 1], self.a[l - 1]


def propagate(thetas: Sequence[np.ndarray], X: np.ndarray, activation="sigmoid",
              output: str | None = "sigmoid") -> ForwardCache:
    """Forward pass on already-validated inputs (same dtype throughout); see :func:`forward`.

    X may be a SciPy sparse matrix: z^(2) = X Θ^(1)[:, 1:]ᵀ is then a sparse-times-dense product (X stays sparse).
    ``output=None``: the output layer's activation is not applied (the last entry of ``activations`` is z^(L) itself),
    for callers that need z^(L) only (labels are its largest unit; scores and regressions are z^(L)).
    """
    g = get_activation(activation).g
    out = None if output is None else output_loss(output, "squared" if output == "identity" else "log")
    z: list[np.ndarray | None] = [None]
    acts = [X]
    for i, theta in enumerate(thetas):
        zl = np.asarray(acts[-1] @ theta[:, 1:].T)
        zl += theta[:, 0]
        z.append(zl)
        acts.append(g(zl) if i < len(thetas) - 1 else (zl if out is None else out.activate(zl)))
    return ForwardCache(z=z, activations=acts)


def forward(thetas: Sequence[np.ndarray], X, *, activation="sigmoid", output="sigmoid") -> ForwardCache:
    """Forward-propagate every row of X through the network.

    Parameters
    ----------
    thetas : list of arrays
        ``thetas[l-1]`` is Θ^(l), shape (s_{l+1}, s_l + 1), bias column first.
    X : array or SciPy sparse matrix (CSR/CSC), shape (m, s_1)
        One example per row. float32 stays float32; anything else is computed in float64.
    activation : {"sigmoid", "tanh", "relu", "identity"}, default="sigmoid"
        g of the hidden layers.
    output : {"sigmoid", "softmax", "identity"}, default="sigmoid"
        The output layer's activation.

    Returns
    -------
    ForwardCache
        z^(l) and a^(l) for every layer (see :class:`ForwardCache`).
    """
    get_activation(activation)
    if output not in ("sigmoid", "softmax", "identity"):
        raise ValueError(f"output: expected one of 'sigmoid', 'softmax', 'identity', got {output!r}")
    dtype = compute_dtype(X)
    thetas, sizes = check_thetas(thetas, dtype)
    X = check_X(X, n_features=sizes[0])
    return propagate(thetas, X, activation, output)
