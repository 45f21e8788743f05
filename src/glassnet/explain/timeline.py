"""Each hidden unit over training: its mean g′(z), its mean |δ| and how often it saturates, per snapshot of Θ.

A unit whose g′(z) is near 0 on most examples passes almost no error back (δ_j = g′(z_j)·Σ Θ_ij δ_i): it has
*saturated*, and its incoming weights barely move. This module computes, for a list of Θ snapshots taken during
training, the numbers that show which units saturate and when; the explorer draws them and scrubs the iterations.

Data only: no drawing, no training. Every number comes from :func:`glassnet.forward.propagate` and
:func:`glassnet.backprop.deltas`, the lecture's own forward pass and δ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from glassnet.activations import get_activation
from glassnet.backprop import deltas
from glassnet.forward import propagate
from glassnet.outputs import output_loss

__all__ = ["UnitTimeline", "unit_timeline", "SATURATION_SHARE", "saturation_threshold"]

#: A unit saturates on an example when its g′(z) is below this share of g′'s largest value (0.1 · 0.25 for the
#: sigmoid: |z| > about 3.3).
SATURATION_SHARE = 0.1


def saturation_threshold(activation="sigmoid") -> float:
    """g′ below this value counts as saturated: :data:`SATURATION_SHARE` of g′'s peak (max of g′(0), g′(1))."""
    peak = float(np.max(get_activation(activation).gradient(np.array([0.0, 1.0]))))
    return SATURATION_SHARE * peak


@dataclass(frozen=True)
class UnitTimeline:
    """Per snapshot and hidden unit, over the examples X.

    ``iterations``: (T,) the training iteration of each snapshot. For each hidden layer l = 2..L-1 (``layers``, the
    lecture's numbers): ``gprime[k]``, (T, s_l) the mean over examples of g′(z_j^(l)); ``delta[k]``, (T, s_l) the
    mean of |δ_j^(l)|; ``saturated[k]``, (T, s_l) the share of examples with g′(z_j^(l)) < ``threshold``.
    """

    iterations: list[int]
    layers: list[int]
    gprime: list[np.ndarray]
    delta: list[np.ndarray]
    saturated: list[np.ndarray]
    threshold: float
    m: int

    def to_dict(self) -> dict:
        """JSON-ready lists (``layers[k]`` with ``gprime``, ``delta``, ``saturated`` as [snapshot][unit]); ``peak`` is
        g′'s largest value, the top of a g′ scale."""
        return {"iterations": list(self.iterations), "threshold": self.threshold,
                "peak": self.threshold / SATURATION_SHARE, "m": self.m,
                "layers": [{"l": l, "gprime": g.tolist(), "delta": d.tolist(), "saturated": s.tolist()}
                           for l, g, d, s in zip(self.layers, self.gprime, self.delta, self.saturated)]}


def unit_timeline(snapshots: Sequence[Sequence[np.ndarray]], iterations: Sequence[int], X: np.ndarray, y,
                  *, activation="sigmoid", output="sigmoid", loss="log") -> UnitTimeline:
    """g′(z), |δ| and saturation of every hidden unit for each Θ in ``snapshots``, over the examples ``X``, ``y``.

    Parameters
    ----------
    snapshots : list of Θ lists
        Θ^(l), shape (s_{l+1}, s_l + 1), bias column first; all of the same shapes.
    iterations : list of int
        The iteration each snapshot was taken at (same length).
    X : (m, s_1) array; y : (m,) class numbers (or targets) as :func:`glassnet.cost_and_gradient` takes them.
    activation, output, loss : the network's units and cost (the lecture's by default).
    """
    if len(snapshots) != len(iterations):
        raise ValueError(f"iterations: expected one per snapshot ({len(snapshots)}), got {len(iterations)}")
    if not snapshots:
        raise ValueError("snapshots: expected at least one Θ list")
    X = np.asarray(X, dtype=np.float64)
    K = snapshots[0][-1].shape[0]
    Y = output_loss(output, loss).targets(y, K, X.shape[0])
    act = get_activation(activation)
    threshold = saturation_threshold(activation)
    hidden = range(1, len(snapshots[0]))  # Python index i of cache.z: the lecture's layer i + 1
    per: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = [[] for _ in hidden]
    for thetas in snapshots:
        cache = propagate(thetas, X, activation, output)
        delta = deltas(thetas, cache, Y, activation=activation, output=output, loss=loss)
        for k, i in enumerate(hidden):
            gp = act.gradient_from_a(cache.activations[i])
            per[k].append((gp.mean(axis=0), np.abs(delta[i]).mean(axis=0), (gp < threshold).mean(axis=0)))
    return UnitTimeline(
        iterations=[int(t) for t in iterations], layers=[i + 1 for i in hidden],
        gprime=[np.array([row[0] for row in rows]) for rows in per],
        delta=[np.array([row[1] for row in rows]) for rows in per],
        saturated=[np.array([row[2] for row in rows]) for rows in per],
        threshold=threshold, m=int(X.shape[0]))
