"""The output layer's one home: how many output units, which class each unit stands for, targets and predictions.

Every front end (estimator, explainer, explorer, CLI, model files, interop) asks this module; none decides on its own.

- **K**: two classes use K = 1 sigmoid unit, h = P(positive class | x); more classes use K units, one per class
  (:func:`n_outputs`). The lecture's cost treats the K units as K independent logistic terms.
- **Classes ↔ units** (:class:`OutputLayer`): ``classes[k]`` is the class of output unit k + 1 (lecture numbering);
  for K = 1, ``classes = [negative, positive]``. A model trained by glassnet has its classes sorted. The course's
  digit networks (``ex4weights.mat``) keep the course's order :data:`COURSE_DIGIT_CLASSES`: units 1..9 are digits
  1..9 and unit 10 is digit 0 (MATLAB has no index 0, so the course's label 10 means digit 0).
- **Targets**: labels → the (m, K) 0/1 matrix Y whose row t is the lecture's y^(t) (:func:`encode_labels` for unit
  indices, :meth:`OutputLayer.targets` for class labels).
- **Prediction from z^(L)**: the largest output (K > 1), or the lecture's h ≥ 0.5 ⇔ z ≥ 0 (K = 1) —
  :func:`predict_units`. g is increasing, so the largest z is the largest h.
- **Probabilities**: [1 − h, h] (K = 1); h_k / Σ_j h_j (K > 1), computed from log h so that it never divides 0 by 0
  (the one-vs-rest probabilities of ``LogisticRegression(multi_class="ovr")``, not a softmax).

- **Output/loss pairs** (:class:`OutputLoss`, :func:`output_loss`): the final activation, J's data term from z and
  δ^(L) = ∂cost/∂z^(L) for each supported pair, derived once here: sigmoid+log (the lecture: δ = a − y), softmax+log
  (δ = a − y), sigmoid+squared (the note's (h − y)²: δ = (a − y)·g′(z)), identity+squared (regression: δ = a − y).
  backprop, the fast path, the explainer and the torch path call it.

Not here: regularization and the full J (:mod:`glassnet.cost`), hidden layers' δ (:mod:`glassnet.backprop`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from glassnet._support import special  # scipy.special, imported on first use
from glassnet.activations import softplus
from glassnet.notation import sub

__all__ = [
    "CLASSIFIER_PAIRS",
    "is_lecture_network",
    "COURSE_DIGIT_CLASSES",
    "course_classes",
    "n_outputs",
    "n_classes_for",
    "one_hot",
    "encode_labels",
    "predict_units",
    "predict_indicator",
    "probabilities",
    "OutputLayer",
    "unit_symbol",
    "OutputLoss",
    "OUTPUT_LOSS_PAIRS",
    "output_loss",
    "regression_targets",
]

#: Output-unit order of the course's digit networks: units 1..9 are digits 1..9, unit 10 is digit 0.
COURSE_DIGIT_CLASSES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 0)


def course_classes(K: int) -> tuple:
    """The classes of a course network's K output units, in unit order (the course's files carry no labels).

    The course numbers classes from 1 (Octave has no index 0): unit k is label k. Its digit networks (K = 10) read
    label 10 as the digit 0, so their classes are :data:`COURSE_DIGIT_CLASSES`; a single output unit is [0, 1].

    >>> course_classes(10)
    (1, 2, 3, 4, 5, 6, 7, 8, 9, 0)
    >>> course_classes(3), course_classes(1)
    ((1, 2, 3), (0, 1))
    """
    if K == 10:
        return COURSE_DIGIT_CLASSES
    return (0, 1) if K == 1 else tuple(range(1, K + 1))


def n_outputs(n_classes: int) -> int:
    """K, the output units for ``n_classes`` classes: 1 for two classes (one sigmoid unit), else one per class.

    >>> n_outputs(2), n_outputs(10)
    (1, 10)
    """
    if n_classes < 2:
        raise ValueError(f"classes: a classifier needs at least 2 classes, got {n_classes}")
    return 1 if n_classes == 2 else int(n_classes)


def n_classes_for(K: int) -> int:
    """The number of classes that K output units stand for (2 for a single unit)."""
    return 2 if K == 1 else int(K)


def one_hot(labels, K: int, dtype=np.float64) -> np.ndarray:
    """Integer labels 0..K-1, shape (m,), as an (m, K) matrix with a single 1 per row.

    No checking: use :func:`encode_labels` for labels from outside.

    Examples
    --------
    >>> one_hot([2, 0], 3)
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    labels = np.asarray(labels)
    Y = np.zeros((labels.shape[0], K), dtype=dtype)
    Y[np.arange(labels.shape[0]), labels] = 1
    return Y


