"""JSON from glassnet's values: the one rule for what JSON cannot hold, shared by the CLI's ``--json`` and the explorer.

numpy scalars and arrays become Python numbers and lists, paths strings, and NaN/±inf ``null`` (JSON has no
non-finite numbers; ``JSON.parse`` in a browser rejects the ``NaN``/``Infinity`` that Python's ``json`` writes by
default). :func:`dumps` never writes anything but valid JSON. Not for model files (:mod:`glassnet.io` tags
non-finite values so they round-trip).

Reading JSON that someone else wrote (model metadata, a training history) goes through :func:`loads_bounded` /
:func:`read_json`: the size is checked before reading and the nesting depth (:data:`MAX_DEPTH`) before parsing, so
a deeply nested or huge file gives a ``ValueError`` saying so instead of a RecursionError or a memory blow-up.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plain", "dumps", "loads_bounded", "read_json", "MAX_DEPTH"]

#: glassnet's own JSON nests a few levels (a model's history and params, a checkpoint's generator state); deeper is
#: refused before parsing.
MAX_DEPTH = 32
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")


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


def nesting_depth(text: str) -> int:
    """How deeply the JSON ``text`` nests lists and objects, counted on the text (brackets outside strings), so
    that it can be checked before parsing: any depth is measured without recursion."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def loads_bounded(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads(text)``, refusing (``ValueError``) text nested more than ``max_depth`` levels before parsing.

    >>> loads_bounded('[[1]]', max_depth=1)
    Traceback (most recent call last):
    ValueError: nested 2 levels deep; glassnet reads JSON at most 1 levels deep
    """
    depth = nesting_depth(text)
    if depth > max_depth:
        raise ValueError(f"nested {depth} levels deep; glassnet reads JSON at most {max_depth} levels deep")
    try:
        return json.loads(text)
    except ValueError as exc:  # JSONDecodeError, and an integer of too many digits
        raise ValueError(f"not valid JSON ({exc})") from None


def read_json(path: str | Path, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value in the file ``path``: at most ``max_bytes`` bytes (checked before reading), UTF-8, at most
    ``max_depth`` levels deep (checked before parsing). ``ValueError`` for anything else; ``OSError`` (e.g.
    ``FileNotFoundError``) when the file cannot be read."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(f"file is {size} bytes, more than the limit of {max_bytes} bytes for a JSON file")
    with open(path, "rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew since stat, or is not a regular file
        raise ValueError(f"more than the limit of {max_bytes} bytes for a JSON file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc})") from None
    return loads_bounded(text, max_depth)
