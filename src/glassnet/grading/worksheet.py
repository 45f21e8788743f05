"""Worksheets for backpropagation by hand: a seeded small network per student, the exact answers, and the checker.

For: homework. :func:`make_worksheet` gives every student their own network (weights in steps of 0.5 in [−2, 2],
inputs ±1 or ±2, one example, m = 1) and the answers the sheet asks for (``ask``: z, a, δ⁽ᴸ⁾, the hidden δ in the
note's form, Δ, D), every value read from :func:`glassnet.explain`'s trace of that example (D through
:func:`glassnet.backprop.finish`). A student's numbers depend only on (seed, student), never on how many sheets
there are. Each network is drawn again until every slip in :data:`SLIPS` gives either the right value (then it is
no slip on this sheet) or one at least :data:`MIN_GAP` from it, so that the checker can always tell them apart; and
until every |z| ≤ 4 (a not 0 or 1, g′ not vanishing) and the units of a layer differ in z.

:func:`check_answers` says for each value whether it is right (within ``tol``), and for a wrong one the slip whose
exact variant fits (:data:`SLIPS`, the closest first, with any other that gives the same number there; those that
are also a mistake of the grader's catalogue, :mod:`glassnet.grading.mistakes`, carry its name and title), or that it
follows correctly from the student's own wrong earlier value (an error carried forward). Quantity names are
:func:`glassnet.notation.quantity_key`'s (``delta_2^(2)``; the lecture's ``δ₂⁽²⁾`` is read too).
Not for: drawing the sheets (:mod:`glassnet.grading.worksheet_render`) or writing files.

>>> ws = make_worksheet(2, seed=7)
>>> s = ws.sheets[1]
>>> s.student, s.sizes, len(s.answers)
(2, [2, 2, 2], 36)
>>> wrong = dict(s.answers, **{"delta_1^(3)": s.answers["delta_1^(3)"] * -1})
>>> [r.slip.name for r in check_answers(s, wrong).rows if not r.right]
['wrong-sign']
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._support.jsonsafe import dumps
from glassnet.activations import sigmoid
from glassnet.explain.trace import Trace, explain
from glassnet.grading.mistakes import by_name
from glassnet.notation import parse_quantity, quantity_key, quantity_name

__all__ = ["ASK", "SLIPS", "Slip", "Sheet", "Worksheet", "make_worksheet", "check_answers", "check_example", "CheckRow",
           "CheckReport", "read_answers_csv", "load_worksheet", "MIN_GAP", "TOL", "FORMAT"]

#: What a sheet can ask for (``--ask``), in the lecture's order, and how the sheet names each.
ASK = {"z": "z⁽ˡ⁾ = Θ⁽ˡ⁻¹⁾a⁽ˡ⁻¹⁾ of every unit", "a": "a⁽ˡ⁾ = g(z⁽ˡ⁾) of every unit",
       "deltaL": "the output error δ⁽ᴸ⁾ = a⁽ᴸ⁾ − y", "delta": "each hidden δ in the note's form",
       "Delta": "Δ⁽ˡ⁾ = δ⁽ˡ⁺¹⁾(a⁽ˡ⁾)ᵀ for this one example", "D": "D⁽ˡ⁾ = Δ⁽ˡ⁾/m + (λ/m)Θ⁽ˡ⁾ with m = 1"}
FORMAT = "glassnet-worksheet-1"
TOL = 1e-3  # the sheets ask for 4 decimals; rounding earlier values on the way costs a few 1e-4
MIN_GAP = 0.01  # every slip is at least this far from the right value: 10 × TOL
WEIGHTS = np.array([-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0])
INPUTS = np.array([-2.0, -1.0, 1.0, 2.0])
MAX_UNITS, MAX_LAYERS = 4, 4


# ---------------------------------------------------------------------------------------------------------------
# the sheets


@dataclass(frozen=True, eq=False)
class Sheet:
    """One student's problem: Θ (``thetas[l-1]`` is Θ^(l), (s_{l+1}, s_l + 1), bias column first), x (s_1,), the
    class ``label`` (0-based: output unit label + 1), λ, and ``answers``: quantity key → exact value, in order."""

    student: int
    thetas: tuple[np.ndarray, ...]
    x: np.ndarray
    label: int
    lam: float
    answers: dict[str, float]

    @property
    def sizes(self) -> list[int]:
        return [self.thetas[0].shape[1] - 1] + [t.shape[0] for t in self.thetas]

    @property
    def y(self) -> np.ndarray:
        """The target vector, shape (K,): 1 for the example's unit."""
        y = np.zeros(self.sizes[-1])
        y[self.label] = 1.0
        return y

    def trace(self) -> Trace:
        """The example's trace, as a batch of one (m = 1) so that it holds D."""
        return explain(self.thetas, self.x.reshape(1, -1), np.array([self.label]), self.lam, rows=0)

    def to_dict(self) -> dict[str, Any]:
        return {"student": self.student, "sizes": self.sizes, "thetas": [t.tolist() for t in self.thetas],
                "x": self.x.tolist(), "y": self.y.tolist(), "label": self.label, "lam": self.lam, "m": 1,
                "answers": dict(self.answers)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Sheet:
        return cls(student=int(d["student"]), thetas=tuple(np.asarray(t, dtype=np.float64) for t in d["thetas"]),
                   x=np.asarray(d["x"], dtype=np.float64), label=int(d["label"]), lam=float(d["lam"]),
                   answers={str(k): float(v) for k, v in d["answers"].items()})


@dataclass(frozen=True, eq=False)
class Worksheet:
    """Every student's sheet, with what made them: seed, layer sizes, the quantities asked, λ."""

    seed: int
    sizes: tuple[int, ...]
    ask: tuple[str, ...]
    lam: float
    sheets: tuple[Sheet, ...]

    def sheet(self, student: int) -> Sheet:
        """Student ``student``'s sheet (1-based)."""
        if not 1 <= student <= len(self.sheets):
            raise ValueError(f"student: expected 1..{len(self.sheets)}, got {student!r}")
        return self.sheets[student - 1]

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "seed": self.seed, "sizes": list(self.sizes), "ask": list(self.ask),
                "lam": self.lam, "notation": "lecture indices: Θ_ij^(l) from unit j of layer l (j = 0 the bias) to "
                "unit i of layer l+1; keys such as z_1^(2), a_1^(2), delta_2^(2), Delta_12^(1), D_12^(1)",
                "students": [s.to_dict() for s in self.sheets]}

    def to_json(self) -> str:
        return dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Worksheet:
        if d.get("format") != FORMAT:
            raise ValueError(f"expected a worksheet answer key ({FORMAT!r}), got format {d.get('format')!r}")
        return cls(seed=int(d["seed"]), sizes=tuple(int(s) for s in d["sizes"]), ask=tuple(d["ask"]),
                   lam=float(d["lam"]), sheets=tuple(Sheet.from_dict(s) for s in d["students"]))


