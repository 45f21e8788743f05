"""Learning curves (error vs m) and validation curves (error vs λ), computed by training glassnet networks.

For: the course's bias/variance diagnostics, as data that :mod:`glassnet.explain.figures` plots. Each point trains a
network from the same seeded initial Θ with L-BFGS through :func:`glassnet.train.fitting.fit` (the lecture's J and
D), then measures J without regularization (as the course does: J_train on the
examples it was trained on, J_val on the whole validation set) and the misclassification error.

Not for: choosing hyper-parameters automatically (use scikit-learn's model selection with ``glassnet.Classifier``);
these records are for looking at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from glassnet._validation import check_lam, check_X
from glassnet.cost import cost
from glassnet.forward import forward
from glassnet.outputs import predict_units
from glassnet.params import random_init
from glassnet.train import fitting as training

__all__ = ["LearningCurve", "ValidationCurve", "learning_curve", "validation_curve", "DEFAULT_LAMS"]

#: The course's λ grid for the validation curve.
DEFAULT_LAMS = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


@dataclass(frozen=True)
class LearningCurve:
    """J and error on the training subset and on the validation set, for growing training-set sizes m."""

    sizes: tuple[int, ...]
    lam: float
    m: list[int]
    train_cost: list[float]
    val_cost: list[float]
    train_error: list[float]
    val_error: list[float]
    max_iter: int

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "learning_curve", "sizes": list(self.sizes), "lam": self.lam, "m": self.m,
                "train_cost": self.train_cost, "val_cost": self.val_cost, "train_error": self.train_error,
                "val_error": self.val_error, "max_iter": self.max_iter}


@dataclass(frozen=True)
class ValidationCurve:
    """J and error on the training set and on the validation set, for each λ."""

    sizes: tuple[int, ...]
    lams: list[float]
    m_train: int
    train_cost: list[float]
    val_cost: list[float]
    train_error: list[float]
    val_error: list[float]
    max_iter: int

    @property
    def best_lam(self) -> float:
        """The λ with the lowest validation cost (the first one on ties)."""
        return self.lams[int(np.argmin(self.val_cost))]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "validation_curve", "sizes": list(self.sizes), "lams": self.lams, "m_train": self.m_train,
                "train_cost": self.train_cost, "val_cost": self.val_cost, "train_error": self.train_error,
                "val_error": self.val_error, "best_lam": self.best_lam, "max_iter": self.max_iter}


def _prepare(X, y, X_val, y_val, hidden_layer_sizes):
    X = check_X(X, name="X").astype(np.float64, copy=False)
    X_val = check_X(X_val, n_features=X.shape[1], name="X_val").astype(np.float64, copy=False)
    y, y_val = np.asarray(y), np.asarray(y_val)
    for name, lab, rows in (("y", y, X.shape[0]), ("y_val", y_val, X_val.shape[0])):
        if lab.ndim != 1 or lab.shape[0] != rows:
            raise ValueError(f"{name}: expected {rows} integer labels (one per row), got shape {lab.shape}")
        if lab.dtype.kind not in "iu" and not (lab.dtype.kind == "f" and np.all(np.mod(lab, 1) == 0)):
            raise ValueError(f"{name}: expected integer class labels 0..K-1, got dtype {lab.dtype}")
        if lab.min() < 0:
            raise ValueError(f"{name}: expected class labels 0..K-1, found {lab.min()}")
    y, y_val = y.astype(np.intp), y_val.astype(np.intp)
    K = int(max(y.max(), y_val.max())) + 1
    hidden = [int(h) for h in hidden_layer_sizes]
    if any(h < 1 for h in hidden):
        raise ValueError(f"hidden_layer_sizes: expected positive layer sizes, got {tuple(hidden_layer_sizes)}")
    return X, y, X_val, y_val, [X.shape[1], *hidden, K]


def _fit_and_measure(sizes, X, y, X_val, y_val, lam, max_iter, random_state):
    thetas0 = random_init(sizes, rng=random_state)
    thetas, _ = training.fit(thetas0, X, y, lam, solver="lbfgs", max_iter=max_iter)

    def error(Xs, ys):
        return float(np.mean(predict_units(forward(thetas, Xs).z[-1]) != ys))

    return (cost(thetas, X, y, 0.0), cost(thetas, X_val, y_val, 0.0), error(X, y), error(X_val, y_val))


def learning_curve(X, y, X_val, y_val, *, hidden_layer_sizes: Sequence[int] = (25,), lam: float = 1.0,
                   train_sizes: Sequence[int] | None = None, max_iter: int = 100, random_state: int = 0,
                   ) -> LearningCurve:
    """Train on the first m examples of a seeded shuffle of (X, y) for each m in ``train_sizes``.

    Parameters
    ----------
    X, y : arrays, shapes (m, n) and (m,)
        Training examples and integer labels 0..K-1.
    X_val, y_val : arrays
        The validation set (always used whole).
    hidden_layer_sizes : sequence of int
        Hidden layers; the output layer has K = max label + 1 units.
    lam : float
        λ for training (the measured costs are unregularized).
    train_sizes : sequence of int, optional
        Training-set sizes; default 8 sizes from 10% to 100% of m.
    max_iter : int
        L-BFGS iterations per fit.
    random_state : int
        Seed for the shuffle and for the initial Θ (the same for every fit).
    """
    lam = check_lam(lam)
    X, y, X_val, y_val, sizes = _prepare(X, y, X_val, y_val, hidden_layer_sizes)
    m_all = X.shape[0]
    if train_sizes is None:
        ms = sorted({max(1, int(round(f * m_all))) for f in np.linspace(0.1, 1.0, 8)})
    else:
        ms = [int(v) for v in train_sizes]
        bad = [v for v in ms if not 1 <= v <= m_all]
        if bad or not ms:
            raise ValueError(f"train_sizes: expected sizes between 1 and {m_all} (the number of rows of X), got "
                             f"{list(train_sizes)}")
    order = np.random.default_rng(random_state).permutation(m_all)
    rows = []
    for m in ms:
        idx = order[:m]
        rows.append(_fit_and_measure(sizes, X[idx], y[idx], X_val, y_val, lam, max_iter, random_state))
    tc, vc, te, ve = (list(map(float, col)) for col in zip(*rows))
    return LearningCurve(tuple(sizes), lam, ms, tc, vc, te, ve, int(max_iter))


def validation_curve(X, y, X_val, y_val, *, lams: Sequence[float] = DEFAULT_LAMS,
                     hidden_layer_sizes: Sequence[int] = (25,), max_iter: int = 100, random_state: int = 0,
                     ) -> ValidationCurve:
    """Train on all of (X, y) once per λ in ``lams`` (same initial Θ), measuring J and error on both sets."""
    lam_list = [check_lam(v) for v in lams]
    if not lam_list:
        raise ValueError("lams: expected at least one λ")
    X, y, X_val, y_val, sizes = _prepare(X, y, X_val, y_val, hidden_layer_sizes)
    rows = [_fit_and_measure(sizes, X, y, X_val, y_val, lam, max_iter, random_state) for lam in lam_list]
    tc, vc, te, ve = (list(map(float, col)) for col in zip(*rows))
    return ValidationCurve(tuple(sizes), lam_list, X.shape[0], tc, vc, te, ve, int(max_iter))
