"""See backpropagation: ``glassnet.explain(thetas, x, y, lam=0.0, top_k=None, *, rows=None, m=None)`` returns a Trace.

Calling this package calls :func:`glassnet.explain.trace.explain`: ``thetas`` is the list of Θ^(l), shape
(s_{l+1}, s_l + 1), bias column first; ``x`` one example (s_1,) or a batch (m, s_1); ``y`` the example's class 0..K-1
or 0/1 target vector (for a batch: every row's label); ``lam`` λ ≥ 0 (only D^(l) depends on it); ``top_k`` keeps the
k largest edge terms per hidden unit; ``rows`` picks the row(s) of a batch to trace (an int gives one Trace);
``m`` is the batch size of a single example. ``trace.delta[l][j]`` is δ_j^(l), in the lecture's 1-based indices.

The rooms, one line each:

- :mod:`.trace` — the data: every z, a, g′(z), δ and edge term of one example (no drawing);
- :mod:`.text` — the lecture's equations with the example's numbers, layer tables, the whole trace as text;
- :mod:`.diagram` — the network diagram: its layout as data (positions, shapes, colours, labels) and the SVG writer;
- :mod:`.figures` — PNG pictures (matplotlib): the diagram, hidden units, examples, cost / learning / validation curves;
- :mod:`.report` — the self-contained HTML report, and the block a trace shows in Jupyter;
- :mod:`.curves` — learning and validation curves as data (they train networks);
- :mod:`.maps` — a 2-input network evaluated over the input plane: decision map and hidden-unit maps (data);
- :mod:`.timeline` — every hidden unit's mean g′(z), mean |δ| and saturation at each snapshot of training (data);
- :mod:`.steps` — backpropagation of one example as a walk of small steps, with its numbers (data and text);
- :mod:`.walkthrough` — that walk over a few examples, Δ adding up, then D (data: ``glassnet.explain.walk(...)``);
- :mod:`.animation` — the walk as GIF, MP4 (matplotlib) and SVG frames; :mod:`.slides` — as an HTML slide deck.

This package only reads models; it never trains them except to compute the curves. Importing it does not import
matplotlib.
"""

from __future__ import annotations

import inspect
import sys
import types

from glassnet.explain import report, text
from glassnet.explain.trace import EdgeTerm, GradientTrace, LayerTrace, Trace, UnitTrace, explain, set_display
from glassnet.explain.walkthrough import Walk, walk

__all__ = ["explain", "Trace", "LayerTrace", "UnitTrace", "EdgeTerm", "GradientTrace", "walk", "Walk"]

# trace.py is data and imports no renderer; this package sits above both, so it is where a Trace learns to show itself.
set_display(text=text.summary, html=report.notebook_html)


class _ExplainPackage(types.ModuleType):
    """``glassnet.explain`` is both this package and the function: calling the module calls :func:`.trace.explain`.

    Without it the function, bound as ``glassnet.explain``, would hide the package (``glassnet.explain.text`` would
    be an attribute of a function).
    """

    def __call__(self, *args, **kwargs):
        return explain(*args, **kwargs)

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(explain)


sys.modules[__name__].__class__ = _ExplainPackage
