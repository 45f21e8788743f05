"""Seeded 2-D toy problems for sigmoid networks (2 features, 2 classes), the sets TensorFlow Playground shows.

:func:`make_xor`, :func:`make_moons`, :func:`make_circles`, :func:`make_spiral` and :func:`make_gaussians`. In every
one ``noise`` is the standard deviation of the Gaussian noise added to each coordinate.

Pure functions of their arguments: the global RNG is never touched. Not for: files (see ``files.py``) or the
built-in registry (see ``builtin.py``, which lists these under the names ``xor``, ``moons``, ``circles``,
``spiral`` and ``gaussians``).
"""

from __future__ import annotations

import numpy as np

from glassnet.datasets._base import NO_SCALING, Dataset

__all__ = ["make_xor", "make_moons", "make_circles", "make_spiral", "make_gaussians"]


def _rng(random_state):
    if isinstance(random_state, np.random.RandomState):
        return random_state
    try:
        return np.random.default_rng(random_state)
    except (TypeError, ValueError):
        raise ValueError(f"random_state: expected None, an int seed or a numpy Generator, "
                         f"got {random_state!r}") from None


def _check_generator_args(n_samples, noise) -> tuple[int, float]:
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples: expected a positive int, got {n_samples!r}")
    try:
        noise = float(noise)
    except (TypeError, ValueError):
        raise ValueError(f"noise: expected a number ≥ 0, got {noise!r}") from None
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise: expected a finite number ≥ 0, got {noise!r}")
    return int(n_samples), noise


def _generated(X, y, noise, shuffle, rng, name, description, feature_names) -> Dataset:
    if noise > 0:
        X = X + rng.normal(0.0, noise, size=X.shape)
    if shuffle:
        order = rng.permutation(len(y))
        X, y = X[order], y[order]
    return Dataset(X, y, feature_names, ["0", "1"], description, name, extra={"scaling": dict(NO_SCALING)})


def make_xor(n_samples: int = 200, *, noise: float = 0.1, shuffle: bool = True, random_state=None) -> Dataset:
    """The XOR problem: points near the corners of the unit square, label ``x1 XOR x2``.

    Not linearly separable, so logistic regression fails and one hidden layer (2-2-1 at least) succeeds.

    Parameters
    ----------
    n_samples : int, default 200
        Number of points; corners (0,0), (0,1), (1,0), (1,1) take turns, so classes are balanced when
        ``n_samples`` is a multiple of 4.
    noise : float, default 0.1
        Standard deviation of the Gaussian noise added to each coordinate (0 gives the exact corners).
    shuffle : bool, default True
        Shuffle the rows (``False`` keeps the corner order: the truth table for ``n_samples=4``).
    random_state : None, int or numpy Generator
        Seed for the noise and the shuffle; the global RNG is never touched.

    Returns
    -------
    Dataset
        X: (n_samples, 2) float64; y: (n_samples,) int64 in {0, 1}.
    """
    n, noise = _check_generator_args(n_samples, noise)
    rng = _rng(random_state)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    X = corners[np.arange(n) % 4]
    y = (X[:, 0] != X[:, 1]).astype(np.int64)
    return _generated(X, y, noise, shuffle, rng, "xor",
                      f"XOR: {n} points at the unit square's corners plus N(0, {noise}²) noise; y = x1 XOR x2.",
                      ["x1", "x2"])


def make_moons(n_samples: int = 200, *, noise: float = 0.1, shuffle: bool = True, random_state=None) -> Dataset:
    """Two interleaving half circles (like scikit-learn's ``make_moons``): a small non-linear 2-D problem.

    Class 0 is the upper moon ``(cos t, sin t)``, class 1 the lower ``(1 - cos t, 0.5 - sin t)``, t in [0, π];
    class 0 gets ``ceil(n_samples / 2)`` points. Parameters as in :func:`make_xor`.

    Returns
    -------
    Dataset
        X: (n_samples, 2) float64; y: (n_samples,) int64 in {0, 1}.
    """
    n, noise = _check_generator_args(n_samples, noise)
    rng = _rng(random_state)
    n_out = (n + 1) // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n - n_out)
    X = np.vstack([np.column_stack([np.cos(t_out), np.sin(t_out)]),
                   np.column_stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)])])
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_out, n - n_out])
    return _generated(X, y, noise, shuffle, rng, "moons",
                      f"Two moons: {n} points on two interleaving half circles plus N(0, {noise}²) noise.",
                      ["x1", "x2"])



