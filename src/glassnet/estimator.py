"""``glassnet.Classifier`` and ``glassnet.Regressor``: the lecture's network behind the scikit-learn estimator contract.

Both share one base (:class:`_Network`: hyper-parameters, solvers, the fit loop, validation, curves, ``transform``);
each adds only its targets and predictions. The hidden activation (``activation``) and, for the Classifier, the
output/loss pair (``output``, ``loss``) are hyper-parameters; the math behind them lives in :mod:`glassnet.activations`
and :mod:`glassnet.outputs`. X may be dense or SciPy sparse (CSR/CSC); float32 X is trained and stored in float32
(the estimators follow X's dtype, as scikit-learn's MLP does, unless ``dtype`` asks for one); anything else is
float64.

This module is the only home of fit/predict state. It turns labels into the lecture's targets, splits off validation
data and trains through the one training entry, :func:`glassnet.train.fitting.fit` (``partial_fit``: one epoch of it);
what a fit starts from (sizes, Θ, seeds, classes, validation data, update rule, options) is :mod:`glassnet.train.setup`,
shared with the Dask fit. It does not read or write files (see :mod:`glassnet.io` and :mod:`glassnet.io.interop`)
and does not print (``verbose=True`` shows a tqdm progress bar on stderr).

Output layer: :mod:`glassnet.outputs` decides K (one sigmoid unit for two classes), which class each unit stands for
(``output_layer_``), targets, predictions (the largest output; h ≥ 0.5 for one unit) and ``predict_proba`` (the
normalized sigmoid outputs h_k / Σ_j h_j, one-vs-rest, not a softmax).

Dask input: ``fit``, ``predict*``, ``transform``, ``score`` and ``cost_and_gradient`` also take a ``dask.array`` X
chunked by rows (or a Dask DataFrame), with labels chunked alike; each method hands such input to
:mod:`glassnet.scale.dask_fit` in one line (training on the current Dask client through
:mod:`glassnet.scale.distributed`, predictions as lazy Dask arrays).
"""

from __future__ import annotations

import math
import numbers
import sys
import types

import numpy as np
from scipy.special import expit, log_expit
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    RegressorMixin,
    TransformerMixin,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from glassnet._fast.workspace import Workspace
from glassnet._support import fused as _fused
from glassnet._support.memory import check_network_fits
from glassnet._validation import check_dtype, check_thetas, compute_dtype
from glassnet.activations import get_activation
from glassnet.api import cost_and_gradient
from glassnet.explain.trace import explain
from glassnet.forward import forward, propagate
from glassnet.outputs import OutputLayer, is_lecture_network, n_outputs, output_loss, predict_indicator
from glassnet.params import sizes_from_thetas
from glassnet.scale import dask_fit
from glassnet.train import fitting as training
from glassnet.train import setup
from glassnet.train.holdout import split
from glassnet.train.optimize import SOLVERS, History, SolverState, batch_size_for, is_mini_batch

__all__ = ["Classifier", "Regressor"]

#: glassnet's hidden activations -> scikit-learn's MLP names (the export here, the import in glassnet.io.interop).
SKLEARN_ACTIVATION = {"sigmoid": "logistic", "tanh": "tanh", "relu": "relu", "identity": "identity"}

_DTYPES, _SPARSE = setup.X_DTYPES, setup.SPARSE  # float32 X stays float32, else float64; dense or CSR/CSC



def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_multilabel(y) -> bool:
    """True for a 2-D 0/1 indicator y of K ≥ 2 columns (scikit-learn's ``type_of_target`` decides)."""
    shape = getattr(y, "shape", None)
    if shape is None and isinstance(y, (list, tuple)) and len(y) and isinstance(y[0], (list, tuple, np.ndarray)):
        shape = (len(y), len(y[0]))
    if shape is None or len(shape) != 2 or shape[1] < 2:
        return False
    try:
        return type_of_target(y) == "multilabel-indicator"
    except ValueError:  # not a target type at all: the usual checks say what is wrong
        return False


