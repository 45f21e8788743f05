"""Traces of backpropagation for one example: every z, a, g′(z), δ and edge term, in the lecture's 1-based notation.

For: seeing the note's intuition with real numbers. :func:`explain` runs backprop's own whole-batch code,
:func:`glassnet.forward.propagate` and :func:`glassnet.backprop.deltas`, and keeps, per layer l and unit j:

- z_j^(l), a_j^(l), g′(z_j^(l)) (a(1 − a) for the lecture's sigmoid; tanh, ReLU, identity: see
  :mod:`glassnet.activations`) and δ_j^(l) = ∂cost/∂z_j^(l) (the note's definition); δ^(L) comes from the output/loss
  pair (:class:`glassnet.outputs.OutputLoss`: a − y, or (a − y)·g′(z) for the squared cost of sigmoid outputs);
- for hidden units, the **edge terms** Θ_ij^(l)·δ_i^(l+1) over the unit's outgoing edges, whose sum times g′(z_j^(l))
  is δ_j^(l) (the note's δ₂⁽²⁾ = Θ₁₂⁽²⁾δ₁⁽³⁾ + Θ₂₂⁽²⁾δ₂⁽³⁾, before the g′ factor);
- the example's cost cost(t) and its contribution δ^(l+1)(a^(l))ᵀ to Δ^(l), plus its share of Δ when the whole batch
  is known.

Indices follow the lecture: layers l = 1..L, units j = 1..s_l, j = 0 the bias unit (a_0 = 1), and Θ_ij^(l)
connects unit j of layer l to unit i of layer l+1. ``trace.delta[2][2]`` is δ₂⁽²⁾ and ``trace.theta[2][1, 2]`` is
Θ₁₂⁽²⁾.

Not for: training (use :func:`glassnet.cost_and_gradient`) or drawing (:mod:`glassnet.explain.text`,
:mod:`~glassnet.explain.diagram`, :mod:`~glassnet.explain.figures`, :mod:`~glassnet.explain.report`). Everything here
is plain data: :meth:`Trace.to_dict` is JSON-safe. A trace shows itself as a short summary (``repr``, ``print``) and, in
Jupyter, as its backward diagram and δ equations; the renderers supply both (see :func:`set_display`).

>>> import numpy as np, glassnet
>>> thetas = glassnet.debug_init([2, 2, 1])
>>> tr = glassnet.explain(thetas, np.array([0.5, -1.0]), 1)
>>> bool(np.isclose(tr.delta[2][1], tr.unit(2, 1).edge_sum * tr.g_prime[2][1]))
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, overload

import numpy as np

from glassnet._fast.workspace import batch_sums
from glassnet._validation import check_lam, check_thetas, check_X
from glassnet.activations import get_activation
from glassnet.backprop import accumulate, deltas, finish
from glassnet.forward import ForwardCache, propagate
from glassnet.outputs import OutputLoss, is_lecture_network, output_loss, predict_units

__all__ = [
    "EdgeTerm",
    "UnitTrace",
    "LayerTrace",
    "GradientTrace",
    "Trace",
    "LectureVector",
    "LectureLayers",
    "LectureMatrix",
    "explain",
]

#: Matrices with more entries than this are summarized (norm + largest entries) by :meth:`Trace.to_dict`.
MAX_DICT_MATRIX_ENTRIES = 4096

# How a trace shows itself. The words and the pictures belong to the renderers (text, report), which import this
# module; so that this data module imports none of them (no import cycle, also not inside a function), the package's
# __init__ hands their functions to set_display() while glassnet.explain is imported. Every import of this module
# goes through that package, so a Trace never exists before its display is set.
_DISPLAY: dict[str, Callable[[Trace], str]] = {}


def set_display(*, text: Callable[[Trace], str], html: Callable[[Trace], str]) -> None:
    """Set what ``repr(trace)`` / ``str(trace)`` (``text``) and ``trace._repr_html_()`` (``html``, Jupyter) return."""
    _DISPLAY.update(text=text, html=html)


# ----------------------------------------------------------------------------------------------------------------
# Lecture-indexed views: thin read-only wrappers that translate 1-based lecture indices and name the valid range.


class LectureVector:
    """One layer's values indexed by the lecture's unit number j = 1..s_l (and j = 0 for a bias unit, if any).

    ``values`` is the plain 0-based array (shape (s_l,), no bias); ``np.asarray(v)`` gives a copy of it.
    """

    __slots__ = ("name", "l", "values", "bias")

    def __init__(self, name: str, l: int, values: np.ndarray, bias: float | None = None):
        self.name, self.l, self.values, self.bias = name, l, values, bias

    def __len__(self) -> int:
        return self.values.shape[0]

    def __getitem__(self, j: int) -> float:
        if isinstance(j, (bool, np.bool_)) or not isinstance(j, (int, np.integer)):
            raise TypeError(f"{self.name}[{self.l}][j]: expected an integer unit number, got {j!r}")
        lo = 0 if self.bias is not None else 1
        if not lo <= j <= len(self):
            raise IndexError(
                f"{self.name}[{self.l}][{j}]: layer {self.l} has units j = {lo}..{len(self)}"
                + (" (0 is the bias unit)" if lo == 0 else "")
            )
        return float(self.bias) if j == 0 else float(self.values[j - 1])

    def __iter__(self) -> Iterator[float]:
        return (float(v) for v in self.values)

    def __array__(self, dtype=None, copy=None):
        return np.array(self.values, dtype=dtype, copy=True)

    def __repr__(self) -> str:
        symbol = {"delta": "δ", "g_prime": "g′(z)"}.get(self.name, self.name)
        return f"{symbol}^({self.l}) = {np.array2string(self.values, precision=4, threshold=12)}"


class LectureLayers:
    """A quantity per layer, indexed by the lecture's layer number: ``trace.delta[l]`` is the vector δ^(l)."""

    __slots__ = ("name", "_vectors")

    def __init__(self, name: str, vectors: dict[int, Any]):
        self.name, self._vectors = name, vectors

    def __getitem__(self, l: int) -> Any:
        if l not in self._vectors:
            ls = sorted(self._vectors)
            raise IndexError(f"{self.name}[{l}]: {self.name} is defined for layers l = {ls[0]}..{ls[-1]}")
        return self._vectors[l]

    def __iter__(self) -> Iterator[int]:
        return iter(sorted(self._vectors))

    def __len__(self) -> int:
        return len(self._vectors)

    def __repr__(self) -> str:
        return f"LectureLayers({self.name}, l = {list(self)})"


