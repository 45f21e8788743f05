"""The one check that an argument names an existing regular file, shared by the data readers and the model loader."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["existing_file"]


def existing_file(path, *, what: str = "file", not_regular: type[Exception] = ValueError) -> Path:
    """``path`` as a :class:`~pathlib.Path` to an existing regular file.

    A non-path argument is a ``TypeError``, a missing file ``FileNotFoundError`` ("no such <what>"), and anything that
    is not a regular file (a folder, a device) ``not_regular`` — each naming the path.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a file path (str or os.PathLike), got {type(path).__name__}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such {what}")
    if not path.is_file():
        raise not_regular(f"{path}: not a regular file")
    return path