def load_worksheet(path: str | Path) -> Worksheet:
    """The answer key ``answers.json`` (or the folder that holds it), as :meth:`Worksheet.to_json` wrote it."""
    path = Path(path)
    if path.is_dir():
        path = path / "answers.json"
    try:
        return Worksheet.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no answer key (glassnet worksheet writes answers.json)") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a worksheet answer key ({exc})") from None


def answers_of(trace: Trace, ask: Iterable[str]) -> dict[str, float]:
    """The asked quantities of one example's trace, by key, in the lecture's order (lecture indices)."""
    ask = set(ask)
    L, out = trace.L, {}
    if "z" in ask or "a" in ask:
        for l in range(2, L + 1):
            for j in range(1, trace.sizes[l - 1] + 1):
                if "z" in ask:
                    out[quantity_key("z", l, j)] = trace.z[l][j]
                if "a" in ask:
                    out[quantity_key("a", l, j)] = trace.a[l][j]
    if "deltaL" in ask:
        out.update({quantity_key("delta", L, j): trace.delta[L][j] for j in range(1, trace.K + 1)})
    if "delta" in ask:
        for l in range(L - 1, 1, -1):
            out.update({quantity_key("delta", l, j): trace.delta[l][j] for j in range(1, trace.sizes[l - 1] + 1)})
    for symbol, name in (("Delta", "contribution"), ("D", "D")):
        if symbol in ask:
            for g in trace.gradients:
                M = getattr(g, name)
                out.update({quantity_key(symbol, g.l, i + 1, j): float(v) for (i, j), v in np.ndenumerate(M)})
    return out


