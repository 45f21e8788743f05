"""Comparing a student's answers with the exact ones, naming the mistake that fits, and localising the error.

A mistake fits a failing part when its exact variant (:mod:`glassnet.grading.mistakes`) equals the student's answer
on every case of the part and differs from the correct answer on at least one. Whatever fits or not, a wrong
gradient is localised: the layers whose D^(l) is wrong and the largest wrong entries, in lecture indices.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from itertools import combinations

import numpy as np

from glassnet._support.sandbox import SandboxRun
from glassnet.grading.cases import Pieces
from glassnet.grading.mistakes import MISTAKES, Mistake
from glassnet.grading.report import Diagnosis, WrongEntry

__all__ = ["RTOL", "ATOL", "close", "fitting_mistake", "fitting_pair", "localise_gradient", "localise_gprime",
           "N_WORST", "DRIFT_HINTS", "drift_hint", "with_hints"]

RTOL, ATOL = 1e-6, 1e-9  # far below any real mistake, far above rounding (a naive log(sigmoid) J agrees to 1e-14)
N_WORST = 5


def close(got, expected) -> bool:
    """``got`` equals ``expected`` to RTOL/ATOL, element by element; NaN in ``expected`` matches anything."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if got.size != expected.size:
        return False
    got, expected = got.ravel(), expected.ravel()
    known = ~np.isnan(expected)
    g, e = got[known], expected[known]
    return bool(np.all(np.isfinite(g)) and np.allclose(g, e, rtol=RTOL, atol=ATOL))


def fitting_mistake(quantity: str, answers: Sequence, pieces: Sequence[Pieces], cache: dict) -> Mistake | None:
    """The first mistake whose ``quantity`` ("J" or "grad") equals every student answer, or None.

    ``answers[k]`` is the student's value on ``pieces[k]``; ``cache`` keeps each variant, computed once per
    (mistake, case) for all parts.
    """
    index = 0 if quantity == "J" else 1
    for mistake in MISTAKES:
        if mistake.net is None:
            continue
        differs = False
        for answer, p in zip(answers, pieces):
            key = (mistake.name, id(p))
            if key not in cache:
                cache[key] = mistake.net(p)
            wrong = cache[key][index]
            correct = p.J if index == 0 else p.answer()[1]
            if not close(answer, wrong):
                break
            differs = differs or not close(wrong, correct)
        else:
            if differs:
                return mistake
    return None


def fitting_pair(quantity: str, answers: Sequence, pieces: Sequence[Pieces],
                 cache: dict) -> tuple[Mistake, Mistake] | None:
    """The first pair of mistakes whose changes, added up, give every student answer exactly; or None.

    For two mistakes A and B with exact variants a and b of the correct c, the file that makes both is taken to
    return a + b − c: exact for mistakes in different terms (the data term and the regularization term, the bias
    column and the rest). Each of the two must change the answer on at least one case of the part.
    """
    index = 0 if quantity == "J" else 1
    known = [m for m in MISTAKES if m.net is not None]
    for p in pieces:
        for m in known:
            if (m.name, id(p)) not in cache and m.net is not None:
                cache[(m.name, id(p))] = m.net(p)
    for a, b in combinations(known, 2):
        shows_a = shows_b = False
        for answer, p in zip(answers, pieces):
            correct = np.asarray(p.J if index == 0 else p.answer()[1], dtype=np.float64)
            wa = np.asarray(cache[(a.name, id(p))][index], dtype=np.float64)
            wb = np.asarray(cache[(b.name, id(p))][index], dtype=np.float64)
            if wa.shape != correct.shape or wb.shape != correct.shape or not close(answer, wa + wb - correct):
                break
            shows_a = shows_a or not close(wa, correct)
            shows_b = shows_b or not close(wb, correct)
        else:
            if shows_a and shows_b:
                return a, b
    return None


def localise_gradient(grad: np.ndarray, p: Pieces) -> tuple[tuple, int | None, tuple]:
    """(wrong layers, first wrong layer in backprop order, largest wrong entries) of a grad of the right length."""
    D_student = p.convention.unpack(np.asarray(grad, dtype=np.float64).ravel(), p.case.sizes)
    wrong_layers = []
    entries = []
    for l, (mine, ref) in enumerate(zip(D_student, p.D), start=1):
        if not close(mine, ref):
            wrong_layers.append(l)
        err = np.abs(mine - ref)
        err = np.where(np.isnan(err), np.inf, err)
        for r, c in zip(*np.nonzero(~np.isclose(mine, ref, rtol=1e-6, atol=1e-9))):
            entries.append((float(err[r, c]), WrongEntry(f"D^({l})", int(r) + 1, int(c), float(ref[r, c]),
                                                         float(mine[r, c]))))
    entries.sort(key=lambda e: -e[0])
    first = max(wrong_layers) if wrong_layers else None
    return tuple(wrong_layers), first, tuple(e for _, e in entries[:N_WORST])


