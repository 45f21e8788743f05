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


def _glob_regex(glob: str) -> str:
    """ESLint's (minimatch's) reading of a files glob: ``**/`` is any number of folders, ``*`` stays in one."""
    parts = re.split(r"(\*\*/|\*)", glob)
    return "".join("(?:.*/)?" if p == "**/" else "[^/]*" if p == "*" else re.escape(p) for p in parts)


def test_eslint_covers_every_module_of_the_page_and_make_lint_runs_it():
    """Every .js file of the explorer's page is under ESLint's config, and ``make lint`` (so ``make test``) runs it."""
    config = (ROOT / "eslint.config.js").read_text(encoding="utf-8")
    files = re.findall(r'files:\s*\[([^\]]*)\]', config)
    globs = [g for block in files for g in re.findall(r'"([^"]+)"', block)]
    assert globs, "eslint.config.js names no files"
    static = ROOT / "src" / "glassnet" / "server" / "static"
    scripts = sorted(static.rglob("*.js"))
    assert len(scripts) > 1, "the page is split into ES modules"
    for path in scripts:
        relative = path.relative_to(ROOT).as_posix()
        assert any(re.fullmatch(_glob_regex(g), relative) for g in globs), f"{relative} is outside ESLint's files"
    assert '"sourceType": "module"' in config.replace("sourceType:", '"sourceType":') and "globals.browser" in config
    assert re.search(r'"no-unused-vars":\s*\[?"error"', config)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    lint = re.search(r"^lint:(.*)\n", makefile, re.M)
    assert lint and "lint-js" in lint.group(1).split()
    lint_js = re.search(r"^lint-js:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert lint_js and "eslint src/glassnet/server/static" in lint_js.group(1)
    assert re.search(r"^test:.*\blint\b", makefile, re.M)
    assert (ROOT / "package-lock.json").is_file() and "node_modules/" in (ROOT / ".gitignore").read_text("utf-8")
