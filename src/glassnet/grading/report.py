"""The grade report: PASS/FAIL per part, the diagnosis of a failing part, and its text and JSON renderings.

Lecture indices everywhere a person reads: Θ^(l)_ij with l the layer (1-based), i the unit of layer l + 1
(1-based) and j the unit of layer l (0 = the bias unit). Data only; computing it is :mod:`glassnet.grading.grader`'s.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field

_WIDTH = 118  # the short report fits a terminal of 120 columns

__all__ = ["WrongEntry", "Diagnosis", "CaseResult", "PartResult", "GradeReport"]


def _num(x: float):
    """A float for JSON: finite numbers as they are, NaN and ±inf as the strings "nan", "inf", "-inf"."""
    x = float(x)
    return x if math.isfinite(x) else str(x)


def _wrap(line: str, width: int = _WIDTH) -> list[str]:
    """A long line of the short report folded at ``width``, the rest indented under its label."""
    if len(line) <= width:
        return [line]
    indent = " " * (len(line) - len(line.lstrip()) + 4)
    return textwrap.wrap(line, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


@dataclass(frozen=True)
class WrongEntry:
    """One wrong number: ``array`` (e.g. "D^(1)"), lecture indices (i, j), the expected value and the student's."""

    array: str
    i: int
    j: int
    expected: float
    got: float

    @property
    def label(self) -> str:
        return f"{self.array}_{self.i},{self.j}"

    def to_dict(self) -> dict:
        return {"array": self.array, "i": self.i, "j": self.j, "expected": _num(self.expected), "got": _num(self.got)}


@dataclass(frozen=True)
class Diagnosis:
    """Why a part fails: the mistake that fits exactly (``mistake`` None when none does) and where the error is.

    ``wrong_layers``: lecture layers l whose D^(l) is wrong; ``first_wrong_layer``: the first of them in backprop
    order (from the output down, where the error enters); ``worst``: the largest wrong entries.
    """

    mistake: str | None
    title: str
    formula: str = ""
    look_at: str = ""
    wrong_layers: tuple = ()
    first_wrong_layer: int | None = None
    worst: tuple = ()
    note: str = ""
    second: str | None = None  # the other mistake, when two fit together
    convention: str = ""  # for an unroll mistake: the order to use in the convention the file is graded in

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the mistakes this diagnosis gives: none, one, or two."""
        return tuple(n for n in (self.mistake, self.second) if n)

    def to_dict(self) -> dict:
        return {"mistake": self.mistake, "second_mistake": self.second,
                "title": self.title, "formula": self.formula, "look_at": self.look_at,
                "wrong_layers": list(self.wrong_layers), "first_wrong_layer": self.first_wrong_layer,
                "worst": [w.to_dict() for w in self.worst], "note": self.note, "convention": self.convention}

    def short_lines(self, parts: list[str], example: str = "") -> list[str]:
        """The diagnosis once, for the parts it explains: the mistake, the formula, where to look, the first wrong
        layer and the largest wrong entry (or ``example``, one failing case in a line)."""
        head, *rest = self._head()
        out = [head, f"  parts: {', '.join(parts)}", *rest]
        if self.wrong_layers:
            where = (f"  where: D^({self.first_wrong_layer}) first (backprop order), of "
                     + ", ".join(f"D^({l})" for l in self.wrong_layers))
            if self.worst:
                w = self.worst[0]
                where += f"; largest: {w.label} yours {w.got:.4g}, expected {w.expected:.4g}"
            out.append(where)
        elif self.worst:
            w = self.worst[0]
            out.append(f"  largest wrong: {w.label} yours {w.got:.4g}, expected {w.expected:.4g}")
        if example:
            out.append(f"  e.g. {example}")
        if self.note and self.mistake is None and not self.worst:  # an unknown mistake: how J compares
            out.append(f"  {self.note}")
        return [wrapped for line in out for wrapped in _wrap(line)]

    def _head(self) -> list[str]:
        """What both reports open with: the diagnosis, its lecture formula, where to look, the convention to use."""
        out = [f"diagnosis: {self.title}" + (f" [{' + '.join(self.names)}]" if self.mistake else "")]
        if self.formula:
            out.append(f"  lecture: {self.formula}")
        if self.look_at:
            out.append(f"  look at: {self.look_at}")
        if self.convention:
            out.append(f"  convention: {self.convention}")
        return out

    def lines(self) -> list[str]:
        out = self._head()
        if self.wrong_layers:
            names = ", ".join(f"D^({l})" for l in self.wrong_layers)
            out.append(f"  wrong: {names}; in backprop order the error first shows in D^({self.first_wrong_layer})")
        if self.worst:
            out.append("  largest wrong entries (lecture indices):")
            for w in self.worst:
                out.append(f"    {w.label}: yours {w.got:.6g}, expected {w.expected:.6g}")
        if self.note:
            out.append(f"  {self.note}")
        return out


@dataclass(frozen=True)
class CaseResult:
    """One graded case of a part: its title, the verdict and a one-line message (plus a traceback for an error)."""

    case: str
    passed: bool
    message: str = ""
    traceback: str = ""

    def to_dict(self) -> dict:
        return {"case": self.case, "passed": self.passed, "message": self.message, "traceback": self.traceback}


@dataclass(frozen=True)
class PartResult:
    """One part of the course's grading: ``status`` is "PASS", "FAIL" or "SKIPPED" (an optional function missing)."""

    name: str
    title: str
    status: str
    cases: tuple = ()
    diagnosis: Diagnosis | None = None
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.status != "FAIL"

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "status": self.status, "passed": self.passed,
                "cases": [c.to_dict() for c in self.cases],
                "diagnosis": None if self.diagnosis is None else self.diagnosis.to_dict(), "note": self.note}


