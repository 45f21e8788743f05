"""See backpropagation: per-unit traces (:mod:`.trace`, data) and their renderings (:mod:`.render`, text/SVG/PNG/HTML).

``glassnet.explain(thetas, x, y)`` returns a :class:`Trace`; :mod:`glassnet.explain.render` turns traces into the
lecture's equations with numbers, network diagrams, hidden-unit images, curves and a self-contained HTML report.
This package only reads models; it never trains them except to compute learning and validation curves
(:mod:`.curves`). Importing it does not import matplotlib.
"""

from __future__ import annotations

from .trace import EdgeTerm, GradientTrace, LayerTrace, Trace, UnitTrace, explain

__all__ = ["explain", "Trace", "LayerTrace", "UnitTrace", "EdgeTerm", "GradientTrace"]
