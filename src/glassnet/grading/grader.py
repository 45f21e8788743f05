"""``grade``: run a student's ``nnCostFunction`` on the course's cases and grade it part by part, with a diagnosis.

The parts, as the course grades them: feed-forward cost (λ = 0), regularized cost, sigmoid gradient, backpropagation
gradient (λ = 0), regularized gradient; plus random initialization when the file defines ``randInitializeWeights``.
A file runs in an isolated child process with hard limits (:mod:`glassnet._support.sandbox`; the report's
``isolation`` says what applied); a function of this process (e.g. defined in a notebook) is called here, trusted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._support.isolation import IN_PROCESS
from glassnet._support.sandbox import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, Call, CallResult, call_here
from glassnet.activations import sigmoid_gradient
from glassnet.grading.cases import CANDIDATES, OCTAVE, PYTHON, Pieces, net_cases, sigmoid_case
from glassnet.grading.diagnose import (
    close,
    diagnosis_for,
    fitting_mistake,
    fitting_pair,
    localise_gprime,
    localise_gradient,
    with_hints,
)
from glassnet.grading.mistakes import MISTAKES, by_name
from glassnet.grading.report import CaseResult, Diagnosis, GradeReport, PartResult
from glassnet.grading.submission import defined_names, find_submission, run_submission
from glassnet.params import init_epsilon

__all__ = ["grade", "split_target", "DEFAULT_FUNCTION"]

DEFAULT_FUNCTION = "nnCostFunction"
SIGMOID_GRADIENT, RAND_INIT = "sigmoidGradient", "randInitializeWeights"
_RAND_INIT_SIZES = ((3, 5), (5, 3))  # (L_in, L_out) calls of randInitializeWeights
_COURSE_EPSILON = 0.12


def split_target(target: str) -> tuple[str, str]:
    """``"FILE.py:FUNCTION"`` → (FILE.py, FUNCTION); ``"FILE.py"`` → (FILE.py, "nnCostFunction").

    Examples
    --------
    >>> split_target("ex4/nn.py:myCost"), split_target("nn.py")
    (('ex4/nn.py', 'myCost'), ('nn.py', 'nnCostFunction'))
    """
    head, sep, tail = str(target).rpartition(":")
    if sep and re.fullmatch(r"[A-Za-z_]\w*", tail) and head:
        return head, tail
    return str(target), DEFAULT_FUNCTION


def grade(fn, *, octave: bool | None = None, sigmoid_gradient_fn: Callable | None = None,
          rand_initialize_weights: Callable | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
          memory_mb: int = DEFAULT_MEMORY_MB) -> GradeReport:
    """Grade an ``nnCostFunction`` part by part and say exactly what is wrong.

    Parameters
    ----------
    fn : callable, or str / Path ``"FILE[:FUNCTION]"``
        ``nnCostFunction(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lambda_) -> (J, grad)``.
        A file is run in a child process with a time and a memory limit (default function ``nnCostFunction``; its
        ``sigmoidGradient`` and ``randInitializeWeights`` are graded too when it defines them): a Python file
        (``.py``), an Octave/MATLAB file (``.m``, run with GNU Octave, the other ``.m`` files of its folder on its
        path), a notebook (``.ipynb``: the definitions of its code cells) or a folder holding them
        (:func:`glassnet.grading.submission.find_submission` says which file is graded). A callable is called in
        this process.
    octave : bool or None
        None (default): the convention is detected — the unroll order (row- or column-major), the first label (0 or 1)
        and the shape of ``y`` ((m,) or (m, 1)) that the answers fit (:data:`~glassnet.grading.cases.CANDIDATES`),
        and the report says which it found. True: the original exercise's, ``nn_params = [Theta1(:); Theta2(:)]``
        (column-major) and labels 1..K. False: the Python port's, ``Theta1.ravel()`` then ``Theta2.ravel()``
        (row-major) and labels 0..K-1.
    sigmoid_gradient_fn, rand_initialize_weights : callable, optional
        With a callable ``fn``: the ``sigmoidGradient(z)`` and ``randInitializeWeights(L_in, L_out)`` to grade.
    timeout_s, memory_mb : float, int
        Limits of the child process for a file: wall-clock seconds and address space in MB.

    Returns
    -------
    GradeReport
        PASS/FAIL per part, the diagnosis of each failing part; ``.passed``, ``.to_dict()``, ``str(report)``.

    Examples
    --------
    >>> import glassnet
    >>> def nnCostFunction(nn_params, n_in, n_hidden, K, X, y, lambda_):
    ...     thetas = [nn_params[:n_hidden * (n_in + 1)].reshape(n_hidden, n_in + 1),
    ...               nn_params[n_hidden * (n_in + 1):].reshape(K, n_hidden + 1)]
    ...     J, D = glassnet.cost_and_gradient(thetas, X, y, lambda_)
    ...     for d, theta in zip(D, thetas):                    # a mistake: the bias column regularized
    ...         d[:, 0] += lambda_ / len(y) * theta[:, 0]
    ...     return J, np.concatenate([d.ravel() for d in D])
    >>> report = glassnet.grade(nnCostFunction)
    >>> report.passed, report.mistakes
    (False, ('bias-regularized-gradient',))
    >>> sorted({w.j for w in report.part("regularized-gradient").diagnosis.worst})   # j = 0: the bias column
    [0]
    >>> report.part("gradient").status                            # λ = 0: the mistake does not show
    'PASS'
    """
    submission = None
    if isinstance(fn, (str, Path)):
        path, function = split_target(str(fn))
        submission = find_submission(path, function)
        source = f"{submission.main}:{function}"
    elif callable(fn):
        function = getattr(fn, "__name__", DEFAULT_FUNCTION)
        source = f"function {function}"
    else:
        raise TypeError(f"fn: expected a function or a 'FILE[:FUNCTION]' path (.py, .m, .ipynb or a folder), got "
                        f"{type(fn).__name__}")
    explicit = None if octave is None else (OCTAVE if octave else PYTHON)
    candidates = CANDIDATES if explicit is None else (explicit,)
    if submission is not None and submission.kind == "octave":  # Octave has no 1-D arrays: y is always m × 1
        candidates = tuple(c if c.y_column else c.with_y_column() for c in candidates if c.y_column or explicit)
    per_convention, variants = _prepared(candidates)
    z = sigmoid_case()
    calls = [Call(function, p.call_args()) for pieces in per_convention for p in pieces[False] + pieces[True]]
    calls.append(Call(SIGMOID_GRADIENT, (z.copy(),), optional=True))
    calls.extend(Call(RAND_INIT, size, optional=True) for size in _RAND_INIT_SIZES)
    report: dict[str, Any] = dict(source=source, function=function, convention=candidates[0].name,
                                  conventions_text=candidates[0].describe(), convention_detected=explicit is None,
                                  convention_asked=explicit is not None)
    if submission is not None:
        run, note = run_submission(submission, calls, timeout_s=timeout_s, memory_mb=memory_mb)
        report["note"] = note
        report["isolation"] = run.isolation
        run = with_hints(run)
        if run.status == "load error" or (run.status == "memory" and not any(r.ok for r in run.results)):
            report["convention_detected"] = False  # nothing ran: nothing was detected
            return GradeReport(**report, error=run.message, traceback=run.traceback, output=run.output)
        results, error, output = run.results, (None if run.ok else run.message), run.output
    else:
        functions = {function: fn}
        if sigmoid_gradient_fn is not None:
            functions[SIGMOID_GRADIENT] = sigmoid_gradient_fn
        if rand_initialize_weights is not None:
            functions[RAND_INIT] = rand_initialize_weights
        results, error, output = call_here(functions, calls), None, ""
        report["isolation"] = IN_PROCESS
    n = len(per_convention[0][False]) * 2
    blocks = [results[k * n:(k + 1) * n] for k in range(len(candidates))]
    sig_result, init_results = results[len(candidates) * n], results[len(candidates) * n + 1:]
    if blocks[0] and all(r.status == "missing" or r.message == f"defines no function {function}" for r in blocks[0]):
        defined = defined_names(submission) if submission is not None else ()
        also = f" (it defines {', '.join(defined)})" if defined else ""
        return GradeReport(**report, error=f"{source}: defines no function {function}{also}", output=output,
                           missing_function=True)
    chosen, fits = _detect(blocks, per_convention, variants)
    convention, net_results, pieces = candidates[chosen], blocks[chosen], per_convention[chosen]
    report.update(convention=convention.name, conventions_text=convention.describe(),
                  convention_detected=explicit is None and fits)
    failed_run = error or ""
    answers = [_net_answer(r, failed_run) for r in net_results]
    by_reg = {False: answers[: n // 2], True: answers[n // 2:]}
    parts = [
        _net_part("cost", "Feed-forward cost (λ = 0)", "J", by_reg[False], pieces[False], variants),
        _net_part("regularized-cost", "Regularized cost (λ > 0)", "J", by_reg[True], pieces[True], variants),
        _sigmoid_part(sig_result, z, failed_run),
        _net_part("gradient", "Backpropagation gradient (λ = 0)", "grad", by_reg[False], pieces[False], variants),
        _net_part("regularized-gradient", "Regularized gradient (λ > 0)", "grad", by_reg[True], pieces[True],
                  variants),
        _init_part(init_results, failed_run),
    ]
    return GradeReport(**report, parts=tuple(parts), error=error, output=output)


@cache
def _prepared(candidates: tuple) -> tuple[list, dict]:
    """The correct pieces of every case in each candidate convention, and a store for the typical mistakes' variants
    of them: the same for every file graded, so computed once per process (a class is graded in one)."""
    cases = net_cases()
    per_convention = [{reg: [Pieces(c, conv) for c in cases[reg]] for reg in (False, True)} for conv in candidates]
    return per_convention, {}


def _unroll_note(mistake, convention) -> str:
    """For an unroll mistake: the convention the file is graded in, the one to use (and how to name the other)."""
    if mistake is None or isinstance(mistake, tuple) or mistake.name not in ("params-other-order", "grad-other-order"):
        return ""
    labels = f"labels from {convention.first_label}"
    other = "--python" if convention.flags == "--octave" else "--octave"
    return (f"with {labels}, nn_params is {convention.unroll_text}: reshape and unroll grad in that order "
            f"(or grade with {other})")


# ---------------------------------------------------------------------------------------------------------------
# which convention the file works in


def _detect(blocks, per_convention, variants) -> tuple[int, bool]:
    """The index of the candidate convention the student's answers fit best (the first one on a tie), and whether
    any answer is exactly right in it (else the convention is only the likeliest).

    Scored by the number of exact answers (J and grad over all cases), then — where no convention is right
    everywhere — by the number of answers that equal a typical mistake's exact variant, then by the calls that ran.
    """
    scores = []
    for block, pieces in zip(blocks, per_convention):
        flat = pieces[False] + pieces[True]
        answers = [_net_answer(r, "") for r in block]
        right = sum(J is not None and close(J, p.J) for (J, _, _, _), p in zip(answers, flat))
        right += sum(g is not None and close(g, p.answer()[1]) for (_, g, _, _), p in zip(answers, flat))
        scores.append([right, 0, sum(r.ok for r in block), answers, flat])
    if max(s[0] for s in scores) < 2 * len(blocks[0]):
        for s in scores:
            s[1] = sum(_fits_a_mistake(J, g, p, variants) for (J, g, _, _), p in zip(s[3], s[4]))
    keys = [tuple(s[:3]) for s in scores]
    best = keys.index(max(keys))
    return best, keys[best][0] > 0


def _fits_a_mistake(J, grad, p: Pieces, variants: dict) -> int:
    """1 when J or grad on the case of ``p`` is wrong exactly as some typical mistake makes it wrong, else 0."""
    correct_grad = p.answer()[1]
    for mistake in MISTAKES:
        if mistake.net is None:
            continue
        key = (mistake.name, id(p))
        if key not in variants:
            variants[key] = mistake.net(p)
        wrong_J, wrong_grad = variants[key]
        if J is not None and close(J, wrong_J) and not close(wrong_J, p.J):
            return 1
        if grad is not None and close(grad, wrong_grad) and not close(wrong_grad, correct_grad):
            return 1
    return 0


# ---------------------------------------------------------------------------------------------------------------
# what the student's function gave


def _net_answer(r: CallResult, failed_run: str):
    """(J or None, grad or None, message, traceback) of one nnCostFunction call."""
    if r.status == "not run":
        return None, None, f"not run: {failed_run}" if failed_run else "not run", ""
    if not r.ok:
        return None, None, r.message, r.traceback
    values = r.values
    if not values or values[0].size != 1:
        shape = values[0].shape if values else ()
        return None, None, f"J: expected one number, got an array of shape {shape}", ""
    J = float(values[0].reshape(-1)[0])
    if len(values) < 2:
        return J, None, "returned only J; expected (J, grad)", ""
    if len(values) > 2:
        return J, None, f"returned {len(values)} values; expected (J, grad)", ""
    return J, values[1].reshape(-1), "", ""


def _net_part(name, title, quantity, answers, pieces, variants) -> PartResult:
    cases: list[CaseResult] = []
    values: list[Any] = []
    for (J, grad, message, tb), p in zip(answers, pieces):
        title_case = p.case.title()
        if message and (quantity == "J" and J is None or quantity == "grad" and grad is None):
            cases.append(CaseResult(title_case, False, message, tb))
            values.append(None)
            continue
        if quantity == "J":
            ok = close(J, p.J)
            msg = "" if ok else f"J = {J:.6g}, expected {p.J:.6g} (difference {J - p.J:+.3g})"
            values.append(J)
        else:
            expected = p.answer()[1]
            ok = close(grad, expected)
            if ok:
                msg = ""
            elif grad.size != expected.size:
                shapes = " + ".join(f"{r}×{c}" for r, c in (t.shape for t in p.thetas))
                msg = f"grad has {grad.size} entries, expected {expected.size} = {shapes}"
            else:
                msg = f"grad differs from D (largest difference {np.nanmax(np.abs(grad - expected)):.3g})"
            values.append(grad)
        cases.append(CaseResult(title_case, ok, msg))
    if all(c.passed for c in cases):
        return PartResult(name, title, "PASS", tuple(cases))
    if any(v is None for v in values):  # the code raised (or never ran): nothing to diagnose
        return PartResult(name, title, "FAIL", tuple(cases))
    mistake = fitting_mistake(quantity, values, pieces, variants) or fitting_pair(quantity, values, pieces, variants)
    where: dict = {}
    if quantity == "grad":
        for grad, p, c in zip(values, pieces, cases):
            if not c.passed and grad.size == p.answer()[1].size:
                layers, first, worst = localise_gradient(grad, p)
                where = dict(wrong_layers=layers, first_wrong_layer=first, worst=worst,
                             note=f"entries from the case {p.case.title()}")
                break
    else:
        where = dict(note=_cost_note(values, pieces))
    unknown = "no typical mistake fits exactly" + (": see where D is wrong" if quantity == "grad" else "")
    diagnosis = diagnosis_for(mistake, unknown, **where)
    unroll = _unroll_note(mistake, pieces[0].convention)
    if unroll:
        diagnosis = replace(diagnosis, convention=unroll)
    return PartResult(name, title, "FAIL", tuple(cases), diagnosis)


def _cost_note(values, pieces) -> str:
    """For a wrong J: how it compares with the data term and the regularization term of the first failing case."""
    for J, p in zip(values, pieces):
        if not close(J, p.J):
            if p.lam:
                return (f"{p.case.title()}: the data term is {p.J_data:.6g} and (λ/2m)ΣΘ² (no bias) is "
                        f"{p.reg:.6g}; your J minus the data term is {J - p.J_data:.6g}")
            return f"{p.case.title()}: your J / expected J = {J / p.J:.6g}"
    return ""


def _sigmoid_part(r: CallResult, z: np.ndarray, failed_run: str) -> PartResult:
    title, name = "Sigmoid gradient", "sigmoid-gradient"
    case = f"sigmoidGradient(z), z of shape {z.shape[0]}×{z.shape[1]}"
    if r.status == "missing":
        return PartResult(name, title, "SKIPPED", note=f"no function {SIGMOID_GRADIENT} to grade")
    if r.status == "not run":
        return PartResult(name, title, "FAIL", (CaseResult(case, False, f"not run: {failed_run}"),))
    if not r.ok:
        return PartResult(name, title, "FAIL", (CaseResult(case, False, r.message, r.traceback),))
    expected = sigmoid_gradient(z)
    got = r.values[0]
    if got.size != z.size:
        return PartResult(name, title, "FAIL", (CaseResult(case, False, f"returned shape {got.shape}, expected "
                                                                        f"{z.shape} (elementwise)"),))
    if close(got, expected):
        return PartResult(name, title, "PASS", (CaseResult(case, True),))
    fits = [m for m in MISTAKES if m.gprime is not None and close(got, m.gprime(z))]
    worst = localise_gprime(got, z, expected)
    diagnosis = diagnosis_for(fits[0] if fits else None, "no typical mistake fits exactly: see the wrong entries",
                              worst=worst)
    return PartResult(name, title, "FAIL", (CaseResult(case, False, "g′(z) is wrong"),), diagnosis)


def _init_part(results, failed_run: str) -> PartResult:
    title, name = "Random initialization", "random-init"
    if results and all(r.status == "missing" for r in results):
        return PartResult(name, title, "SKIPPED", note=f"no function {RAND_INIT} to grade")
    cases = []
    found: list[str] = []
    for (L_in, L_out), r in zip(_RAND_INIT_SIZES, results):
        case = f"{RAND_INIT}({L_in}, {L_out})"
        if not r.ok:
            msg = f"not run: {failed_run}" if r.status == "not run" else r.message
            cases.append(CaseResult(case, False, msg, r.traceback))
            continue
        W = r.values[0]
        eps = max(_COURSE_EPSILON, init_epsilon(L_in, L_out))
        expected = (L_out, L_in + 1)
        if W.shape == expected[::-1] != expected:
            msg = f"shape {W.shape}, expected {expected} = (L_out, 1 + L_in): the axes are swapped"
            found.append("init-shape-swapped")
        elif W.shape != expected:
            msg = f"shape {W.shape}, expected {expected} = (L_out, 1 + L_in): bias column included"
        elif not np.all(np.isfinite(W)):
            msg = "contains NaN or inf"
        elif np.abs(W).max() > eps + 1e-12:
            msg = f"max |W| = {np.abs(W).max():.3g}, expected within ±ε_init (0.12, or √6/√(L_in + L_out))"
        elif W.min() >= 0 or W.max() <= 0:
            sign = "≥ 0" if W.min() >= 0 else "≤ 0"
            msg = f"every weight is {sign} (in [{W.min():.3g}, {W.max():.3g}]): expected both signs, within [−ε, ε]"
            found.append("init-one-sign")
        elif len(np.unique(W)) < W.size // 2:
            msg = "too many equal weights: the symmetry is not broken (use rand(L_out, 1 + L_in) * 2ε − ε)"
        else:
            msg = ""
        cases.append(CaseResult(case, not msg, msg))
    status = "PASS" if all(c.passed for c in cases) else "FAIL"
    diagnosis = None
    if status == "FAIL" and found:
        diagnosis = diagnosis_for(by_name(found[0]), "")
    elif status == "FAIL" and any(c.message.startswith("too many equal") for c in cases):
        diagnosis = Diagnosis(None, "the weights do not break the symmetry",
                              "Θ^(l)_ij drawn uniformly from [−ε_init, ε_init]", "randInitializeWeights")
    return PartResult(name, title, status, tuple(cases), diagnosis)
