"""The lecture's notation as text: sub- and superscripts and the names Θ_ij^(l), δ_j^(l), a_j^(l), z_j^(l).

The one home of how glassnet writes an index: the output units' names (:func:`glassnet.outputs.unit_symbol`, "h₈"),
the explainer's text, steps, diagram and report, and the explorer's labels (through :mod:`glassnet.server.bridge`) all
call these; it imports nothing, so it sits on the lecture's floor below all of them. Layers are 1-based, as in the
lecture (Θ^(1) maps layer 1 to layer 2); units are 1-based, the bias unit is 0. The explorer page keeps one small copy
of ``sub``/``sup`` in ``server/static/notation.js`` for the indices it builds itself (a clicked unit, a table row).

>>> theta_name(2, 1, 2), delta_name(2, 2), a_name(3), theta_name(1, 12, 3)
('Θ₁₂⁽²⁾', 'δ₂⁽²⁾', 'a⁽³⁾', 'Θ₁₂,₃⁽¹⁾')

Quantities also have a plain-ASCII key, the name answer files and ``answers.json`` use (:func:`quantity_key`);
:func:`parse_quantity` reads either spelling:

>>> quantity_key("delta", 2, 2), quantity_name("Delta_12^(1)"), parse_quantity("δ₂⁽²⁾"), parse_quantity("D_1,2^(1)")
('delta_2^(2)', 'Δ₁₂⁽¹⁾', ('delta', 2, (2,)), ('D', 1, (1, 2)))
"""

from __future__ import annotations

import re
from operator import index
from typing import SupportsIndex

__all__ = ["sub", "sup", "superscript", "theta_name", "delta_name", "a_name", "z_name", "quantity_key", "quantity_name",
           "parse_quantity", "QUANTITY_SYMBOLS"]

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


#: The quantities a hand calculation asks for: ASCII key symbol -> (lecture symbol, number of subscript indices).
QUANTITY_SYMBOLS = {"z": ("z", 1), "a": ("a", 1), "delta": ("δ", 1), "Delta": ("Δ", 2), "D": ("D", 2),
                    "Theta": ("Θ", 2)}
_FROM_SYMBOL = {lecture: key for key, (lecture, _) in QUANTITY_SYMBOLS.items()}
_UNSUB = str.maketrans("₀₁₂₃₄₅₆₇₈₉⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾", "01234567890123456789()")
_KEY = re.compile(r"^(z|a|delta|Delta|D|Theta|δ|Δ|Θ)_?([0-9]+(?:,[0-9]+)?)\^?\(([0-9]+)\)$")


def quantity_key(symbol: str, l: SupportsIndex, *indices: SupportsIndex) -> str:
    """The ASCII key of a lecture quantity: ``z_1^(2)``, ``delta_2^(3)``, ``D_12^(1)`` (``D_12,3^(1)`` past 9).

    ``symbol`` is a key of :data:`QUANTITY_SYMBOLS`; ``indices`` are the lecture's 1-based unit numbers (j, or i and
    j for Δ, D and Θ, where j = 0 is the bias)."""
    if symbol not in QUANTITY_SYMBOLS or len(indices) != QUANTITY_SYMBOLS[symbol][1]:
        raise ValueError(f"symbol: expected one of {', '.join(QUANTITY_SYMBOLS)} with its indices, got {symbol!r} "
                         f"with {len(indices)}")
    numbers = [index(i) for i in indices]
    joined = ("," if any(i >= 10 for i in numbers) else "").join(str(i) for i in numbers)
    return f"{symbol}_{joined}^({index(l)})"


def parse_quantity(text: str) -> tuple[str, int, tuple[int, ...]]:
    """``(symbol, l, indices)`` of a quantity written as an ASCII key (``delta_2^(2)``) or in the lecture's notation
    (``δ₂⁽²⁾``, ``Θ₁₂⁽²⁾``); raises ValueError naming the accepted forms."""
    cleaned = text.strip().replace(" ", "").translate(_UNSUB)
    match = _KEY.match(cleaned)
    if match is not None:
        symbol = _FROM_SYMBOL.get(match.group(1), match.group(1))
        raw = match.group(2)
        want = QUANTITY_SYMBOLS[symbol][1]
        if "," in raw:
            indices = tuple(int(v) for v in raw.split(","))
        elif want == 2 and len(raw) == 2:
            indices = (int(raw[0]), int(raw[1]))
        else:
            indices = (int(raw),)
        if len(indices) == want:
            return symbol, int(match.group(3)), indices
    raise ValueError(f"expected a quantity such as z_1^(2), a_1^(2), delta_2^(2), Delta_12^(1), D_12^(1) (or the "
                     f"lecture's z₁⁽²⁾, δ₂⁽²⁾, Δ₁₂⁽¹⁾), got {text!r}")


def quantity_name(key: str) -> str:
    """The lecture's spelling of a quantity key: ``quantity_name("delta_2^(2)") == "δ₂⁽²⁾"``."""
    symbol, l, indices = parse_quantity(key)
    return _unit(QUANTITY_SYMBOLS[symbol][0], l, None) if not indices else \
        f"{QUANTITY_SYMBOLS[symbol][0]}{sub(*indices)}{sup(l)}"