def _check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    sizes = tuple(int(s) for s in sizes)
    if not 3 <= len(sizes) <= MAX_LAYERS or not all(1 <= s <= MAX_UNITS for s in sizes) or sizes[-1] < 2:
        raise ValueError(f"sizes: a sheet is done by hand: 3 to {MAX_LAYERS} layers of 1 to {MAX_UNITS} units, at "
                         f"least 2 outputs (one per class), such as 2,2,2; got {','.join(map(str, sizes))}")
    return sizes


def _check_ask(ask: Iterable[str]) -> tuple[str, ...]:
    ask = tuple(ask)
    unknown = [a for a in ask if a not in ASK]
    if unknown or not ask:
        raise ValueError(f"ask: expected some of {', '.join(ASK)}, got {', '.join(ask) or 'nothing'}")
    return tuple(a for a in ASK if a in ask)


def _draw(rng: np.random.Generator, sizes: Sequence[int], lam: float, ask) -> tuple[Sheet, Trace] | None:
    thetas = tuple(rng.choice(WEIGHTS, size=(b, a + 1)) for a, b in zip(sizes, sizes[1:]))
    x = rng.choice(INPUTS, size=sizes[0])
    label = int(rng.integers(sizes[-1]))
    sheet = Sheet(0, thetas, x, label, lam, {})
    trace = sheet.trace()
    zs = [np.asarray(layer.z) for layer in trace.layers[1:]]
    if any(np.abs(z).max() > 4.0 for z in zs):  # g′ not vanishingly small, a not 0 or 1
        return None
    if any(z.size > 1 and np.min(np.diff(np.sort(z))) < 0.25 for z in zs):
        return None  # units of one layer that compute the same z would hide which edge a student used
    answers = answers_of(trace, ask)
    for key, right in answers.items():
        for slip in SLIPS:
            wrong = slip.value_for(key, trace)
            if wrong is not None and 1e-9 < abs(wrong - right) < MIN_GAP:  # equal is fine: then it is no slip
                return None
    return Sheet(0, thetas, x, label, lam, answers), trace


def make_worksheet(students: int, seed: int = 0, sizes: Sequence[int] = (2, 2, 2), ask: Iterable[str] = ASK,
                   lam: float = 1.0) -> Worksheet:
    """``students`` seeded sheets (see the module docstring); student k's network depends on (seed, k) only."""
    if isinstance(students, bool) or not isinstance(students, (int, np.integer)) or not 1 <= students <= 1000:
        raise ValueError(f"students: expected 1..1000, got {students!r}")
    sizes, ask = _check_sizes(sizes), _check_ask(ask)
    if not (math.isfinite(lam) and lam >= 0) or lam * 2 != round(lam * 2):
        raise ValueError(f"lam: expected λ ≥ 0 in steps of 0.5 (a round number to compute with), got {lam!r}")
    sheets = []
    for k in range(1, students + 1):
        rng = np.random.default_rng([seed, k])
        for _ in range(10_000):
            drawn = _draw(rng, sizes, float(lam), ask)
            if drawn is not None:
                sheets.append(Sheet(k, drawn[0].thetas, drawn[0].x, drawn[0].label, float(lam), drawn[0].answers))
                break
        else:  # pragma: no cover - only for shapes where a slip always coincides with the answer
            raise ValueError(f"sizes {sizes}: no network found whose slips all differ from the answers")
    return Worksheet(seed=int(seed), sizes=sizes, ask=ask, lam=float(lam), sheets=tuple(sheets))


# ---------------------------------------------------------------------------------------------------------------
# slips: exact variants of one value


@dataclass(frozen=True)
class Slip:
    """A hand-calculation slip: its name, what the student did, which quantity (``symbol``: z, a, deltaL, delta,
    Delta, D) and ``value(trace, l, idx)``: the number it gives (None where it does not apply). ``mistake`` names
    the same mistake in the grader's catalogue, whose title and formula are then used."""

    name: str
    what: str
    symbol: str
    value: Callable[[Trace, int, tuple[int, ...]], float | None]
    mistake: str | None = None

    @property
    def title(self) -> str:
        return by_name(self.mistake).title if self.mistake else self.what

    @property
    def formula(self) -> str | None:
        return by_name(self.mistake).formula if self.mistake else None

    def value_for(self, key: str, trace: Trace) -> float | None:
        symbol, l, idx = parse_quantity(key)
        if _kind(symbol, l, trace.L) != self.symbol:
            return None
        return self.value(trace, l, idx)


