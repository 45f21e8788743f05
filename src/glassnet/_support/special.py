"""SciPy's special functions that glassnet's numerics use, imported on first use.

``from glassnet._support import special``, then ``special.expit(z)``: the first lookup of a name here imports
:mod:`scipy.special` and binds its functions in this module, so every later ``special.expit`` is a plain module
attribute holding scipy's own ufunc (the same bits, no wrapper, one dictionary lookup per call). Importing
scipy.special loads SciPy's array-API layer: about 0.2 s, which would otherwise be most of ``import glassnet`` and of
every ``glassnet --help``.

Not for: choosing the numerics (:mod:`glassnet.activations` and :mod:`glassnet.outputs` say why expit, log_expit and
logsumexp); anything of glassnet (this module imports none of it).
"""

from __future__ import annotations

from typing import Any

__all__ = ["expit", "log_expit", "log_softmax", "logsumexp", "softmax"]  # noqa: F822 (bound by __getattr__)


def __getattr__(name: str) -> Any:
    """scipy.special's ``name`` (one of ``__all__``); binds all of them here, so this runs once per process."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import scipy.special

    globals().update({n: getattr(scipy.special, n) for n in __all__})
    return globals()[name]


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
