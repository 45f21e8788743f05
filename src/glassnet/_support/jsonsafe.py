"""JSON from glassnet's values: the one rule for what JSON cannot hold, shared by the CLI's ``--json`` and the explorer.

numpy scalars and arrays become Python numbers and lists, paths strings, and NaN/±inf ``null`` (JSON has no
non-finite numbers; ``JSON.parse`` in a browser rejects the ``NaN``/``Infinity`` that Python's ``json`` writes by
default). :func:`dumps` never writes anything but valid JSON. Not for model files (:mod:`glassnet.io` tags
non-finite values so they round-trip).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plain", "dumps"]


def plain(value: Any) -> Any:
    """A copy of ``value`` that :func:`json.dumps` writes as valid JSON (non-finite numbers → None).

    >>> plain({"J": float("inf"), "a": np.arange(2), "x": np.float32(0.5)})
    {'J': None, 'a': [0, 1], 'x': 0.5}
    """
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def dumps(value: Any, **kwargs) -> str:
    """``json.dumps(plain(value))``, refusing (``ValueError``) rather than writing invalid JSON."""
    return json.dumps(plain(value), allow_nan=False, **kwargs)
