"""Grading a student's ``nnCostFunction`` the way the course does, and saying exactly what is wrong.

:func:`glassnet.grade` runs the implementation on the course's cases (a file in a sandboxed child process), grades
each part PASS/FAIL against glassnet's exact answers, and names the typical mistake that fits each failing part.

Modules: :mod:`~glassnet.grading.cases` (the problems, conventions and correct pieces),
:mod:`~glassnet.grading.mistakes` (the table of typical mistakes), :mod:`~glassnet.grading.diagnose` (matching and
localising), :mod:`~glassnet.grading.report` (the report and its renderings), :mod:`~glassnet.grading.grader`
(``grade`` itself), :mod:`~glassnet.grading.classroom` (a whole class: ``grade_class``). The package is called
``grading`` so that the function ``glassnet.grade`` does not hide it.
"""

from __future__ import annotations

from glassnet.grading.classroom import ClassResult, StudentResult, grade_class
from glassnet.grading.grader import grade
from glassnet.grading.mistakes import MISTAKES, Mistake
from glassnet.grading.report import CaseResult, Diagnosis, GradeReport, PartResult, WrongEntry

__all__ = ["grade", "GradeReport", "PartResult", "CaseResult", "Diagnosis", "WrongEntry", "MISTAKES", "Mistake",
           "grade_class", "ClassResult", "StudentResult"]
