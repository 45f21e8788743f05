"""The two exception types for files that glassnet reads.

:class:`DataError` is raised by :mod:`glassnet.datasets` for any malformed data file (CSV, ``.npz``, ``.mat``);
:class:`ModelFileError` by :mod:`glassnet.io` for any model file that is truncated, tampered with, of an unknown
format version or not a model file at all. Both subclass :class:`ValueError`, so ``except ValueError`` catches either,
and both messages name the file and what was wrong with it. A file that does not exist raises the usual
:class:`FileNotFoundError` instead: that is a wrong path, not a bad file.

This module is for the error types only; it does no checking itself.
"""

from __future__ import annotations

__all__ = ["DataError", "ModelFileError"]


class DataError(ValueError):
    """A data file (CSV, ``.npz``, ``.mat``) could not be read: the message names the file and the problem."""


class ModelFileError(ValueError):
    """A glassnet model file could not be loaded: the message names the file and the problem."""
