"""The :class:`Dataset` record that every loader of :mod:`glassnet.datasets` returns (no loading here)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Dataset", "NO_SCALING"]

#: The ``Dataset.extra["scaling"]`` record of raw, unscaled features (see ``builtin.apply_scaling``).
NO_SCALING = {"kind": "none"}


#: Built-in datasets whose classes are digits.
DIGIT_DATASETS = ("digits", "mnist_5k")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Examples ``X`` (m, n) and labels ``y`` (m,) with names and a description; unpacks as ``X, y = dataset``.

    Attributes
    ----------
    X : ndarray of shape (m, n)
        Examples as rows, floats.
    y : ndarray of shape (m,) or None
        Class labels (ints, or strings for a CSV file with text labels); ``None`` for a CSV read without labels.
    feature_names : list of str, length n
    target_names : list of str
        A name per class, in the order of ``np.unique(y)``.
    description : str
        Where the data comes from and what was done to it (scaling, label mapping).
    name : str
        Short name (``"digits"``) or the file name.
    image_shape : tuple (h, w) or None
        For image data, the shape of one image; :meth:`images` uses it.
    image_order : {"C", "F"}
        How a row unrolls an image: ``"C"`` row by row, ``"F"`` column by column (MATLAB / the course's files).
    extra : dict
        What a loader adds: ``scaling`` (built-in datasets: how X was scaled, see
        :func:`glassnet.datasets.apply_scaling`), ``labels_mapped`` (``.mat``), ``label_name`` (CSV).
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list[str]
    target_names: list[str]
    description: str
    name: str
    image_shape: tuple[int, int] | None = None
    image_order: str = "C"
    extra: dict = field(default_factory=dict, repr=False)

    def __iter__(self) -> Iterator[Any]:
        """``X, y = dataset`` (y is None for a file without labels)."""
        return iter((self.X, self.y))

    def __repr__(self) -> str:
        y = "none" if self.y is None else f"{self.y.shape} {self.y.dtype}"
        return f"Dataset({self.name!r}, X: {self.X.shape} {self.X.dtype}, y: {y}, {len(self.target_names)} classes)"

    @property
    def class_noun(self) -> str | None:
        """How a person names one class: ``"digit"`` for digit data (the built-in digits and MNIST, a course-format
        file whose label 10 was read as the digit 0), so that output units read "h₁₀ · digit 0"; else ``None``."""
        return "digit" if self.name in DIGIT_DATASETS or bool(self.extra.get("labels_mapped")) else None

    @property
    def n_classes(self) -> int:
        """Number of distinct labels in ``y``."""
        return len(self.target_names)

    def images(self) -> np.ndarray:
        """``X`` as images of shape (m, h, w), upright whatever the file's pixel order.

        Raises ``ValueError`` for data without ``image_shape``.
        """
        if self.image_shape is None:
            raise ValueError(f"dataset {self.name!r}: not image data (image_shape is None)")
        h, w = self.image_shape
        if self.image_order == "F":
            return self.X.reshape(-1, w, h).transpose(0, 2, 1)
        return self.X.reshape(-1, h, w)
