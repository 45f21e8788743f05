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

from glassnet import (
    datasets,  # noqa: F401 (glassnet.datasets, a subpackage outside __all__)
    explain,  # the package, callable: glassnet.explain(thetas, x, y) returns a Trace
    io,  # noqa: F401 (glassnet.io, a subpackage outside __all__)
)
from glassnet._version import __version__
from glassnet.activations import sigmoid, sigmoid_gradient
from glassnet.api import cost_and_gradient
from glassnet.backprop import backprop_per_example
from glassnet.cost import cost
from glassnet.errors import DataError, ModelFileError
from glassnet.estimator import Classifier, Regressor
from glassnet.forward import ForwardCache, forward
from glassnet.gradcheck import GradCheckReport, course_gradient_check, gradient_check
from glassnet.grading import grade
from glassnet.io import interop, load, save  # noqa: F401 (interop: glassnet.interop, outside __all__)
from glassnet.params import debug_init, debug_initialize_weights, random_init, roll, unroll
from glassnet.train.optimize import History, StopTraining

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
]
