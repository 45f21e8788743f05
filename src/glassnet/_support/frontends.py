"""Where a floor below the front ends finds one: ``Classifier.explore`` calls :data:`explorer`, which the package's
front door (``glassnet/__init__.py``) sets to a function that imports the notebook widget on first use.

The estimator cannot import the widget (nothing imports upward, not even inside a function), and the widget needs
the estimator; the front door, which already imports every public part on first use, joins the two. Imports nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["explorer"]

#: ``explorer(model, X, y, **options)`` -> the notebook widget (:func:`glassnet.widget`); None until glassnet sets it.
explorer: Callable[..., Any] | None = None