def _warn_not_converged(estimator: str, solver: str, max_iter: int) -> None:
    """scikit-learn's ``ConvergenceWarning`` for a fit that stopped at ``max_iter`` (as ``MLPClassifier`` warns)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    unit = "epochs" if is_mini_batch(solver) else "iterations"
    frame: types.FrameType | None = sys._getframe(1)  # point at the caller of fit(): the first frame outside
    level = 2  # this module
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    warnings.warn(
        f"{estimator}: stopped at max_iter = {max_iter} {unit} ({solver}) without converging; increase max_iter, "
        "or scale the features (e.g. with sklearn.preprocessing.StandardScaler) if their ranges differ a lot",
        ConvergenceWarning, stacklevel=level)


def _read_only(view: np.ndarray) -> np.ndarray:
    """``view`` (of a fitted Θ) marked read-only; Θ itself stays writable."""
    view.flags.writeable = False
    return view


def _is_real(v) -> bool:
    if type(v) is float or type(v) is int:  # the usual hyper-parameter: no ABC check (every fit checks a dozen)
        return math.isfinite(v)
    # Any Real: NumPy's stubs for isfinite list its own and Python's float types only.
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v)  # type: ignore[call-overload]



class _Network(TransformerMixin, BaseEstimator):
    """What the Classifier and the Regressor share: hyper-parameters, solvers, the fit loop, validation, curves and
    ``transform``. A subclass says which output/loss pair it trains (:meth:`_pair`), how targets become the matrix
    the cost takes, and how a validation score is computed (:meth:`_score_z`)."""

    history_: History  # a learned attribute (set by fit), declared for the type checker

    def __init__(
        self,
        hidden_layer_sizes=(25,),
        alpha=1.0,
        max_iter=200,
        solver="lbfgs",
        batch_size="auto",
        learning_rate="auto",
        momentum=0.9,
        nesterov=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        shuffle=True,
        init_epsilon=None,
        warm_start=False,
        random_state=None,
        n_threads=None,
        verbose=False,
        activation="sigmoid",
        dtype=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.max_iter = max_iter
        self.solver = solver
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.init_epsilon = init_epsilon
        self.warm_start = warm_start
        self.random_state = random_state
        self.n_threads = n_threads
        self.verbose = verbose
        self.activation = activation
        self.dtype = dtype

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # ---------------------------------------------------------------------------------------------------------------
    # hyper-parameters
    # ---------------------------------------------------------------------------------------------------------------

    def _pair(self):
        """The output/loss pair this estimator trains (:class:`glassnet.outputs.OutputLoss`)."""
        raise NotImplementedError

    def _kinds(self) -> dict:
        """``activation``, ``output``, ``loss`` keywords for the math functions."""
        pair = self._pair()
        return dict(activation=self.activation, output=pair.output, loss=pair.loss)

    def _is_lecture(self) -> bool:
        pair = self._pair()
        return is_lecture_network(self.activation, pair.output, pair.loss)

    def _hidden(self) -> list[int]:
        return setup.hidden_sizes(self.hidden_layer_sizes)

    def _check_params(self) -> None:
        """Every hyper-parameter, checked at fit time (scikit-learn convention: __init__ only stores)."""

        def bad(name, expected):
            raise ValueError(f"{name}: expected {expected}, got {getattr(self, name)!r}")

        self._hidden()
        get_activation(self.activation)
        self._pair()
        check_dtype(self.dtype)
        if not (_is_real(self.alpha) and self.alpha >= 0):
            bad("alpha", "a number λ ≥ 0")
        if not (_is_int(self.max_iter) and self.max_iter >= 1):
            bad("max_iter", "a positive int")
        if self.solver not in SOLVERS:
            bad("solver", f"one of {', '.join(repr(s) for s in SOLVERS)}")
        if not (self.batch_size == "auto" or (_is_int(self.batch_size) and self.batch_size >= 1)):
            bad("batch_size", "'auto' or a positive int")
        if not (self.learning_rate == "auto" or (_is_real(self.learning_rate) and self.learning_rate > 0)):
            bad("learning_rate", "'auto' or a number > 0")
        for name in ("momentum", "beta_1", "beta_2"):
            v = getattr(self, name)
            if not (_is_real(v) and 0 <= v < 1):
                bad(name, "a number in [0, 1)")
        if not (_is_real(self.epsilon) and self.epsilon > 0):
            bad("epsilon", "a number > 0")
        if not (_is_real(self.tol) and self.tol >= 0):
            bad("tol", "a number ≥ 0")
        if not (_is_real(self.validation_fraction) and 0 < self.validation_fraction < 1):
            bad("validation_fraction", "a number in (0, 1)")
        if not (_is_int(self.n_iter_no_change) and self.n_iter_no_change >= 1):
            bad("n_iter_no_change", "a positive int")
        if not (self.init_epsilon is None or (_is_real(self.init_epsilon) and self.init_epsilon > 0)):
            bad("init_epsilon", "None or a number > 0")
        if not (self.n_threads is None or (_is_int(self.n_threads) and (self.n_threads >= 1 or self.n_threads == -1))):
            bad("n_threads", "None (automatic), -1 (all cores) or a positive int")
        for name in ("nesterov", "early_stopping", "shuffle", "warm_start"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                bad(name, "True or False")

    def _optimizer(self):
        return setup.update_rule(self)

    def _batch_size(self, m: int) -> int:
        return batch_size_for(self.batch_size, m)

    def _generator(self) -> np.random.Generator:
        return setup.generator(self.random_state)

    # ---------------------------------------------------------------------------------------------------------------
    # shapes
    # ---------------------------------------------------------------------------------------------------------------

    @property
    def n_outputs_(self) -> int:
        """K, the number of output units."""
        return int(self.thetas_[-1].shape[0])

    @property
    def _n_features_out(self) -> int:
        """Width of :meth:`transform`'s default output (layer L-1), for ``get_feature_names_out``."""
        return self.layer_sizes_[-2]

    @property
    def layer_sizes_(self) -> list[int]:
        """[s_1, ..., s_L] of the fitted network."""
        return sizes_from_thetas(self.thetas_)

    @property
    def coefs_(self) -> list[np.ndarray]:
        """scikit-learn's name for the weights: ``coefs_[l-1] = Θ^(l)[:, 1:].T``, shape (s_l, s_{l+1}), no bias.

        Read-only views of ``thetas_`` (they follow it; copy them to change them); the output layer's columns are
        the output units, in ``unit_classes_`` order.
        """
        return [_read_only(t[:, 1:].T) for t in self.thetas_]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """scikit-learn's name for the bias weights: ``intercepts_[l-1] = Θ^(l)[:, 0]``, shape (s_{l+1},).

        Read-only views of ``thetas_``'s bias columns.
        """
        return [_read_only(t[:, 0]) for t in self.thetas_]

    # ---------------------------------------------------------------------------------------------------------------
    # fitting: one loop for both estimators
    # ---------------------------------------------------------------------------------------------------------------

    def _validate_X(self, X, reset: bool = False, name: str = "X", dtype=_DTYPES):
        """X checked by scikit-learn's rules: dense or CSR/CSC, float32 kept, anything else float64 (or ``dtype``:
        validation data take :meth:`_fit_dtype`, the training data's)."""
        return setup.validated(self, X, dtype=dtype, reset=reset)

    def _fit_dtype(self):
        """What ``validate_data`` converts training (and validation) X to (:func:`glassnet.train.setup.fit_dtype`)."""
        return setup.fit_dtype(self.dtype)

    def _validator(self, Xv, Tv):
        """validate(thetas) -> (unregularized J on the validation set, score); Tv: targets as the cost takes them."""
        return setup.validator(Xv, Tv, self._score_z, **self._kinds())

    def _score_z(self, zL: np.ndarray, T) -> float:
        raise NotImplementedError

    def _stratify(self) -> bool:
        """Whether a validation split is stratified by class (single-label classification only)."""
        return False

    def _train(self, X, T, K: int, warm: bool, validate, callbacks, resume=None):
        """Train from scratch or warm on (X, T), T = targets as the cost takes them; returns (thetas, history).

        ``resume``: the :class:`glassnet.train.optimize.SolverState` of these weights' run, continued exactly. X comes
        from ``setup.validated(..., finite=False)``: its NaN/inf are refused here before a validation split reads
        rows of it, else by the training's first pass over it (``check_finite``: no scan of its own where the compiled
        epoch runs); either way before anything of this model changes.
        """
        # refuse a network that cannot fit before allocating it (random_init, buffers), naming its size
        check_network_fits([X.shape[1], *self._hidden(), K], min(X.shape[0], 2048), self.solver)
        thetas, sizes, split_seed, shuffle_seed = setup.start(self, X.shape[1], K, X.dtype,
                                                              fitted=self.thetas_ if warm else None,
                                                              resume=resume is not None)
        Xtr, Ttr = X, T
        check = setup.finite_check(self)
        if validate is None and self.early_stopping:
            if check is not None:
                check(X)
                check = None
            if X.shape[0] < 2:
                raise ValueError(f"early_stopping: cannot hold out validation data from {X.shape[0]} example "
                                 f"(n_samples = {X.shape[0]}); pass X_val, y_val")
            Xtr, Xv, Ttr, Tv = split(X, T, float(self.validation_fraction), split_seed, what="validation_fraction",
                                     stratify=self._stratify())
            validate = self._validator(Xv, Tv)
        mini = is_mini_batch(self.solver)
        return training.fit(
            thetas, Xtr, Ttr, float(self.alpha), solver=self.solver, max_iter=int(self.max_iter), tol=float(self.tol),
            rule=self._optimizer() if mini else None, batch_size=self._batch_size(Xtr.shape[0]),
            shuffle=bool(self.shuffle), random_state=shuffle_seed, n_threads=self.n_threads, resume=resume,
            assume_finite=check is None, check_finite=check,
            done=self.history_.n_iter if warm and hasattr(self, "history_") else 0,  # where a progress bar counts on
            **setup.options(self, validate, callbacks), **self._kinds())

    @classmethod
    def _assemble(cls, thetas, *, history: History | None = None, n_iter: int | None = None, feature_names=None,
                  **params):
        """A fitted model of this class with the given weights: what every ``from_weights`` shares.

        Θ are checked and copied (float32 stays float32, anything else becomes float64); ``hidden_layer_sizes``
        defaults to the weights' hidden layers and must match them if given.
        """
        thetas, sizes = check_thetas(thetas)
        dtype = np.dtype(np.float32) if all(t.dtype == np.float32 for t in thetas) else np.dtype(np.float64)
        if "hidden_layer_sizes" in params and tuple(np.atleast_1d(params["hidden_layer_sizes"])) != tuple(sizes[1:-1]):
            raise ValueError(f"hidden_layer_sizes: the weights have hidden layers {tuple(sizes[1:-1])}, "
                             f"got {params['hidden_layer_sizes']!r}")
        params.setdefault("hidden_layer_sizes", tuple(sizes[1:-1]))
        model = cls(**params)
        model.thetas_ = [np.array(t, dtype=dtype, copy=True) for t in thetas]
        model.n_features_in_ = int(sizes[0])
        model.history_ = history if history is not None else History(message="imported weights")
        model.n_iter_ = int(n_iter) if n_iter is not None else model.history_.n_iter
        if feature_names is not None:
            names = list(feature_names)
            if len(names) != sizes[0] or not all(isinstance(n, str) for n in names):
                raise ValueError(f"feature_names: expected one string per input feature ({sizes[0]}), got "
                                 f"{names[:5]}{'...' if len(names) > 5 else ''}")
            model.feature_names_in_ = np.array(names, dtype=object)
        return model

    def _store_fit(self, thetas, history, warm: bool):
        """Set the fitted weights and history, only now, so that a fit that fails leaves the previous model intact.

        A run that used up ``max_iter`` without converging warns the scikit-learn way (``ConvergenceWarning``)."""
        if history.stopped_at_limit:
            _warn_not_converged(type(self).__name__, self.solver, int(self.max_iter))
        self.thetas_ = thetas
        if warm and hasattr(self, "history_"):
            self.history_.extend(history)
        else:
            self.history_ = history
        self.n_iter_ = self.history_.n_iter
        self.__dict__.pop("_partial_state", None)  # a later partial_fit starts a fresh optimizer state

    def _partial_fit_available(self) -> bool:
        if not is_mini_batch(self.solver):
            raise AttributeError(
                f"partial_fit is only available for the mini-batch solvers 'sgd' and 'adam', not solver={self.solver!r}"
            )
        return True

    def _partial_epoch(self, X, T, K: int, first: bool):
        """One epoch of mini-batch training on (X, T) from the current weights (fresh ones when ``first``), through
        :func:`glassnet.train.fitting.fit` with ``max_iter=1``."""
        sizes = [X.shape[1], *self._hidden(), K]
        opt = self._optimizer()
        key = (opt.name, opt.learning_rate, self.momentum, self.nesterov, self.beta_1, self.beta_2, self.epsilon)
        if first:  # a fit's cold start; the shuffles are seeded with its first seed (no validation split here)
            self.thetas_, _, seed, _ = setup.start(self, X.shape[1], K, X.dtype)
            self.history_ = History(solver=opt.name)
            self._partial_state = {"rng": np.random.default_rng(seed)}
        elif self.layer_sizes_ != sizes:
            raise ValueError(f"partial_fit: the network has layer sizes {self.layer_sizes_}, the data needs {sizes}")
        ps = self.__dict__.setdefault("_partial_state", {"rng": self._generator()})
        if ps.get("key") != key:  # a new rule, or new settings of it: fresh moments
            ps["key"], ps["opt"] = key, opt.init(self.thetas_)
        rng = ps["rng"] if self.shuffle else None
        # One epoch of the one training entry, continuing this model's rule state and shuffling generator (the
        # generator itself goes in, so that it advances as the epochs go by); no tol or divergence test across calls.
        start = SolverState(solver=opt.name, epoch=self.history_.n_iter, optimizer=ps["opt"],
                            rng=None if rng is None else rng.bit_generator.state)

        def keep(state) -> None:
            ps["opt"] = state.solver_state.optimizer

        thetas, history = training.fit(
            self.thetas_, X, T, float(self.alpha), solver=self.solver, max_iter=1, rule=opt,
            batch_size=self._batch_size(X.shape[0]), shuffle=rng is not None, random_state=rng, patience=None,
            callbacks=keep, n_threads=self.n_threads, resume=start, assume_finite=True, **self._kinds())
        history.message = "partial_fit: one epoch"
        self.thetas_ = thetas
        self.history_.extend(history)
        self.n_iter_ = self.history_.n_iter
        return self

    # ---------------------------------------------------------------------------------------------------------------
    # using the fitted network
    # ---------------------------------------------------------------------------------------------------------------

    def _fitted_thetas(self) -> list[np.ndarray]:
        check_is_fitted(self, "thetas_")
        return self.thetas_

    def _z_out(self, X) -> np.ndarray:
        """z^(L) of every row of X (m, K): what labels, scores and regressions are read from (no output activation).

        NaN and inf are looked for in z^(2), not in X: any non-finite x_tj makes row t of z^(2) non-finite (inf·0 is
        NaN), and z^(2) has s_2 numbers a row where X has s_1 (25 against 400 on the course's network). Only then is
        X scanned, for scikit-learn's own error.
        """
        thetas = self._fitted_thetas()
        X = validate_data(self, X, dtype=_DTYPES, accept_sparse=_SPARSE, reset=False, ensure_all_finite=False)
        thetas, sizes = check_thetas(thetas, compute_dtype(X))
        # The compiled lanes' forward pass where they run (on the course's ex4 size 2.3 times NumPy's whole-batch one,
        # see Workspace.outputs); NumPy's (sparse X, or no kernels) otherwise
        found = Workspace(sizes, X.shape[0], X.dtype, activation=self.activation).outputs(thetas, X)
        if found is not None:
            zL, finite = found
        else:
            with np.errstate(invalid="ignore", over="ignore"):  # a NaN/inf in X gets its error below, not a warning
                cache = propagate(thetas, X, self.activation, None)
            z2 = cache.z[1]
            assert z2 is not None  # z[0] alone (the input layer) has none
            zL, finite = cache.z_out, _fused.is_finite(z2)
        if not finite:
            setup.refuse_non_finite(self, X)  # NaN/inf in X: scikit-learn's error
        return zL

    def _targets(self, y, m: int, name: str = "y"):
        """Targets as the cost takes them (labels → unit indices or a 0/1 matrix; real values for a regressor)."""
        raise NotImplementedError

    def hidden_activations(self, X) -> list[np.ndarray]:
        """a^(2), ..., a^(L-1) without bias units: one (m, s_l) array per hidden layer (empty list if none)."""
        dask_fit.refuse(X, "hidden_activations")
        thetas = self._fitted_thetas()
        X = self._validate_X(X)
        return forward(thetas, X, activation=self.activation, output=self._pair().output).activations[1:-1]

    def transform(self, X, layer: int | None = None) -> np.ndarray:
        """The representation a^(l) that layer l feeds forward, shape (m, s_l), without the bias unit.

        ``layer`` counts like the lecture (1 is the input, L the output) and may be 1..L-1; the default is L-1, the
        last hidden layer (the input itself for a network without hidden layers). Use it to feed learned features
        to another model, e.g. as a step of a ``Pipeline``. Dask X: a lazy Dask array with X's row chunks.
        """
        thetas = self._fitted_thetas()
        L = len(thetas) + 1
        if layer is None:
            layer = L - 1
        if not _is_int(layer) or not 1 <= layer <= L - 1:
            raise ValueError(
                f"layer: expected a layer number in 1..{L - 1} (lecture numbering, 1 = input), got {layer!r}"
            )
        if dask_fit.given(X):
            return dask_fit.transform(self, X, layer)
        X = self._validate_X(X)
        if layer == 1:
            return X.toarray() if hasattr(X, "toarray") else X.copy()
        if self.activation == "sigmoid":  # the layers below `layer` only (the last of them a sigmoid layer, too)
            return forward(thetas[: layer - 1], X).activations[-1]
        return forward(thetas, X, activation=self.activation, output=self._pair().output).activations[layer - 1]

    def cost_and_gradient(self, X, y) -> tuple[float, list[np.ndarray]]:
        """J(Θ) with λ = ``alpha`` and its gradient D^(l) at the fitted weights, on (X, y).

        Dask X (and y) are summed chunk by chunk on the current Dask client (:mod:`glassnet.scale.dask_fit`).

        Returns
        -------
        J : float
        grads : list of ndarray
            Same shapes as ``thetas_``.
        """
        if dask_fit.given(X, y):
            return dask_fit.cost_and_gradient(self, X, y)
        thetas = self._fitted_thetas()
        X = self._validate_X(X)
        return cost_and_gradient(thetas, X, self._targets(y, X.shape[0]), float(self.alpha), **self._kinds())

    # ---------------------------------------------------------------------------------------------------------------
    # curves, read from history_ (so that a model loaded from a file has them as well)
    # ---------------------------------------------------------------------------------------------------------------

    @property
    def loss_curve_(self) -> list[float]:
        """Training cost J(Θ) per iteration/epoch."""
        return list(self.history_.cost)

    @property
    def loss_(self) -> float:
        """Training cost of the kept weights (at ``history_.best_epoch`` after early stopping, else the last)."""
        h = self.history_
        if not h.cost:
            raise AttributeError("loss_: no iterations were recorded")
        return float(h.cost[h.best_epoch - 1] if h.best_epoch else h.cost[-1])

    @property
    def validation_scores_(self) -> list[float] | None:
        """Validation score per iteration/epoch (accuracy, or R² for a regressor; None without validation data)."""
        return list(self.history_.val_accuracy) or None

    @property
    def validation_loss_curve_(self) -> list[float] | None:
        """Unregularized validation cost per iteration/epoch (None without validation data)."""
        return list(self.history_.val_cost) or None

    @property
    def best_validation_score_(self) -> float | None:
        """The best validation score seen (None without validation data)."""
        scores = self.history_.val_accuracy
        return float(np.nanmax(scores)) if scores else None


