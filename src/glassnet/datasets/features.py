"""The inputs a 2-D dataset's network may take instead of (x₁, x₂): TensorFlow Playground's feature toggles.

For a point (x₁, x₂): x₁, x₂, x₁², x₂², x₁x₂, sin x₁, sin x₂. :func:`expand` turns the (m, 2) points into the
chosen columns, in the order given; the network's input layer then has one unit per chosen feature, while every
picture of the plane stays drawn over (x₁, x₂). Not for: scaling or any other preprocessing of general data.

>>> import numpy as np
>>> expand(np.array([[2.0, 3.0]]), ["x1x2", "x1^2"]).tolist()
[[6.0, 4.0]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["FEATURES", "FEATURE_NAMES", "RAW", "expand", "check_features"]

#: Every feature by key, with how it is computed from the (m, 2) points.
FEATURES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "x1": lambda X: X[:, 0],
    "x2": lambda X: X[:, 1],
    "x1^2": lambda X: X[:, 0] ** 2,
    "x2^2": lambda X: X[:, 1] ** 2,
    "x1x2": lambda X: X[:, 0] * X[:, 1],
    "sin(x1)": lambda X: np.sin(X[:, 0]),
    "sin(x2)": lambda X: np.sin(X[:, 1]),
}
#: How each feature is written for a reader.
FEATURE_NAMES = {"x1": "x₁", "x2": "x₂", "x1^2": "x₁²", "x2^2": "x₂²", "x1x2": "x₁x₂", "sin(x1)": "sin x₁",
                 "sin(x2)": "sin x₂"}
#: The points themselves: a network on these features is a network on the data as it is.
RAW = ("x1", "x2")


def check_features(names: Sequence[str], what: str = "features") -> tuple[str, ...]:
    """``names`` as a tuple when each is a key of :data:`FEATURES`, at least one and none twice; else ValueError."""
    names = tuple(names)
    bad = [n for n in names if n not in FEATURES]
    if bad or not names or len(set(names)) != len(names):
        raise ValueError(f"{what}: expected one or more different features of {list(FEATURES)}, got {list(names)}")
    return names


def expand(X, names: Sequence[str]) -> np.ndarray:
    """The chosen features of the points X, shape (m, 2) -> (m, len(names)), float64, C-ordered."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X: the features are those of 2-D points, shape (m, 2); got shape {X.shape}")
    names = check_features(names)
    return np.ascontiguousarray(np.column_stack([FEATURES[n](X) for n in names]))