class LectureMatrix:
    """Θ^(l) indexed the lecture's way: ``[i, j]`` is Θ_ij^(l), i = 1..s_{l+1}, j = 0..s_l (0 = bias weight)."""

    __slots__ = ("l", "values")

    def __init__(self, l: int, values: np.ndarray):
        self.l, self.values = l, values

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    def __getitem__(self, ij: tuple[int, int]) -> float:
        try:
            i, j = ij
        except (TypeError, ValueError):
            raise TypeError(f"theta[{self.l}][i, j]: expected two integer indices, got {ij!r}") from None
        rows, cols = self.values.shape
        if not (1 <= i <= rows and 0 <= j <= cols - 1):
            raise IndexError(
                f"theta[{self.l}][{i}, {j}]: Θ^({self.l}) has i = 1..{rows} (units of layer {self.l + 1}) and "
                f"j = 0..{cols - 1} (units of layer {self.l}, 0 = bias)"
            )
        return float(self.values[i - 1, j])

    def __array__(self, dtype=None, copy=None):
        return np.array(self.values, dtype=dtype, copy=True)


# ----------------------------------------------------------------------------------------------------------------
# The record.


@dataclass(frozen=True)
class EdgeTerm:
    """One outgoing edge of unit j in layer l: Θ_ij^(l) · δ_i^(l+1) (i is the lecture's 1-based unit in layer l+1)."""

    i: int
    theta: float
    delta: float
    term: float

    def to_dict(self) -> dict[str, Any]:
        return {"i": self.i, "theta": self.theta, "delta": self.delta, "term": self.term}


