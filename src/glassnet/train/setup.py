"""What a fit of the estimators starts from: the one home of the set-up that the in-memory and the Dask fit share.

:class:`glassnet.Classifier` / :class:`glassnet.Regressor` and their Dask input (:mod:`glassnet.scale.dask_fit`) call
these with the estimator itself as ``hp``: any object with the estimators' hyper-parameters as attributes
(``hidden_layer_sizes``, ``random_state``, ``solver``, ...) and, where a function says so, their fitted attributes
(``thetas_``, ``classes_``, ``output_layer_``). So a fit on Dask starts from the same Θ, seeds, classes, validation
data, update rule and options as one in memory, and gets the same numbers.

- :func:`hidden_sizes`, :func:`generator`, :func:`start`: s_2..s_{L-1}, the ``random_state`` rule (the scikit-learn
  way), the initial Θ (random, warm or resumed) and the validation-split and shuffling seeds, in that order of draws;
- :func:`validated`, :func:`refuse_non_finite`: scikit-learn's ``validate_data`` with the NaN/inf scan of X done by
  one compiled pass (scikit-learn's own error where it finds one);
- :func:`class_labels`: labels a classifier can learn from (scikit-learn's rule);
- :func:`fit_units`: at least two classes; a warm start keeps the fitted network's classes and unit order;
- :func:`fit_dtype`, :func:`validation_X`, :func:`labelled_validation`, :func:`validator`, :func:`accuracy`:
  validation data checked like the training X (in memory only) and turned into ``validate(thetas)``;
- :func:`update_rule`, :func:`options` (rows per mini-batch: :func:`glassnet.train.optimize.batch_size_for`): what the
  training loops take from the hyper-parameters;
- :func:`classifier_thetas`: a classifier's fitted Θ, checked against its classes (what predictions start from).

Not here: the loops (:func:`glassnet.train.fitting.fit`, :mod:`glassnet.train.optimize`, the Dask loops of
:mod:`glassnet.scale.distributed`), labels ↔ output units (:mod:`glassnet.outputs`), storing the fitted state (the
estimator).
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn import get_config
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from glassnet._support import fused
from glassnet._validation import check_dtype, is_dask_collection, is_sparse
from glassnet.cost import cost
from glassnet.forward import forward
from glassnet.outputs import OutputLayer, n_outputs, predict_units
from glassnet.params import random_init, sizes_from_thetas
from glassnet.train.optimize import Optimizer, Validate, make_rule

__all__ = ["X_DTYPES", "SPARSE", "validated", "refuse_non_finite", "class_labels", "hidden_sizes", "generator", "start",
           "fit_units", "fit_dtype", "validation_X", "labelled_validation",
           "validator", "accuracy", "update_rule", "options", "classifier_thetas"]

X_DTYPES = (np.float64, np.float32)  # float32 X stays float32 (scikit-learn's MLP does the same); else float64
SPARSE = ("csr", "csc")


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def hidden_sizes(hidden_layer_sizes) -> list[int]:
    """s_2 .. s_{L-1} from ``hidden_layer_sizes`` (a positive int or a tuple of them; ``()`` is no hidden layer)."""
    h = hidden_layer_sizes
    if _is_int(h):
        h = (h,)
    try:
        out = [int(s) for s in h]
        ok = all(_is_int(s) and s >= 1 for s in h)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"hidden_layer_sizes: expected a positive int or a tuple of positive ints (() for no hidden layer), "
            f"got {hidden_layer_sizes!r}"
        )
    return out


def generator(random_state) -> np.random.Generator:
    """The generator of a fit: a new one from None or an int, a Generator itself, one seeded by a RandomState."""
    rs = random_state
    if rs is None or _is_int(rs):
        return np.random.default_rng(rs)
    if isinstance(rs, np.random.Generator):
        return rs
    if isinstance(rs, np.random.RandomState):
        return np.random.default_rng(rs.randint(np.iinfo(np.int32).max))
    raise ValueError(f"random_state: expected None, an int, a numpy RandomState or Generator, got {rs!r}")


def start(hp, n_features: int, K: int, dtype=np.float64, fitted=None, resume: bool = False):
    """``(thetas, sizes, split_seed, shuffle_seed)``: the starting weights and seeds of a fit, from ``hp.random_state``.

    ``thetas[l-1]`` = Θ^(l), shape (s_{l+1}, s_l + 1), in ``dtype``; sizes = [n_features, *hidden, K].
    ``fitted``: the fitted Θ to continue (a warm start: same layer sizes; the generator draws one number in place of
    the initialization, so that the seeds do not depend on warm/cold). ``resume``: continue ``fitted`` with the seeds
    of the cold start they came from (the same validation split; the shuffling state comes from the resumed run).
    """
    sizes = [n_features, *hidden_sizes(hp.hidden_layer_sizes), K]
    rng = generator(hp.random_state)
    if resume:
        thetas = [t.astype(dtype, copy=True) for t in fitted]
        random_init(sizes, rng=rng, epsilon=hp.init_epsilon)  # draws as the cold start did, for its seeds
    elif fitted is not None:
        if sizes_from_thetas(fitted) != sizes:
            raise ValueError(
                f"warm_start: the fitted network has layer sizes {sizes_from_thetas(fitted)}, but hidden_layer_sizes "
                f"and the data ask for {sizes}"
            )
        thetas = [t.astype(dtype, copy=True) for t in fitted]
        _ = rng.random()  # keep the split/shuffle seeds independent of warm/cold starts
    else:
        thetas = [t.astype(dtype, copy=False) for t in random_init(sizes, rng=rng, epsilon=hp.init_epsilon)]
    split_seed = int(rng.integers(np.iinfo(np.int32).max))
    shuffle_seed = int(rng.integers(np.iinfo(np.int32).max))
    return thetas, sizes, split_seed, shuffle_seed


def validated(hp, X, *y, finite: bool = True, **kwargs):
    """``validate_data(hp, X[, y], accept_sparse=SPARSE, **kwargs)``, X's NaN/inf looked for by
    :func:`refuse_non_finite`: what every fit checks its X (and validation X) with. ``finite=False`` leaves that scan
    to the training (:func:`finite_check`)."""
    if _plain_fit_data(X, y, kwargs):
        # what validate_data(reset=True) does with these (returns them as they are, records n_features_in_ and drops
        # the names of an earlier fit's features), without its generic checks: half a millisecond a fit after a
        # short training has left the caches cold
        hp.n_features_in_ = X.shape[1]
        hp.__dict__.pop("feature_names_in_", None)
        out = (X, y[0])
    else:
        out = validate_data(hp, X, *y, accept_sparse=SPARSE, ensure_all_finite=False, **kwargs)
    if finite:
        refuse_non_finite(hp, out[0] if y else out)
    return out


def _plain_fit_data(X, y: tuple, kwargs: dict) -> bool:
    """True for the common fit that :func:`validated` checks itself: a new fit (``reset``) on a 2-D float ndarray X in
    one of the dtypes asked for (nothing to convert), at least one row and column, and a 1-D integer ndarray y
    (classes: finite by nature) of as many labels. Anything else goes through scikit-learn's ``validate_data``."""
    if kwargs.keys() != {"dtype", "reset"} or kwargs["reset"] is not True or len(y) != 1:
        return False
    dtypes = kwargs["dtype"] if isinstance(kwargs["dtype"], (tuple, list)) else (kwargs["dtype"],)
    labels = y[0]
    return (type(X) is np.ndarray and X.ndim == 2 and X.shape[0] >= 1 and X.shape[1] >= 1
            and X.dtype.kind == "f" and any(X.dtype == d for d in dtypes)
            and type(labels) is np.ndarray and labels.ndim == 1 and labels.shape[0] == X.shape[0]
            and labels.dtype.kind in "biu")


