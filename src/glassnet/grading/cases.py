"""The problems a student's ``nnCostFunction`` is graded on, the two calling conventions, and the exact answers.

Cases: the course's gradient-check net (3-5-3, m = 5, :func:`glassnet.gradcheck.course_problem`), the course
grader's 2-4-4 net (m = 16), a seeded random 4-6-3 net with larger weights and the course forum's 2-2-4 check
(m = 3); each with λ = 0 and with λ > 0.

Conventions: the course's Python port unrolls ``Theta1.ravel()`` then ``Theta2.ravel()`` (row-major) and labels
0..K-1; the original Octave exercise unrolls ``[Theta1(:); Theta2(:)]`` (column-major, :func:`glassnet.unroll`) and
labels 1..K; many ports keep the row-major unroll with the course's labels 1..K. Each is tried with ``y`` of shape
(m,) and (m, 1): :data:`CANDIDATES`, in the order a tie is decided.

:class:`Pieces` holds the correct values of one case, all from glassnet's own public math — ``forward``,
:func:`glassnet.backprop.deltas` / ``accumulate`` / ``finish``, ``cost_and_gradient`` — which the typical mistakes
(:mod:`glassnet.grading.mistakes`) are exact variants of.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from glassnet.api import cost_and_gradient
from glassnet.backprop import accumulate, deltas, finish
from glassnet.cost import cost_from_z, regularization
from glassnet.forward import ForwardCache, forward
from glassnet.gradcheck import course_problem
from glassnet.outputs import encode_labels
from glassnet.params import random_init, roll, unroll

__all__ = ["Convention", "PYTHON", "OCTAVE", "ROW_MAJOR_1", "CANDIDATES", "Case", "Pieces", "net_cases",
           "sigmoid_case", "grader_problem", "forum_problem"]


@dataclass(frozen=True)
class Convention:
    """How Θ is unrolled into ``nn_params`` (``order`` "C" = row-major, "F" = column-major), where labels start, and
    whether ``y`` is passed as a column of shape (m, 1) rather than a vector of shape (m,)."""

    name: str
    order: str
    first_label: int
    y_column: bool = False

    def pack(self, arrays: Sequence[np.ndarray]) -> np.ndarray:
        """Θ^(1), Θ^(2), ... (or D^(l)) as one vector, in this convention's order (any shapes)."""
        if self.order == "F":
            return unroll(arrays)
        return np.concatenate([np.asarray(a).ravel() for a in arrays])

    def unpack(self, vector: np.ndarray, sizes: Sequence[int]) -> list[np.ndarray]:
        """The inverse of :meth:`pack` for layer sizes ``sizes``."""
        rolled = roll(vector, sizes)  # the shapes and the length check live there
        if self.order == "F":
            return rolled
        out, start = [], 0
        for t in rolled:
            out.append(np.asarray(vector[start:start + t.size]).reshape(t.shape))
            start += t.size
        return out

    def labels(self, y: np.ndarray) -> np.ndarray:
        """0-based labels as this convention passes them."""
        labels = np.asarray(y, dtype=np.int64) + self.first_label
        return labels.reshape(-1, 1) if self.y_column else labels

    @property
    def other(self) -> Convention:
        """The same convention with the other unroll order (the classic confusion)."""
        return Convention(f"{self.name} (other order)", "F" if self.order == "C" else "C", self.first_label,
                          self.y_column)

    def with_y_column(self) -> Convention:
        """This convention with ``y`` passed as a column of shape (m, 1)."""
        return Convention(f"{self.name}, y (m, 1)", self.order, self.first_label, True)

    def describe(self) -> str:
        """In words, as a person reads it: "unrolls row by row and counts labels from 1"."""
        order = "row by row (Theta1.ravel())" if self.order == "C" else "column by column (Theta1(:))"
        shape = "a column (m, 1)" if self.y_column else "a vector (m,)"
        return f"unrolls {order}, counts labels from {self.first_label} and takes y as {shape}"

    @property
    def flags(self) -> str:
        """The explicit option that grades in this convention, where there is one."""
        if (self.order, self.first_label, self.y_column) == ("F", 1, False):
            return "--octave"
        if (self.order, self.first_label, self.y_column) == ("C", 0, False):
            return "--python"
        return ""

    @property
    def unroll_text(self) -> str:
        return "Theta1.ravel(), Theta2.ravel() (row-major)" if self.order == "C" else \
            "[Theta1(:); Theta2(:)] (column-major)"