@dataclass(frozen=True)
class UnitTrace:
    """Everything about unit j of layer l for one example (lecture indices; ``None`` where the lecture has no value).

    ``edges`` are the outgoing edge terms of a hidden unit, in order of i. When a ``top_k`` was asked for and the unit
    has more edges, only the k largest |Θ_ij δ_i| are kept and ``omitted_sum`` is the sum of the others, so
    ``sum(e.term for e in edges) + omitted_sum == edge_sum`` always, and ``edge_sum * g_prime == delta``.
    """

    l: int
    j: int
    kind: Literal["input", "hidden", "output"]
    a: float
    z: float | None = None
    g_prime: float | None = None
    delta: float | None = None
    target: float | None = None
    edges: tuple[EdgeTerm, ...] = ()
    n_edges: int = 0
    edge_sum: float | None = None
    omitted_sum: float = 0.0

    @property
    def n_omitted(self) -> int:
        """How many outgoing edges ``edges`` leaves out."""
        return self.n_edges - len(self.edges)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"l": self.l, "j": self.j, "kind": self.kind, "z": self.z, "a": self.a,
                             "g_prime": self.g_prime, "delta": self.delta}
        if self.kind == "output":
            d["target"] = self.target
        if self.kind == "hidden":
            d.update(edges=[e.to_dict() for e in self.edges], n_edges=self.n_edges, edge_sum=self.edge_sum,
                     omitted_sum=self.omitted_sum)
        return d


@dataclass(frozen=True, eq=False)
class LayerTrace:
    """Layer l of one example: 0-based arrays of shape (s_l,), bias unit not included (``has_bias`` says if l has one).

    ``z``, ``g_prime`` are ``None`` for the input layer, ``delta`` too (inputs have no error term).
    """

    l: int
    kind: Literal["input", "hidden", "output"]
    a: np.ndarray
    z: np.ndarray | None = None
    g_prime: np.ndarray | None = None
    delta: np.ndarray | None = None
    has_bias: bool = True

    @property
    def size(self) -> int:
        """s_l, the number of units without the bias unit."""
        return self.a.shape[0]


@dataclass(frozen=True, eq=False)
class GradientTrace:
    """The example's part in the gradient of Θ^(l).

    ``contribution`` = δ^(l+1) (a^(l))ᵀ, shape (s_{l+1}, s_l + 1) like Θ^(l): the term that the example adds to
    Δ^(l) = Σ_t δ^(l+1)(a^(l))ᵀ. ``m`` is the batch size when known; then ``D_term`` = contribution / m is its term in
    D^(l) = Δ^(l)/m + (λ/m)Θ^(l). When the whole batch was given, ``Delta`` is the batch's Δ^(l), ``D`` its gradient,
    and ``share`` = ⟨contribution, Δ⟩ / ‖Δ‖² the fraction of Δ^(l) along its own direction that this example supplies
    (the shares of all m examples add up to 1; a negative share means the example pulls against the batch).
    """

    l: int
    contribution: np.ndarray
    m: int | None = None
    Delta: np.ndarray | None = None
    D: np.ndarray | None = None
    share: float | None = None

    @property
    def D_term(self) -> np.ndarray | None:
        """contribution / m, the example's term in D^(l) (``None`` when m is unknown)."""
        return None if self.m is None else self.contribution / self.m

    def to_dict(self, top_k: int = 10, max_entries: int = MAX_DICT_MATRIX_ENTRIES) -> dict[str, Any]:
        d: dict[str, Any] = {"l": self.l, "shape": list(self.contribution.shape), "m": self.m, "share": self.share,
                             "contribution_norm": float(np.linalg.norm(self.contribution))}
        for name, arr in (("contribution", self.contribution), ("Delta", self.Delta), ("D", self.D)):
            if arr is not None:
                d[name] = _matrix_to_json(arr, top_k, max_entries)
        return d