def _g(z: float) -> float:
    """g(z) of one number."""
    return float(sigmoid(np.array([z], dtype=np.float64))[0])


def _kind(symbol: str, l: int, L: int) -> str:
    return ("deltaL" if l == L else "delta") if symbol == "delta" else symbol


def _theta(tr: Trace, l: int) -> np.ndarray:
    return tr.thetas[l - 1]


def _a_bias(tr: Trace, l: int) -> np.ndarray:
    return np.concatenate([[1.0], tr.layers[l - 1].a])


def _z_bias_left_out(tr, l, idx):
    (j,) = idx
    return tr.z[l][j] - _theta(tr, l - 1)[j - 1, 0]


def _z_from_z(tr, l, idx):
    (j,) = idx
    if l < 3:
        return None
    th = _theta(tr, l - 1)
    return float(th[j - 1, 0] + th[j - 1, 1:] @ tr.layers[l - 2].z)


def _z_wrong_edge(tr, l, idx):
    (j,) = idx
    th = _theta(tr, l - 1)  # Θ_jk for k = 1..s_{l-1}; the slip reads Θ_kj
    n = th.shape[1] - 1
    if n > th.shape[0] or j > n:
        return None
    return float(th[j - 1, 0] + sum(th[k - 1, j] * _a_bias(tr, l - 1)[k] for k in range(1, n + 1)))


def _edge_sum(tr, l, j) -> float:
    return tr.unit(l, j).edge_sum


def _delta_wrong_edge(tr, l, idx):
    (j,) = idx
    th, d = _theta(tr, l), tr.layers[l].delta  # Σ_i Θ_ij δ_i; the slip reads Θ_ji
    if len(d) > th.shape[1] - 1 or j > th.shape[0]:
        return None
    return float(sum(th[j - 1, i] * d[i - 1] for i in range(1, len(d) + 1)) * tr.g_prime[l][j])


def _delta_bias_included(tr, l, idx):
    (j,) = idx
    th, d = _theta(tr, l), tr.layers[l].delta
    return float((_edge_sum(tr, l, j) + th[:, 0] @ d) * tr.g_prime[l][j])


def _Delta_wrong_edge(tr, l, idx):
    i, j = idx
    d, a = tr.layers[l].delta, _a_bias(tr, l)
    if j < 1 or j > len(d) or i >= len(a) or i == j:  # on the diagonal the slip gives the right number
        return None
    return float(d[j - 1] * a[i])


def _Delta_shifted(tr, l, idx):
    i, j = idx
    a = _a_bias(tr, l)
    return None if j + 1 >= len(a) else float(tr.layers[l].delta[i - 1] * a[j + 1])


def _Delta_z_for_a(tr, l, idx):
    i, j = idx
    return None if l < 2 or j < 1 else float(tr.layers[l].delta[i - 1] * tr.z[l][j])


def _D(tr, l, idx, *, reg: float = 1.0, bias: bool = False, sign: float = 1.0):
    i, j = idx
    g = tr.gradients[l - 1]
    if (j == 0) != bias:
        return None
    return float(sign * g.contribution[i - 1, j] / g.m + reg * tr.lam / g.m * _theta(tr, l)[i - 1, j])