PYTHON = Convention("python", "C", 0)
OCTAVE = Convention("octave", "F", 1)
ROW_MAJOR_1 = Convention("row-major, labels 1..K", "C", 1)
CANDIDATES: tuple[Convention, ...] = (PYTHON, OCTAVE, ROW_MAJOR_1, PYTHON.with_y_column(), OCTAVE.with_y_column(),
                                      ROW_MAJOR_1.with_y_column())


@dataclass(frozen=True)
class Case:
    """One graded problem: Θ (list, lecture shapes), X (m, s_1), 0-based labels y (m,), λ."""

    name: str
    thetas: tuple
    X: np.ndarray
    y: np.ndarray
    lam: float

    @property
    def sizes(self) -> list[int]:
        return [self.thetas[0].shape[1] - 1] + [t.shape[0] for t in self.thetas]

    @property
    def m(self) -> int:
        return self.X.shape[0]

    def title(self) -> str:
        return f"{self.name} {'-'.join(map(str, self.sizes))}, m = {self.m}, λ = {self.lam:g}"


def grader_problem():
    """The course grader's 2-4-4 problem (``submit.m`` of ex4), as ``(thetas, X, y)`` with 0-based labels.

    Octave: ``Xm = reshape(sin(1:32), 16, 2) / 5``, ``ym = 1 + mod(1:16, 4)'``, ``t1 = sin(reshape(1:2:24, 4, 3))``,
    ``t2 = cos(reshape(1:2:40, 4, 5))``.

    Examples
    --------
    >>> thetas, X, y = grader_problem()
    >>> [t.shape for t in thetas], X.shape, y[:5].tolist()
    ([(4, 3), (4, 5)], (16, 2), [1, 2, 3, 0, 1])
    """
    X = np.sin(np.arange(1, 33)).reshape(16, 2, order="F") / 5
    y = np.mod(np.arange(1, 17), 4)
    t1 = np.sin(np.arange(1, 24, 2, dtype=float).reshape(4, 3, order="F"))
    t2 = np.cos(np.arange(1, 40, 2, dtype=float).reshape(4, 5, order="F"))
    return [t1, t2], X, y


def _random_problem(seed: int = 14):
    rng = np.random.default_rng(seed)
    sizes = [4, 6, 3]
    thetas = random_init(sizes, rng, epsilon=1.0)  # larger weights than an initialisation: differences show
    X = rng.standard_normal((7, sizes[0]))
    y = np.array([0, 1, 2, 2, 1, 0, 2])
    return thetas, X, y