def _matrix_to_json(arr: np.ndarray, top_k: int, max_entries: int) -> Any:
    """Nested lists when small; else ``{"norm", "top": [{"i", "j", "value"}]}`` with lecture indices (j = 0 bias)."""
    if arr.size <= max_entries:
        return arr.tolist()
    k = min(top_k, arr.size)
    flat = np.argpartition(np.abs(arr).ravel(), -k)[-k:]
    flat = flat[np.argsort(-np.abs(arr).ravel()[flat], kind="stable")]
    rows, cols = np.unravel_index(flat, arr.shape)
    return {"summary": f"largest {k} of {arr.size} entries by magnitude", "norm": float(np.linalg.norm(arr)),
            "top": [{"i": int(r) + 1, "j": int(c), "value": float(arr[r, c])} for r, c in zip(rows, cols)]}


@dataclass(frozen=True, eq=False)
class Trace:
    """Forward and backward pass of one example through the network Θ, in the lecture's terms.

    Attributes
    ----------
    thetas : tuple of arrays
        ``thetas[l-1]`` is Θ^(l), shape (s_{l+1}, s_l + 1), bias column first (float64).
    layers : tuple of LayerTrace
        ``layers[l-1]`` is layer l.
    y : array, shape (K,)
        The 0/1 target vector.
    cost : float
        The example's cost(t) = −Σ_k [y_k log h_k + (1 − y_k) log(1 − h_k)] (unregularized, as in the note).
    lam : float
        λ, used only for ``gradients[..].D``.
    gradients : tuple of GradientTrace
        ``gradients[l-1]`` is the example's part in the gradient of Θ^(l).
    top_k : int or None
        Keep only the k largest edge terms per unit in :meth:`unit` (``None``: all).
    example : int or None
        Row of the example in the data it came from, when known.
    label : int, float or None
        The label as given (class number), when the example had one.
    activation : str
        g of the hidden layers ("sigmoid", the lecture's, or "tanh", "relu", "identity").
    pair : OutputLoss
        The output activation and cost (default the lecture's sigmoid + log); ``pair.delta_text`` is δ^(L) in words.
        The output layer's ``g_prime`` is the output activation's elementwise derivative (for softmax the diagonal
        a(1 − a) of its Jacobian; δ^(L) = a − y holds without it).
    """

    thetas: tuple[np.ndarray, ...]
    layers: tuple[LayerTrace, ...]
    y: np.ndarray
    cost: float
    lam: float = 0.0
    gradients: tuple[GradientTrace, ...] = ()
    top_k: int | None = None
    example: int | None = None
    label: int | float | None = None
    activation: str = "sigmoid"
    pair: OutputLoss = OutputLoss("sigmoid", "log")

    @property
    def is_lecture(self) -> bool:
        """True for the lecture's network: sigmoid hidden units, sigmoid outputs, the logistic cost."""
        return is_lecture_network(self.activation, self.pair.output, self.pair.loss)

    @property
    def setup(self) -> str:
        """One line: the hidden activation and g′, the output activation and the cost, as the renderers print it."""
        act = get_activation(self.activation)
        return (f"hidden units: {act.name}, {act.g_text}, g′(z) = {act.g_prime_text} · output: {self.pair.output} · "
                f"{self.pair.cost_text} · δ⁽ᴸ⁾ = {self.pair.delta_text}")

    # -- shape facts ---------------------------------------------------------------------------------------------
    @property
    def L(self) -> int:
        """Number of layers."""
        return len(self.layers)

    @property
    def sizes(self) -> list[int]:
        """[s_1, ..., s_L]."""
        return [layer.size for layer in self.layers]

    @property
    def K(self) -> int:
        """Number of output units."""
        return self.layers[-1].size

    @property
    def x(self) -> np.ndarray:
        """The input x = a^(1), shape (s_1,)."""
        return self.layers[0].a

    @property
    def output(self) -> np.ndarray:
        """h_Θ(x) = a^(L), shape (K,)."""
        return self.layers[-1].a

    @property
    def prediction(self) -> int:
        """The predicted output unit (0-based), by :func:`glassnet.outputs.predict_units`
        (h ≥ 0.5 ⇔ z ≥ 0 for one unit)."""
        return int(predict_units(np.asarray(self.layers[-1].z)[None, :])[0])

    @property
    def target_class(self) -> int | None:
        """The true class from ``y`` (0-based), ``None`` for a multilabel or real-valued (regression) target."""
        if self.pair.is_regression:
            return None
        if self.K == 1:
            return int(self.y[0])
        return int(np.argmax(self.y)) if self.y.sum() == 1 else None

    @property
    def correct(self) -> bool | None:
        """Whether the prediction matches the target class (``None`` for multilabel targets)."""
        t = self.target_class
        return None if t is None else t == self.prediction

    # -- lecture-indexed views -----------------------------------------------------------------------------------
    def _view(self, name: str) -> LectureLayers:
        vecs = {}
        for layer in self.layers:
            if name == "a":
                vecs[layer.l] = LectureVector(name, layer.l, layer.a, 1.0 if layer.has_bias else None)
            elif getattr(layer, name) is not None:
                vecs[layer.l] = LectureVector(name, layer.l, getattr(layer, name))
        return LectureLayers(name, vecs)

    @cached_property
    def z(self) -> LectureLayers:
        """``z[l][j]`` = z_j^(l), l = 2..L."""
        return self._view("z")

    @cached_property
    def a(self) -> LectureLayers:
        """``a[l][j]`` = a_j^(l), l = 1..L; ``a[l][0]`` = 1 is the bias unit (l < L)."""
        return self._view("a")

    @cached_property
    def g_prime(self) -> LectureLayers:
        """``g_prime[l][j]`` = g′(z_j^(l)) = a_j^(l)(1 − a_j^(l)), l = 2..L."""
        return self._view("g_prime")

    @cached_property
    def delta(self) -> LectureLayers:
        """``delta[l][j]`` = δ_j^(l) = ∂cost/∂z_j^(l), l = 2..L."""
        return self._view("delta")

    @cached_property
    def theta(self) -> LectureLayers:
        """``theta[l][i, j]`` = Θ_ij^(l), l = 1..L-1."""
        return LectureLayers("theta", {l: LectureMatrix(l, t) for l, t in enumerate(self.thetas, start=1)})

    # -- units ---------------------------------------------------------------------------------------------------
    def _check_unit(self, l: int, j: int) -> None:
        if not (isinstance(l, (int, np.integer)) and 1 <= l <= self.L):
            raise IndexError(f"l: expected a layer number 1..{self.L}, got {l!r}")
        size = self.layers[l - 1].size
        if not (isinstance(j, (int, np.integer)) and 1 <= j <= size):
            raise IndexError(f"j: layer {l} has units j = 1..{size}, got {j!r}")

    def edge_terms(self, l: int, j: int) -> np.ndarray:
        """All outgoing edge terms of unit j in layer l: ``[Θ_ij^(l) δ_i^(l+1) for i = 1..s_{l+1}]``, shape (s_{l+1},).

        Defined for every layer but the output (for inputs they are the terms of ∂cost/∂x_j, which the lecture does
        not name).
        """
        self._check_unit(l, j)
        if l == self.L:
            raise IndexError(f"l: output units (layer {self.L}) have no outgoing edges; use l = 1..{self.L - 1}")
        return self.thetas[l - 1][:, j] * self.layers[l].delta

    def unit(self, l: int, j: int, top_k: int | None = -1) -> UnitTrace:
        """Unit j of layer l (lecture indices, j ≥ 1) with its edge terms if it is a hidden unit.

        ``top_k`` overrides the trace's own ``top_k`` (``None`` keeps every edge).
        """
        self._check_unit(l, j)
        layer = self.layers[l - 1]
        if layer.kind == "input":
            return UnitTrace(l=l, j=j, kind="input", a=float(layer.a[j - 1]))
        common: dict[str, Any] = dict(l=l, j=j, kind=layer.kind, a=float(layer.a[j - 1]), z=float(layer.z[j - 1]),
                      g_prime=float(layer.g_prime[j - 1]), delta=float(layer.delta[j - 1]))
        if layer.kind == "output":
            return UnitTrace(**common, target=float(self.y[j - 1]))
        terms = self.edge_terms(l, j)
        k = self.top_k if top_k == -1 else top_k
        keep = np.arange(terms.shape[0])
        if k is not None and k < terms.shape[0]:
            keep = np.sort(np.argsort(-np.abs(terms), kind="stable")[: max(int(k), 0)])
        next_delta, theta = self.layers[l].delta, self.thetas[l - 1]
        edges = tuple(EdgeTerm(i=int(i) + 1, theta=float(theta[i, j]), delta=float(next_delta[i]),
                               term=float(terms[i])) for i in keep)
        # Correctly rounded sums (fsum): shown + omitted = edge_sum and edge_sum × g′ = δ up to one rounding.
        edge_sum = math.fsum(terms.tolist())
        omitted = math.fsum(np.delete(terms, keep).tolist())
        return UnitTrace(**common, edges=edges, n_edges=int(terms.shape[0]), edge_sum=edge_sum, omitted_sum=omitted)

    def units(self, l: int) -> list[UnitTrace]:
        """Every unit of layer l, j = 1..s_l."""
        if not 1 <= l <= self.L:
            raise IndexError(f"l: expected a layer number 1..{self.L}, got {l!r}")
        return [self.unit(l, j) for j in range(1, self.layers[l - 1].size + 1)]

    # -- display (the functions come from the renderers: set_display) ---------------------------------------------
    def __repr__(self) -> str:
        show = _DISPLAY.get("text")
        return show(self) if show is not None else f"<Trace of network {'-'.join(map(str, self.sizes))}>"

    # No _repr_svg_: the HTML block holds the diagram's SVG already, and Jupyter stores every representation it is
    # given, so a second copy would double each output; glassnet.explain.diagram.diagram_svg(trace) gives the SVG.
    def _repr_html_(self) -> str | None:
        """Jupyter: the backward diagram and the δ equations (``None``, plain text, if no renderer is set)."""
        show = _DISPLAY.get("html")
        return show(self) if show is not None else None

    # -- serialization -------------------------------------------------------------------------------------------
    def to_dict(self, max_matrix_entries: int = MAX_DICT_MATRIX_ENTRIES) -> dict[str, Any]:
        """A JSON-safe dict (floats, ints, lists, ``None``) with every unit and the gradient parts.

        Gradient matrices with more than ``max_matrix_entries`` entries are summarized by their norm and largest
        entries (``top_k`` or 10 of them); Θ itself is not included (it is the model, not the trace).
        """
        layers = []
        for layer in self.layers:
            layers.append({"l": layer.l, "kind": layer.kind, "size": layer.size, "has_bias": layer.has_bias,
                           "units": [u.to_dict() for u in self.units(layer.l)]})
        return {
            "notation": "lecture indices: layers l = 1..L, units j = 1..s_l (0 = bias), Θ_ij^(l) from unit j of "
                        "layer l to unit i of layer l+1; delta = ∂cost/∂z; edge term = Θ_ij^(l)·δ_i^(l+1)",
            "sizes": self.sizes,
            "L": self.L,
            "K": self.K,
            "lam": self.lam,
            "top_k": self.top_k,
            "example": self.example,
            "label": self.label,
            "y": self.y.tolist(),
            "output": self.output.tolist(),
            "prediction": self.prediction,
            "cost": self.cost,
            "activation": self.activation,
            "output_activation": self.pair.output,
            "loss": self.pair.loss,
            "delta_output": self.pair.delta_text,
            "layers": layers,
            "gradients": [g.to_dict(self.top_k or 10, max_matrix_entries) for g in self.gradients],
        }