def encode_labels(y, K: int, m: int, dtype=np.float64, name: str = "y") -> np.ndarray:
    """Targets as the (m, K) 0/1 matrix Y that the cost and δ^(L) = a^(L) - Y use.

    Parameters
    ----------
    y : array_like
        Unit indices 0..K-1 of shape (m,) when K > 1; an (m, K) 0/1 matrix (one-hot or multilabel); 0/1 labels of
        shape (m,) or (m, 1) when K = 1 (a single output unit).
    K : int
        Output units.
    m : int
        Examples (rows of X).
    dtype : numpy dtype
        dtype of the result.
    name : str
        Argument name used in error messages.

    Returns
    -------
    Y : array, shape (m, K)
        0/1 targets; row t is the lecture's y^(t).

    Raises
    ------
    ValueError
        Naming ``name``, what was expected and what came (wrong length, label out of 0..K-1, non-0/1 matrix...).

    Examples
    --------
    >>> encode_labels([2, 0], K=3, m=2)
    array([[0., 0., 1.],
           [1., 0., 0.]])
    >>> encode_labels([1, 0], K=1, m=2)
    array([[1.],
           [0.]])
    >>> encode_labels([3], K=3, m=1)
    Traceback (most recent call last):
    ...
    ValueError: y: expected labels in 0..2 (K = 3 output units), found 3
    """
    try:
        arr = np.asarray(y)
    except Exception as exc:
        raise ValueError(f"{name}: expected an array of labels, got {type(y).__name__} ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name}: expected numeric labels, got dtype {arr.dtype}")
    if arr.ndim == 2 and arr.shape[1] == 1 and K == 1:
        arr = arr[:, 0]
    if arr.ndim == 0 or arr.shape[0] != m:
        raise ValueError(f"{name}: expected {m} labels (one per row of X), got shape {arr.shape}")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite labels, found NaN or inf")
    if arr.ndim == 2:
        if arr.shape[1] != K:
            raise ValueError(
                f"{name}: expected a one-hot matrix of shape ({m}, {K}) for K = {K} outputs, got {arr.shape}"
            )
        if not np.isin(arr, (0, 1)).all():
            raise ValueError(
                f"{name}: expected a one-hot/multilabel matrix of 0s and 1s, got values {np.unique(arr)[:5]}"
            )
        return arr.astype(dtype, copy=False)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected shape ({m},) or ({m}, {K}), got {arr.shape}")
    if K == 1:
        if not np.isin(arr, (0, 1)).all():
            bad = arr[~np.isin(arr, (0, 1))][0]
            raise ValueError(f"{name}: a single output unit (K = 1) needs labels 0 or 1, found {bad}")
        return arr.astype(dtype).reshape(m, 1)
    if arr.dtype.kind == "f" and not (np.mod(arr, 1) == 0).all():  # integers are whole by their type
        raise ValueError(f"{name}: expected integer class labels 0..{K - 1}, found non-integer values")
    if arr.min() < 0 or arr.max() > K - 1:
        bad = arr[(arr < 0) | (arr > K - 1)][0]
        raise ValueError(f"{name}: expected labels in 0..{K - 1} (K = {K} output units), found {bad}")
    return one_hot(arr.astype(np.intp), K, dtype=dtype)


def predict_units(zL: np.ndarray) -> np.ndarray:
    """The predicted output unit (0-based) per row of z^(L) (m, K): argmax (K > 1), or 1 if h ≥ 0.5 ⇔ z ≥ 0 (K = 1).

    >>> predict_units(np.array([[0.0], [0.1], [-3.0]])).tolist()   # the lecture: predict 1 when h ≥ 0.5
    [1, 1, 0]
    >>> predict_units(np.array([[1.0, 3.0, 2.0]])).tolist()
    [1]
    """
    zL = np.asarray(zL)
    if zL.ndim == 1:
        zL = zL[None, :]
    if zL.shape[1] == 1:
        return (zL[:, 0] >= 0).astype(np.intp)
    return np.argmax(zL, axis=1)


