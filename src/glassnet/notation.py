"""The lecture's notation as text: sub- and superscripts and the names Θ_ij^(l), δ_j^(l), a_j^(l), z_j^(l).

The one home of how glassnet writes an index: the output units' names (:func:`glassnet.outputs.unit_symbol`, "h₈"),
the explainer's text, steps, diagram and report, and the explorer's labels (through :mod:`glassnet.server.bridge`) all
call these; it imports nothing, so it sits on the lecture's floor below all of them. Layers are 1-based, as in the
lecture (Θ^(1) maps layer 1 to layer 2); units are 1-based, the bias unit is 0. The explorer page keeps one small copy
of ``sub``/``sup`` in ``server/static/notation.js`` for the indices it builds itself (a clicked unit, a table row).

>>> theta_name(2, 1, 2), delta_name(2, 2), a_name(3), theta_name(1, 12, 3)
('Θ₁₂⁽²⁾', 'δ₂⁽²⁾', 'a⁽³⁾', 'Θ₁₂,₃⁽¹⁾')
"""

from __future__ import annotations

from operator import index
from typing import SupportsIndex

__all__ = ["sub", "sup", "superscript", "theta_name", "delta_name", "a_name", "z_name"]

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUPER = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def sub(*indices: SupportsIndex) -> str:
    """Subscript indices; several multi-digit ones are separated by a comma (Θ₁₂,₃ is Θ_{12,3}).

    >>> sub(4, 3), sub(12, 3), sub(0)
    ('₄₃', '₁₂,₃', '₀')
    """
    numbers = [index(i) for i in indices]  # Python or NumPy integers
    return ("," if any(i >= 10 for i in numbers) else "").join(str(i).translate(_SUB) for i in numbers)


def superscript(n: SupportsIndex) -> str:
    """An integer in superscript digits, e.g. the exponent of ×10⁻⁶: ``superscript(-6) == "⁻⁶"``."""
    return str(index(n)).translate(_SUPER)


def sup(l: SupportsIndex) -> str:
    """The layer superscript ⁽ˡ⁾: ``sup(2) == "⁽²⁾"``."""
    return "⁽" + superscript(l) + "⁾"


def theta_name(l: SupportsIndex, i: SupportsIndex | None = None, j: SupportsIndex | None = None) -> str:
    """Θ^(l), or the weight Θ_ij^(l) from unit j of layer l (j = 0: the bias) to unit i of layer l + 1."""
    return f"Θ{sub(i, j) if i is not None and j is not None else ''}{sup(l)}"


def _unit(symbol: str, l: SupportsIndex, j: SupportsIndex | None) -> str:
    return f"{symbol}{sub(j) if j is not None else ''}{sup(l)}"


def delta_name(l: SupportsIndex, j: SupportsIndex | None = None) -> str:
    """δ^(l), or δ_j^(l): the error of unit j of layer l."""
    return _unit("δ", l, j)


def a_name(l: SupportsIndex, j: SupportsIndex | None = None) -> str:
    """a^(l), or the activation a_j^(l) of unit j of layer l (a₀ = 1 is the bias unit)."""
    return _unit("a", l, j)


def z_name(l: SupportsIndex, j: SupportsIndex | None = None) -> str:
    """z^(l), or the input z_j^(l) of unit j of layer l."""
    return _unit("z", l, j)
