"""Seeded 2-D regression sets as TensorFlow Playground draws them: a tilted plane and signed bumps.

:func:`make_plane` and :func:`make_multi_gaussian` follow Playground's ``regressPlane`` and ``regressGaussian``
(``dataset.ts``): points uniform in the square [−6, 6]², a real target in [−1, 1], and noise that moves the point
where the target is *read* (not the point drawn) by up to ``noise``·6 in each coordinate, uniformly. A network on them
has one identity output unit and the squared cost (:func:`glassnet.outputs.output_loss` ``("identity", "squared")``).

Pure functions of their arguments: the global RNG is never touched. Not for: the classification sets
(``generators.py``) or the registry (``builtin.py`` lists these as ``plane`` and ``multi_gaussian``).
"""

from __future__ import annotations

import numpy as np

from glassnet.datasets._base import NO_SCALING, Dataset
from glassnet.datasets.generators import _check_generator_args, _rng

__all__ = ["RADIUS", "BUMPS", "plane_target", "multi_gaussian_target", "make_plane", "make_multi_gaussian"]

#: Half the side of the square the points fill, [−RADIUS, RADIUS]² (Playground's ``radius``).
RADIUS = 6.0

#: Playground's six bumps: (centre x₁, centre x₂, sign).
BUMPS = ((-4.0, 2.5, 1.0), (0.0, 2.5, -1.0), (4.0, 2.5, 1.0), (-4.0, -2.5, -1.0), (0.0, -2.5, 1.0), (4.0, -2.5, -1.0))


def plane_target(X: np.ndarray) -> np.ndarray:
    """The plane's target at points X (m, 2): (x₁ + x₂)/10 (Playground maps x₁ + x₂ in [−10, 10] onto [−1, 1])."""
    X = np.asarray(X, dtype=np.float64)
    return (X[:, 0] + X[:, 1]) / 10.0


def multi_gaussian_target(X: np.ndarray) -> np.ndarray:
    """The bumps' target at points X (m, 2): of the six signed cones sign·max(0, 1 − d/2) (d: the distance to the
    bump's centre), the one largest in absolute value, as Playground's ``regressGaussian`` picks it (0 between them)."""
    X = np.asarray(X, dtype=np.float64)
    centres = np.array([b[:2] for b in BUMPS])
    signs = np.array([b[2] for b in BUMPS])
    d = np.hypot(X[:, None, 0] - centres[None, :, 0], X[:, None, 1] - centres[None, :, 1])  # (m, 6)
    values = signs * np.clip(1.0 - d / 2.0, 0.0, 1.0)
    pick = np.argmax(np.abs(values), axis=1)  # ties (all 0) pick the first: 0 either way
    return values[np.arange(X.shape[0]), pick]


def _regression_set(target, n_samples, noise, random_state, name, what) -> Dataset:
    n, noise = _check_generator_args(n_samples, noise)
    rng = _rng(random_state)
    X = rng.uniform(-RADIUS, RADIUS, size=(n, 2))
    shift = rng.uniform(-RADIUS, RADIUS, size=(n, 2)) * noise  # Playground: noise moves where the target is read
    y = target(X + shift)
    description = (f"{what}: {n} points uniform in [−6, 6]², real targets in [−1, 1]"
                   + (f"; each read at a point moved by up to {noise * RADIUS:g} per coordinate (noise {noise:g})"
                      if noise else "") + ". Regression: one identity output unit, squared cost.")
    return Dataset(X, y, ["x1", "x2"], [], description, name, extra={"scaling": dict(NO_SCALING), "regression": True})


def make_plane(n_samples: int = 200, *, noise: float = 0.0, random_state=None) -> Dataset:
    """Playground's regression "plane": y = (x₁ + x₂)/10 over [−6, 6]².

    Parameters
    ----------
    n_samples : int, default 200
    noise : float, default 0
        Playground's noise share (0 .. 0.5 on its slider): the target is read at the point plus a uniform shift of up
        to ``noise``·6 per coordinate.
    random_state : None, int or numpy Generator

    Returns
    -------
    Dataset
        X: (n_samples, 2) float64 in [−6, 6]; y: (n_samples,) float64 in [−1.2, 1.2] (in [−1, 1] without noise);
        ``target_names`` empty and ``extra["regression"]`` True.

    >>> ds = make_plane(3, random_state=0)
    >>> bool(np.allclose(ds.y, (ds.X[:, 0] + ds.X[:, 1]) / 10))
    True
    """
    return _regression_set(plane_target, n_samples, noise, random_state, "plane", "Plane y = (x1 + x2)/10")


def make_multi_gaussian(n_samples: int = 200, *, noise: float = 0.0, random_state=None) -> Dataset:
    """Playground's regression "multi-gaussian": six signed bumps (three up, three down) over [−6, 6]².

    Parameters and returns as in :func:`make_plane`; the target is ``multi_gaussian_target`` (this module), in [−1, 1].
    """
    return _regression_set(multi_gaussian_target, n_samples, noise, random_state, "multi_gaussian",
                           "Multi-gaussian: six signed bumps")