def predict_indicator(zL: np.ndarray) -> np.ndarray:
    """Multilabel prediction: an (m, K) 0/1 indicator, unit k on when h_k ≥ 0.5 ⇔ z_k ≥ 0 (the lecture's rule per unit).

    >>> predict_indicator(np.array([[0.0, -1.0, 2.0]])).tolist()
    [[1, 0, 1]]
    """
    return (np.asarray(zL) >= 0).astype(np.intp)


def probabilities(zL: np.ndarray, log: bool = False, output: str = "sigmoid") -> np.ndarray:
    """(log) class probabilities from z^(L), columns in output-unit order: [1 - h, h] (K = 1) or h_k / Σ_j h_j
    (sigmoid units); softmax(z) for ``output="softmax"``."""
    zL = np.asarray(zL)
    if output == "softmax":
        return special.log_softmax(zL, axis=1) if log else special.softmax(zL, axis=1)
    if zL.shape[1] == 1:
        out = np.column_stack([special.log_expit(-zL[:, 0]), special.log_expit(zL[:, 0])])
        return out if log else np.exp(out)
    return special.log_softmax(special.log_expit(zL), axis=1) if log else special.softmax(special.log_expit(zL), axis=1)




def unit_symbol(j: int) -> str:
    """h with a subscript for output unit j (1-based): ``unit_symbol(8) == "h₈"``."""
    return "h" + sub(int(j))


def _plain(label):
    return label.item() if isinstance(label, np.generic) else label


