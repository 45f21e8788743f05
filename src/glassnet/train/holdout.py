"""Held-out data: the one rule that splits examples into a part to train on and a part to test or validate on.

Used by the estimator (``early_stopping``'s validation part), the command line (``--test-size``,
``--validation-fraction``, learning and validation curves) and the explorer, so that ``glassnet evaluate --test-size F
--seed S`` sees exactly the examples that ``glassnet train --test-size F --seed S`` held out, and a fraction means the
same number of examples everywhere.

The rule: ⌈fraction · m⌉ examples are held out (at least 1, at most m − 1), stratified by class when every class has
at least two examples and both parts can hold one of each (the held-out part then grows to at least one example per
class); otherwise a plain seeded random split. The order is scikit-learn's ``train_test_split`` order for the seed.
Not here: the seeded hash split of Dask row chunks, which needs no data on the driver
(:mod:`glassnet.scale.distributed`).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["split_indices", "split"]


def split_indices(y, fraction: float, seed: int | None, *, what: str = "fraction",
                  stratify: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(keep, held_out)``: row indices of the two parts of the examples labelled ``y`` (m,).

    Parameters
    ----------
    y : array-like of shape (m,)
        Class labels (any sortable type), used to stratify.
    fraction : float
        Share of the examples to hold out, in (0, 1).
    seed : int or None
        Seed of the split; the same (y, fraction, seed) always gives the same split.
    what : str
        How error messages name the fraction (e.g. ``"--test-size"``).
    stratify : bool
        False: always the plain seeded random split (real-valued or multilabel targets).

    Examples
    --------
    >>> keep, held = split_indices([0] * 6 + [1] * 4, 0.25, seed=0)
    >>> len(keep), len(held), sorted(np.asarray([0] * 6 + [1] * 4)[held].tolist())
    (7, 3, [0, 0, 1])
    """
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    m = y.shape[0]
    if not (isinstance(fraction, (int, float, np.floating)) and 0 < fraction < 1):
        raise ValueError(f"{what}: expected a fraction between 0 and 1, got {fraction!r}")
    if m < 2:
        raise ValueError(f"{what} {fraction:g}: cannot hold out part of {m} example; need at least 2")
    n_held = min(m - 1, max(1, math.ceil(fraction * m)))
    if stratify:
        _, counts = np.unique(y, return_counts=True)
        n_classes = len(counts)
        stratify = counts.min() >= 2 and m - max(n_held, n_classes) >= n_classes
    if stratify:
        n_held = max(n_held, n_classes)
    keep, held = train_test_split(np.arange(m), test_size=n_held, stratify=y if stratify else None,
                                  random_state=seed)
    return keep, held


def split(X, y, fraction: float, seed: int | None, *, what: str = "fraction", stratify: bool = True):
    """``(X_keep, X_held, y_keep, y_held)`` by :func:`split_indices` (rows of X and y taken alike)."""
    keep, held = split_indices(y, fraction, seed, what=what, stratify=stratify)
    y = np.asarray(y)
    return X[keep], X[held], y[keep], y[held]
