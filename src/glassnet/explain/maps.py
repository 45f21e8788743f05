"""Pictures over the input plane of a network with two inputs: the decision map and one map per hidden unit (data).

For: seeing what a small network has learnt on 2-D data, as TensorFlow Playground shows it. :func:`plane_maps`
evaluates the network with :func:`glassnet.forward.propagate` at every point of a grid over the plane and returns
h_Θ(x), the predicted class (:func:`glassnet.outputs.predict_units`) and every hidden unit's activation a_j^(l) there.
Not for: drawing (the explorer's page and any plotting code colour these numbers) or networks with n ≠ 2 inputs.

Grid convention: ``values[r, c]`` is the value at ``(x1[c], x2[r])``, row 0 at the smallest x2, so an image of it
must be flipped vertically to put x2 upwards.

>>> import numpy as np
>>> theta = [np.array([[0.0, 10.0, 0.0]])]          # one output unit, h = g(10·x1)
>>> maps = plane_maps(theta, extent=(-1, 1, -1, 1), resolution=3)
>>> maps.x1.tolist(), np.round(maps.output[0], 3).tolist()[0]
([-1.0, 0.0, 1.0], [0.0, 0.5, 1.0])
>>> maps.prediction[0].tolist(), maps.units      # the lecture's rule: h ≥ 0.5 predicts class 1
([0, 1, 1], [])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from glassnet.datasets.features import check_features, expand
from glassnet.forward import propagate
from glassnet.outputs import predict_units

__all__ = ["PlaneMaps", "plane_extent", "plane_maps"]


@dataclass(frozen=True)
class PlaneMaps:
    """A 2-input network evaluated on a grid.

    x1: (res,) and x2: (res,) grid coordinates; output: (K, res, res) h_Θ(x); prediction: (res, res) class numbers;
    units: per hidden layer l = 2 .. L−1, an (s_l, res, res) array of a_j^(l) (``units[0][j - 1]`` is unit j of
    layer 2). ``values[r, c]`` belongs to the point (x1[c], x2[r]).
    """

    x1: np.ndarray
    x2: np.ndarray
    output: np.ndarray
    prediction: np.ndarray
    units: list[np.ndarray]

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(x1 min, x1 max, x2 min, x2 max) of the grid."""
        return float(self.x1[0]), float(self.x1[-1]), float(self.x2[0]), float(self.x2[-1])


def plane_extent(X, margin: float = 0.15) -> tuple[float, float, float, float]:
    """A square holding every row of X (m, 2) in its middle, ``margin`` of the larger span wider on each side
    (square, so that a circle in the data is drawn round; points all in one place get span 1).

    >>> plane_extent(np.array([[0.0, 0.0], [1.0, 2.0]]), margin=0.5)
    (-1.5, 2.5, -1.0, 3.0)
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2 or X.shape[0] == 0:
        raise ValueError(f"X: expected points of shape (m, 2) with m ≥ 1, got shape {X.shape}")
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = float((hi - lo).max()) or 1.0
    mid, half = (lo + hi) / 2.0, span * (0.5 + margin)
    return float(mid[0] - half), float(mid[0] + half), float(mid[1] - half), float(mid[1] + half)


def plane_maps(thetas: Sequence[np.ndarray], X=None, *, extent: tuple[float, float, float, float] | None = None,
               resolution: int = 40, activation="sigmoid", output="sigmoid",
               features: Sequence[str] | None = None) -> PlaneMaps:
    """The network ``thetas`` (2 inputs) evaluated on a ``resolution`` × ``resolution`` grid.

    Parameters
    ----------
    thetas : list of arrays
        Θ^(l), shape (s_{l+1}, s_l + 1), bias column first; s_1 must be 2.
    X : (m, 2) array, optional
        Points the grid must cover (:func:`plane_extent`); or give ``extent``.
    extent : (x1 min, x1 max, x2 min, x2 max), optional
    resolution : int
        Grid points per axis, 2 .. 200.
    activation, output : str
        The hidden units and the output activation, as for :func:`glassnet.forward` (default the lecture's sigmoid).
    features : list of str, optional
        The network's inputs are these features of (x₁, x₂) (``glassnet.datasets.features.expand``), one per
        input unit; the maps stay over (x₁, x₂). Default: x₁, x₂ themselves.
    """
    inputs = 2 if features is None else len(check_features(features))
    if thetas[0].shape[1] != inputs + 1:
        raise ValueError(f"thetas: a map over the plane needs a network with {inputs} inputs "
                         f"({'x1, x2' if features is None else ', '.join(features)}), this one has "
                         f"{thetas[0].shape[1] - 1}")
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or not 2 <= resolution <= 200:
        raise ValueError(f"resolution: expected an int in 2..200, got {resolution!r}")
    if extent is None:
        if X is None:
            raise ValueError("plane_maps: give the points X to cover or an extent (x1 min, x1 max, x2 min, x2 max)")
        extent = plane_extent(X)
    a, b, c, d = (float(v) for v in extent)
    if not (np.isfinite([a, b, c, d]).all() and a < b and c < d):
        raise ValueError(f"extent: expected finite (x1 min < x1 max, x2 min < x2 max), got {extent!r}")
    x1, x2 = np.linspace(a, b, resolution), np.linspace(c, d, resolution)
    g1, g2 = np.meshgrid(x1, x2)  # g1[r, c] = x1[c], g2[r, c] = x2[r]
    grid = np.column_stack([g1.ravel(), g2.ravel()])
    cache = propagate(thetas, grid if features is None else expand(grid, features), activation, output)
    shape = (resolution, resolution)
    output = cache.output.T.reshape(-1, *shape)
    prediction = predict_units(cache.z_out).reshape(shape)
    units = [act.T.reshape(-1, *shape) for act in cache.activations[1:-1]]
    return PlaneMaps(x1=x1, x2=x2, output=output, prediction=prediction, units=units)