def make_circles(n_samples: int = 200, *, noise: float = 0.1, factor: float = 0.5, shuffle: bool = True,
                 random_state=None) -> Dataset:
    """A disc inside a ring: class 1 on the inner circle of radius ``factor``, class 0 on the unit circle.

    Not linearly separable; a hidden layer of 3 or more units draws the closed boundary. Parameters as in
    :func:`make_xor`; class 0 gets ``ceil(n_samples / 2)`` points.

    >>> ds = make_circles(8, noise=0.0, shuffle=False)
    >>> ds.y.tolist(), [round(float(r), 3) for r in np.hypot(*ds.X.T)][::4]
    ([0, 0, 0, 0, 1, 1, 1, 1], [1.0, 0.5])

    Returns
    -------
    Dataset
        X: (n_samples, 2) float64; y: (n_samples,) int64 in {0, 1}.
    """
    n, noise = _check_generator_args(n_samples, noise)
    if not (isinstance(factor, (int, float)) and 0 < factor < 1):
        raise ValueError(f"factor: expected the inner radius as a number in (0, 1), got {factor!r}")
    rng = _rng(random_state)
    n_out = (n + 1) // 2
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n - n_out, endpoint=False)
    X = np.vstack([np.column_stack([np.cos(t_out), np.sin(t_out)]),
                   factor * np.column_stack([np.cos(t_in), np.sin(t_in)])])
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_out, n - n_out])
    return _generated(X, y, noise, shuffle, rng, "circles",
                      f"Circles: {n} points on a ring of radius 1 (y = 0) and one of radius {factor:g} (y = 1) "
                      f"plus N(0, {noise}²) noise.", ["x1", "x2"])


def make_spiral(n_samples: int = 200, *, noise: float = 0.05, turns: float = 1.5, shuffle: bool = True,
                random_state=None) -> Dataset:
    """Two interleaved spirals (class 0 and its half-turn rotation, class 1): the hardest of the 2-D sets.

    Radius grows linearly from 0 to 1 over ``turns`` turns. Parameters as in :func:`make_xor`; class 0 gets
    ``ceil(n_samples / 2)`` points.

    Returns
    -------
    Dataset
        X: (n_samples, 2) float64; y: (n_samples,) int64 in {0, 1}.
    """
    n, noise = _check_generator_args(n_samples, noise)
    if not (isinstance(turns, (int, float)) and 0 < turns <= 10):
        raise ValueError(f"turns: expected a number of turns in (0, 10], got {turns!r}")
    rng = _rng(random_state)
    n0 = (n + 1) // 2
    parts = []
    for count, shift in ((n0, 0.0), (n - n0, np.pi)):
        r = np.linspace(0.05, 1.0, count)
        t = 2 * np.pi * turns * r + shift
        parts.append(np.column_stack([r * np.cos(t), r * np.sin(t)]))
    X = np.vstack(parts)
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n0, n - n0])
    return _generated(X, y, noise, shuffle, rng, "spiral",
                      f"Spiral: {n} points on two interleaved spirals of {turns:g} turns plus N(0, {noise}²) noise.",
                      ["x1", "x2"])


def make_gaussians(n_samples: int = 200, *, noise: float = 0.5, shuffle: bool = True,
                   random_state=None) -> Dataset:
    """Two Gaussian blobs around (1, 1) (y = 1) and (−1, −1) (y = 0): the linearly separable warm-up.

    Here the noise is the blobs' spread: with ``noise`` above about 1 they overlap. Parameters as in
    :func:`make_xor`; class 0 gets ``ceil(n_samples / 2)`` points.

    Returns
    -------
    Dataset
        X: (n_samples, 2) float64; y: (n_samples,) int64 in {0, 1}.
    """
    n, noise = _check_generator_args(n_samples, noise)
    rng = _rng(random_state)
    n0 = (n + 1) // 2
    X = np.vstack([np.full((n0, 2), -1.0), np.full((n - n0, 2), 1.0)])
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n0, n - n0])
    return _generated(X, y, noise, shuffle, rng, "gaussians",
                      f"Gaussians: {n} points in two blobs around (−1, −1) and (1, 1) with spread N(0, {noise}²).",
                      ["x1", "x2"])