SLIPS: tuple[Slip, ...] = (
    Slip("bias-left-out", "the bias weight Θⱼ₀ is left out of z (a₀ = 1 forgotten)", "z", _z_bias_left_out),
    Slip("z-for-a", "z⁽ˡ⁻¹⁾ used where a⁽ˡ⁻¹⁾ belongs (g not applied to the layer before)", "z", _z_from_z),
    Slip("wrong-edge", "the wrong edge: Θₖⱼ for Θⱼₖ (the weight matrix read transposed)", "z", _z_wrong_edge),
    Slip("a-is-z", "g not applied: a written where only z was computed (a = z)", "a",
         lambda tr, l, idx: tr.z[l][idx[0]]),
    Slip("wrong-sign", "a sign: g(−z) = 1 − g(z) instead of g(z)", "a", lambda tr, l, idx: 1.0 - tr.a[l][idx[0]]),
    Slip("output-delta-gprime", "", "deltaL", lambda tr, l, idx: tr.delta[l][idx[0]] * tr.g_prime[l][idx[0]],
         mistake="output-delta-gprime"),
    Slip("wrong-sign", "", "deltaL", lambda tr, l, idx: -tr.delta[l][idx[0]], mistake="wrong-sign"),
    Slip("gprime-forgotten", "g′ forgotten: the note's sum Σᵢ Θᵢⱼδᵢ without the factor g′(zⱼ)", "delta",
         lambda tr, l, idx: _edge_sum(tr, l, idx[0])),
    Slip("gprime-of-a", "", "delta", lambda tr, l, idx: _edge_sum(tr, l, idx[0]) * float(
        _g(tr.a[l][idx[0]]) * (1 - _g(tr.a[l][idx[0]]))), mistake="gprime-of-a"),
    Slip("gprime-z-one-minus-z", "", "delta",
         lambda tr, l, idx: _edge_sum(tr, l, idx[0]) * tr.z[l][idx[0]] * (1 - tr.z[l][idx[0]]),
         mistake="gprime-z-one-minus-z"),
    Slip("a-for-gprime", "a used where g′(z) belongs: (Σᵢ Θᵢⱼδᵢ)·aⱼ instead of ·aⱼ(1 − aⱼ)", "delta",
         lambda tr, l, idx: _edge_sum(tr, l, idx[0]) * tr.a[l][idx[0]]),
    Slip("bias-included", "the bias weights Θᵢ₀ included in the sum (Σᵢ (Θᵢⱼ + Θᵢ₀)δᵢ)", "delta",
         _delta_bias_included),
    Slip("wrong-edge", "the wrong edge: Θⱼᵢ for Θᵢⱼ (the weight matrix not transposed)", "delta", _delta_wrong_edge),
    Slip("wrong-sign", "a sign: −δ (the error of the layer above taken as y − a)", "delta",
         lambda tr, l, idx: -tr.delta[l][idx[0]]),
    Slip("wrong-edge", "the wrong edge: δⱼ⁽ˡ⁺¹⁾aᵢ⁽ˡ⁾ for δᵢ⁽ˡ⁺¹⁾aⱼ⁽ˡ⁾ (a δᵀ instead of δ aᵀ)", "Delta",
         _Delta_wrong_edge),
    Slip("a-without-bias", "", "Delta", _Delta_shifted, mistake="a-without-bias"),
    Slip("z-for-a", "z used where a belongs: δᵢ⁽ˡ⁺¹⁾zⱼ⁽ˡ⁾", "Delta", _Delta_z_for_a),
    Slip("wrong-sign", "a sign: −δᵢ⁽ˡ⁺¹⁾aⱼ⁽ˡ⁾", "Delta",
         lambda tr, l, idx: -float(tr.gradients[l - 1].contribution[idx[0] - 1, idx[1]])),
    Slip("bias-regularized-gradient", "", "D", lambda tr, l, idx: _D(tr, l, idx, bias=True),
         mistake="bias-regularized-gradient"),
    Slip("gradient-lambda-over-2m", "", "D", lambda tr, l, idx: _D(tr, l, idx, reg=0.5),
         mistake="gradient-lambda-over-2m"),
    Slip("regularization-forgotten", "the regularization term (λ/m)Θᵢⱼ forgotten", "D",
         lambda tr, l, idx: _D(tr, l, idx, reg=0.0)),
    Slip("wrong-sign", "", "D", lambda tr, l, idx: _D(tr, l, idx, sign=-1.0), mistake="wrong-sign"),
)


# ---------------------------------------------------------------------------------------------------------------
# checking


@dataclass(frozen=True)
class CheckRow:
    """One asked quantity: the student's value (None: not answered), the right one, and what went wrong."""

    key: str
    given: float | None
    expected: float
    right: bool
    slip: Slip | None = None
    carried_from: tuple[str, ...] = ()
    also: tuple[Slip, ...] = ()  # other slips that give the same number on this sheet

    @property
    def name(self) -> str:
        return quantity_name(self.key)

    def text(self) -> str:
        got = "not answered" if self.given is None else f"{self.given:.6g}"
        if self.right:
            return f"✓ {self.name} = {got}"
        head = f"✗ {self.name} = {got}, expected {self.expected:.4f}"
        if self.given is None:
            return f"– {self.name}: not answered (expected {self.expected:.4f})"
        if self.carried_from:
            return (f"{head}: but it follows correctly from your own "
                    f"{', '.join(quantity_name(k) for k in self.carried_from)} (an earlier error carried forward)")
        if self.slip is not None:
            return (f"{head}: {self.slip.title}" + (f" — {self.slip.formula}" if self.slip.formula else "")
                    + "".join(f"; or {s.title}" for s in self.also))
        return f"{head}: no typical slip fits exactly; redo it from the lecture's formula"

    def to_dict(self) -> dict[str, Any]:
        return {"quantity": self.key, "name": self.name, "given": self.given, "expected": self.expected,
                "right": self.right, "slip": None if self.slip is None else self.slip.name,
                "slip_title": None if self.slip is None else self.slip.title, "carried_from": list(self.carried_from),
                "also": [s.name for s in self.also]}