def finite_check(hp):
    """What a fit whose X was ``validated(..., finite=False)`` hands :func:`glassnet.train.fitting.fit` as
    ``check_finite``: :func:`refuse_non_finite` for ``hp`` (scikit-learn's error), which the mini-batch training
    runs on its first pass over X (the compiled epoch looks at each row as it gathers it: no pass of its own). None
    where ``sklearn.set_config(assume_finite=True)`` says there is nothing to look for."""
    if get_config()["assume_finite"]:
        return None
    return functools.partial(refuse_non_finite, hp)


def refuse_non_finite(hp, X, input_name: str = "X") -> None:
    """Raise scikit-learn's own error (its message, its ValueError) when X (dense or sparse, as ``validate_data``
    returns it) holds NaN or inf; nothing where ``sklearn.set_config(assume_finite=True)`` says so.

    The scan is the kernels' one pass over the bits (``fused.all_finite``: 0.55 against 0.75 ms on 5000×784 float32),
    where they run; scikit-learn's scan otherwise, and to word the error.
    """
    if get_config()["assume_finite"]:
        return
    if fused.all_finite(X.data if is_sparse(X) else X) is not True:
        check_array(X, accept_sparse=SPARSE, dtype=None, estimator=hp, input_name=input_name)


def class_labels(y) -> None:
    """Raise scikit-learn's error for labels that are not classes (continuous values, ...): its
    ``check_classification_targets``, which a 1-D array of integers or booleans always passes (binary or
    multiclass), so those skip its scans of y (half a millisecond on 5000 labels)."""
    if not (isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "biu"):
        check_classification_targets(y)