def forum_problem():
    """The course forum's 2-2-4, m = 3 check, as ``(thetas, X, y)`` with 0-based labels (J = 7.4070 at λ = 0, 16.457
    at λ = 3).

    Octave: ``nn_params = (1:18)' / 10`` (rolled column-major), ``X = cos([1 2; 3 4; 5 6])``, ``y = [4; 2; 3]``.

    Examples
    --------
    >>> import glassnet
    >>> thetas, X, y = forum_problem()
    >>> [round(glassnet.cost_and_gradient(thetas, X, y, lam)[0], 4) for lam in (0, 3)]
    [7.407, 16.457]
    """
    thetas = roll(np.arange(1, 19) / 10, [2, 2, 4])
    X = np.cos(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    return thetas, X, np.array([4, 2, 3]) - 1


def net_cases() -> dict[bool, list[Case]]:
    """The cases without (``False``) and with (``True``) regularization."""
    problems = [("course", course_problem(), 3.0), ("grader", grader_problem(), 1.5),
                ("random", _random_problem(), 1.0), ("forum", forum_problem(), 3.0)]
    out: dict[bool, list[Case]] = {False: [], True: []}
    for name, (thetas, X, y), lam in problems:
        for regularized in (False, True):
            out[regularized].append(Case(name, tuple(thetas), X, np.asarray(y), lam if regularized else 0.0))
    return out


def sigmoid_case() -> np.ndarray:
    """z for the sigmoid-gradient part: the grader's ``reshape(3 * sin(1:30), 3, 10)`` with z = 0 put in (g′ = 1/4)."""
    z = 3 * np.sin(np.arange(1, 31)).reshape(3, 10, order="F")
    z[0, 0] = 0.0
    return z


class Pieces:
    """The correct values of one case, for one convention: what every mistake is a variant of.

    ``cache`` (forward pass), ``Y`` (m, K) 0/1, ``delta`` (:func:`glassnet.backprop.deltas`), ``J`` and ``D`` (the
    reference ``cost_and_gradient``), ``J_data`` (J without regularization), ``D_data`` = Δ/m and ``D_reg`` = (λ/m)Θ
    with the bias column 0 (so D = D_data + D_reg).
    """

    def __init__(self, case: Case, convention: Convention) -> None:
        self.case, self.convention = case, convention
        self.thetas = [np.asarray(t, dtype=np.float64) for t in case.thetas]
        self.X, self.y, self.lam, self.m = case.X, case.y, case.lam, case.m
        self.K = self.thetas[-1].shape[0]
        self.cache: ForwardCache = forward(self.thetas, self.X)
        self.Y = encode_labels(self.y, self.K, self.m)
        self.delta = deltas(self.thetas, self.cache, self.Y)
        self.J, self.D = cost_and_gradient(self.thetas, self.X, self.y, self.lam)
        self.J_data = cost_from_z(self.cache.z_out, self.Y)
        self.reg = regularization(self.thetas, self.lam, self.m)

    @cached_property
    def D_data(self) -> list[np.ndarray]:
        return finish(self.thetas, accumulate(self.cache, self.delta), self.m, 0.0)

    @cached_property
    def D_reg(self) -> list[np.ndarray]:
        return finish(self.thetas, [np.zeros_like(t) for t in self.thetas], self.m, self.lam)

    def gradients_with(self, delta: Sequence[np.ndarray | None]) -> list[np.ndarray]:
        """D from other δ (a mistake's), with the correct Δ = Σ δ aᵀ and regularization."""
        return finish(self.thetas, accumulate(self.cache, delta), self.m, self.lam)

    def deltas_with(self, *, hidden_activations=None, Y=None) -> list[np.ndarray | None]:
        """:func:`~glassnet.backprop.deltas` run on changed inputs: the hidden layers' a (g′ is a .* (1 - a)), or Y."""
        cache = self.cache
        if hidden_activations is not None:
            acts = [cache.activations[0], *hidden_activations, cache.activations[-1]]
            cache = ForwardCache(z=cache.z, activations=acts)
        return deltas(self.thetas, cache, self.Y if Y is None else Y)

    def answer(self, J: float | None = None, D: Sequence[np.ndarray] | None = None) -> tuple[float, np.ndarray]:
        """(J, grad) as the student's function returns them (grad unrolled in this convention)."""
        return (self.J if J is None else float(J)), self.convention.pack(self.D if D is None else D)

    def call_args(self) -> tuple:
        """The arguments of ``nnCostFunction`` for this case, in this convention."""
        s = self.case.sizes
        return (self.convention.pack(self.thetas), int(s[0]), int(s[1]), int(s[2]), np.array(self.X),
                self.convention.labels(self.y), float(self.lam))