@dataclass(frozen=True)
class CheckReport:
    """The check of one student's answers."""

    student: int
    rows: tuple[CheckRow, ...]
    tol: float = TOL
    extra: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return all(r.right for r in self.rows)

    def text(self) -> str:
        right = sum(r.right for r in self.rows)
        who = f"Student {self.student}" if self.student else "Your values"  # student 0: a check of one example
        lines = [f"{who}: {right} of {len(self.rows)} right (within {self.tol:g})"]
        lines += [r.text() for r in self.rows]
        lines += [f"(not asked on this sheet, ignored: {', '.join(self.extra)})"] if self.extra else []
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"student": self.student, "passed": self.passed, "right": sum(r.right for r in self.rows),
                "asked": len(self.rows), "tol": self.tol, "rows": [r.to_dict() for r in self.rows],
                "not_asked": list(self.extra)}


def _close(got: float, want: float, tol: float) -> bool:
    return abs(got - want) <= tol + 2e-3 * abs(want)


def _carried(key: str, given: Mapping[str, float], sheet: Sheet, tr: Trace) -> tuple[float, tuple[str, ...]] | None:
    """The value ``key`` takes from the student's own earlier values, and which those are (None: not all given)."""
    symbol, l, idx = parse_quantity(key)
    q = quantity_key

    def a_vec(layer: int) -> tuple[np.ndarray, list[str]] | None:
        if layer == 1:
            return np.concatenate([[1.0], sheet.x]), []
        keys = [q("a", layer, j) for j in range(1, tr.sizes[layer - 1] + 1)]
        if not all(k in given for k in keys):
            return None
        return np.array([1.0] + [given[k] for k in keys]), keys

    if symbol == "z":
        got = a_vec(l - 1)
        return None if got is None or not got[1] else (float(_theta(tr, l - 1)[idx[0] - 1] @ got[0]), tuple(got[1]))
    if symbol == "a":
        k = q("z", l, idx[0])
        return (_g(given[k]), (k,)) if k in given else None
    if symbol == "delta":
        ka = q("a", l, idx[0])
        if ka not in given:
            return None
        if l == tr.L:
            return given[ka] - float(tr.y[idx[0] - 1]), (ka,)
        kds = [q("delta", l + 1, i) for i in range(1, tr.sizes[l] + 1)]
        if not all(k in given for k in kds):
            return None
        s = float(_theta(tr, l)[:, idx[0]] @ np.array([given[k] for k in kds]))
        return s * given[ka] * (1 - given[ka]), (*kds, ka)
    if symbol == "Delta":
        kd = q("delta", l + 1, idx[0])
        got = a_vec(l)
        if kd not in given or got is None:
            return None
        used: list[str] = [got[1][idx[1] - 1]] if idx[1] >= 1 and got[1] else []
        return given[kd] * got[0][idx[1]], (kd, *used)
    if symbol == "D":
        kD = q("Delta", l, *idx)
        if kD not in given:
            return None
        reg = 0.0 if idx[1] == 0 else sheet.lam * float(_theta(tr, l)[idx[0] - 1, idx[1]])
        return given[kD] + reg, (kD,)
    return None


