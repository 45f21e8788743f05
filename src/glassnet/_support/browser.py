"""Where a Chromium browser is, for printing HTML to PDF: ``GLASSNET_CHROMIUM``, else the usual program names.

The one home of that rule for the library (the worksheets' PDF files); ``scripts/install-browser.sh`` and the browser
tests read the same variable. Imports nothing of glassnet.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["find_chromium", "ENV"]

ENV = "GLASSNET_CHROMIUM"
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) program: ``$GLASSNET_CHROMIUM`` if set (None when it is not a file), else
    the first of chromium, chromium-browser, google-chrome, ... on PATH, else None."""
    given = os.environ.get(ENV)
    if given:
        return given if Path(given).is_file() else None
    for name in _NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None
