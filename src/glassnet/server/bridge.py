"""The explorer's one point of contact with the library: datasets, model files, traces and optimizer runs.

Everything the web server shows is computed here by glassnet's own functions (``forward``, ``backprop.deltas``,
``cost_and_gradient``, the optimizers, the dataset loaders and model files), and returned as plain Python numbers
and lists ready for JSON. This module holds no state and knows nothing about HTTP; :mod:`.session` keeps the state
and :mod:`.app` speaks HTTP.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np

from glassnet import datasets as lib_datasets
from glassnet import io as lib_io
from glassnet._validation import check_thetas, check_X
from glassnet.activations import ACTIVATIONS, get_activation
from glassnet.api import cost_and_gradient
from glassnet.cost import cost_from_z, regularization
from glassnet.datasets.features import FEATURE_NAMES, RAW, check_features, expand
from glassnet.errors import DataError, ModelFileError
from glassnet.estimator import Classifier, Regressor
from glassnet.explain import explain, walk
from glassnet.explain.diagram import COLOR_SCALES, diagram_svg
from glassnet.explain.maps import plane_maps
from glassnet.explain.steps import backprop_steps as _backprop_steps
from glassnet.explain.text import GALLERY_LIMIT, format_number, shown_text, unit_equation
from glassnet.explain.timeline import unit_timeline
from glassnet.forward import propagate
from glassnet.gradcheck import gradient_check, relative_difference
from glassnet.notation import theta_name  # Θ_ij^(l) as the explorer's labels write it
from glassnet.outputs import (
    CLASSIFIER_PAIRS,
    OUTPUT_LOSS_PAIRS,
    OutputLayer,
    n_classes_for,
    n_outputs,
    output_loss,
    predict_units,
)
from glassnet.params import random_init
from glassnet.train import fitting as training
from glassnet.train import holdout
from glassnet.train.optimize import SOLVERS, StopTraining, is_mini_batch

__all__ = [
    "OPTIMIZERS",
    "PAIRS",
    "REGRESSION_PAIR",
    "kinds",
    "check_kinds",
    "kind_choices",
    "kinds_text",
    "Dataset",
    "available_datasets",
    "canonical",
    "load_builtin",
    "builtin_settings",
    "default_noise",
    "plane",
    "backprop_steps",
    "gradient",
    "color_scales",
    "unit_names",
    "DATA_SUFFIXES",
    "load_user_file",
    "split",
    "init_thetas",
    "sizes_of",
    "metrics",
    "SCORE_NAMES",
    "predictions",
    "label_name",
    "trace",
    "trace_layers",
    "diagram",
    "theta_name",
    "format_number",
    "GALLERY_LIMIT",
    "shown_text",
    "unit_details",
    "edge_details",
    "pixels",
    "hidden_images",
    "whatif_step",
    "timeline",
    "check_features",
    "model_features",
    "model_inputs",
    "feature_choices",
    "walk_steps",
    "edge_gradcheck",
    "save_model",
    "load_model",
    "in_unit_order",
    "train",
]

OPTIMIZERS = SOLVERS  # the library's solver switch: the explorer offers exactly those

#: The (output, loss) pairs the explorer offers for class labels: the library's classifying ones. The hidden
#: activations offered are all of glassnet's (ACTIVATIONS).
PAIRS = CLASSIFIER_PAIRS
#: The one pair of the regression sets (plane, multi-gaussian): one identity output unit, the squared cost.
REGRESSION_PAIR = next(p for p in OUTPUT_LOSS_PAIRS if output_loss(*p).is_regression)


def kinds(cfg) -> dict:
    """``activation``, ``output``, ``loss`` of a config, as keywords for the library's functions (and this module's)."""
    return {"activation": cfg.activation, "output": cfg.output, "loss": cfg.loss}


def check_kinds(activation, output, loss, K: int | None = None, regression: bool = False) -> None:
    """A ``ValueError`` naming the field and listing the choices when the explorer cannot build this network.

    The activation by :func:`glassnet.activations.get_activation`; the pair must be one of :data:`PAIRS` (class
    labels) or :data:`REGRESSION_PAIR` (``regression``: real targets); with K,
    :meth:`glassnet.outputs.OutputLoss.check_units` (a softmax needs K ≥ 2 output units).
    """
    get_activation(activation)
    if regression:
        if (output, loss) != REGRESSION_PAIR:
            raise ValueError(f"output, loss: a regression set (real targets) takes {'+'.join(REGRESSION_PAIR)}, got "
                             f"{output}+{loss}")
        return
    if (output, loss) not in PAIRS:
        offered = ", ".join(f"{o}+{c}" for o, c in PAIRS)
        left_out = ", ".join(f"{o}+{c}" for o, c in OUTPUT_LOSS_PAIRS if (o, c) not in PAIRS)
        raise ValueError(f"output, loss: expected one of {offered} (the explorer is a classifier; {left_out} is "
                         f"regression), got {output}+{loss}")
    if K is not None:
        output_loss(output, loss).check_units(K, name="output")


def _activation_text(name) -> dict:
    act = get_activation(name)
    return {"name": act.name, "g": act.g_text, "g_prime": act.g_prime_text}


def _pair_text(output, loss) -> dict:
    pair = output_loss(output, loss)
    return {"output": pair.output, "loss": pair.loss, "lecture": pair.is_lecture, "cost": pair.cost_text,
            "delta": pair.delta_text}


def kind_choices() -> dict:
    """The hidden activations and output/loss pairs the page offers, with the library's text for each."""
    return {"activations": [_activation_text(name) for name in ACTIVATIONS],
            "pairs": [_pair_text(o, c) for o, c in PAIRS], "regression_pair": _pair_text(*REGRESSION_PAIR)}