@dataclass(frozen=True)
class GradeReport:
    """The result of :func:`glassnet.grade`: the parts, and ``error`` when the code could not be run to the end.

    ``passed`` is True when every part passes (skipped optional parts do not fail). ``mistakes`` lists the names of
    the diagnosed mistakes; ``str(report)`` is the text a person reads, ``to_dict()`` the same as plain JSON values.
    """

    source: str
    function: str
    convention: str
    parts: tuple = ()
    error: str | None = None
    traceback: str = ""
    output: str = ""
    conventions_text: str = field(default="", repr=False)
    convention_detected: bool = False
    missing_function: bool = False  # the file ran but defines no function of that name (a usage error on the CLI)
    convention_asked: bool = False  # named by the caller (octave=True/False), not detected
    note: str = ""  # what of the submission was left out (a notebook's cells that load data or train)
    isolation: str = ""  # what isolated the code while it ran (the sandbox's own words), or that it was trusted

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.parts) and all(p.passed for p in self.parts)

    @property
    def mistakes(self) -> tuple[str, ...]:
        seen: list[str] = []
        for p in self.parts:
            for name in () if p.diagnosis is None else p.diagnosis.names:
                if name not in seen:
                    seen.append(name)
        return tuple(seen)

    def part(self, name: str) -> PartResult:
        """The part called ``name`` (e.g. "regularized-gradient")."""
        for p in self.parts:
            if p.name == name:
                return p
        raise KeyError(f"no part {name!r}; parts: {', '.join(p.name for p in self.parts)}")

    def to_dict(self) -> dict:
        return {"source": self.source, "function": self.function, "convention": self.convention,
                "convention_text": self.conventions_text, "convention_detected": self.convention_detected,
                "passed": self.passed, "error": self.error, "traceback": self.traceback,
                "mistakes": list(self.mistakes), "parts": [p.to_dict() for p in self.parts], "output": self.output,
                "note": self.note, "isolation": self.isolation}

    def text(self, verbose: bool = False) -> str:
        """The report a person reads: one screen by default (each part PASS/FAIL, each diagnosis once: the mistake,
        the formula, where); ``verbose`` shows every failing case and every number, part by part."""
        lines = [f"grading {self.source}"]
        if self.note:
            lines.extend(_wrap(self.note))
        if self.conventions_text and self.convention_detected:
            lines.append(f"your file {self.conventions_text} (detected)")
        elif self.conventions_text and self.convention_asked:
            lines.extend(_wrap(f"graded in the {self.convention} convention, as asked: a file that "
                               f"{self.conventions_text}"))
        elif self.conventions_text and self.parts:
            lines.extend(_wrap(f"no convention gives any answer exactly; graded as a file that "
                               f"{self.conventions_text}"))
        if self.error:
            lines.append(f"error: {self.error}")
            if self.traceback:
                lines.extend("  " + line for line in self.traceback.splitlines())
        lines.extend(self._verbose_parts() if verbose else self._short_parts())
        graded = [p for p in self.parts if p.status != "SKIPPED"]
        if self.parts:
            lines.append(f"{sum(p.status == 'PASS' for p in graded)} of {len(graded)} parts pass"
                         + (f"; mistakes found: {', '.join(self.mistakes)}" if self.mistakes else "")
                         + ("" if verbose or self.passed else " (--verbose: every case and number)"))
        if self.isolation:
            lines.extend(_wrap(f"isolation: {self.isolation}"))
        return "\n".join(lines)

    def _verbose_parts(self) -> list[str]:
        lines: list[str] = []
        shown_tb = bool(self.traceback)
        for p in self.parts:
            n_ok = sum(c.passed for c in p.cases)
            count = f"{n_ok}/{len(p.cases)} cases" if p.cases else ""
            lines.append(f"{p.status:<7} {p.title:<40} {count}".rstrip())
            if p.note:
                lines.append(f"        {p.note}")
            if p.status == "FAIL":
                for c in p.cases:
                    if not c.passed:
                        lines.append(f"        {c.case}: {c.message}")
                        if c.traceback and not shown_tb:  # the same code fails the same way: show it once
                            lines.extend("          " + line for line in c.traceback.splitlines())
                            shown_tb = True
                if p.diagnosis is not None:
                    lines.extend("        " + line for line in p.diagnosis.lines())
        return lines

    def _short_parts(self) -> list[str]:
        """The parts one line each, then each diagnosis once with the parts it explains, then the first failure of a
        part without a diagnosis (a crash shows its traceback once)."""
        lines: list[str] = []
        groups: dict = {}  # diagnosis key -> (diagnosis, titles of its parts)
        failures: list[str] = []
        seen_messages: set = set()
        shown_tb = bool(self.traceback)
        for p in self.parts:
            n_ok = sum(c.passed for c in p.cases)
            count = f"{n_ok}/{len(p.cases)} cases" if p.cases else ""
            d = p.diagnosis
            tag = f"  → {' + '.join(d.names)}" if d is not None and d.names else ""
            lines.append(f"{p.status:<7} {p.title:<34} {count:<11}{tag}".rstrip())
            if p.note:
                lines.append(f"        {p.note}")
            if p.status != "FAIL":
                continue
            if d is not None:
                key = d.names or (d.title, p.name)
                bad = [c for c in p.cases if not c.passed]
                example = f"{bad[0].case}: {bad[0].message}" if bad and not (d.worst or d.wrong_layers) else ""
                groups.setdefault(key, (d, [], example))[1].append(p.title)
                continue
            bad = [c for c in p.cases if not c.passed]
            if bad and bad[0].message not in seen_messages:  # the same code fails the same way: say it once
                seen_messages.add(bad[0].message)
                more = f" (and {len(bad) - 1} more case{'s' if len(bad) > 2 else ''})" if len(bad) > 1 else ""
                failures.extend(_wrap(f"{p.title}: {bad[0].case}: {bad[0].message}{more}"))
                if bad[0].traceback and not shown_tb:
                    failures.extend("  " + line for line in bad[0].traceback.splitlines())
                    shown_tb = True
        lines.extend(failures)
        for d, titles, example in groups.values():
            lines.extend(d.short_lines(titles, example))
        return lines

    def __str__(self) -> str:
        return self.text()