# ----------------------------------------------------------------------------------------------------------------
# The function.


def _check_top_k(top_k) -> int | None:
    if top_k is None:
        return None
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ValueError(f"top_k: expected a positive number of edges per unit or None (all), got {top_k!r}")
    return int(top_k)


def _check_rows(rows, m: int) -> list[int]:
    arr = np.atleast_1d(np.asarray(rows))
    if arr.dtype.kind not in "iu" or arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"rows: expected a row number or a list of row numbers 0..{m - 1}, got {rows!r}")
    bad = arr[(arr < 0) | (arr >= m)]
    if bad.size:
        raise IndexError(f"rows: X has rows 0..{m - 1}, got {int(bad[0])}")
    return [int(r) for r in arr]


@overload
def explain(thetas: Sequence[np.ndarray], x: np.ndarray, y, lam: float = 0.0, top_k: int | None = None, *,
            rows: int | None = None, m: int | None = None, activation: str = "sigmoid", output: str = "sigmoid",
            loss: str = "log") -> Trace: ...
@overload
def explain(thetas: Sequence[np.ndarray], x: np.ndarray, y, lam: float = 0.0, top_k: int | None = None, *,
            rows: Sequence[int], m: int | None = None, activation: str = "sigmoid", output: str = "sigmoid",
            loss: str = "log") -> list[Trace]: ...


