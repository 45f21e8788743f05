"""Layer sizes, Θ shapes, weight initialisation and the flat-vector boundary (unroll / roll).

Notation (used throughout glassnet). A network has L layers with sizes ``sizes = [s_1, ..., s_L]``. The lecture's
Θ^(l) (l = 1..L-1) maps layer l to layer l+1 and is stored in ``thetas[l - 1]`` with shape ``(s_{l+1}, s_l + 1)``:
column 0 holds the bias weights. Python indices are 0-based; the lecture's superscripts are 1-based.

The flat parameter vector exists only for optimizers (:func:`unroll` / :func:`roll`, column-major per layer like the
course's ``Theta1(:)``); everything else works on the list of per-layer arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

__all__ = [
    "layer_shapes",
    "sizes_from_thetas",
    "init_epsilon",
    "random_init",
    "debug_initialize_weights",
    "debug_init",
    "unroll",
    "roll",
]


def _check_sizes(sizes: Sequence[int]) -> list[int]:
    try:
        out = [int(s) for s in sizes]
    except (TypeError, ValueError):
        raise ValueError(f"sizes: expected a sequence of positive ints, got {sizes!r}") from None
    if len(out) < 2:
        raise ValueError(f"sizes: expected at least 2 layers (input and output), got {out}")
    if any(s < 1 or s != float(t) for s, t in zip(out, sizes)):
        raise ValueError(f"sizes: expected positive integer layer sizes, got {list(sizes)}")
    return out


def layer_shapes(sizes: Sequence[int]) -> list[tuple[int, int]]:
    """Shapes of Θ^(1..L-1): ``[(s_{l+1}, s_l + 1) for each l]``.

    Parameters
    ----------
    sizes : sequence of int, length L
        Units per layer ``[s_1, ..., s_L]``, bias units not counted.

    Returns
    -------
    list of (int, int), length L - 1
        ``shapes[l - 1]`` is the shape of Θ^(l).

    Examples
    --------
    >>> layer_shapes([400, 25, 10])      # the course's digit network
    [(25, 401), (10, 26)]
    """
    s = _check_sizes(sizes)
    return [(s[i + 1], s[i] + 1) for i in range(len(s) - 1)]


def sizes_from_thetas(thetas: Sequence[np.ndarray]) -> list[int]:
    """Recover ``[s_1, ..., s_L]`` from a list of Θ, checking that consecutive shapes chain.

    Parameters
    ----------
    thetas : list of arrays
        ``thetas[l - 1]`` is Θ^(l), shape (s_{l+1}, s_l + 1).

    Returns
    -------
    list of int, length len(thetas) + 1

    Raises
    ------
    ValueError
        Naming the offending ``thetas[i]`` and the shape it should have.

    Examples
    --------
    >>> sizes_from_thetas(debug_init([3, 5, 3]))
    [3, 5, 3]
    >>> sizes_from_thetas([np.zeros((5, 4)), np.zeros((3, 7))])
    Traceback (most recent call last):
    ...
    ValueError: thetas[1] (Θ^(2)): expected shape (3, 6) because layer 2 has 5 units (+1 bias), got shape (3, 7)
    """
    if isinstance(thetas, np.ndarray) or len(thetas) == 0:
        raise ValueError("thetas: expected a non-empty list of 2-D arrays of shape (s_{l+1}, s_l + 1)")
    sizes: list[int] = []
    for i, t in enumerate(thetas):
        shape = t.shape if isinstance(t, np.ndarray) else np.shape(t)
        if len(shape) != 2 or shape[0] < 1 or shape[1] < 2:
            raise ValueError(
                f"thetas[{i}] (Θ^({i + 1})): expected a 2-D array of shape (s_{i + 2}, s_{i + 1} + 1) "
                f"with at least one unit, got shape {shape}"
            )
        if i == 0:
            sizes.append(shape[1] - 1)
        elif shape[1] != sizes[-1] + 1:
            raise ValueError(
                f"thetas[{i}] (Θ^({i + 1})): expected shape ({shape[0]}, {sizes[-1] + 1}) because layer {i + 1} "
                f"has {sizes[-1]} units (+1 bias), got shape {shape}"
            )
        sizes.append(shape[0])
    return sizes


def init_epsilon(fan_in: int, fan_out: int) -> float:
    """The course's ε_init = √6 / √(L_in + L_out), half-width of the uniform initial weights of one layer.

    Examples
    --------
    >>> round(init_epsilon(400, 25), 4)  # the course rounds this to 0.12
    0.1188
    """
    return float(np.sqrt(6.0) / np.sqrt(fan_in + fan_out))


def random_init(
    sizes: Sequence[int],
    rng: np.random.Generator | int | None = None,
    epsilon: float | None = None,
    dtype: type = np.float64,
) -> list[np.ndarray]:
    """Random Θ, uniform in [-ε, ε] to break symmetry.

    Parameters
    ----------
    sizes : sequence of int, length L
        Units per layer ``[s_1, ..., s_L]``.
    rng : numpy.random.Generator, int or None
        Source of randomness, or a seed for one; the global RNG is never touched.
    epsilon : float, optional
        Half-width of the interval for every layer (e.g. the course's 0.12). ``None`` uses
        ε = √6/√(s_l + s_{l+1}) per layer (:func:`init_epsilon`).
    dtype : numpy dtype
        dtype of the returned arrays (float64 by default).

    Returns
    -------
    list of arrays
        ``thetas[l - 1]`` is Θ^(l), shape (s_{l+1}, s_l + 1).

    Examples
    --------
    >>> thetas = random_init([2, 3, 1], rng=0)
    >>> [t.shape for t in thetas]
    [(3, 3), (1, 4)]
    >>> bool(np.abs(thetas[0]).max() <= init_epsilon(2, 3))
    True
    """
    rng = np.random.default_rng(rng)
    thetas: list[np.ndarray] = []
    for out_units, in_plus_bias in layer_shapes(sizes):
        eps = init_epsilon(in_plus_bias - 1, out_units) if epsilon is None else float(epsilon)
        if not eps > 0:
            raise ValueError(f"epsilon: expected a positive number, got {epsilon!r}")
        theta = rng.random((out_units, in_plus_bias))
        theta *= 2  # (r·2)·ε − ε in place: the same numbers as the expression, without its two temporaries
        theta *= eps
        theta -= eps
        thetas.append(theta.astype(dtype, copy=False))
    return thetas


def debug_initialize_weights(fan_out: int, fan_in: int) -> np.ndarray:
    """The course's ``debugInitializeWeights``: ``sin(1..n)/10`` in a (fan_out, 1 + fan_in) array, column-major.

    Deterministic weights (or inputs) for gradient checks, identical to the course's Octave function.

    Examples
    --------
    >>> debug_initialize_weights(2, 2)
    array([[ 0.0841471 ,  0.014112  , -0.09589243],
           [ 0.09092974, -0.07568025, -0.02794155]])
    """
    n = fan_out * (1 + fan_in)
    return (np.sin(np.arange(1, n + 1)) / 10.0).reshape((fan_out, 1 + fan_in), order="F")


def debug_init(sizes: Sequence[int]) -> list[np.ndarray]:
    """Deterministic Θ for every layer via :func:`debug_initialize_weights` (for gradient checks).

    Examples
    --------
    >>> [t.shape for t in debug_init([3, 5, 3])]
    [(5, 4), (3, 6)]
    """
    return [debug_initialize_weights(o, i - 1) for o, i in layer_shapes(sizes)]


def unroll(thetas: Sequence[np.ndarray], order: str = "F") -> np.ndarray:
    """Flatten Θ^(1), Θ^(2), ... into one vector, each Θ column-major by default (``[Theta1(:); Theta2(:)]``).

    Parameters
    ----------
    thetas : list of arrays
        ``thetas[l - 1]`` is Θ^(l), shape (s_{l+1}, s_l + 1).
    order : {"F", "C"}
        Each Θ column by column (the course's layout, default) or row by row (what :func:`roll` with ``order="C"``
        cuts into C-contiguous views: the mini-batch optimizers' own buffer).

    Returns
    -------
    array, shape (Σ_l s_{l+1}(s_l + 1),)

    Examples
    --------
    >>> thetas = debug_init([2, 2, 1])
    >>> vector = unroll(thetas)
    >>> vector.shape, vector[:2]                    # Θ^(1)[0, 0], then Θ^(1)[1, 0]: column by column
    ((9,), array([0.0841471 , 0.09092974]))
    """
    order = _check_order(order)
    return np.concatenate([np.asarray(t).ravel(order=order) for t in thetas])


def _check_order(order) -> Literal["F", "C"]:
    if order not in ("F", "C"):
        raise ValueError(f"order: expected 'F' (the course's column-major layout) or 'C', got {order!r}")
    return order


def roll(vector: np.ndarray, sizes: Sequence[int], order: str = "F") -> list[np.ndarray]:
    """Inverse of :func:`unroll`: cut a flat vector back into Θ arrays for ``sizes``.

    Parameters
    ----------
    vector : array, shape (Σ_l s_{l+1}(s_l + 1),)
        All weights, as :func:`unroll` lays them out.
    sizes : sequence of int, length L
        Units per layer ``[s_1, ..., s_L]``.
    order : {"F", "C"}
        The layout :func:`unroll` was given.

    Returns
    -------
    list of arrays
        ``thetas[l - 1]`` is Θ^(l), shape (s_{l+1}, s_l + 1): views of ``vector`` (no copy), F- or C-ordered as
        ``order`` says; writing into them writes into ``vector``.

    Examples
    --------
    >>> thetas = debug_init([2, 2, 1])
    >>> all(np.array_equal(a, b) for a, b in zip(roll(unroll(thetas), [2, 2, 1]), thetas))
    True
    """
    order = _check_order(order)
    vector = np.asarray(vector)
    shapes = layer_shapes(sizes)
    n = sum(r * c for r, c in shapes)
    if vector.ndim != 1 or vector.size != n:
        raise ValueError(
            f"vector: expected a 1-D array of {n} parameters for sizes {list(sizes)}, got shape {vector.shape}"
        )
    out, start = [], 0
    for r, c in shapes:
        out.append(vector[start : start + r * c].reshape((r, c), order=order))
        start += r * c
    return out
