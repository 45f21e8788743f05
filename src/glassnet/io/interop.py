"""Exchange trained networks with other tools: scikit-learn's MLPClassifier, Nielsen's JSON, the course's ``.mat``.

Every format here stores the same sigmoid network; only the layout of Θ^(l) (shape (s_{l+1}, s_l + 1), bias column
first) differs:

- scikit-learn: ``coefs_[l-1] = Θ^(l)[:, 1:]ᵀ`` (s_l, s_{l+1}) and ``intercepts_[l-1] = Θ^(l)[:, 0]`` (s_{l+1},).
- Nielsen's ``network2.py`` (``Network.save``): ``{"sizes", "weights", "biases", "cost"}`` with
  ``weights[l-1] = Θ^(l)[:, 1:]`` (s_{l+1}, s_l) and ``biases[l-1] = Θ^(l)[:, :1]`` (s_{l+1}, 1).
- The course (Octave/MATLAB): variables ``Theta1, Theta2, ...`` equal to Θ^(1), Θ^(2), ... as they are.

Class labels (:mod:`glassnet.outputs` is their home). A Classifier's ``unit_classes_`` says which class each output
unit stands for (two classes: one unit, h = P(unit_classes_[1])); ``classes_`` is the same labels sorted. Nielsen and
course files carry no labels: pass ``classes`` in output-unit order when importing (default 0..K-1). The course's
digit networks (``ex4weights.mat``) put digit 0 on the 10th unit (label "10"): import them with
``classes=COURSE_DIGIT_CLASSES``; the network keeps the course's unit order (unit 10 is digit 0), ``classes_`` is
0..9 and its predictions are the course's, with 10 read as 0. Exports write Θ in the model's unit order, except
:func:`to_sklearn`, whose output columns follow scikit-learn's sorted classes.

Reading ``.mat`` files goes through :func:`glassnet.datasets.load_mat_thetas` (hardened against malformed files,
raises :class:`glassnet.DataError`); Nielsen JSON files raise :class:`glassnet.ModelFileError`. Files are written
atomically (:func:`glassnet.io.atomic_write`). Not for glassnet's own model files: see :mod:`glassnet.io`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._validation import check_thetas
from glassnet.errors import ModelFileError
from glassnet.estimator import SKLEARN_ACTIVATION, Classifier
from glassnet.outputs import COURSE_DIGIT_CLASSES, course_classes, is_lecture_network
from glassnet.params import sizes_from_thetas
from glassnet.train.optimize import History
from glassnet.train.setup import classifier_thetas

__all__ = [
    "COURSE_DIGIT_CLASSES",
    "classifier_from_thetas",
    "to_sklearn",
    "from_sklearn",
    "to_nielsen",
    "from_nielsen",
    "save_nielsen",
    "load_nielsen",
    "save_mat",
    "load_mat",
]


#: Nielsen JSON files larger than this are refused before parsing (JSON text of floats is ~20 bytes per weight).
MAX_JSON_BYTES = 512 << 20


def _checked_thetas(thetas: Sequence[np.ndarray], name: str = "thetas") -> list[np.ndarray]:
    """Θ list as finite float64 arrays that chain (new arrays): the library's Θ check, in the formats' precision."""
    return check_thetas(thetas, np.float64, name=name, copy=True)[0]




def _sigmoid_net(model, fmt: str) -> None:
    """Formats that hold sigmoid networks with the logistic cost only (the course's .mat, Nielsen's JSON)."""
    if isinstance(model, Classifier) and not is_lecture_network(model.activation, model.output, model.loss):
        raise ValueError(f"model: {fmt} holds the lecture's sigmoid networks only, got activation="
                         f"{model.activation!r}, output={model.output!r}, loss={model.loss!r}; use glassnet.save")


def _thetas_of(model) -> list[np.ndarray]:
    if isinstance(model, Classifier):
        return [np.array(t, dtype=np.float64) for t in classifier_thetas(model)]
    return _checked_thetas(model, "model")


def classifier_from_thetas(thetas: Sequence[np.ndarray], classes=None, **params) -> Classifier:
    """A fitted :class:`Classifier` with the given weights: :meth:`Classifier.from_weights` (kept as the interop name).

    ``classes`` in output-unit order, default 0..K-1 (K > 1) or [0, 1]; see :meth:`Classifier.from_weights`.
    """
    return Classifier.from_weights(_checked_thetas(thetas), classes, **params)


# --------------------------------------------------------------------------------------------------------------------
# scikit-learn
# --------------------------------------------------------------------------------------------------------------------


def to_sklearn(model: Classifier, *, output: str = "logistic"):
    """A fitted ``sklearn.neural_network.MLPClassifier`` computing the same network: :meth:`Classifier.to_sklearn`,
    the one home of the conversion (kept here as the interop name).

    ``output``: ``"logistic"`` (default, faithful: K sigmoid outputs) or ``"softmax"``; see
    :meth:`glassnet.Classifier.to_sklearn`.
    """
    if not isinstance(model, Classifier):
        raise ValueError(f"model: expected a fitted glassnet.Classifier, got {type(model).__name__}")
    return model.to_sklearn(output=output)


_SKLEARN_PARAMS = {  # MLPClassifier name -> Classifier name
    "alpha": "alpha",
    "batch_size": "batch_size",
    "learning_rate_init": "learning_rate",
    "max_iter": "max_iter",
    "shuffle": "shuffle",
    "tol": "tol",
    "momentum": "momentum",
    "nesterovs_momentum": "nesterov",
    "early_stopping": "early_stopping",
    "validation_fraction": "validation_fraction",
    "beta_1": "beta_1",
    "beta_2": "beta_2",
    "epsilon": "epsilon",
    "n_iter_no_change": "n_iter_no_change",
}


def from_sklearn(mlp) -> Classifier:
    """A fitted glassnet :class:`Classifier` from a fitted ``MLPClassifier(activation="logistic")``.

    Predictions are identical. Probabilities are identical for two classes and for models exported with
    ``to_sklearn(output="logistic")``; a softmax-trained multiclass model keeps its predictions (argmax of the same
    z) but glassnet's ``predict_proba`` gives the normalized sigmoids h_k / Σ_j h_j instead of softmax(z).
    Hyper-parameters with a glassnet equivalent (alpha, solver, learning rate, momentum, ...) are carried over.
    """
    from sklearn.neural_network import MLPClassifier
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(mlp, MLPClassifier):
        raise ValueError(f"mlp: expected a sklearn.neural_network.MLPClassifier, got {type(mlp).__name__}")
    check_is_fitted(mlp, "coefs_")
    ours = {theirs: name for name, theirs in SKLEARN_ACTIVATION.items()}
    if mlp.activation not in ours:
        raise ValueError(f"mlp.activation: expected one of {sorted(ours)}, got {mlp.activation!r}")
    y_type = getattr(getattr(mlp, "_label_binarizer", None), "y_type_", None)
    if y_type == "multilabel-indicator":
        raise ValueError("mlp: a multilabel MLPClassifier cannot be imported; glassnet.Classifier is single-label")
    if mlp.out_activation_ not in ("logistic", "softmax"):
        raise ValueError(f"mlp.out_activation_: expected 'logistic' or 'softmax', got {mlp.out_activation_!r}")
    thetas = [np.column_stack([np.asarray(b, dtype=np.float64), np.asarray(W, dtype=np.float64).T])
              for W, b in zip(mlp.coefs_, mlp.intercepts_)]
    params: dict[str, Any] = {ours: getattr(mlp, theirs) for theirs, ours in _SKLEARN_PARAMS.items()}
    params["solver"] = mlp.solver
    params["activation"] = ours[mlp.activation]
    rs = mlp.random_state
    params["random_state"] = rs if rs is None or isinstance(rs, (int, np.integer)) else None
    curve = [float(v) for v in (getattr(mlp, "loss_curve_", None) or [])]
    n_iter = int(getattr(mlp, "n_iter_", len(curve)))
    history = History(cost=curve, n_iter=max(n_iter, len(curve)), solver=mlp.solver,
                      message="imported from scikit-learn MLPClassifier")
    names = getattr(mlp, "feature_names_in_", None)
    return Classifier.from_weights(thetas, np.asarray(mlp.classes_), history=history,
                                   feature_names=None if names is None else [str(n) for n in names], **params)


# --------------------------------------------------------------------------------------------------------------------
# Nielsen's network2.py JSON
# --------------------------------------------------------------------------------------------------------------------


def to_nielsen(model) -> dict[str, Any]:
    """The ``network2.py`` save format: ``{"sizes", "weights", "biases", "cost": "CrossEntropyCost"}``.

    ``model`` is a fitted :class:`Classifier` or a list of Θ. The lists are plain Python floats (JSON-ready);
    Nielsen's ``network2.load`` reads the result back. Labels are not stored (output unit k is ``unit_classes_[k]``).
    """
    _sigmoid_net(model, "Nielsen's network2 JSON")
    thetas = _thetas_of(model)
    return {
        "sizes": sizes_from_thetas(thetas),
        "weights": [t[:, 1:].tolist() for t in thetas],
        "biases": [t[:, :1].tolist() for t in thetas],
        "cost": "CrossEntropyCost",  # the lecture's J without λ is network2's CrossEntropyCost
    }


def _nielsen_array(value, shape: tuple[int, ...], where: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: expected a {shape[0]}×{shape[1]} list of numbers") from None
    if arr.shape != shape:
        raise ValueError(f"{where}: expected shape {shape}, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{where}: expected finite numbers, found NaN or inf")
    return arr


def _thetas_from_nielsen(d) -> list[np.ndarray]:
    if not isinstance(d, dict):
        raise ValueError(f"nielsen: expected a dict with 'sizes', 'weights', 'biases', got {type(d).__name__}")
    missing = [k for k in ("sizes", "weights", "biases") if k not in d]
    if missing:
        raise ValueError(f"nielsen: missing key(s) {missing}; expected 'sizes', 'weights', 'biases' (network2.py)")
    sizes = d["sizes"]
    if (not isinstance(sizes, list) or len(sizes) < 2
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes)):
        raise ValueError(f"nielsen['sizes']: expected a list of at least 2 positive ints, got {sizes!r}"[:300])
    cost = d.get("cost", "CrossEntropyCost")
    if cost not in ("CrossEntropyCost", "QuadraticCost"):
        raise ValueError(f"nielsen['cost']: expected 'CrossEntropyCost' or 'QuadraticCost', got {cost!r}"[:300])
    weights, biases = d["weights"], d["biases"]
    for key, v in (("weights", weights), ("biases", biases)):
        if not isinstance(v, list) or len(v) != len(sizes) - 1:
            raise ValueError(f"nielsen[{key!r}]: expected a list of {len(sizes) - 1} matrices for sizes {sizes}")
    thetas = []
    for i in range(len(sizes) - 1):
        W = _nielsen_array(weights[i], (sizes[i + 1], sizes[i]), f"nielsen['weights'][{i}]")
        # Also accept flat bias lists [b_1, ..., b_n] besides network2's column vectors [[b_1], ..., [b_n]].
        flat = isinstance(biases[i], list) and not any(isinstance(x, list) for x in biases[i])
        b = _nielsen_array(biases[i], (sizes[i + 1],) if flat else (sizes[i + 1], 1), f"nielsen['biases'][{i}]")
        thetas.append(np.column_stack([b.reshape(-1), W]))
    return thetas


def from_nielsen(d: dict[str, Any], classes=None, **params) -> Classifier:
    """A fitted :class:`Classifier` from a ``network2.py``-style dict (see :func:`to_nielsen`).

    ``cost`` may be ``"CrossEntropyCost"`` (the lecture's cost) or ``"QuadraticCost"``: the network computes the same
    either way; further training with glassnet uses the lecture's cross-entropy J. ``classes`` and ``params`` as in
    :func:`classifier_from_thetas`.
    """
    return classifier_from_thetas(_thetas_from_nielsen(d), classes=classes, **params)


def save_nielsen(model, path: str | os.PathLike) -> Path:
    """Write :func:`to_nielsen` as JSON to ``path``, atomically. Returns the path."""
    from glassnet._support.atomic import atomic_write

    text = json.dumps(to_nielsen(model)).encode("utf-8")
    return atomic_write(path, lambda f: f.write(text))


def load_nielsen(path: str | os.PathLike, classes=None, **params) -> Classifier:
    """Read a ``network2.py`` JSON file into a fitted :class:`Classifier`.

    Raises :class:`glassnet.ModelFileError` naming the file for anything that is not such a network (bad JSON,
    missing keys, wrong shapes, NaN); ``FileNotFoundError`` when there is no file.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise ModelFileError(f"{path}: {size} bytes is larger than the {MAX_JSON_BYTES}-byte limit for network JSON")
    try:
        with open(path, "rb") as f:
            d = json.loads(f.read().decode("utf-8"))
        return from_nielsen(d, classes=classes, **params)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: not a JSON file ({exc})") from None
    except RecursionError:
        raise ModelFileError(f"{path}: JSON nested too deeply") from None
    except ValueError as exc:
        raise ModelFileError(f"{path}: {exc}") from None


# --------------------------------------------------------------------------------------------------------------------
# The course's .mat
# --------------------------------------------------------------------------------------------------------------------


def save_mat(model, path: str | os.PathLike) -> Path:
    """Write Θ^(1), Θ^(2), ... as ``Theta1``, ``Theta2``, ... to a MATLAB v5 ``.mat`` file, atomically.

    ``model`` is a fitted :class:`Classifier` or a list of Θ. Octave's ``load`` and :func:`load_mat` read it back.
    Labels are not stored (output unit k is ``unit_classes_[k]``). Returns the path.
    """
    from scipy.io import savemat

    from glassnet._support.atomic import atomic_write

    _sigmoid_net(model, "the course's .mat")
    thetas = _thetas_of(model)
    arrays = {f"Theta{i + 1}": t for i, t in enumerate(thetas)}
    return atomic_write(path, lambda f: savemat(f, arrays, format="5", oned_as="column"))


def load_mat(path: str | os.PathLike, classes=None, **params) -> Classifier:
    """Read course weights (``Theta1``, ``Theta2``, ...) from a ``.mat`` file into a fitted :class:`Classifier`.

    The file carries no labels: ``classes`` (in output-unit order) defaults to the course's,
    :func:`glassnet.outputs.course_classes` — for a digit network such as ``ex4weights.mat`` units 1..9 are digits
    1..9 and unit 10 is digit 0 (:data:`COURSE_DIGIT_CLASSES`); other networks' unit k is label k. The file is parsed
    by :func:`glassnet.datasets.load_mat_thetas`, which raises :class:`glassnet.DataError` for malformed files.
    """
    from glassnet.datasets import load_mat_thetas

    thetas = load_mat_thetas(path)
    if classes is None:
        classes = course_classes(thetas[-1].shape[0])
    return Classifier.from_weights(thetas, classes, **params)