def fit_units(hp, classes: np.ndarray, m: int, warm: bool) -> np.ndarray:
    """The classes in output-unit order for a fit on labels with the sorted distinct ``classes`` (of ``m`` labels).

    At least two classes; a warm start (``warm``) needs the classes of the previous fit (``hp.classes_``) and keeps the
    fitted network's unit order (``hp.output_layer_``); a cold start takes the sorted classes.
    """
    if len(classes) < 2:
        raise ValueError(
            f"y: Classifier needs at least 2 classes to learn from, got 1 class ({classes[0]!r}) in {m} labels"
        )
    if warm and not np.array_equal(classes, hp.classes_):
        raise ValueError(
            f"y: warm_start needs the classes of the previous fit {hp.classes_.tolist()}, got {classes.tolist()}"
        )
    return hp.output_layer_.classes if warm else classes


def fit_dtype(dtype):
    """What training (and validation) X is converted to: ``dtype`` if set, else :data:`X_DTYPES` (float32 kept,
    anything else float64, as :func:`glassnet._validation.compute_dtype`)."""
    asked = check_dtype(dtype)
    return X_DTYPES if asked is None else asked


def validation_X(hp, X_val, y_val):
    """X_val checked as the training X was (features and names of the fit, its dtype), refusing Dask collections:
    validation data is evaluated in this process every iteration/epoch."""
    if is_dask_collection(X_val) or is_dask_collection(y_val):
        raise ValueError("X_val, y_val: expected in-memory arrays (they are evaluated in this process every "
                         "iteration/epoch), got a Dask collection; call .compute() on it first")
    return validated(hp, X_val, dtype=fit_dtype(hp.dtype), reset=False)


def validator(Xv, Tv, score: Callable[[np.ndarray, Any], float], *, activation: str = "sigmoid",
              output: str = "sigmoid", loss: str = "log") -> Validate:
    """``validate(thetas) -> (unregularized J on (Xv, Tv), score(z^(L), Tv))``; Tv: targets as the cost takes them."""

    def validate(thetas):
        cache = forward(thetas, Xv, activation=activation, output=output)
        J = cost(thetas, Xv, Tv, 0.0, cache=cache, activation=activation, output=output, loss=loss)
        return J, score(cache.z[-1], Tv)

    return validate


def accuracy(zL: np.ndarray, units: np.ndarray) -> float:
    """The share of rows whose predicted output unit (z^(L): (m, K)) is ``units`` (m,)."""
    return float(np.mean(predict_units(zL) == units))


def labelled_validation(hp, X_val, y_val, units: np.ndarray, **kinds) -> Validate | None:
    """The validator of class labels ``y_val`` on ``X_val`` (scored by :func:`accuracy`), or None when neither is
    given; ``units``: the classes in output-unit order; ``kinds``: ``activation``, ``output``, ``loss``."""
    if X_val is None and y_val is None:
        return None
    if X_val is None or y_val is None:
        raise ValueError("X_val, y_val: pass both or neither")
    Xv = validation_X(hp, X_val, y_val)
    yv = np.asarray(y_val)
    if yv.ndim != 1 or yv.shape[0] != Xv.shape[0]:
        raise ValueError(f"y_val: expected {Xv.shape[0]} labels (one per row of X_val), got shape {yv.shape}")
    return validator(Xv, OutputLayer(units).unit_of(yv, "y_val"), accuracy, **kinds)


def update_rule(hp) -> Optimizer:
    """The mini-batch rule of ``hp.solver`` with its hyper-parameters (:func:`glassnet.train.optimize.make_rule`)."""
    return make_rule(hp.solver, hp.learning_rate, momentum=hp.momentum, nesterov=hp.nesterov, beta_1=hp.beta_1,
                     beta_2=hp.beta_2, epsilon=hp.epsilon)


def options(hp, validate: Validate | None, callbacks) -> dict:
    """The end-of-iteration/epoch keywords every training loop takes (validation, early stopping, tol as patience
    and ``min_delta``, callbacks, progress bar); early stopping needs validation data."""
    return dict(validate=validate, early_stopping=bool(hp.early_stopping) and validate is not None,
                patience=int(hp.n_iter_no_change), min_delta=float(hp.tol), callbacks=callbacks,
                progress=bool(hp.verbose))


def classifier_thetas(hp) -> list[np.ndarray]:
    """A fitted classifier's Θ (``hp.thetas_``), checked to have one output unit per class (K = 1 for two classes;
    multilabel: one per label)."""
    check_is_fitted(hp, ("thetas_", "classes_"))
    K = int(hp.thetas_[-1].shape[0])
    multilabel = bool(getattr(hp, "multilabel_", False))
    expected = len(hp.classes_) if multilabel else n_outputs(len(hp.classes_))
    if K != expected:
        raise ValueError(
            f"thetas_: the output layer has {K} units but there are {len(hp.classes_)} classes "
            f"(expected {expected} output unit{'s' if expected > 1 else ''})"
        )
    return hp.thetas_