def localise_gprime(got: np.ndarray, z: np.ndarray, expected: np.ndarray) -> tuple:
    """The largest wrong entries of sigmoidGradient(z) (indices are the 1-based row and column of z)."""
    got = np.asarray(got, dtype=np.float64).reshape(z.shape)
    err = np.abs(got - expected)
    err = np.where(np.isnan(err), np.inf, err)
    wrong = np.argwhere(~np.isclose(got, expected, rtol=1e-6, atol=1e-9))
    bad = sorted(wrong.tolist(), key=lambda rc: -err[rc[0], rc[1]])[:N_WORST]
    return tuple(WrongEntry(f"g′(z) at z = {z[r, c]:.4g}: entry", r + 1, c + 1, float(expected[r, c]),
                            float(got[r, c])) for r, c in bad)


def diagnosis_for(mistake: Mistake | tuple[Mistake, Mistake] | None, unknown_title: str, **where) -> Diagnosis:
    """A :class:`Diagnosis` naming ``mistake`` — or a pair of mistakes, or an unknown mistake (``unknown_title``) —
    with the localisation."""
    if mistake is None:
        return Diagnosis(None, unknown_title, **where)
    if isinstance(mistake, tuple):
        a, b = mistake
        return Diagnosis(a.name, f"two mistakes: {a.title}; and {b.title}", f"{a.formula}; and {b.formula}",
                         f"{a.look_at}; and {b.look_at}", second=b.name, **where)
    return Diagnosis(mistake.name, mistake.title, mistake.formula, mistake.look_at, **where)


# ---------------------------------------------------------------------------------------------------------------
# library drift: code written for an older pandas, NumPy or Python fails in a way that has a one-line fix

DRIFT_HINTS: tuple[tuple[str, str], ...] = (
    (r"has no attribute 'as_matrix'",
     "pandas 1.0 removed DataFrame.as_matrix(): use .to_numpy() (or .values)"),
    (r"name 'xrange' is not defined", "xrange is Python 2's: use range"),
    (r"only (?:length-1|size-1|0-dimensional) arrays can be converted to Python scalars",
     "NumPy 2 refuses float()/int() of an array that is not 0-dimensional: for a one-number array such as a "
     "(1, 1) J use J.item() (or J[0, 0])"),
    (r"module 'numpy' has no attribute 'asscalar'", "NumPy 1.23 removed np.asscalar(a): use a.item()"),
    (r"module 'numpy' has no attribute '(float|int|bool|object|complex|str)'",
     r"NumPy 1.24 removed the alias np.\1 of the built-in \1: use \1 (or np.float64, np.int64)"),
    (r"Missing parentheses in call to 'print'", "print x is Python 2's statement: use print(x)"),
)


def drift_hint(text: str) -> str:
    """The one-line hint for an error that known library drift explains (the first entry of :data:`DRIFT_HINTS`
    whose pattern is in ``text``), or "".

    Examples
    --------
    >>> drift_hint("AttributeError: 'DataFrame' object has no attribute 'as_matrix'")
    'pandas 1.0 removed DataFrame.as_matrix(): use .to_numpy() (or .values)'
    >>> drift_hint("AttributeError: module 'numpy' has no attribute 'float'.")
    'NumPy 1.24 removed the alias np.float of the built-in float: use float (or np.float64, np.int64)'
    """
    for pattern, hint in DRIFT_HINTS:
        match = re.search(pattern, text)
        if match:
            return match.expand(hint)
    return ""


def with_hints(run: SandboxRun) -> SandboxRun:
    """``run`` with a line ``hint: ...`` after each traceback (of the run, of each call) that library drift explains.
    """

    def hinted(message: str, traceback: str) -> str:
        hint = drift_hint(f"{message}\n{traceback}")
        return f"{traceback}\nhint: {hint}".lstrip("\n") if hint else traceback

    results = tuple(replace(r, traceback=hinted(r.message, r.traceback)) if r.status == "error" else r
                    for r in run.results)
    return replace(run, traceback=hinted(run.message, run.traceback) if run.message else run.traceback,
                   results=results)
