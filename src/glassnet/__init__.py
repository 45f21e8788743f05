"""glassnet — the lecture's neural-network backpropagation, exact, fast and visible.

Notation, stated once for the whole package
-------------------------------------------
A network has L layers of sizes ``[s_1, ..., s_L]`` with sigmoid units g(z) = 1/(1 + e^{-z}).
``thetas[l - 1]`` is the lecture's Θ^(l), shape ``(s_{l+1}, s_l + 1)``, bias weights in column 0.
Examples are rows: X has shape (m, s_1); z^(l) and a^(l) have shape (m, s_l) (a^(l) gains a bias column where the
lecture has a bias unit). Python lists are 0-based, so ``cache.z[l - 1]`` is the lecture's z^(l); the explainer speaks
the lecture's 1-based superscripts.

>>> import glassnet
>>> thetas = glassnet.debug_init([3, 5, 3])
>>> J, grads = glassnet.cost_and_gradient(thetas, glassnet.debug_initialize_weights(5, 2), [1, 2, 0, 1, 2], 3.0)
>>> f"{J:.6f}", [g.shape for g in grads]
('2.146360', [(5, 4), (3, 6)])
"""

from __future__ import annotations

import typing

from glassnet._support import frontends as _frontends
from glassnet._version import __version__
from glassnet.activations import sigmoid, sigmoid_gradient
from glassnet.api import cost_and_gradient
from glassnet.backprop import backprop_per_example
from glassnet.cost import cost
from glassnet.errors import DataError, ModelFileError
from glassnet.forward import ForwardCache, forward
from glassnet.gradcheck import GradCheckReport, course_gradient_check, gradient_check
from glassnet.params import debug_init, debug_initialize_weights, random_init, roll, unroll
from glassnet.train.optimize import History, StopTraining

if typing.TYPE_CHECKING:  # what __getattr__ below loads on first use, spelled out for type checkers and editors
    from glassnet import datasets, explain, io  # noqa: F401 (datasets, io: attributes outside __all__)
    from glassnet.estimator import Classifier, Regressor
    from glassnet.grading import grade
    from glassnet.io import interop, load, save  # noqa: F401 (interop: an attribute outside __all__)
    from glassnet.widget import widget

__all__ = [
    "__version__",
    "sigmoid",
    "sigmoid_gradient",
    "forward",
    "ForwardCache",
    "cost",
    "cost_and_gradient",
    "backprop_per_example",
    "gradient_check",
    "course_gradient_check",
    "GradCheckReport",
    "random_init",
    "debug_init",
    "debug_initialize_weights",
    "unroll",
    "roll",
    "Classifier",
    "Regressor",
    "History",
    "StopTraining",
    "explain",
    "grade",
    "DataError",
    "ModelFileError",
    "save",
    "load",
    "widget",
]

# Public names whose modules import scikit-learn (the estimators, and model files through them) or much code that a
# computation of J and D never runs (the explainer, the grader, the data readers) are loaded on first use (PEP 562):
# ``import glassnet``, every command line call and the grader start without them. ``datasets``, ``io`` and
# ``interop`` are submodules, public as before though not in ``__all__``.
_LAZY = ("Classifier", "Regressor", "explain", "grade", "save", "load", "interop", "io", "datasets", "widget")


def __getattr__(name: str) -> object:
    """A lazy public name: imported once, then bound in this module, so later lookups never come back here."""
    found: dict[str, object]
    if name in ("Classifier", "Regressor"):
        from glassnet.estimator import Classifier, Regressor

        found = {"Classifier": Classifier, "Regressor": Regressor}
    elif name in ("save", "load", "interop", "io"):
        import glassnet.io
        from glassnet.io import interop, load, save

        found = {"save": save, "load": load, "interop": interop, "io": glassnet.io}
    elif name == "explain":
        # the package, callable: glassnet.explain(thetas, x, y) returns a Trace. Not `from glassnet import explain`,
        # which would ask this function for the name again.
        import glassnet.explain

        found = {"explain": glassnet.explain}
    elif name == "grade":
        from glassnet.grading import grade

        found = {"grade": grade}
    elif name == "datasets":
        import glassnet.datasets

        found = {"datasets": glassnet.datasets}
    elif name == "widget":
        from glassnet.widget import widget

        found = {"widget": widget}
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals().update(found)
    return found[name]


def _explore(*args, **kwargs):
    """``Classifier.explore``'s widget (see :mod:`glassnet._support.frontends`): :func:`glassnet.widget`."""
    from glassnet.widget import widget

    return widget(*args, **kwargs)


_frontends.explorer = _explore


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
