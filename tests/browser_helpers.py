"""What the real-browser test modules share: where Chromium is, how it is started, where screenshots go.

A module calls :func:`require_browser` at import, before anything else of it runs: without Chromium or the playwright
package the whole module is skipped with a message saying how to get them (``scripts/install-browser.sh``, which
``make test`` runs, installs Debian's chromium).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("GLASSNET_CHROMIUM", "/usr/bin/chromium")
#: Chromium's flags for the tests: no sandbox (CI runs as root), no GPU, nothing that reaches the network by itself.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = Path(os.environ.get("GLASSNET_SCREENSHOTS") or Path(tempfile.gettempdir()) / "glassnet-explorer-screenshots")


def require_browser():
    """``playwright.sync_api``, or skip the calling module (at import) when Chromium or playwright is missing."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}: run scripts/install-browser.sh (apt-get install "
                    f"chromium) or set GLASSNET_CHROMIUM", allow_module_level=True)
    return pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