@dataclass(frozen=True, eq=False)
class OutputLayer:
    """Which class each output unit stands for, and everything derived from it.

    Parameters
    ----------
    classes : sequence
        ``classes[k]`` is the class of output unit k + 1 (K > 1: one label per unit, in unit order); for a single
        output unit (K = 1), ``[negative, positive]``. At least two distinct labels.
    class_noun : str, optional
        How a person names one class, e.g. ``"digit"``: unit names read "h₈ · digit 7". Default: just the label.

    Examples
    --------
    >>> course = OutputLayer(COURSE_DIGIT_CLASSES, class_noun="digit")
    >>> course.K, course.unit_of([0, 3]).tolist(), course.unit_name(10)
    (10, [9, 2], 'h₁₀ · digit 0')
    >>> OutputLayer(range(10), class_noun="digit").unit_name(8)
    'h₈ · digit 7'
    """

    classes: np.ndarray
    class_noun: str | None = None
    _order: np.ndarray = field(init=False, repr=False)  # classes' sort order, set in __post_init__

    def __post_init__(self) -> None:
        classes = np.asarray(list(self.classes) if not isinstance(self.classes, np.ndarray) else self.classes)
        if classes.ndim != 1:
            raise ValueError(f"classes: expected a 1-D sequence of labels, got shape {classes.shape}")
        n_outputs(len(classes))  # at least two
        if len(np.unique(classes)) != len(classes):
            raise ValueError(f"classes: expected distinct labels, got {classes.tolist()}")
        object.__setattr__(self, "classes", classes)
        # Sorted classes and, for each, its position in unit order: for binary search of labels.
        order = np.argsort(classes, kind="stable")
        object.__setattr__(self, "_order", order)

    @classmethod
    def for_units(cls, K: int, classes=None, class_noun: str | None = None) -> OutputLayer:
        """The output layer of K units with ``classes`` in unit order, default 0..K-1 (K = 1: [0, 1])."""
        if classes is None:
            classes = np.arange(n_classes_for(K))
        layer = cls(classes, class_noun)
        if layer.K != K:
            unit = ("1 output unit needs 2 labels [negative, positive]" if K == 1
                    else f"{K} output units need {K} labels")
            raise ValueError(f"classes: {unit}, got {layer.classes.tolist()}")
        return layer

    @staticmethod
    def sorted_encoding(y) -> tuple[np.ndarray, np.ndarray]:
        """``(classes, units)`` of labels y (m,): the distinct classes in sorted order, and each label's output unit in
        the layer of those classes (``OutputLayer(classes).unit_of(y)``, the order of every model glassnet trains
        itself), both from one ``np.unique`` pass.

        >>> [a.tolist() for a in OutputLayer.sorted_encoding(np.array([7, 3, 7, 5]))]
        [[3, 5, 7], [2, 0, 2, 1]]
        """
        classes, units = np.unique(y, return_inverse=True)
        return classes, units.reshape(-1)

    @property
    def K(self) -> int:
        """Output units."""
        return n_outputs(len(self.classes))

    @property
    def sorted_classes(self) -> np.ndarray:
        """The classes in sorted order (scikit-learn's ``classes_``)."""
        return self.classes[self._order]

    @property
    def is_sorted(self) -> bool:
        """True when unit order is sorted order (every model glassnet trains itself)."""
        return bool(np.array_equal(self._order, np.arange(len(self.classes))))

    def unit_of(self, y, name: str = "y") -> np.ndarray:
        """Class labels (m,) → the index of their output unit, 0-based (K = 1: 0 negative / 1 positive).

        A label that is not one of the classes is a ``ValueError`` naming ``name`` and the classes.
        """
        y = np.asarray(y)
        if y.size == 0:  # an empty chunk
            return np.empty(y.shape, dtype=np.intp)
        ordered = self.sorted_classes
        try:
            pos = np.clip(np.searchsorted(ordered, y), 0, len(ordered) - 1)
            unknown = ordered[pos] != y
        except TypeError:  # labels of a type that does not compare with the classes (e.g. str vs int)
            pos, unknown = np.zeros(y.shape, dtype=np.intp), np.ones(y.shape, dtype=bool)
        if np.any(unknown):
            example = _plain(y[unknown][0])
            raise ValueError(f"{name}: found labels not seen in fit, e.g. {example!r}; the classes are "
                             f"{self.sorted_classes.tolist()}")
        return self._order[pos]

    def targets(self, y, dtype=np.float64, name: str = "y") -> np.ndarray:
        """Class labels (m,) → the (m, K) 0/1 target matrix Y of the lecture's cost."""
        idx = self.unit_of(y, name)
        return encode_labels(idx, self.K, idx.shape[0], dtype=dtype, name=name)

    def predict(self, zL: np.ndarray) -> np.ndarray:
        """Predicted class labels (m,) from z^(L) (m, K) (see :func:`predict_units`)."""
        return self.classes[predict_units(zL)]

    def proba(self, zL: np.ndarray, log: bool = False, output: str = "sigmoid") -> np.ndarray:
        """(log) class probabilities (m, n_classes), columns in **sorted** class order (scikit-learn's)."""
        P = probabilities(zL, log, output)
        return P[:, self._order] if P.shape[1] == len(self.classes) else P

    def sorted_units(self, theta_out: np.ndarray) -> np.ndarray:
        """The output layer's Θ^(L-1) (K, s + 1) rearranged so that its units follow the sorted classes.

        For tools that expect sorted classes (scikit-learn's ``MLPClassifier``): K > 1 reorders the rows; K = 1 with
        the classes given as [positive, negative] negates the row (h' = 1 − h = g(−z)). A new array.
        """
        theta_out = np.array(theta_out, copy=True)
        if self.K == 1:
            return -theta_out if self._order[0] == 1 else theta_out
        return theta_out[self._order]

    def class_of(self, j: int):
        """The class of output unit j (1-based, lecture numbering); K = 1: the positive class."""
        if not 1 <= j <= self.K:
            raise ValueError(f"unit: expected an output unit in 1..{self.K}, got {j}")
        return _plain(self.classes[1] if self.K == 1 else self.classes[j - 1])

    def class_name(self, label) -> str:
        """How a person reads one class: ``"digit 7"`` with a class noun, else the label itself."""
        text = str(_plain(label))
        return f"{self.class_noun} {text}" if self.class_noun else text

    def unit_name(self, j: int) -> str:
        """``"h₈ · digit 7"``: output unit j (1-based) with the class it stands for (K = 1: ``P(positive)``)."""
        name = self.class_name(self.class_of(j))
        return f"{unit_symbol(j)} · P({name})" if self.K == 1 else f"{unit_symbol(j)} · {name}"

    def unit_names(self) -> list[str]:
        """:meth:`unit_name` of every output unit, in unit order."""
        return [self.unit_name(j) for j in range(1, self.K + 1)]

    def describe(self) -> str:
        """One line: which unit stands for which class."""
        if self.K == 1:
            return f"1 output unit: h = P({self.class_name(self.classes[1])}), else {self.class_name(self.classes[0])}"
        pairs = ", ".join(f"{j}→{self.class_name(c)}" for j, c in enumerate(self.classes.tolist(), start=1))
        return f"{self.K} output units: {pairs}"