def check_answers(sheet: Sheet, given: Mapping[str, float], tol: float = TOL) -> CheckReport:
    """Check a student's values (quantity key or lecture name → number) against ``sheet``'s answers."""
    if not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol: expected a number > 0, got {tol!r}")
    values: dict[str, float] = {}
    for name, v in given.items():
        try:
            symbol, l, idx = parse_quantity(name)
        except ValueError as exc:
            raise ValueError(f"answers: {exc}") from None
        values[quantity_key(symbol, l, *idx)] = float(v)
    tr = sheet.trace()
    rows = []
    for key, want in sheet.answers.items():
        got: float | None = values.get(key)
        if got is None:
            rows.append(CheckRow(key, None, want, False))
            continue
        if _close(got, want, tol):
            rows.append(CheckRow(key, got, want, True))
            continue
        carried = _carried(key, values, sheet, tr)
        if carried is not None and _close(got, carried[0], tol) and not all(
                _close(values[k], sheet.answers[k], tol) for k in carried[1] if k in sheet.answers):
            rows.append(CheckRow(key, got, want, False, carried_from=carried[1]))
            continue
        fits = [(abs(got - w), s) for s in SLIPS if (w := s.value_for(key, tr)) is not None and _close(got, w, tol)]
        fits.sort(key=lambda f: f[0])  # the closest first; several slips can give one number on a sheet
        named = list(dict.fromkeys(s for _, s in fits))
        rows.append(CheckRow(key, got, want, False, slip=named[0] if named else None, also=tuple(named[1:])))
    extra = tuple(sorted(k for k in values if k not in sheet.answers))
    return CheckReport(sheet.student, tuple(rows), tol, extra)


def check_example(thetas: Sequence[np.ndarray], x, label: int, lam: float, given: Mapping[str, float],
                  tol: float = TOL) -> CheckReport:
    """Check hand-computed values for one example of any network of the lecture (what the explorer's form does).

    Only the given quantities are checked, each as on a worksheet of this network and example: D for this example
    alone (m = 1, D = Δ + λΘ outside the bias column). A name the network has no such quantity for is a ValueError.

    Parameters
    ----------
    thetas : list of arrays
        ``thetas[l-1]`` is Θ^(l), shape (s_{l+1}, s_l + 1), bias column first.
    x : array of shape (s_1,)
        The example.
    label : int
        Its class as an output-unit index (0-based, as the explorer's examples carry it).
    lam : float
        λ.
    given : mapping of quantity name to value
        E.g. ``{"delta_2^(2)": 0.1534}`` or ``{"δ₂⁽²⁾": 0.1534}``.
    tol : float
        How far from the exact value a right answer may be.
    """
    if not given:
        raise ValueError("answers: expected at least one line quantity,value such as delta_2^(2),0.1534")
    sheet_thetas = tuple(np.asarray(t, dtype=np.float64) for t in thetas)
    x = np.asarray(x, dtype=np.float64).ravel()
    trace = explain(sheet_thetas, x.reshape(1, -1), np.array([int(label)]), float(lam), rows=0)
    every = answers_of(trace, ASK)
    keys = []
    for name in given:
        try:
            symbol, l, idx = parse_quantity(name)
        except ValueError as exc:
            raise ValueError(f"answers: {exc}") from None
        key = quantity_key(symbol, l, *idx)
        if key not in every:
            raise ValueError(f"answers: this network (layer sizes {trace.sizes}) has no {quantity_name(key)}")
        keys.append(key)
    order = [k for k in every if k in keys]  # the lecture's order, whatever order they were written in
    sheet = Sheet(student=0, thetas=sheet_thetas, x=x, label=int(label), lam=float(lam),
                  answers={k: every[k] for k in order})
    return check_answers(sheet, given, tol)


def read_answers_csv(text: str, source: str = "answers") -> dict[str, float]:
    """``quantity,value`` rows (a header row and ``#`` comments are skipped) → {key: value}; errors name the line."""
    out: dict[str, float] = {}
    for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if len(row) != 2:
            raise ValueError(f"{source} line {n}: expected two columns quantity,value such as delta_2^(2),0.1534; "
                             f"got {len(row)}")
        name, value = row[0].strip(), row[1].strip()
        try:
            number = float(value)
        except ValueError:
            if n == 1 and not out:  # a header such as quantity,value
                continue
            raise ValueError(f"{source} line {n}: expected a number after {name!r}, got {value!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"{source} line {n}: expected a finite number, got {value!r}")
        try:
            symbol, l, idx = parse_quantity(name)
        except ValueError as exc:
            raise ValueError(f"{source} line {n}: {exc}") from None
        key = quantity_key(symbol, l, *idx)
        if key in out:
            raise ValueError(f"{source} line {n}: {name} is given twice")
        out[key] = number
    return out
