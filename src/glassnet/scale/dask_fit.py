"""Dask input for :class:`glassnet.Classifier`: what each estimator method does when X is a Dask collection.

The estimator calls this module with one line per method (``if dask_fit.given(X): return dask_fit.predict(self, X)``,
or ``dask_fit.refuse(X, ...)``), the way dask-ml wraps scikit-learn estimators from outside. Functions take the
estimator as their first argument and read only its public hyper-parameters and fitted attributes (``thetas_``,
``classes_``, ``output_layer_``, ...); the set-up a fit starts from (sizes, Θ, seeds, classes, validation data,
update rule, options) comes from :mod:`glassnet.train.setup`, the functions the in-memory fit calls too, so both
fits share every rule (this module never imports :mod:`glassnet.estimator`). Only the lecture's single-label network
runs here (activation, output and loss as in the note).

- ``fit``: one pass finds the classes, every chunk encodes its own labels (:class:`glassnet.outputs.OutputLayer`), and
  training goes through :mod:`glassnet.scale.distributed` with the same initial weights, seeds and hyper-parameters as
  an in-memory fit (L-BFGS/CG: the same iterates up to rounding; sgd/adam: mini-batches are cut within chunks); the
  fitted state goes back to the estimator, which stores it.
- ``predict``, ``predict_proba``, ``predict_log_proba``, ``transform``: lazy Dask arrays with X's row chunks.
- ``score`` and ``cost_and_gradient``: computed on the current Dask client (else Dask's local scheduler).

Cluster: the current Dask client (``distributed.Client(...)`` made default, or ``with client.as_current():``), else
Dask's local scheduler. Not here: the sums over chunks and the training loops (:mod:`glassnet.scale.distributed`).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.utils.validation import check_is_fitted

from glassnet._validation import check_X, compute_dtype, is_dask_collection
from glassnet.forward import forward
from glassnet.outputs import OutputLayer, is_lecture_network, n_outputs
from glassnet.scale.distributed import (
    as_dask_array,
    check_aligned,
    client_for,
    compute,
    cost_and_gradient_dask,
    dask_modules,
    fit_full_batch,
    fit_sgd,
    is_numeric,
)
from glassnet.train import setup
from glassnet.train.optimize import batch_size_for, is_mini_batch

__all__ = ["given", "fit", "predict", "predict_proba", "predict_log_proba", "transform", "score", "cost_and_gradient",
           "refuse"]


# ----------------------------------------------------------------------------------------------------------------
# Small per-chunk functions (they run on the workers) and the checks done on the driver
# ----------------------------------------------------------------------------------------------------------------


def _dask_X(X, model=None):
    """Features as a 2-D Dask array whose chunks hold whole rows (from a Dask array or DataFrame).

    float64 for predictions. For a fit (``model`` given), the model's compute dtype by the rule the in-memory fit
    follows (:func:`glassnet._validation.compute_dtype`: its ``dtype`` if set, else float32 chunks stay float32 and
    anything else is float64), so that both fits compute the same numbers.
    """
    Xd = as_dask_array(X, "X")
    if Xd.ndim != 2:
        raise ValueError(f"X: expected a 2-D Dask array of shape (m, n_features), got {Xd.ndim} dimension(s)")
    if np.dtype(Xd.dtype).kind not in "biuf":
        raise ValueError(f"X: expected numbers, got dtype {Xd.dtype}")
    if len(Xd.chunks[1]) > 1:
        Xd = Xd.rechunk({1: -1})  # each task needs whole rows
    return Xd.astype(np.float64 if model is None else compute_dtype(np.empty(0, dtype=Xd.dtype), model.dtype))


def _dask_y(y, Xd, name: str = "y"):
    """Labels as a 1-D Dask array: a Dask array/Series/one-column DataFrame, or in-memory labels chunked like ``Xd``."""
    _, da = dask_modules()
    if is_dask_collection(y) and type(y).__module__.startswith("dask.dataframe"):
        import dask.dataframe as dd

        if isinstance(y, dd.DataFrame):
            if len(y.columns) != 1:
                raise ValueError(f"{name}: expected labels as a Dask array, Series or one-column DataFrame, got a "
                                 f"DataFrame with {len(y.columns)} columns")
            y = y[y.columns[0]]
        if not is_numeric(y.dtype):
            y = y.astype(object)  # text labels: NumPy object arrays per chunk (Dask warns on pandas' string dtype)
        y = y.to_dask_array()
    elif is_dask_collection(y):
        if not isinstance(y, da.Array):
            raise ValueError(f"{name}: expected a Dask array or Series of labels, got {type(y).__name__}")
    else:
        y = as_dask_array(y, name, like=Xd)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of labels (m,), got {y.ndim} dimensions")
    return y


def _rows_match(n_X: int, n_y: int, i: int) -> None:
    if n_X != n_y:
        raise ValueError(f"X and y: row chunk {i} has {n_X} rows of X but {n_y} labels; X and y must be partitioned "
                         "alike")


def _chunk_labels(X, y, i: int) -> tuple[np.ndarray, int]:
    """Map step of the classes pass: the distinct labels of row chunk ``i`` and its row count."""
    y = np.asarray(y)
    _rows_match(np.shape(X)[0], y.shape[0], i)
    return np.unique(y), int(y.shape[0])


def _encode_block(y, units: np.ndarray, name: str, block_id=None) -> np.ndarray:
    return OutputLayer(units).unit_of(y, f"{name} (row chunk {block_id[0]})")


def _z_block(X, thetas, n_features: int, i: int) -> np.ndarray:
    X = np.asarray(X)
    if X.shape[0] == 0:  # an empty partition (a filtered DataFrame)
        return np.empty((0, thetas[-1].shape[0]))
    return forward(thetas, check_X(X, n_features=n_features, name=f"X (row chunk {i})")).z_out


def _predict_block(X, thetas, n_features, units, block_id=None):
    return OutputLayer(units).predict(_z_block(X, thetas, n_features, block_id[0]))


def _proba_block(X, thetas, n_features, units, log, block_id=None):
    return OutputLayer(units).proba(_z_block(X, thetas, n_features, block_id[0]), log)


def _transform_block(X, thetas, n_features, layer, block_id=None):
    X = np.asarray(X)
    if X.shape[0] == 0:
        return np.empty((0, thetas[layer - 2].shape[0] if layer > 1 else n_features))
    X = check_X(X, n_features=n_features, name=f"X (row chunk {block_id[0]})")
    return forward(thetas[: layer - 1], X).activations[-1] if layer > 1 else X.copy()


def _count_correct(pred, y, i: int) -> tuple[int, int]:
    y = np.asarray(y)
    _rows_match(len(pred), y.shape[0], i)
    return int(np.sum(pred == y)), int(y.shape[0])


def _dask_feature_names(X) -> np.ndarray | None:
    """Column names of a Dask DataFrame when they are all strings (scikit-learn's rule), else None."""
    if not hasattr(X, "columns"):
        return None
    names = list(X.columns)
    if names and all(isinstance(c, str) for c in names):
        return np.asarray(names, dtype=object)
    return None


def given(*arrays) -> bool:
    """True when any of the arrays is a Dask collection: the estimator's one test before calling this module."""
    return any(is_dask_collection(a) for a in arrays)


def refuse(X, what: str) -> None:
    """A clear error for methods that take in-memory arrays only."""
    if is_dask_collection(X):
        raise ValueError(f"X: {what} takes in-memory arrays, got a Dask {type(X).__name__}; call .compute() first "
                         "(fit, predict, predict_proba, predict_log_proba, transform, score and cost_and_gradient "
                         "take Dask input)")


def _lecture_only(model) -> None:
    """Dask input runs the lecture's single-label network only (what :mod:`glassnet.scale.distributed` sums)."""
    lecture = is_lecture_network(model.activation, model.output, model.loss)
    if not lecture or getattr(model, "multilabel_", False):
        raise NotImplementedError("Dask input: only the lecture's single-label network (activation='sigmoid', "
                                  "output='sigmoid', loss='log') runs on Dask; compute() the data first")


def _check_features(model, X, Xd, reset: bool) -> None:
    """n_features_in_ / feature_names_in_ for Dask X (``Xd`` = ``_dask_X(X)``), as ``validate_data`` does in memory."""
    names = _dask_feature_names(X)
    n = int(Xd.shape[1])
    if reset:
        model.n_features_in_ = n
        if names is not None:
            model.feature_names_in_ = names
        elif hasattr(model, "feature_names_in_"):
            del model.feature_names_in_
        return
    check_is_fitted(model, "n_features_in_")
    if n != model.n_features_in_:
        raise ValueError(
            f"X has {n} features, but {type(model).__name__} is expecting {model.n_features_in_} features as input.")
    fitted = getattr(model, "feature_names_in_", None)
    if fitted is not None and names is not None and not np.array_equal(fitted, names):
        raise ValueError(f"X: the feature names should match those passed during fit: expected "
                         f"{list(fitted)}, got {list(names)}")
    if fitted is not None and names is None:
        warnings.warn(f"X does not have valid feature names, but {type(model).__name__} was fitted with feature "
                      "names", UserWarning, stacklevel=5)


# ----------------------------------------------------------------------------------------------------------------
# The estimator's methods on Dask input
# ----------------------------------------------------------------------------------------------------------------


def fit(model, X, y, X_val, y_val, callbacks):
    """``model.fit`` for Dask input: classes in one pass, labels encoded per chunk, training by
    glassnet.scale.distributed.

    Sets ``n_features_in_`` (and ``feature_names_in_``) as ``validate_data`` does, and returns
    ``(thetas, classes, history, warm, units)`` for the estimator to store: Θ, the sorted classes, the
    :class:`~glassnet.train.optimize.History`, whether it continued the fitted weights, the classes in unit order.
    """
    _lecture_only(model)
    dask, _ = dask_modules()
    warm = bool(model.warm_start) and hasattr(model, "thetas_")
    if is_dask_collection(y) and not is_dask_collection(X):
        raise ValueError(f"X: expected a Dask array or DataFrame like y, got {type(X).__name__}; pass both as "
                         "Dask collections chunked alike (or X as Dask and y in memory)")
    Xd = _dask_X(X, model)
    yd = _dask_y(y, Xd)
    check_aligned(Xd, yd)
    _check_features(model, X, Xd, reset=not warm)
    if model.early_stopping and X_val is None and y_val is None:
        raise ValueError(
            "early_stopping: with Dask input, pass in-memory validation data as fit(X, y, X_val=..., y_val=...); "
            "holding out validation_fraction of a Dask collection is not supported")
    with client_for(None, None) as client:
        parts = [dask.delayed(_chunk_labels)(xb, yb, i)
                 for i, (xb, yb) in enumerate(zip(Xd.to_delayed().ravel(), yd.to_delayed().ravel()))]
        found = compute(client, parts, f"finding the classes of y in {len(parts)} row chunks")
        m = sum(n for _, n in found)
        if m == 0:
            raise ValueError("X: expected at least one example (row), every chunk is empty")
        classes = np.unique(np.concatenate([u for u, _ in found]))
        if classes.dtype == object and all(isinstance(c, str) for c in classes):
            classes = classes.astype(str)  # text labels (object chunks from a DataFrame) as NumPy's str dtype
        setup.class_labels(classes)
        units = setup.fit_units(model, classes, m, warm)  # warm: the fitted network's own unit order
        y_idx = yd.map_blocks(_encode_block, units, "y", dtype=np.intp, meta=np.empty(0, dtype=np.intp))
        thetas, _, _, shuffle_seed = setup.start(model, Xd.shape[1], n_outputs(len(classes)), Xd.dtype,
                                                 fitted=model.thetas_ if warm else None)
        validate = setup.labelled_validation(model, X_val, y_val, units)
        common = setup.options(model, validate, callbacks)
        lam = float(model.alpha)
        if not is_mini_batch(model.solver):
            thetas, history = fit_full_batch(thetas, Xd, y_idx, lam, client=client, method=model.solver,
                                             max_iter=int(model.max_iter), tol=float(model.tol), **common)
        else:
            thetas, history = fit_sgd(thetas, Xd, y_idx, lam, client=client, optimizer=setup.update_rule(model),
                                      batch_size=batch_size_for(model.batch_size, m),
                                      max_epochs=int(model.max_iter), shuffle=bool(model.shuffle),
                                      random_state=shuffle_seed, **common)
    return thetas, classes, history, warm, units


def _map_rows(model, X, block, *args, width: int | None, dtype):
    """``block(chunk, thetas, n_features, *args)`` over the row chunks of Dask X: a lazy Dask array.

    ``width`` None: one value per row (m,); else (m, width). Θ enters the graph once, not once per chunk.
    """
    _lecture_only(model)
    dask, _ = dask_modules()
    thetas = setup.classifier_thetas(model)
    Xd = _dask_X(X)
    _check_features(model, X, Xd, reset=False)
    theta_ref = dask.delayed(thetas, traverse=False)
    n = int(model.n_features_in_)
    if width is None:
        return Xd.map_blocks(block, theta_ref, n, *args, drop_axis=1, dtype=dtype, meta=np.empty(0, dtype=dtype))
    return Xd.map_blocks(block, theta_ref, n, *args, chunks=(Xd.chunks[0], (width,)), dtype=dtype,
                         meta=np.empty((0, width), dtype=dtype))


def predict(model, X):
    """Labels of Dask X as a lazy Dask array with X's row chunks."""
    return _map_rows(model, X, _predict_block, model.output_layer_.classes, width=None,
                     dtype=np.asarray(model.classes_).dtype)


def predict_proba(model, X, log: bool = False):
    """(log) class probabilities of Dask X as a lazy Dask array (m, n_classes) with X's row chunks."""
    return _map_rows(model, X, _proba_block, model.output_layer_.classes, log, width=len(model.classes_),
                     dtype=np.float64)


def predict_log_proba(model, X):
    return predict_proba(model, X, log=True)


def transform(model, X, layer: int):
    """a^(layer) of Dask X (``layer`` already checked, lecture numbering) as a lazy Dask array."""
    return _map_rows(model, X, _transform_block, int(layer), width=model.layer_sizes_[layer - 1], dtype=np.float64)


def score(model, X, y, sample_weight=None) -> float:
    """Mean accuracy, counted chunk by chunk on the cluster (no sample weights)."""
    _lecture_only(model)
    dask, _ = dask_modules()
    if sample_weight is not None:
        raise ValueError("sample_weight: not supported with Dask input; pass None")
    if not is_dask_collection(X):
        raise ValueError(f"X: expected a Dask array or DataFrame like y, got {type(X).__name__}")
    pred = predict(model, X)
    yd = _dask_y(y, pred)
    check_aligned(pred, yd)
    parts = [dask.delayed(_count_correct)(p, t, i)
             for i, (p, t) in enumerate(zip(pred.to_delayed().ravel(), yd.to_delayed().ravel()))]
    with client_for(None, None) as client:
        counts = compute(client, parts, f"scoring {len(parts)} row chunks")
    correct, m = (sum(c) for c in zip(*counts))
    if m == 0:
        raise ValueError("X: expected at least one example (row), every chunk is empty")
    return correct / m


def cost_and_gradient(model, X, y):
    """J(Θ) with λ = ``alpha`` and D^(l) at the fitted weights, summed chunk by chunk
    (:mod:`glassnet.scale.distributed`)."""
    _lecture_only(model)
    thetas = setup.classifier_thetas(model)
    if not is_dask_collection(X):
        raise ValueError(f"X: expected a Dask array or DataFrame like y, got {type(X).__name__}")
    Xd = _dask_X(X)
    _check_features(model, X, Xd, reset=False)
    yd = _dask_y(y, Xd)
    check_aligned(Xd, yd)
    y_idx = yd.map_blocks(_encode_block, model.output_layer_.classes, "y", dtype=np.intp,
                          meta=np.empty(0, dtype=np.intp))
    return cost_and_gradient_dask(thetas, Xd, y_idx, float(model.alpha))