# ---------------------------------------------------------------------------------------------------------------------
# output/loss pairs: a^(L), J's data term and δ^(L), one place for all of them
# ---------------------------------------------------------------------------------------------------------------------

#: The supported (output, loss) pairs; the first is the lecture's.
OUTPUT_LOSS_PAIRS = (("sigmoid", "log"), ("softmax", "log"), ("sigmoid", "squared"), ("identity", "squared"))


def regression_targets(y, K: int, m: int, dtype=np.float64, name: str = "y") -> np.ndarray:
    """Real-valued targets (m,) (K = 1) or (m, K) as the (m, K) matrix Y of the squared cost; finite numbers only."""
    try:
        arr = np.asarray(y)
    except Exception as exc:
        raise ValueError(f"{name}: expected an array of targets, got {type(y).__name__} ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name}: expected numeric targets, got dtype {arr.dtype}")
    if arr.ndim == 1 and K == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape != (m, K):
        raise ValueError(f"{name}: expected targets of shape ({m}, {K}) (or ({m},) for K = 1), got {arr.shape}")
    arr = arr.astype(dtype, copy=False)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: expected finite targets, found NaN or inf")
    return arr


@dataclass(frozen=True)
class OutputLoss:
    """An output activation with its cost: a^(L) from z^(L), the cost summed over examples, and δ^(L) = ∂cost/∂z^(L).

    Every method takes ``axis``, the axis of the K output units (1 when examples are rows, 0 for the fast path's
    columns). Costs are computed from z (softplus, logsumexp), never from the log of a rounded a.

    ======================  ===========================================  ==============================
    pair                    cost(t) of one example                       δ^(L)
    ======================  ===========================================  ==============================
    sigmoid + log           −Σ_k [y_k log h_k + (1 − y_k) log(1 − h_k)]  a − y
    softmax + log           −Σ_k y_k log softmax(z)_k                    a − y (one-hot y)
    sigmoid + squared       ½ Σ_k (h_k − y_k)²                           (a − y) .* a(1 − a)
    identity + squared      ½ Σ_k (h_k − y_k)²                           a − y
    ======================  ===========================================  ==============================
    """

    output: str
    loss: str

    @property
    def is_lecture(self) -> bool:
        """True for the lecture's sigmoid units with the logistic cost."""
        return (self.output, self.loss) == ("sigmoid", "log")

    @property
    def is_regression(self) -> bool:
        """True for identity outputs (real-valued targets, :class:`glassnet.Regressor`); the others classify."""
        return self.output == "identity"

    @property
    def cost_text(self) -> str:
        """The example's cost as the explainer prints it."""
        return {
            ("sigmoid", "log"): "cost = −Σ_k [y_k log h_k + (1 − y_k) log(1 − h_k)]",
            ("softmax", "log"): "cost = −Σ_k y_k log h_k,  h = softmax(z)",
            ("sigmoid", "squared"): "cost = ½ Σ_k (h_k − y_k)²,  h = sigmoid(z)",
            ("identity", "squared"): "cost = ½ Σ_k (h_k − y_k)²,  h = z",
        }[(self.output, self.loss)]

    @property
    def delta_text(self) -> str:
        """δ^(L) in words: ``"a − y"`` or ``"(a − y)·g′(z)"``."""
        return "(a − y)·g′(z)" if (self.output, self.loss) == ("sigmoid", "squared") else "a − y"

    def activate(self, zL: np.ndarray, axis: int = 1) -> np.ndarray:
        """a^(L) = h_Θ(x) from z^(L) (a new array)."""
        if self.output == "sigmoid":
            return special.expit(zL)
        if self.output == "softmax":
            return special.softmax(zL, axis=axis)
        return np.array(zL, copy=True)

    def targets(self, y, K: int, m: int, dtype=np.float64, name: str = "y") -> np.ndarray:
        """y → the (m, K) target matrix of this cost (0/1 for the log costs and sigmoid outputs, real for identity)."""
        if self.output == "identity":
            return regression_targets(y, K, m, dtype=dtype, name=name)
        self.check_units(K, name)
        Y = encode_labels(y, K, m, dtype=dtype, name=name)
        if self.output == "softmax" and not np.all(Y.sum(axis=1) == 1):
            raise ValueError(f"{name}: a softmax output needs one class per example (one-hot rows), got a row "
                             "with no or several 1s; use output='sigmoid' for multilabel targets")
        return Y

    def check_units(self, K: int, name: str = "y") -> None:
        """A ValueError when this output cannot have K units (a softmax needs K ≥ 2: one softmax unit is always 1)."""
        if self.output == "softmax" and K < 2:
            raise ValueError(f"{name}: a softmax output needs K ≥ 2 units (a single softmax unit is always 1; two "
                             "classes use one sigmoid unit); use output='sigmoid' for one unit")

    def cost_sum(self, zL: np.ndarray, Y: np.ndarray, axis: int = 1) -> float:
        """Σ over examples of cost(t), from z^(L) and targets Y of the same shape; summed in float64."""
        if self.is_lecture:
            # -[y log g(z) + (1-y) log(1-g(z))] = softplus((1 - 2y) z) for y ∈ {0, 1}: exact, never log(0).
            return float(np.sum(softplus(zL * (1 - 2 * Y)), dtype=np.float64))
        if self.output == "softmax":
            # −Σ_k y_k log softmax_k = Σ_k y_k (logsumexp(z) − z_k): log-softmax via logsumexp, never log(0).
            lse = special.logsumexp(zL, axis=axis, keepdims=True)
            return float(np.sum(Y * (lse - zL), dtype=np.float64))
        h = special.expit(zL) if self.output == "sigmoid" else zL
        r = h - Y
        return 0.5 * float(np.sum(r * r, dtype=np.float64))

    def delta(self, zL: np.ndarray, aL: np.ndarray, Y: np.ndarray, axis: int = 1) -> np.ndarray:
        """δ^(L) = ∂cost/∂z^(L) (a new array) from z^(L), a^(L) = :meth:`activate` (z^(L)) and Y."""
        d = aL - Y
        if (self.output, self.loss) == ("sigmoid", "squared"):
            d *= aL * (1.0 - aL)  # the chain rule through h = g(z): no cancellation as with the logistic cost
        return d