def kinds_text(activation, output, loss) -> dict:
    """The library's words for a network's units and cost: g, g′ of the hidden units; the pair's cost and δ^(L)."""
    return {"activation": _activation_text(activation), "pair": _pair_text(output, loss)}


@dataclass(frozen=True)
class Dataset:
    """A labelled dataset as the explorer uses it.

    X: (m, n) float64 features; y: (m,) int class numbers 0..C-1 (``classes`` names them). The network has K = C
    output units, or K = 1 for two classes (y = 1 for the second class), as :class:`glassnet.Classifier` does.
    ``image_shape`` is (rows, cols) when a row of X is an image; ``order`` says how it unrolls ("C" row by row, "F"
    column by column as in the course's .mat files).
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    classes: list[str]
    description: str
    image_shape: tuple[int, int] | None = None
    order: str = "C"
    labels: np.ndarray | None = None  # the original label values, labels[c] for class number c
    class_noun: str | None = None  # "digit": output units read "h₁₀ · digit 0" (glassnet.datasets.Dataset.class_noun)
    regression: bool = False  # y: (m,) float64 real targets, no classes, one identity output unit (REGRESSION_PAIR)

    @property
    def m(self) -> int:
        return int(self.X.shape[0])

    @property
    def n(self) -> int:
        return int(self.X.shape[1])

    @property
    def K(self) -> int:
        """Output units: one per class, or a single unit for two classes (and for a regression set's one target)."""
        return 1 if self.regression else n_outputs(len(self.classes))


# Built-in datasets: names, aliases, descriptions and how they load are glassnet.datasets.REGISTRY's (one list for
# the explorer and the CLI).
canonical = lib_datasets.canonical


def available_datasets() -> dict[str, str]:
    """Built-in dataset names that can be loaded on this machine, with a one-line description."""
    return {name: lib_datasets.REGISTRY[name].description for name in lib_datasets.available_names()}


def _wrap(name: str, ds, description: str) -> Dataset:
    """A :class:`glassnet.datasets.Dataset` as the explorer's :class:`Dataset` (labels renumbered 0..C-1)."""
    X = np.ascontiguousarray(ds.X, dtype=np.float64)
    if ds.extra.get("regression"):  # real targets (glassnet.datasets.regression): nothing to number
        return Dataset(name=name, X=X, y=np.asarray(ds.y, dtype=np.float64), classes=[], description=description,
                       regression=True)
    classes, y = np.unique(np.asarray(ds.y), return_inverse=True)
    if len(classes) < 2:
        raise DataError(f"{name}: expected at least 2 classes in the labels, found {len(classes)}")
    names = [str(c) for c in classes]
    target_names = list(getattr(ds, "target_names", []) or [])
    if len(target_names) == len(names):
        names = [str(t) for t in target_names]
    return Dataset(name=name, X=X, y=y.astype(np.intp), classes=names, description=description,
                   image_shape=tuple(ds.image_shape) if ds.image_shape else None, order=ds.image_order or "C",
                   labels=classes, class_noun=ds.class_noun)


def load_builtin(name: str, noise: float | None = None) -> Dataset:
    """Load a built-in dataset by name (see :func:`available_datasets`); ``noise`` for a generated 2-D set."""
    name = canonical(name)
    if name not in available_datasets():
        raise ValueError(f"dataset: expected one of {sorted(available_datasets())}, got {name!r}")
    spec = lib_datasets.REGISTRY[name]
    if noise is None or spec.noise is None:
        return _wrap(spec.name, spec.load(), spec.description)
    ds = spec.load(noise=float(noise))
    return _wrap(spec.name, ds, ds.description)


def builtin_settings() -> dict[str, dict]:
    """Per built-in dataset: its default ``noise`` (None: not generated) and the ``training`` settings that converge.

    Both are the registry's (:class:`glassnet.datasets.Builtin`, :func:`glassnet.datasets.training_defaults`, which
    ``glassnet train`` and ``glassnet serve`` read too); the page starts a chosen dataset from them.
    """
    out = {}
    for name in lib_datasets.available_names():
        training = {k: (list(v) if isinstance(v, tuple) else v)
                    for k, v in lib_datasets.training_defaults(name).items()}
        out[name] = {"noise": lib_datasets.REGISTRY[name].noise, "training": training,
                     "task": lib_datasets.REGISTRY[name].task}
    return out


def default_noise(name: str) -> float | None:
    """The registry's default noise of a generated built-in, None for any other dataset."""
    name = canonical(name)
    return lib_datasets.REGISTRY[name].noise if name in lib_datasets.REGISTRY else None


#: The data files the explorer's upload takes: the library's table (glassnet.datasets.files.SUFFIXES), so that an
#: upload and ``glassnet train --data`` read the same files the same way.
DATA_SUFFIXES = lib_datasets.SUFFIXES


def from_arrays(name: str, X, y, description: str, *, image_shape=None, order: str = "C",
                class_noun: str | None = None) -> Dataset:
    """A user's arrays as a :class:`Dataset`: X (m, n) finite numbers (the estimators' check, ``check_X``), y (m,)
    labels of any kind (classes in sorted order, as :class:`glassnet.Classifier` numbers them)."""
    X = check_X(X, name="X")
    if not isinstance(X, np.ndarray):
        raise ValueError("X: expected a dense array; call .toarray() first")
    y = np.asarray(y).reshape(-1) if np.ndim(y) == 2 and 1 in np.shape(y) else np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y: expected one label per row of X, shape ({X.shape[0]},), got shape {y.shape}")
    if X.shape[0] < 2:
        raise DataError(f"{name}: expected at least 2 examples, got {X.shape[0]}")
    ds = lib_datasets.Dataset(X=X, y=y, feature_names=[f"x{j + 1}" for j in range(X.shape[1])],
                              target_names=[], description=description, name=name,
                              image_shape=tuple(image_shape) if image_shape else None, image_order=order)
    data = _wrap(name, ds, description)
    return replace(data, class_noun=class_noun) if class_noun else data


def load_user_file(path: Path, display_name: str) -> Dataset:
    """Read a user's CSV / .npz / .mat file with :func:`glassnet.datasets.load`.

    Problems raise :class:`glassnet.DataError` (or ``ValueError``) whose message names ``display_name`` rather than
    the server-side ``path``.
    """
    path = Path(path)

    def named(text: str) -> str:
        return text.replace(str(path), display_name).replace(path.name, display_name)

    try:
        ds = lib_datasets.load(path)
    except (ValueError, OSError) as exc:  # DataError is a ValueError
        raise DataError(named(str(exc))) from None
    if ds.X.shape[0] < 2:
        raise DataError(f"{display_name}: expected at least 2 examples, got {ds.X.shape[0]}")
    return _wrap(display_name, ds, named(ds.description))


def model_features(features, data: Dataset) -> tuple[str, ...] | None:
    """The features a network on ``data`` takes (:mod:`glassnet.datasets.features`): None for the data's own
    columns (also when the choice is x1, x2 themselves); a choice for data that are not 2-D points is a ValueError."""
    if features is None:
        return None
    features = check_features(features)
    if data.n != 2:
        raise ValueError(f"features: the feature toggles (x1^2, sin(x1), ...) are for datasets of 2 features; "
                         f"{data.name!r} has {data.n}")
    return None if features == RAW else features


def model_inputs(data: Dataset, features) -> np.ndarray:
    """The network's inputs for every example: ``data.X``, or the chosen features of its points (m, len(features))."""
    return data.X if features is None else expand(data.X, features)


def feature_choices() -> dict[str, str]:
    """The feature keys the page offers for 2-D data, with how each is written (x1^2 → x₁²)."""
    return dict(FEATURE_NAMES)


def split(data: Dataset, validation_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train / validation index arrays by the library's split rule (the validation part may be empty)."""
    idx = np.arange(data.m)
    if validation_fraction <= 0 or data.m < 2:
        return idx, idx[:0]
    tr, va = holdout.split_indices(data.y, validation_fraction, seed, what="validation_fraction",
                                   stratify=not data.regression)
    return np.sort(tr), np.sort(va)


def init_thetas(sizes: Sequence[int], seed: int) -> list[np.ndarray]:
    """Random Θ for ``sizes`` (ε = √6/√(s_l + s_{l+1})), from ``seed``."""
    return random_init(sizes, rng=np.random.default_rng(seed))


def sizes_of(thetas) -> list[int]:
    """Layer sizes [s_1, ..., s_L] of a Θ list, checked by the library's one Θ rule (shapes chain, finite numbers)."""
    return check_thetas(thetas)[1]


#: What the second number of :func:`metrics` is, by task: the share classified right, or R² (regression).
SCORE_NAMES = {"classification": "accuracy", "regression": "R²"}


def metrics(thetas, X: np.ndarray, y: np.ndarray, lam: float, *, activation="sigmoid", output="sigmoid",
            loss="log") -> tuple[float | None, float | None]:
    """(J, score) on X, y with this set's m in the regularization term; ``(None, None)`` for an empty set.

    The score is the accuracy, or for identity outputs (regression) R² = 1 − Σ(h − y)²/Σ(y − ȳ)², scikit-learn's
    ``r2_score`` as :meth:`glassnet.Regressor.score` reports it (None for fewer than 2 examples, where it has none).
    ``activation``, ``output``, ``loss``: the network's units and cost (:func:`kinds`), the lecture's by default.
    """
    if X.shape[0] == 0:
        return None, None
    cache = propagate(thetas, X, activation, output)
    pair = output_loss(output, loss)
    Y = pair.targets(y, thetas[-1].shape[0], X.shape[0])
    J = cost_from_z(cache.z_out, Y, output, loss) + regularization(thetas, lam, X.shape[0])
    if pair.is_regression:
        from sklearn.metrics import r2_score  # lazily, as the estimator does

        return float(J), (float(r2_score(Y, cache.output)) if X.shape[0] > 1 else None)
    return float(J), float(np.mean(predict_units(cache.z_out) == y))


def label_name(data: Dataset, label) -> str:
    """How the page names an example's target: its class name, or a regression set's real target as a number."""
    return format_number(float(label)) if data.regression else data.classes[int(label)]


def predictions(thetas, X: np.ndarray, *, activation="sigmoid", output="sigmoid") -> tuple[np.ndarray, np.ndarray]:
    """(predicted class, confidence of that prediction) for every row of X."""
    cache = propagate(thetas, X, activation, output)
    h = cache.output
    pred = predict_units(cache.z_out)  # the output layer's one rule, from z
    if h.shape[1] == 1:
        conf = np.where(pred == 1, h[:, 0], 1 - h[:, 0])
    else:
        conf = h[np.arange(h.shape[0]), pred]
    return pred, conf


# ------------------------------------------------------------------------------------------------ one example



def trace(thetas, x: np.ndarray, label: int, m: int, top_k: int = 12, *, activation="sigmoid", output="sigmoid",
          loss="log"):
    """:func:`glassnet.explain.explain` of one example (``m``: the training-set size, for its D term).

    ``top_k`` limits the terms written out in a hidden unit's δ equation (the rest are summed).
    """
    return explain(thetas, x, label, top_k=top_k, m=int(m), activation=activation, output=output, loss=loss)


def _floats(arr) -> list[float]:
    return [float(v) for v in np.asarray(arr).ravel()]


def trace_layers(tr) -> list[dict]:
    """Per layer (lecture l, 1-based): a, z, g′(z), δ as lists (``None`` where the lecture has no value)."""
    return [{"l": layer.l, "kind": layer.kind, "a": _floats(layer.a),
             "z": None if layer.z is None else _floats(layer.z),
             "gprime": None if layer.g_prime is None else _floats(layer.g_prime),
             "delta": None if layer.delta is None else _floats(layer.delta)} for layer in tr.layers]


def diagram(tr, mode: Literal["forward", "backward"], data: Dataset) -> str:
    """The explain package's SVG network diagram of the trace (units ``unit-l-j``, edges ``edge-l-i-j``)."""
    # The page draws it at 1–1.35× its size: 9 px text becomes at least 12 px on screen; smaller is left out.
    return diagram_svg(tr, mode, image_shape=data.image_shape, image_order=data.order,
                       class_names=data.classes if tr.K == len(data.classes) else None, min_text=9.0)


def unit_details(tr, l: int, j: int) -> dict:
    """z, a, g′(z), δ of unit j of layer l, its outgoing edge terms Θ_ij·δ_i^(l+1) and the δ equation."""
    unit = tr.unit(l, j, top_k=None)
    out = {"l": l, "j": j, "kind": unit.kind, "a": unit.a, "z": unit.z, "gprime": unit.g_prime,
           "delta": unit.delta, "target": unit.target,
           "equation": None if unit.kind == "input" else unit_equation(tr, l, j)}
    if l < tr.L:
        terms = tr.edge_terms(l, j)
        theta, d_next = tr.thetas[l - 1][:, j], tr.layers[l].delta
        out["terms"] = [{"i": i + 1, "theta": float(theta[i]), "delta": float(d_next[i]), "term": float(terms[i])}
                        for i in range(terms.shape[0])]
        out["sum"] = math.fsum(terms.tolist())
    return out


def edge_details(tr, l: int, i: int, j: int, D: np.ndarray) -> dict:
    """Θ_ij^(l) (unit j of layer l → unit i of layer l+1, j = 0 the bias), its edge term and its gradients.

    ``example_gradient`` is δ_i^(l+1)·a_j^(l), the example's entry of its Δ^(l) contribution; ``D`` the batch's
    ∂J/∂Θ_ij^(l).
    """
    d_i = float(tr.layers[l].delta[i - 1])
    theta = float(tr.thetas[l - 1][i - 1, j])
    return {"l": l, "i": i, "j": j, "theta": theta, "a_j": float(tr.a[l][j]), "delta_i": d_i,
            "term": theta * d_i, "example_gradient": float(tr.gradients[l - 1].contribution[i - 1, j]),
            "D": float(D[i - 1, j])}


def pixels(x: np.ndarray, image_shape, order: Literal["C", "F"] = "C") -> list[int]:
    """A row of X as 0..255 grey levels of the upright image, row by row (for the page's canvases)."""
    img = np.asarray(x, dtype=np.float64).reshape(image_shape, order=order)
    lo, hi = min(float(img.min()), 0.0), max(float(img.max()), 1.0)
    return [int(v) for v in np.rint((img - lo) / (hi - lo) * 255).ravel()]


def hidden_images(theta1: np.ndarray, image_shape, order: str = "C", limit: int = 400) -> list[list[int]]:
    """Rows of Θ^(1) without the bias as upright images (the course's displayData), each scaled by its max |w|.

    Grey 128 is a zero weight, white the most positive, black the most negative.
    """
    out = []
    for row in theta1[:limit, 1:]:
        img = row.reshape(image_shape, order=order)
        scale = float(np.max(np.abs(img))) or 1.0
        out.append([int(v) for v in np.rint((img / scale + 1) * 127.5).ravel()])
    return out


def whatif_step(thetas, x: np.ndarray, label: int, lam: float, m: int, alpha: float, Xtr, ytr, *,
                activation="sigmoid", output="sigmoid", loss="log") -> dict:
    """One stochastic gradient step Θ ← Θ − α·D on this example alone; returns the new Θ and before/after numbers.

    The step follows the per-example objective cost(x, y) + (λ/2m)·ΣΘ², which is m times the example's share of J
    (so summed over all m examples it is m·J): ``cost_and_gradient(thetas, x, y, λ/m)`` with its m = 1.
    """
    kw = {"activation": activation, "output": output, "loss": loss}
    X = np.asarray(x, dtype=np.float64).reshape(1, -1)
    y1 = np.array([label])
    _, grads = cost_and_gradient(thetas, X, y1, lam / m, **kw)
    new = [t - alpha * g for t, g in zip(thetas, grads)]
    K = thetas[-1].shape[0]
    Y = output_loss(output, loss).targets(y1, K, 1)
    before, after = propagate(thetas, X, activation, output), propagate(new, X, activation, output)
    J_before, acc_before = metrics(thetas, Xtr, ytr, lam, **kw)
    J_after, acc_after = metrics(new, Xtr, ytr, lam, **kw)
    return {
        "thetas": new,
        "alpha": alpha,
        "cost_before": cost_from_z(before.z_out, Y, output, loss),
        "cost_after": cost_from_z(after.z_out, Y, output, loss),
        "h_before": _floats(before.output),
        "h_after": _floats(after.output),
        "prediction_before": int(predict_units(before.z_out)[0]),
        "prediction_after": int(predict_units(after.z_out)[0]),
        "J_before": J_before,
        "J_after": J_after,
        "acc_before": acc_before,
        "acc_after": acc_after,
        "step_norm": alpha * float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads))),
    }