def explain(thetas, x, y, lam=0.0, top_k=None, *, rows=None, m=None, activation="sigmoid", output="sigmoid",
            loss="log"):
    """Trace the forward and backward pass of one example (or a few) through Θ, with the lecture's indices.

    Parameters
    ----------
    thetas : list of arrays
        ``thetas[l-1]`` is Θ^(l), shape (s_{l+1}, s_l + 1), bias column first.
    x : array, shape (s_1,) or (m, s_1)
        One example; or a batch X, one example per row. With a batch, the traced rows are ``rows`` (default: all) and
        each trace also gets the batch's Δ^(l), D^(l) and the example's share of Δ^(l).
    y : label or array
        For one example: its class 0..K-1 (0/1 when K = 1) or its 0/1 target vector of shape (K,). For a batch: the
        labels of every row, as :func:`glassnet.cost_and_gradient` takes them.
    lam : float
        λ ≥ 0; used for D^(l) when the batch is known (δ and the edge terms do not depend on λ).
    top_k : int, optional
        Keep only the k largest |Θ_ij δ_i| edge terms per hidden unit (the sum of the rest is kept), for big nets such
        as 400-25-10 or 784-300-10. ``None`` keeps every edge.
    rows : int or list of int, optional
        With a batch x: the row(s) to trace. An int gives one :class:`Trace`, a list a list of them.
    m : int, optional
        For a single example: the size of the batch it belongs to, so that D_term = contribution / m is known.
    activation, output, loss : str
        Hidden activation and output/loss pair, as for :func:`glassnet.cost_and_gradient` (default the lecture's).
        With ``output="identity"`` y is the real target (a number, or a vector of shape (K,)).

    Returns
    -------
    Trace, or list of Trace
        One :class:`Trace` for a 1-D ``x`` or an int ``rows``; otherwise one per traced row.

    Notes
    -----
    δ comes from :func:`glassnet.backprop.deltas` on a :func:`glassnet.forward.propagate` cache: backprop's whole-batch
    code, the reference that the chunked fast path of :func:`glassnet.cost_and_gradient` is tested against. The batch
    Δ comes from :func:`glassnet._fast.workspace.batch_sums`, the call ``cost_and_gradient`` makes. Computed in float64.
    """
    act, pair = get_activation(activation), output_loss(output, loss)
    dtype = np.dtype(np.float64)
    thetas, sizes = check_thetas(thetas, dtype)
    lam = check_lam(lam)
    top_k = _check_top_k(top_k)
    K = sizes[-1]
    x_arr = np.asarray(x) if not hasattr(x, "toarray") else x
    single = np.ndim(x_arr) == 1
    if single:
        if rows is not None:
            raise ValueError("rows: only meaningful when x is a batch of shape (m, s_1); x is a single example")
        X = check_X(np.reshape(x_arr, (1, -1)), n_features=sizes[0], name="x").astype(dtype, copy=False)
        y_arr = np.asarray(y)
        if y_arr.ndim == 0 or (K == 1 and y_arr.shape == (1,)):
            y_batch = y_arr.reshape(1)
        elif y_arr.ndim == 1 and y_arr.shape[0] == K:
            y_batch = y_arr.reshape(1, K)
        else:
            raise ValueError(f"y: expected one label (0..{K - 1}) or a target vector of shape ({K},) for one "
                             f"example, got shape {y_arr.shape}")
        Y = pair.targets(y_batch, K, 1, dtype=dtype)
        label = y_arr.item() if y_arr.ndim == 0 else None
        if m is not None and (isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1):
            raise ValueError(f"m: expected the batch size as a positive int, got {m!r}")
        return _trace_rows(thetas, X, Y, [0], lam, top_k, batch=False, m=m, labels=[label], examples=[None],
                           act=act, pair=pair)[0]

    X = check_X(x_arr, n_features=sizes[0], name="x").astype(dtype, copy=False)
    if m is not None:
        raise ValueError("m: for a batch x, m is its number of rows; pass m only with a single example")
    Y = pair.targets(y, K, X.shape[0], dtype=dtype)
    y_arr = np.asarray(y)
    picked = list(range(X.shape[0])) if rows is None else _check_rows(rows, X.shape[0])
    labels = [y_arr[r].item() if y_arr.ndim == 1 else None for r in picked]
    traces = _trace_rows(thetas, X, Y, picked, lam, top_k, batch=True, m=X.shape[0], labels=labels, examples=picked,
                         act=act, pair=pair)
    return traces[0] if rows is not None and np.ndim(rows) == 0 else traces