class Classifier(ClassifierMixin, ClassNamePrefixFeaturesOutMixin, _Network):
    """A network trained on the lecture's regularized logistic cost J(Θ) (sigmoid units by default).

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(25,)
        Units per hidden layer, s_2 .. s_{L-1}. ``()`` is no hidden layer (logistic regression).
    alpha : float, default=1.0
        λ, the regularization strength of J(Θ) (``lambda`` is reserved in Python): J adds (λ/2m)ΣΘ² over the
        non-bias weights. Same meaning and scale as scikit-learn's ``MLPClassifier(alpha=...)``.
    max_iter : int, default=200
        Iterations (``lbfgs``, ``cg``) or epochs (``sgd``, ``adam``). A fit that reaches it without converging warns
        with scikit-learn's ``ConvergenceWarning`` (as ``MLPClassifier`` does; the course trains for a fixed number of
        iterations: silence it with ``warnings.filterwarnings("ignore", category=ConvergenceWarning)``); see
        ``history_.converged`` and ``history_.message``.
    solver : {"lbfgs", "cg", "sgd", "adam"}, default="lbfgs"
        Full batch through scipy (L-BFGS-B, conjugate gradients as the course's fmincg) or mini-batch.
    batch_size : int or "auto", default="auto"
        Mini-batch rows; "auto" is min(200, m). Clipped to m. Ignored by full-batch solvers.
    learning_rate : float or "auto", default="auto"
        Step size η for ``sgd``/``adam``; "auto" is 0.1 for sgd and 0.01 for adam (sigmoid units learn too
        slowly at Adam's usual 0.001: 92% vs 98% test accuracy on digits after 200 epochs).
    momentum : float, default=0.9
        μ for ``sgd`` (0 is plain SGD).
    nesterov : bool, default=True
        Nesterov momentum for ``sgd``.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's moment decay rates and ε.
    tol : float, default=1e-4
        ``lbfgs``/``cg``: gradient tolerance (scipy's ``gtol``). ``sgd``/``adam``: training stops once the epoch
        cost has not improved by more than ``tol`` for ``n_iter_no_change`` epochs. With early stopping, the
        smallest improvement of the validation cost that counts.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified, at least one example per class; a plain
        random split when the data are too few for that), or use ``X_val, y_val`` given to
        :meth:`fit`; stop once the validation cost has not improved by ``tol`` for ``n_iter_no_change``
        iterations/epochs, and keep the weights with the lowest validation cost. Works with every solver.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping`` is on and no ``X_val`` is given.
    n_iter_no_change : int, default=10
        Patience, in iterations/epochs.
    shuffle : bool, default=True
        Reshuffle the rows every epoch (mini-batch solvers).
    init_epsilon : float or None, default=None
        Initial weights are uniform in [-ε, ε]; None uses ε = √6/√(s_l + s_{l+1}) per layer, the course's rule
        (the course's fixed value is 0.12).
    warm_start : bool, default=False
        Start :meth:`fit` from the current ``thetas_`` (same architecture and classes required).
    random_state : int, RandomState, Generator or None, default=None
        Seeds the initial weights, the validation split and the shuffling. An int s gives the same initial weights
        as ``glassnet.random_init(sizes, rng=s)``.
    n_threads : int or None, default=None
        BLAS threads while fitting; None picks 1 for small problems and more for large ones
        (see :func:`glassnet._support.threads.choose_blas_threads`); -1 uses every core.
    verbose : bool, default=False
        Show a progress bar (stderr) while fitting.
    activation : {"sigmoid", "tanh", "relu", "identity"}, default="sigmoid"
        g of the hidden layers (the lecture: sigmoid).
    output, loss : str, default="sigmoid", "log"
        The output units and cost: ``sigmoid``+``log`` (the lecture's K logistic units; also multilabel),
        ``softmax``+``log`` (cross-entropy, like ``MLPClassifier``; needs 3 or more classes, as a single softmax unit
        is always 1), ``sigmoid``+``squared`` (the note's (h − y)² cost). See :func:`glassnet.outputs.output_loss`.
    dtype : {None, "float32", "float64"}, default=None
        The precision the fit computes and stores Θ in. None follows the training X as scikit-learn's MLP does
        (float32 X trains in float32, anything else in float64); "float32" converts X once per fit and trains in
        single precision end to end (half the memory for X and the buffers, faster products); "float64" always
        double precision. Validation data are converted alike; predictions take X as it comes.

    Notes
    -----
    y may be class labels (m,) or a multilabel (m, K) 0/1 indicator matrix: K sigmoid units, one per label (the
    lecture's cost is multilabel by nature); ``predict`` then returns an (m, K) indicator (h ≥ 0.5 per unit) and
    ``predict_proba`` the K sigmoid outputs. X may be SciPy sparse (CSR/CSC); float32 X (or ``dtype="float32"``)
    trains and stores float32 weights.

    Attributes
    ----------
    thetas_ : list of ndarray
        ``thetas_[l-1]`` is Θ^(l), shape (s_{l+1}, s_l + 1), bias column first.
    classes_ : ndarray of shape (n_classes,)
        Sorted class labels; output unit k belongs to ``classes_[k]`` (binary: the single unit to ``classes_[1]``).
    history_ : glassnet.train.optimize.History
        Costs per iteration/epoch (and validation cost/accuracy) of every fit/partial_fit that trained these weights.
    n_iter_ : int
        Iterations/epochs these weights were trained for (``history_.n_iter``).
    n_features_in_ : int
        s_1.
    feature_names_in_ : ndarray of str
        Column names, when X had them.
    loss_, loss_curve_, validation_scores_, validation_loss_curve_, best_validation_score_, layer_sizes_, n_outputs_
        Read from ``thetas_`` and ``history_`` (so a model loaded from a file has them too).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = Classifier(hidden_layer_sizes=(5,), alpha=0.1, max_iter=1000, random_state=0).fit(X, y)
    >>> clf.layer_sizes_, clf.predict(X[:3]).tolist(), clf.score(X, y) > 0.95
    ([4, 5, 3], [0, 0, 0], True)
    >>> clf.predict_proba(X[:1]).round(1)  # normalized sigmoid outputs, columns in classes_ order
    array([[1., 0., 0.]])
    """

    def __init__(
        self,
        hidden_layer_sizes=(25,),
        alpha=1.0,
        max_iter=200,
        solver="lbfgs",
        batch_size="auto",
        learning_rate="auto",
        momentum=0.9,
        nesterov=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        shuffle=True,
        init_epsilon=None,
        warm_start=False,
        random_state=None,
        n_threads=None,
        verbose=False,
        activation="sigmoid",
        output="sigmoid",
        loss="log",
        dtype=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, alpha=alpha, max_iter=max_iter, solver=solver,
            batch_size=batch_size, learning_rate=learning_rate, momentum=momentum, nesterov=nesterov, beta_1=beta_1,
            beta_2=beta_2, epsilon=epsilon, tol=tol, early_stopping=early_stopping,
            validation_fraction=validation_fraction, n_iter_no_change=n_iter_no_change, shuffle=shuffle,
            init_epsilon=init_epsilon, warm_start=warm_start, random_state=random_state, n_threads=n_threads,
            verbose=verbose, activation=activation, dtype=dtype,
        )
        self.output = output
        self.loss = loss

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _pair(self):
        pair = output_loss(self.output, self.loss)
        if pair.is_regression:
            raise ValueError("output: 'identity' (with the squared cost) is regression; use glassnet.Regressor")
        return pair

    # ---------------------------------------------------------------------------------------------------------------
    # labels
    # ---------------------------------------------------------------------------------------------------------------

    @property
    def _multilabel(self) -> bool:
        return bool(getattr(self, "multilabel_", False))

    @property
    def output_layer_(self) -> OutputLayer:
        """The fitted output layer: which class each output unit stands for (:class:`glassnet.outputs.OutputLayer`).

        Units follow ``unit_classes_``: sorted like ``classes_`` for every model glassnet trains; imported networks
        keep their own order (the course's digit networks: units 1..9 are digits 1..9, unit 10 is digit 0).
        A multilabel model has none (output unit k is label k): ``AttributeError``.
        """
        check_is_fitted(self, "classes_")
        if self._multilabel:
            raise AttributeError("output_layer_: a multilabel model has one output unit per label (unit k + 1 is "
                                 "label k), not classes")
        units = getattr(self, "unit_classes_", None)
        if units is not None and len(units) == len(self.classes_):
            layer = OutputLayer(units)
            if np.array_equal(layer.sorted_classes, np.asarray(self.classes_)):
                return layer
        # no unit order recorded, or classes_ set by hand since: output unit k is classes_[k] (sorted order)
        return OutputLayer(self.classes_)

    def _encode(self, y, name: str = "y", classes: np.ndarray | None = None) -> np.ndarray:
        """Labels → output-unit indices 0..n_classes-1 (K = 1: 0/1 for the negative/positive class)."""
        layer = self.output_layer_ if classes is None else OutputLayer(classes)
        return layer.unit_of(y, name)

    def _targets(self, y, m: int, name: str = "y"):
        y = np.asarray(y)
        if self._multilabel:
            if y.shape != (m, self.n_outputs_):
                raise ValueError(f"{name}: expected a multilabel indicator matrix of shape ({m}, {self.n_outputs_}), "
                                 f"got shape {y.shape}")
            return y
        if y.ndim != 1 or y.shape[0] != m:
            raise ValueError(f"{name}: expected {m} labels (one per row of X), got shape {y.shape}")
        return self._encode(y, name)

    def _score_z(self, zL, T) -> float:
        if self._fitting_multilabel:
            return float(np.mean(np.all(predict_indicator(zL) == T, axis=1)))
        return setup.accuracy(zL, T)

    def _stratify(self) -> bool:
        return not self._fitting_multilabel

    # ---------------------------------------------------------------------------------------------------------------
    # fitting
    # ---------------------------------------------------------------------------------------------------------------

    _fitting_multilabel = False

    def fit(self, X, y, *, X_val=None, y_val=None, callbacks=None, resume=None):
        """Train on X (m, n_features) with labels y (m,) or a multilabel indicator matrix y (m, K).

        Parameters
        ----------
        X : array-like or SciPy sparse matrix of shape (m, n_features), or a Dask array/DataFrame chunked by rows
            Dask input trains on the current Dask client (else Dask's local scheduler) with
            :mod:`glassnet.scale.distributed`; see :mod:`glassnet.scale.dask_fit` (the lecture's network only).
        y : array-like of shape (m,) or (m, K)
            Class labels (any sortable type); at least two classes. Or a 0/1 indicator matrix with K ≥ 2 columns
            (multilabel: K sigmoid units). With Dask X: a Dask array or Series chunked like X, or in-memory labels
            when X's chunk sizes are known.
        X_val, y_val : array-like or None
            Validation data: its cost and accuracy are recorded every iteration/epoch in ``history_`` and used for
            early stopping instead of a ``validation_fraction`` split. In memory also when X is a Dask collection
            (they are evaluated in this process every iteration/epoch); Dask training data has no
            ``validation_fraction`` split, so early stopping on Dask needs them.
        callbacks : callable, Callback or list of them, optional
            ``on_epoch_end(state)`` hooks (see :class:`glassnet.train.optimize.TrainState`); returning True stops.
        resume : glassnet.train.optimize.SolverState, optional
            Continue this fitted model's interrupted mini-batch run exactly (``state.solver_state`` of the epoch whose
            weights ``thetas_`` are, e.g. from :func:`glassnet.io.load_checkpoint`): ``max_iter`` more epochs at most,
            the same batches, moments and early-stopping state as if it had never stopped. Full-batch solvers have no
            such state (scipy keeps its L-BFGS memory to itself).

        Returns
        -------
        self
        """
        self._check_params()
        if resume is not None and (not is_mini_batch(self.solver) or not hasattr(self, "thetas_")):
            raise ValueError("resume: only for a fitted model with a mini-batch solver ('sgd', 'adam'), continuing "
                             f"the run whose state it is; got solver={self.solver!r}"
                             + ("" if hasattr(self, "thetas_") else ", not fitted"))
        if dask_fit.given(X, y):
            return self._store(*dask_fit.fit(self, X, y, X_val, y_val, callbacks))
        warm = (bool(self.warm_start) or resume is not None) and hasattr(self, "thetas_")
        if _is_multilabel(y):
            return self._fit_multilabel(X, y, X_val, y_val, callbacks, warm)
        X, y = setup.validated(self, X, y, dtype=self._fit_dtype(), reset=not warm, finite=False)  # see _train
        setup.class_labels(y)
        if warm and self._multilabel:
            raise ValueError("y: warm_start of a multilabel model needs a multilabel indicator matrix")
        classes, sorted_idx = OutputLayer.sorted_encoding(y)
        units = setup.fit_units(self, classes, len(y), warm)  # warm: the fitted network's own unit order
        self._pair().check_units(n_outputs(len(classes)))  # e.g. two classes are one unit: no softmax
        y_idx = sorted_idx if units is classes else self._encode(y, classes=units)  # sorted order unless warm
        validate = setup.labelled_validation(self, X_val, y_val, units, **self._kinds())
        thetas, history = self._train(X, y_idx, n_outputs(len(classes)), warm, validate, callbacks, resume)
        self.multilabel_ = False
        return self._store(thetas, classes, history, warm, units)

    def _fit_multilabel(self, X, y, X_val, y_val, callbacks, warm: bool):
        """K sigmoid units, one per label: the lecture's cost is multilabel by nature."""
        X, Y = setup.validated(self, X, y, dtype=self._fit_dtype(), reset=not warm, multi_output=True,
                               finite=False)  # see _train
        if self._pair().output != "sigmoid":
            raise ValueError("output: multilabel targets need K independent sigmoid units (output='sigmoid'), "
                             f"got output={self.output!r}")
        K = Y.shape[1]
        if warm and not (self._multilabel and self.n_outputs_ == K):
            raise ValueError(f"y: warm_start needs targets like the previous fit's, got a multilabel matrix of {K} "
                             "labels")
        Y = Y.astype(X.dtype)
        validate = None
        if X_val is not None or y_val is not None:
            if X_val is None or y_val is None:
                raise ValueError("X_val, y_val: pass both or neither")
            Xv = setup.validation_X(self, X_val, y_val)
            Yv = np.asarray(y_val)
            if Yv.shape != (Xv.shape[0], K):
                raise ValueError(f"y_val: expected a ({Xv.shape[0]}, {K}) indicator matrix, got shape {Yv.shape}")
            validate = self._validator(Xv, Yv.astype(Xv.dtype))
        self._fitting_multilabel = True
        try:
            thetas, history = self._train(X, Y, K, warm, validate, callbacks)
        finally:
            del self._fitting_multilabel
        self._store_fit(thetas, history, warm)
        self.classes_ = self.unit_classes_ = np.arange(K)
        self.multilabel_ = True
        return self

    def _store(self, thetas, classes, history, warm: bool, units=None):
        """Set the fitted state, only now, so that a fit that fails leaves the previous model intact.

        ``units``: the classes in output-unit order (default: sorted, ``classes``). The Dask fit hands back exactly
        these arguments (:func:`glassnet.scale.dask_fit.fit`).
        """
        self._store_fit(thetas, history, warm)
        self.classes_ = classes
        self.unit_classes_ = classes if units is None else units
        self.multilabel_ = False
        return self

    @available_if(_Network._partial_fit_available)
    def partial_fit(self, X, y, classes=None):
        """One epoch of mini-batch training on (X, y), continuing from the current weights.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (m, n_features)
        y : array-like of shape (m,) or (m, K)
            Class labels, or a multilabel 0/1 indicator matrix of K ≥ 2 columns as :meth:`fit` takes it.
        classes : array-like or None
            Every class that will ever appear; required on the first call with labels. Multilabel: optional, the
            label columns 0..K-1.

        Returns
        -------
        self
        """
        self._check_params()
        dask_fit.refuse(X, "partial_fit")  # fit() streams the chunks of Dask data with solver sgd/adam
        first = not hasattr(self, "thetas_")
        if _is_multilabel(y):
            return self._partial_fit_multilabel(X, y, classes, first)
        if not first and self._multilabel:
            raise ValueError("y: this model was trained on a multilabel indicator matrix; partial_fit needs one "
                             f"of {self.n_outputs_} columns, got labels")
        X, y = setup.validated(self, X, y, dtype=self._fit_dtype(), reset=first)
        setup.class_labels(y)
        if first:
            if classes is None:
                raise ValueError("classes: required on the first call to partial_fit (every label that can appear)")
            classes = np.unique(np.asarray(classes))
            if len(classes) < 2:
                raise ValueError(f"classes: expected at least 2 classes, got {classes.tolist()}")
            self._pair().check_units(n_outputs(len(classes)), "classes")
            self.classes_ = self.unit_classes_ = classes
            self.multilabel_ = False
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(f"classes: expected the classes of the first call {self.classes_.tolist()}, got {classes}")
        return self._partial_epoch(X, self._encode(y), n_outputs(len(self.classes_)), first)

    def _partial_fit_multilabel(self, X, y, classes, first: bool):
        """One epoch on a multilabel indicator matrix: K sigmoid units, one per label column (as :meth:`fit`)."""
        X, Y = setup.validated(self, X, y, dtype=self._fit_dtype(), reset=first, multi_output=True)
        if self._pair().output != "sigmoid":
            raise ValueError("output: multilabel targets need K independent sigmoid units (output='sigmoid'), "
                             f"got output={self.output!r}")
        K = Y.shape[1]
        if classes is not None and not np.array_equal(np.unique(np.asarray(classes)), np.arange(K)):
            raise ValueError(f"classes: a multilabel matrix of {K} columns has the labels 0..{K - 1}, got {classes}")
        if first:
            self.classes_ = self.unit_classes_ = np.arange(K)
            self.multilabel_ = True
        elif not (self._multilabel and self.n_outputs_ == K):
            raise ValueError(f"y: partial_fit needs targets like the previous calls', got a multilabel matrix of {K} "
                             "labels")
        return self._partial_epoch(X, Y.astype(X.dtype), K, first)

    # ---------------------------------------------------------------------------------------------------------------
    # a fitted model from weights (model files, other formats, the explorer, checkpoints)
    # ---------------------------------------------------------------------------------------------------------------

    @classmethod
    def from_weights(cls, thetas, classes=None, *, history: History | None = None, n_iter: int | None = None,
                     feature_names=None, multilabel: bool = False, **params) -> Classifier:
        """A fitted Classifier with the given weights, ready to predict: the one place a model is assembled.

        Parameters
        ----------
        thetas : list of arrays
            ``thetas[l-1]`` = Θ^(l), shape (s_{l+1}, s_l + 1), bias column first (copied; float32 stays float32,
            anything else becomes float64).
        classes : sequence or None
            Labels in output-unit order: one per output unit (K > 1), or ``[negative, positive]`` for a single
            output unit (K = 1; h = P(positive)). Default 0..K-1 (K > 1) or [0, 1]. Any order is kept as the
            network's unit order (``unit_classes_``); ``classes_`` is sorted, as scikit-learn expects, and
            predictions and probabilities follow the units.
        history : History, optional
            The training history (default: an empty one, "imported weights").
        n_iter : int, optional
            Iterations/epochs the weights were trained for (default ``history.n_iter``).
        feature_names : sequence of str, optional
            One name per input feature (``feature_names_in_``).
        multilabel : bool
            A multilabel network: one sigmoid unit per label column (``classes`` is then not used).
        **params
            Hyper-parameters (``alpha``, ``solver``, ...), used if it is trained further. ``hidden_layer_sizes``
            defaults to the weights' hidden layers and must match them if given.

        Examples
        --------
        >>> import glassnet
        >>> from glassnet.outputs import COURSE_DIGIT_CLASSES
        >>> clf = Classifier.from_weights(glassnet.random_init([400, 25, 10], rng=0), COURSE_DIGIT_CLASSES)
        >>> clf.classes_.tolist() == list(range(10)), clf.output_layer_.unit_name(10)
        (True, 'h₁₀ · 0')
        """
        if multilabel:  # K independent sigmoid units, one per label: classes 0..K-1 stand for the label columns
            model = cls._assemble(thetas, history=history, n_iter=n_iter, feature_names=feature_names, **params)
            model.classes_ = model.unit_classes_ = np.arange(model.thetas_[-1].shape[0])
            model.multilabel_ = True
            return model
        model = cls._assemble(thetas, history=history, n_iter=n_iter, feature_names=feature_names, **params)
        layer = OutputLayer.for_units(model.thetas_[-1].shape[0], classes)
        model.classes_ = layer.sorted_classes
        model.unit_classes_ = layer.classes
        return model

    # ---------------------------------------------------------------------------------------------------------------
    # using the fitted network
    # ---------------------------------------------------------------------------------------------------------------

    def _fitted_thetas(self) -> list[np.ndarray]:
        return setup.classifier_thetas(self)

    def to_sklearn(self, output: str = "logistic"):
        """A fitted ``sklearn.neural_network.MLPClassifier`` computing the same network.

        The one home of the export (``glassnet.io.interop.to_sklearn`` calls it): scikit-learn's ``coefs_`` and
        ``intercepts_`` are this model's (:attr:`coefs_`, :attr:`intercepts_`, copied), its output columns in
        sorted ``classes_`` order.

        Parameters
        ----------
        output : {"logistic", "softmax"}
            Output units of the exported model when there are more than two classes.

            - ``"logistic"`` (default, faithful): K sigmoid outputs, as in glassnet. ``predict`` is identical,
              ``predict_proba`` returns the raw outputs h_k (glassnet's ``predict_proba`` is these divided by their row
              sum), and scikit-learn then trains on exactly the lecture's J(Θ) (its multilabel "binary_log_loss" with
              the same ``alpha``), e.g. with ``warm_start=True``.
            - ``"softmax"``: scikit-learn's usual multiclass output. ``predict`` is still identical (argmax of the same
              z), ``predict_proba`` is softmax(z), and further training uses the softmax cross-entropy instead.

            With two classes both give the single logistic unit; ``predict`` and ``predict_proba`` are identical.

        Returns
        -------
        sklearn.neural_network.MLPClassifier
        """
        from sklearn.neural_network import MLPClassifier
        from sklearn.preprocessing import LabelBinarizer

        if output not in ("logistic", "softmax"):
            raise ValueError(f"output: expected 'logistic' or 'softmax', got {output!r}")
        if self._multilabel:
            raise ValueError("to_sklearn: a multilabel Classifier cannot be exported to MLPClassifier")
        if self.output == "softmax":
            output = "softmax"  # trained with softmax outputs: scikit-learn's softmax computes the same probabilities
        thetas = [np.array(t, dtype=np.float64) for t in self._fitted_thetas()]
        # scikit-learn's output columns follow its sorted classes_; glassnet keeps the network's own unit order
        thetas[-1] = self.output_layer_.sorted_units(thetas[-1])
        sizes = sizes_from_thetas(thetas)
        solver = self.solver if is_mini_batch(self.solver) else "lbfgs"  # scikit-learn has no CG
        rate = self._optimizer().learning_rate if solver != "lbfgs" else 0.001
        rs = self.random_state
        mlp = MLPClassifier(
            hidden_layer_sizes=tuple(sizes[1:-1]),
            activation=SKLEARN_ACTIVATION[self.activation],
            solver=solver,
            alpha=float(self.alpha),
            batch_size=self.batch_size,
            learning_rate_init=rate,
            max_iter=int(self.max_iter),
            shuffle=bool(self.shuffle),
            random_state=rs if rs is None or isinstance(rs, (int, np.integer)) else None,
            tol=float(self.tol),
            momentum=float(self.momentum),
            nesterovs_momentum=bool(self.nesterov),
            early_stopping=bool(self.early_stopping),
            validation_fraction=float(self.validation_fraction),
            beta_1=float(self.beta_1),
            beta_2=float(self.beta_2),
            epsilon=float(self.epsilon),
            n_iter_no_change=int(self.n_iter_no_change),
        )
        # The fitted state MLPClassifier.predict/predict_proba (and a warm-started fit) read.
        mlp.coefs_ = [np.ascontiguousarray(t[:, 1:].T) for t in thetas]
        mlp.intercepts_ = [t[:, 0].copy() for t in thetas]
        mlp.n_layers_ = len(sizes)
        mlp.n_outputs_ = sizes[-1]
        mlp.out_activation_ = "softmax" if (output == "softmax" and sizes[-1] > 1) else "logistic"
        mlp._label_binarizer = LabelBinarizer().fit(self.classes_)
        mlp.classes_ = mlp._label_binarizer.classes_
        mlp.n_features_in_ = sizes[0]
        if hasattr(self, "feature_names_in_"):
            mlp.feature_names_in_ = self.feature_names_in_
        history = getattr(self, "history_", None)
        mlp.n_iter_ = int(getattr(self, "n_iter_", 0))
        mlp.t_ = 0
        mlp.loss_curve_ = list(history.cost) if history is not None else []
        if mlp.loss_curve_:
            mlp.loss_ = float(self.loss_)
        mlp.best_loss_ = min(mlp.loss_curve_) if mlp.loss_curve_ else np.inf
        mlp._no_improvement_count = 0
        mlp.validation_scores_ = None
        mlp.best_validation_score_ = None
        mlp._best_coefs = [c.copy() for c in mlp.coefs_]
        mlp._best_intercepts = [b.copy() for b in mlp.intercepts_]
        return mlp


    def predict(self, X) -> np.ndarray:
        """Class labels, shape (m,): the largest output unit (K > 1) or h_Θ(x) ≥ 0.5 (K = 1).

        Multilabel: an (m, K) 0/1 indicator, h_k ≥ 0.5 per unit. Dask X: a lazy Dask array of the labels with X's
        row chunks (``.compute()`` it).
        """
        if dask_fit.given(X):
            return dask_fit.predict(self, X)
        zL = self._z_out(X)
        return predict_indicator(zL) if self._multilabel else self.output_layer_.predict(zL)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (m, n_classes), columns in ``classes_`` order.

        K = 1: [1 - h, h]. K > 1: the sigmoid outputs normalized to sum to 1, h_k / Σ_j h_j; softmax outputs: h
        itself. Multilabel: the K sigmoid outputs h_k (each its own probability). Dask X: a lazy Dask array with X's
        row chunks.
        """
        if dask_fit.given(X):
            return dask_fit.predict_proba(self, X)
        zL = self._z_out(X)
        return expit(zL) if self._multilabel else self.output_layer_.proba(zL, log=False, output=self._pair().output)

    def predict_log_proba(self, X) -> np.ndarray:
        """log of :meth:`predict_proba`, computed from z without rounding to 0 first (Dask X: a lazy Dask array)."""
        if dask_fit.given(X):
            return dask_fit.predict_log_proba(self, X)
        zL = self._z_out(X)
        return log_expit(zL) if self._multilabel else self.output_layer_.proba(zL, log=True,
                                                                              output=self._pair().output)

    def score(self, X, y, sample_weight=None) -> float:
        """Mean accuracy on (X, y) (multilabel: subset accuracy); Dask input is counted chunk by chunk on the cluster
        (no sample weights)."""
        if dask_fit.given(X, y):
            return dask_fit.score(self, X, y, sample_weight)
        return super().score(X, y, sample_weight=sample_weight)

    def explain(self, X_row, y_row, top_k: int | None = None):
        """:func:`glassnet.explain` of one example at the fitted weights (λ = ``alpha``), labels as in ``fit``.

        Returns a :class:`glassnet.explain.Trace` (z, a, g′(z), δ and edge terms per unit, lecture indices).
        """
        from dataclasses import replace

        dask_fit.refuse(X_row, "explain")
        x = self._validate_X(np.reshape(np.asarray(X_row), (1, -1)))
        if self._multilabel:
            return explain(self._fitted_thetas(), x[0], np.asarray(y_row, dtype=float), lam=float(self.alpha),
                           top_k=top_k, **self._kinds())
        y = np.reshape(np.asarray(y_row), (1,))
        trace = explain(self._fitted_thetas(), x[0], int(self._encode(y, "y_row")[0]), lam=float(self.alpha),
                        top_k=top_k, **self._kinds())
        return replace(trace, label=y[0].item())

    def explore(self, X=None, y=None, **options):
        """This network in the explorer, live in a notebook: :func:`glassnet.widget` of ``self`` on (X, y).

        X : array (m, n), a data file's path, a built-in dataset's name or a :class:`glassnet.datasets.Dataset`;
        y : (m,) labels when X is an array. The widget holds this very Classifier: ``fit`` and ``partial_fit`` here
        redraw it, and a weight edited or a run trained in the widget is this model's ``thetas_`` (its
        ``w.model``). Needs the ``notebook`` extra (``pip install 'glassnet[notebook]'``).
        """
        from glassnet._support import frontends

        if frontends.explorer is None:  # set by glassnet/__init__.py, which every import of glassnet runs first
            raise ImportError("Classifier.explore: the notebook widget is not available; import glassnet")
        return frontends.explorer(self, X, y, **options)


class Regressor(RegressorMixin, ClassNamePrefixFeaturesOutMixin, _Network):
    """A network with identity output units trained on the squared error J = 1/(2m) ΣΣ(h − y)² + (λ/2m) ΣΘ².

    The cost and gradient are scikit-learn's ``MLPRegressor`` loss (squared error, ``alpha`` = λ); hidden units are
    sigmoid by default (``activation``). y may be (m,) (one output unit; ``predict`` returns (m,)) or (m, K).
    X may be SciPy sparse (CSR/CSC); float32 X (or ``dtype="float32"``) trains and stores float32 weights.

    Parameters
    ----------
    hidden_layer_sizes, alpha, max_iter, solver, batch_size, learning_rate, momentum, nesterov, beta_1, beta_2, \