# ------------------------------------------------------------------------------------------------ 2-D maps, steps


def color_scales() -> dict[str, list]:
    """The diagram's colour scales (:data:`glassnet.explain.diagram.COLOR_SCALES`): one convention for every picture."""
    return {name: [[t, list(rgb)] for t, rgb in anchors] for name, anchors in COLOR_SCALES.items()}


def unit_names(data: Dataset, K: int) -> list[str]:
    """Output unit names with their class ("h₃ · 2", "h · P(benign)"):
    :meth:`glassnet.outputs.OutputLayer.unit_name`; a regression set's one unit is the predicted value "h · ŷ"."""
    if data.regression:
        return ["h · ŷ"]
    named = K == len(data.classes) or K == 1
    layer = OutputLayer.for_units(K, list(data.classes), class_noun=data.class_noun) if named else None
    return [layer.unit_name(j) if layer else f"h{j}" for j in range(1, K + 1)]


def _rounded(arr, digits: int = 4) -> list:
    return np.round(np.asarray(arr, dtype=np.float64), digits).tolist()


#: The most map values ``/api/plane`` computes and sends: resolution² × (hidden + output units). A larger network's
#: maps come on a coarser grid (at most a few MB of JSON, whatever the network the limits allow).
PLANE_VALUES = 300_000
#: The most terms Θᵢⱼ·δᵢ the hidden δ steps of ``/api/steps`` write out: Σ s_l·s_{l+1} over the hidden layers l
#: (each hidden unit's step sums over every edge leaving it). A larger network's walk is refused before any work.
STEPS_TERMS = 150_000