def output_loss(output="sigmoid", loss="log") -> OutputLoss:
    """The :class:`OutputLoss` of an (output, loss) pair; any other pair is a ValueError listing the supported ones.

    >>> output_loss().is_lecture, output_loss("identity", "squared").delta_text
    (True, 'a − y')
    >>> output_loss("softmax", "squared")
    Traceback (most recent call last):
    ...
    ValueError: output, loss: expected one of sigmoid+log, softmax+log, sigmoid+squared, identity+squared,
    got softmax+squared
    """
    if isinstance(output, OutputLoss):
        return output
    try:
        return _PAIRS[output, loss]  # made once: every public call asks
    except (KeyError, TypeError):  # TypeError: an unhashable argument
        pairs = ", ".join(f"{o}+{c}" for o, c in OUTPUT_LOSS_PAIRS)
        raise ValueError(f"output, loss: expected one of {pairs}, got {output}+{loss}") from None


_PAIRS = {pair: OutputLoss(*pair) for pair in OUTPUT_LOSS_PAIRS}


#: The pairs that classify (every pair but the identity output's regression): what the classification commands and
#: the explorer offer.
CLASSIFIER_PAIRS = tuple(p for p in OUTPUT_LOSS_PAIRS if not output_loss(*p).is_regression)


def is_lecture_network(activation: str = "sigmoid", output: str = "sigmoid", loss: str = "log") -> bool:
    """True for the lecture's network: sigmoid hidden units, sigmoid output units and the logistic cost (what the
    course's files, Nielsen's JSON and the Dask sums hold).

    >>> is_lecture_network(), is_lecture_network("tanh"), is_lecture_network(output="softmax", loss="log")
    (True, False, False)
    """
    return activation == "sigmoid" and output_loss(output, loss).is_lecture