epsilon, tol, early_stopping, validation_fraction, n_iter_no_change, shuffle, init_epsilon, warm_start, \
random_state, n_threads, verbose, activation, dtype
        As for :class:`Classifier` (early stopping holds out a plain random split and scores by R²).

    Attributes
    ----------
    thetas_ : list of ndarray
        ``thetas_[l-1]`` is Θ^(l), shape (s_{l+1}, s_l + 1), bias column first.
    history_, n_iter_, n_features_in_, feature_names_in_, loss_, loss_curve_, validation_scores_ (R²),
    validation_loss_curve_, best_validation_score_, layer_sizes_, n_outputs_
        As for :class:`Classifier`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(-1, 1, 50).reshape(-1, 1)
    >>> reg = Regressor(hidden_layer_sizes=(8,), alpha=1e-4, activation="tanh", random_state=0).fit(X, X[:, 0] ** 2)
    >>> reg.predict(X[:2]).shape, reg.score(X, X[:, 0] ** 2) > 0.95
    ((2,), True)
    """

    @classmethod
    def from_weights(cls, thetas, *, history: History | None = None, n_iter: int | None = None, feature_names=None,
                     **params) -> Regressor:
        """A fitted Regressor with the given weights (one identity output per target), ready to predict."""
        return cls._assemble(thetas, history=history, n_iter=n_iter, feature_names=feature_names, **params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _pair(self):
        return output_loss("identity", "squared")

    def _targets(self, y, m: int, name: str = "y"):
        return np.asarray(y)

    def _score_z(self, zL, T) -> float:
        import warnings

        from sklearn.exceptions import UndefinedMetricWarning
        from sklearn.metrics import r2_score

        with warnings.catch_warnings():  # a validation set of one example has no R² (NaN): not worth a warning
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            return float(r2_score(np.asarray(T).reshape(zL.shape), zL))  # what score() reports

    def _check_y(self, X, y, reset: bool, finite: bool = True):
        X, y = setup.validated(self, X, y, dtype=self._fit_dtype(), reset=reset, multi_output=True, y_numeric=True,
                               finite=finite)
        Y = (y.reshape(-1, 1) if y.ndim == 1 else y).astype(X.dtype, copy=False)
        return X, Y

    def fit(self, X, y, *, X_val=None, y_val=None, callbacks=None):
        """Train on X (m, n_features) with real targets y (m,) or (m, K).

        ``X_val, y_val``: validation data (cost and R² every iteration/epoch, early stopping); ``callbacks`` as for
        :meth:`Classifier.fit`. Returns self.
        """
        self._check_params()
        dask_fit.refuse(X, "Regressor.fit")
        warm = bool(self.warm_start) and hasattr(self, "thetas_")
        X, Y = self._check_y(X, y, reset=not warm, finite=False)  # see _train
        validate = None
        if X_val is not None or y_val is not None:
            if X_val is None or y_val is None:
                raise ValueError("X_val, y_val: pass both or neither")
            Xv = self._validate_X(X_val, dtype=self._fit_dtype())
            Yv = np.asarray(y_val, dtype=Xv.dtype)
            Yv = Yv.reshape(-1, 1) if Yv.ndim == 1 else Yv
            if Yv.shape != (Xv.shape[0], Y.shape[1]):
                raise ValueError(f"y_val: expected targets of shape ({Xv.shape[0]}, {Y.shape[1]}), got {Yv.shape}")
            validate = self._validator(Xv, Yv)
        thetas, history = self._train(X, Y, Y.shape[1], warm, validate, callbacks)
        self._store_fit(thetas, history, warm)
        return self

    @available_if(_Network._partial_fit_available)
    def partial_fit(self, X, y):
        """One epoch of mini-batch training on (X, y), continuing from the current weights. Returns self."""
        self._check_params()
        dask_fit.refuse(X, "partial_fit")
        first = not hasattr(self, "thetas_")
        X, Y = self._check_y(X, y, reset=first)
        return self._partial_epoch(X, Y, Y.shape[1], first)

    def predict(self, X) -> np.ndarray:
        """h_Θ(x) = z^(L): shape (m,) for one output unit, else (m, K)."""
        dask_fit.refuse(X, "Regressor.predict")
        zL = self._z_out(X)
        return zL[:, 0] if zL.shape[1] == 1 else zL

    def explain(self, X_row, y_row, top_k: int | None = None):
        """:func:`glassnet.explain` of one example (x, real target) at the fitted weights (λ = ``alpha``)."""
        x = self._validate_X(np.reshape(np.asarray(X_row), (1, -1)))
        y = np.reshape(np.asarray(y_row, dtype=float), (self.n_outputs_,))
        return explain(self._fitted_thetas(), x[0], y, lam=float(self.alpha), top_k=top_k, **self._kinds())