def plane_resolution(sizes: Sequence[int], requested: int) -> tuple[int, str]:
    """``(resolution, note)``: ``requested`` when the network of layer ``sizes`` fits :data:`PLANE_VALUES` at it,
    else the finest grid that does (down to 8 × 8, with a note saying why); ``ValueError`` beyond that."""
    maps = int(sum(sizes[1:]))  # one map per hidden unit, and the output units
    fit = math.isqrt(PLANE_VALUES // maps)
    if fit >= requested:
        return requested, ""
    if fit < 8:
        raise ValueError(f"plane: the network's {maps:,} hidden and output units need {maps * 64:,} map values even "
                         f"on an 8 × 8 grid, more than the {PLANE_VALUES:,} the explorer computes; use fewer hidden "
                         "units")
    return fit, (f"maps on a {fit} × {fit} grid instead of {requested} × {requested}: the network's {maps:,} "
                 f"hidden and output units would need {maps * requested**2:,} values, more than the {PLANE_VALUES:,} "
                 "the explorer computes for one view")


def steps_terms(sizes: Sequence[int]) -> int:
    """How many terms Θᵢⱼ·δᵢ the hidden δ steps of a network of layer ``sizes`` write out (see :data:`STEPS_TERMS`)."""
    return int(sum(sizes[l] * sizes[l + 1] for l in range(1, len(sizes) - 1)))


def plane(thetas, data: Dataset, parts, resolution: int = 40, *, activation="sigmoid", output="sigmoid",
          loss="log", features=None, points=None) -> dict:
    """The decision map and every hidden unit's map over the input plane (:func:`glassnet.explain.maps.plane_maps`),
    with the training and validation points, for a dataset of 2 features.

    ``output[k][r][c]`` is h_k at (x1[c], x2[r]) (row 0 = smallest x2); ``units`` lists ``{"l", "j", "values"}``;
    ``train`` and ``val`` list the points as ``[x1, x2, class, predicted class]``;
    ``units_in_unit_interval``: the hidden activation's a lies in [0, 1] (the pictures' 0..1 scale, else the
    diverging one: :attr:`glassnet.activations.Activation.in_unit_interval`).
    ``loss`` is taken for the same keywords as the other functions here; a map does not depend on it.
    ``features``: the network's inputs are these features of (x1, x2) (the maps stay over (x1, x2)); ``points``:
    the (x1, x2) examples split as ``parts`` (which then hold the network's inputs), for the points drawn.
    A network too large for ``resolution`` within :data:`PLANE_VALUES` gets a coarser grid (:func:`plane_resolution`:
    ``resolution`` is the one used, ``note`` says why).
    """
    if data.n != 2:
        raise ValueError(f"plane: the maps over the input plane need a dataset with 2 features; {data.name!r} has "
                         f"{data.n}")
    requested = resolution
    resolution, note = plane_resolution(sizes_of(thetas), requested)
    # a regression set's map covers its square and no more (as Playground's): beyond the data an identity output
    # extrapolates freely, and its colours there would outshout the fit
    lo, hi = data.X.min(axis=0), data.X.max(axis=0)
    extent = (lo[0], hi[0], lo[1], hi[1]) if data.regression and (hi > lo).all() else None
    maps = plane_maps(thetas, data.X, extent=extent, resolution=resolution, activation=activation, output=output,
                      features=features)
    where = parts if points is None else points
    units = [{"l": l, "j": j + 1, "values": _rounded(layer[j], 3)}
             for l, layer in enumerate(maps.units, start=2) for j in range(layer.shape[0])]

    def marks(X, y, inputs):  # [x1, x2, class, predicted class]: the map marks the misclassified ones
        if data.regression:  # [x1, x2, target, predicted value h]: both on the map's scale
            h = propagate(thetas, inputs, activation, output).output[:, 0] if X.shape[0] else []
            return [[round(float(a), 4), round(float(b), 4), round(float(t), 4), round(float(p), 4)]
                    for (a, b), t, p in zip(X, y, h)]
        pred = predictions(thetas, inputs, activation=activation, output=output)[0] if X.shape[0] else []
        return [[round(float(a), 4), round(float(b), 4), int(c), int(p)] for (a, b), c, p in zip(X, y, pred)]

    return {"extent": list(maps.extent), "resolution": int(resolution), "requested_resolution": int(requested),
            "note": note, "x1": _rounded(maps.x1),
            "x2": _rounded(maps.x2), "output": _rounded(maps.output, 4), "prediction": maps.prediction.tolist(),
            "units": units, "units_in_unit_interval": get_activation(activation).in_unit_interval,
            "train": marks(where[0], where[1], parts[0]), "val": marks(where[2], where[3], parts[2]),
            "features": None if features is None else [FEATURE_NAMES[f] for f in features],
            "classes": data.classes, "K": int(thetas[-1].shape[0]), "regression": data.regression}


def backprop_steps(thetas, x: np.ndarray, label: int, parts, lam: float, *, activation="sigmoid", output="sigmoid",
                   loss="log") -> list[dict]:
    """:func:`glassnet.explain.steps.backprop_steps` of one example as JSON-ready dicts, ending with the training
    set's D = ``cost_and_gradient(thetas, X_train, y_train, lam)``'s gradient."""
    sizes = sizes_of(thetas)
    terms = steps_terms(sizes)
    if terms > STEPS_TERMS:
        raise ValueError(f"steps: the network {'-'.join(map(str, sizes))} would write {terms:,} terms Θᵢⱼ·δᵢ in "
                         f"its hidden δ steps (Σ s_l·s_(l+1) over the hidden layers), more than the {STEPS_TERMS:,} "
                         "the explorer shows; use fewer hidden units, or `glassnet explain` for one example")
    kw = {"activation": activation, "output": output, "loss": loss}
    m = parts[0].shape[0]
    D = gradient(thetas, parts, lam, **kw)
    return [s.to_dict() for s in _backprop_steps(trace(thetas, x, label, m, **kw), D=D, m=m, lam=lam)]


#: The walk over several examples (Δ adding up) takes at most this many.
WALK_EXAMPLES = 5


def walk_steps(thetas, X: np.ndarray, y: np.ndarray, lam: float, *, activation="sigmoid", output="sigmoid",
               loss="log") -> list[dict]:
    """:func:`glassnet.explain.walk` of the examples X (m, s_1), y (m,): each example's steps with Δ adding up over
    the examples so far (the lecture's Σ over t), then D = Δ/m + (λ/m)Θ of these m examples, as JSON-ready dicts
    (each with the ``example`` t and the ``values`` it computes, by quantity key)."""
    sizes = sizes_of(thetas)
    terms = steps_terms(sizes) * X.shape[0]
    if terms > STEPS_TERMS:
        raise ValueError(f"examples: walking {X.shape[0]} examples of the network {'-'.join(map(str, sizes))} would "
                         f"write {terms:,} terms Θᵢⱼ·δᵢ, more than the {STEPS_TERMS:,} the explorer shows; walk fewer "
                         "examples")
    w = walk(thetas, X, y, lam, activation=activation, output=output, loss=loss)
    return [f.to_dict() for f in w.frames]


def gradient(thetas, parts, lam: float, *, activation="sigmoid", output="sigmoid", loss="log") -> list[np.ndarray]:
    """D = ∂J/∂Θ on the training part ``parts[0], parts[1]`` (:func:`glassnet.cost_and_gradient`)."""
    return cost_and_gradient(thetas, parts[0], parts[1], lam, activation=activation, output=output, loss=loss)[1]


#: The gradient check on the diagram: at most this many weights (a seeded subset beyond) ...
GRADCHECK_PARAMS = 1500
#: ... over at most this many training examples (two cost evaluations per weight).
GRADCHECK_ROWS = 100


def edge_gradcheck(thetas, parts, lam: float, *, activation="sigmoid", output="sigmoid", loss="log") -> dict:
    """:func:`glassnet.gradcheck.gradient_check` of the current Θ on the first training examples, per weight.

    Each row is one Θ_ij^(l) (lecture indices, j = 0 the bias) with its ``analytic`` D (backprop), its ``numeric``
    central difference and their ``relative_error`` (:func:`glassnet.gradcheck.relative_difference` of the one
    weight). At most :data:`GRADCHECK_PARAMS` weights (a seeded subset beyond) over :data:`GRADCHECK_ROWS` examples.
    """
    X, y = parts[0][:GRADCHECK_ROWS], parts[1][:GRADCHECK_ROWS]
    if X.shape[0] == 0:
        raise ValueError("gradcheck: there are no training examples to check the gradient on")
    total = sum(int(t.size) for t in thetas)
    report = gradient_check(thetas, X, y, lam, n_params=GRADCHECK_PARAMS if total > GRADCHECK_PARAMS else None,
                            activation=activation, output=output, loss=loss)
    rows = [{"l": r.layer, "i": r.i + 1, "j": r.j, "analytic": r.analytic, "numeric": r.numeric,
             "relative_error": relative_difference(np.array([r.numeric]), np.array([r.analytic]))}
            for r in report.rows]
    return {"m": int(X.shape[0]), "lam": float(lam), "epsilon": report.epsilon, "tol": report.tol,
            "relative_difference": report.relative_difference, "passed": report.passed, "checked": len(rows),
            "total": total, "rows": rows}


#: The unit timeline uses at most this many snapshots (evenly spaced, the first and the current one included) ...
TIMELINE_SNAPSHOTS = 60
#: ... over at most this many training examples.
TIMELINE_ROWS = 2000


def timeline(snapshots: Sequence[tuple[int, list[np.ndarray]]], parts, *, activation="sigmoid", output="sigmoid",
             loss="log") -> dict:
    """:func:`glassnet.explain.timeline.unit_timeline` of ``(iteration, Θ)`` snapshots on the training examples.

    At most :data:`TIMELINE_SNAPSHOTS` snapshots, evenly spaced and always with the first and the last one, and the
    first :data:`TIMELINE_ROWS` training examples (``m`` says how many).
    """
    pick = np.unique(np.linspace(0, len(snapshots) - 1, min(len(snapshots), TIMELINE_SNAPSHOTS)).round().astype(int))
    chosen = [snapshots[k] for k in pick]
    tl = unit_timeline([th for _, th in chosen], [it for it, _ in chosen], parts[0][:TIMELINE_ROWS],
                       parts[1][:TIMELINE_ROWS], activation=activation, output=output, loss=loss)
    return {**tl.to_dict(), "snapshots": [int(k) for k in pick]}


# ------------------------------------------------------------------------------------------------ model files


def save_model(path: Path, thetas, data: Dataset, cfg, history: Sequence[dict]) -> Path:
    """Write the explorer's network as a :class:`glassnet.Classifier` model file with :func:`glassnet.io.save`.

    The file is the one ``glassnet train --save`` writes, so ``glassnet evaluate/predict/explain`` read it; it records
    the network's ``activation``, ``output`` and ``loss`` (the Classifier's hyper-parameters).
    """
    from glassnet.train.optimize import History

    if getattr(cfg, "features", None) is not None:  # its inputs are not the data's columns: no file could say so
        raise ValueError(f"export: this network takes the features {', '.join(cfg.features)} of the points, not the "
                         "data's x1, x2; a model file holds a network on the data's own features (turn the feature "
                         "toggles back to x1, x2 to export)")

    run = History(cost=[r["J"] for r in history],
                  val_cost=[r["J_val"] for r in history if r["J_val"] is not None],
                  val_accuracy=[r["acc_val"] for r in history if r["acc_val"] is not None],
                  n_iter=len(history), solver=cfg.optimizer, message="trained in the glassnet explorer")
    params = dict(hidden_layer_sizes=tuple(cfg.hidden), alpha=float(cfg.lam), max_iter=int(cfg.max_iter),
                  solver=cfg.optimizer, batch_size=int(cfg.batch_size),
                  learning_rate=float(cfg.learning_rate) if is_mini_batch(cfg.optimizer) else "auto",
                  random_state=int(cfg.seed))
    if data.regression:  # real targets: the file holds a Regressor (identity outputs, squared cost)
        return lib_io.save(Regressor.from_weights(thetas, history=run, activation=cfg.activation, **params), path)
    classes = np.asarray(data.labels) if data.labels is not None else np.arange(len(data.classes))
    clf = Classifier.from_weights(
        thetas, classes, history=run, hidden_layer_sizes=tuple(cfg.hidden), alpha=float(cfg.lam),
        max_iter=int(cfg.max_iter), solver=cfg.optimizer, batch_size=int(cfg.batch_size),
        learning_rate=float(cfg.learning_rate) if is_mini_batch(cfg.optimizer) else "auto",
        random_state=int(cfg.seed), **kinds(cfg))
    return lib_io.save(clf, path)


def _upload_first(display_name: str, sizes: Sequence[int], data: Dataset, course: bool) -> str:
    """Why a model does not fit the current dataset, and what to upload before importing it again."""
    net = "-".join(map(str, sizes))
    classes = n_classes_for(sizes[-1])
    why = (f"{display_name}: its layers {net} need data with {sizes[0]} features and {classes} classes, but dataset "
           f"{data.name!r} has {data.n} features and {len(data.classes)} classes.")
    if course:
        return (f"{why} These are the course's weights: first upload the course's data with \"Upload a data file\" "
                f"(ex4data1.mat, or any course-format .mat file: X, m×{sizes[0]}, one image per row; y, m×1, labels "
                f"1..{sizes[-1]} where {sizes[-1]} is the digit 0), then import the weights again.")
    return (f"{why} First upload a data file with {sizes[0]} features and {classes} classes with \"Upload a data "
            f"file\", then import the model again.")


def load_model(path: Path, display_name: str, data: Dataset) -> tuple[list[np.ndarray], dict]:
    """Θ and settings from any model file :func:`glassnet.io.load_any` reads (glassnet, course .mat, Nielsen JSON).

    Returns ``(thetas, settings)`` where settings hold the model's ``activation``, ``output`` and ``loss`` (the
    lecture's for files that carry none: the course's .mat, Nielsen JSON) and may hold ``lam`` (the model's α) and
    ``feature_scaling`` (the record of ``glassnet train --scale``, which the data must go through first). Θ keeps
    the model's own unit order (the course's networks: unit 10 is digit 0); :func:`in_unit_order` numbers the
    dataset's classes that way (``classes`` None: a regression model, for a regression set). Raises
    :class:`glassnet.ModelFileError` (messages name ``display_name``) for a bad file or a network the explorer does
    not offer (a regression model: identity outputs) and ``ValueError`` when the model's classes are not the
    dataset's.
    """
    def named(exc: Exception) -> str:
        text = str(exc)  # the file as the user knows it, named once
        return text.replace(str(path), display_name) if str(path) in text else text.replace(Path(path).name,
                                                                                               display_name)

    try:
        clf = lib_io.load_any(path)
    except (ValueError, OSError) as exc:  # ModelFileError / DataError are ValueErrors naming the file
        raise ModelFileError(named(exc)) from None
    return model_settings(clf, display_name, data, course=lib_io.model_format(path) == "mat")


def model_settings(clf, display_name: str, data: Dataset, course: bool = False) -> tuple[list[np.ndarray], dict]:
    """Θ and settings of a fitted model in memory, checked against ``data``: :func:`load_model`'s answer for a model
    that is already loaded (the notebook widget's ``Classifier``). ``course``: the model came from the course's .mat
    weights (a mismatch then says which data file to upload)."""
    settings: dict = {}
    if isinstance(clf, Regressor) and data.regression:  # a regression network for a regression set
        sizes = sizes_of(clf.thetas_)
        if (sizes[0], sizes[-1]) != (data.n, 1):
            raise ModelFileError(f"{display_name}: its layers {'-'.join(map(str, sizes))} need {sizes[0]} inputs and "
                                 f"{sizes[-1]} outputs, but dataset {data.name!r} has {data.n} features and one "
                                 "target")
        settings.update(activation=clf.get_params()["activation"], output=REGRESSION_PAIR[0], loss=REGRESSION_PAIR[1],
                        classes=None)
        return _with_model_settings(clf, settings)
    if data.regression:
        raise ModelFileError(f"{display_name}: a classifier, but dataset {data.name!r} has real targets (a regression "
                             "set: identity output, squared cost); import a glassnet.Regressor's model file")
    if isinstance(clf, Regressor):
        raise ModelFileError(f"{display_name}: a regression model (glassnet.Regressor, identity outputs); the explorer "
                             f"shows classifiers, with the output/loss pairs "
                             f"{', '.join(f'{o}+{c}' for o, c in PAIRS)}")
    sizes = sizes_of(clf.thetas_)
    if (sizes[0], sizes[-1]) != (data.n, data.K):
        raise ModelFileError(_upload_first(display_name, sizes, data, course))
    params = clf.get_params()
    settings.update({k: params[k] for k in ("activation", "output", "loss")})
    try:
        check_kinds(**settings, K=clf.thetas_[-1].shape[0])
    except ValueError as exc:
        raise ModelFileError(f"{display_name}: {exc}") from None
    classes = [str(c) for c in clf.output_layer_.sorted_classes.tolist()]
    ours = sorted(str(c) for c in _labels(data))
    if sorted(classes) != ours:
        raise ValueError(f"model: {display_name} was trained for the classes {classes[:12]}, but dataset "
                         f"{data.name!r} has the classes {ours[:12]}")
    settings["classes"] = clf.output_layer_.classes.tolist()
    return _with_model_settings(clf, settings)


def _with_model_settings(clf, settings: dict) -> tuple[list[np.ndarray], dict]:
    """Θ of a loaded model, and ``settings`` with its feature scaling (if any) and its α as λ."""
    own = getattr(clf, "feature_scaling_", None)  # glassnet train --scale: the model's first step on every X
    if own is not None and own.get("kind") != "none":
        settings["feature_scaling"] = own
    alpha = getattr(clf, "alpha", None)
    if isinstance(alpha, (int, float)) and not isinstance(alpha, bool) and math.isfinite(alpha) and alpha >= 0:
        settings["lam"] = float(alpha)
    thetas = [np.asarray(t, dtype=np.float64) for t in clf.thetas_]
    return thetas, settings


def _labels(data: Dataset) -> list:
    """The dataset's label values in class-number order (class number c is ``labels[c]``)."""
    return data.labels.tolist() if data.labels is not None else list(range(len(data.classes)))


def in_unit_order(data: Dataset, classes: Sequence | None) -> Dataset:
    """``data`` with its class numbers following a model's output units: class number c is unit c + 1's class.

    ``classes`` are the model's, in unit order (:attr:`glassnet.outputs.OutputLayer.classes`; K = 1: [negative,
    positive]), the same labels as the dataset's (compared as text). Each example's class number is the output
    layer's :meth:`~glassnet.outputs.OutputLayer.unit_of` its label, so the course's digit networks keep unit 10 =
    digit 0 in every view. ``data`` itself when its classes already follow that order.
    """
    if classes is None or data.regression:  # real targets: no classes to order
        return data
    labels = _labels(data)
    where = {str(c): n for n, c in enumerate(labels)}
    order = [where[str(c)] for c in classes]  # class number in data for each unit, in unit order
    if order == list(range(len(labels))):
        return data
    values = np.asarray(labels) if data.labels is None else data.labels
    y = OutputLayer(values[order]).unit_of(values[data.y]).astype(np.intp)
    return replace(data, y=y, classes=[data.classes[n] for n in order], labels=values[order])


# ------------------------------------------------------------------------------------------------ training

Callback = Callable[[list[np.ndarray]], bool]


def train(thetas, X: np.ndarray, y: np.ndarray, cfg, callback: Callback,
          should_stop: Callable[[], bool] = lambda: False) -> str:
    """Run ``cfg.optimizer`` from ``thetas`` for up to ``cfg.max_iter`` iterations; returns why it ended.

    The network's units and cost are ``cfg``'s (:func:`kinds`).

    The library's one training entry, :func:`glassnet.train.fitting.fit` (L-BFGS and CG: one iteration per callback; SGD
    and Adam: one epoch per callback). ``callback(thetas)`` returning True stops the run; ``should_stop()`` is also
    polled before every mini-batch.
    """
    lam = float(cfg.lam)

    def on_epoch_end(state) -> bool:
        return bool(callback(state.thetas))

    try:
        _, history = training.fit(
            thetas, X, y, lam, solver=cfg.optimizer, max_iter=cfg.max_iter, learning_rate=cfg.learning_rate,
            batch_size=cfg.batch_size, random_state=cfg.seed, patience=None, callbacks=on_epoch_end,
            should_stop=should_stop, **kinds(cfg))
    except StopTraining:
        return "stopped"
    return history.reason
