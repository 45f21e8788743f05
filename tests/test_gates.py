"""The gates around the tests: the lanes of ``make test-fast`` name real tests, and the typing marker ships.

``tests/conftest.py`` (``LANES``) marks the browser, documentation and slow tests; ``make test-fast`` deselects those
markers, which ``pyproject.toml`` registers. A lane entry that no longer names a test would silently put a slow test
back into the fast lane, so each one is checked here.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

from conftest import LANES

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


@pytest.mark.parametrize("marker, entry", [(m, e) for m, entries in LANES.items() for e in entries])
def test_every_lane_entry_names_an_existing_test(marker, entry):
    file, _, test = entry.partition("::")
    path = TESTS / file
    assert path.is_file(), f"{marker}: {file} is not a test file"
    if test:
        assert test in _test_functions(path), f"{marker}: {file} has no test {test}"


def test_the_lanes_are_registered_markers_and_the_fast_lane_deselects_them():
    registered = {line.split(":")[0].strip() for line in PYPROJECT["tool"]["pytest"]["ini_options"]["markers"]}
    assert set(LANES) <= registered
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    fast = re.search(r"^test-fast:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert fast, "the Makefile has no test-fast target"
    expression = re.search(r'-m "([^"]+)"', fast.group(1))
    assert expression, "test-fast selects no markers"
    assert set(re.findall(r"not (\w+)", expression.group(1))) == set(LANES)


def test_browser_tests_are_in_the_browser_lane():
    """A test file that drives Chromium is in the browser lane, whole or test by test."""
    for path in sorted(TESTS.glob("test_*.py")):
        if path.name == Path(__file__).name or "playwright" not in path.read_text(encoding="utf-8"):
            continue
        entries = [e for e in LANES["browser"] if e.partition("::")[0] == path.name]
        assert entries, f"{path.name} uses playwright but is not in LANES['browser']"


def test_the_package_ships_its_typing_marker_and_stub():
    src = ROOT / "src" / "glassnet"
    data = PYPROJECT["tool"]["setuptools"]["package-data"]
    assert (src / "py.typed").is_file() and "py.typed" in data["glassnet"]
    assert (src / "_support" / "_kernels.pyi").is_file() and "_kernels.pyi" in data["glassnet._support"]