def _output_g_prime(pair: OutputLoss, a: np.ndarray) -> np.ndarray:
    """The output activation's elementwise derivative from a (softmax: the diagonal of its Jacobian)."""
    return np.ones_like(a) if pair.output == "identity" else a * (1.0 - a)


def _trace_rows(thetas, X, Y, picked, lam, top_k, *, batch, m, labels, examples, act, pair) -> list[Trace]:
    """Build traces for rows ``picked`` of X (batch=True: X is the whole batch and Δ, D, shares are added)."""
    L = len(thetas) + 1
    kinds = dict(activation=act.name, output=pair.output, loss=pair.loss)
    batch_Delta = batch_D = None
    if batch:
        _, batch_Delta = batch_sums(thetas, X, Y, **kinds)  # same map step as cost_and_gradient
        batch_D = finish(thetas, batch_Delta, m, lam, out=[np.empty_like(D) for D in batch_Delta])
    Xp, Yp = X[picked], Y[picked]
    if hasattr(Xp, "toarray"):
        Xp = Xp.toarray()  # the traced rows only
    cache = propagate(thetas, Xp, act.name, pair.output)
    delta = deltas(thetas, cache, Yp, **kinds)
    frozen = tuple(np.array(t, copy=True) for t in thetas)
    traces = []
    for n in range(len(picked)):
        layers = []
        for i in range(L):
            a = cache.activations[i][n].copy()
            kind: Literal["input", "hidden", "output"] = "input" if i == 0 else ("output" if i == L - 1 else "hidden")
            if i == 0:
                layers.append(LayerTrace(l=1, kind="input", a=a, has_bias=True))
            else:
                g_prime = _output_g_prime(pair, a) if i == L - 1 else act.gradient_from_a(a)
                layers.append(LayerTrace(l=i + 1, kind=kind, a=a, z=cache.z[i][n].copy(),
                                         g_prime=g_prime, delta=delta[i][n].copy(),
                                         has_bias=i < L - 1))
        # The example's Δ contribution is backprop's accumulate() on its own row of the cache.
        one = ForwardCache(z=[None] + [zz[n : n + 1] for zz in cache.z[1:]],
                          activations=[act[n : n + 1] for act in cache.activations])
        contrib = accumulate(one, [None] + [d[n : n + 1] for d in delta[1:]])
        grads = []
        for i, c in enumerate(contrib):
            share = None
            if batch_Delta is not None:
                norm2 = float(np.vdot(batch_Delta[i], batch_Delta[i]))
                share = float(np.vdot(c, batch_Delta[i]) / norm2) if norm2 > 0 else None
            grads.append(GradientTrace(l=i + 1, contribution=c, m=m,
                                       Delta=None if batch_Delta is None else batch_Delta[i],
                                       D=None if batch_D is None else batch_D[i], share=share))
        cost_t = pair.cost_sum(cache.z[-1][n : n + 1], Yp[n : n + 1])
        traces.append(Trace(thetas=frozen, layers=tuple(layers), y=Yp[n].copy(), cost=cost_t, lam=lam,
                            gradients=tuple(grads), top_k=top_k, example=examples[n], label=labels[n],
                            activation=act.name, pair=pair))
    return traces
