"""No import cycle inside glassnet, counting imports made inside functions (the style guide's one-way floors).

Every ``import`` / ``from ... import`` in ``src/glassnet/**/*.py`` is read with :mod:`ast`, at module level and inside
functions alike, relative imports resolved. ``from .x import y`` where ``y`` is a submodule imports that submodule;
importing a package means its ``__init__``. The parents Python imports on the way are not counted (every module's
parent is ``glassnet/__init__``, which imports the public API: counting them would make every import a loop).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "glassnet"


def _modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of the package (``pkg/__init__.py`` is ``pkg``).

    C extensions (``*.c``, one module each) are modules too: they import nothing of the package.
    """
    out = {}
    for path in sorted([*(SRC / PACKAGE).rglob("*.py"), *(SRC / PACKAGE).rglob("*.c")]):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` reads from."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph() -> dict[str, set[str]]:
    """Module -> the glassnet modules it imports anywhere in its source."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        if path.suffix != ".py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(name, is_package, node)
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    targets.append(sub if sub in modules else source)
            for target in targets:
                # ``import glassnet.a.b`` names the deepest module of the tree that the dotted path reaches
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and target.split(".")[0] == PACKAGE:
                    graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None (depth-first search with colours)."""
    colour = dict.fromkeys(graph, 0)  # 0 unseen, 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if colour[nxt] == 1:
                return path[path.index(nxt):] + [nxt]
            if colour[nxt] == 0:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        colour[node] = 2
        return None

    for start in sorted(graph):
        if colour[start] == 0:
            found = visit(start)
            if found:
                return found
    return None


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert "glassnet.backprop" in graph and "glassnet.cli" in graph
    # glassnet/__init__.py imports the estimator at module level; the CLI imports glassnet inside its functions
    assert "glassnet.estimator" in graph["glassnet"]
    assert any("glassnet" in targets for name, targets in graph.items() if name.startswith("glassnet.cli"))


def test_find_cycle_names_the_loop():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_resolve_relative_imports():
    node = ast.parse("from ..backprop import deltas").body[0]
    assert _resolve("glassnet.explain.trace", False, node) == "glassnet.backprop"
    node = ast.parse("from . import trace").body[0]
    assert _resolve("glassnet.explain", True, node) == "glassnet.explain"


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    if cycle:
        pytest.fail("import cycle (imports inside functions count): " + " -> ".join(cycle))


def test_nothing_in_the_library_imports_the_cli():
    graph = import_graph()
    offenders = sorted(name for name, targets in graph.items() if not name.startswith("glassnet.cli")
                       and name != "glassnet.__main__" and any(t.startswith("glassnet.cli") for t in targets))
    assert offenders == []


def test_the_architecture_page_names_every_module_in_floor_order():
    """docs/architecture.md lists every top-level module once, top floor first: no module imports one listed above
    it."""
    import re

    page = (SRC.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = re.findall(r"`([a-z_]+)`", page.split("## Modules", 1)[1])
    top = sorted({name.split(".")[1] for name in _modules() if name.count(".") >= 1})
    assert sorted(listed) == top, "docs/architecture.md: the module list differs from src/glassnet"
    rank = {name: i for i, name in enumerate(listed)}
    for module, targets in import_graph().items():
        if module.count(".") < 1:
            continue
        here = module.split(".")[1]
        for target in targets:
            if target.count(".") >= 1 and target.split(".")[1] != here:
                there = target.split(".")[1]
                assert rank[there] > rank[here], f"{module} imports {target}, listed above it on the architecture page"


def test_the_ground_floor_imports_nothing_of_glassnet():
    """``_support/`` is the ground: atomic writes, JSON, memory budgets, npz reading, the sandbox, threads, kernels."""
    graph = import_graph()
    support = {name for name in graph if name.startswith("glassnet._support")}
    assert "glassnet._support.threads" in support and "glassnet._support.sandbox" in support
    offenders = {name: sorted(t for t in graph[name] if not t.startswith("glassnet._support")) for name in support}
    assert {name: t for name, t in offenders.items() if t} == {}


LECTURE = ["activations", "params", "outputs", "forward", "cost", "backprop"]


def test_the_lecture_reads_top_to_bottom_on_its_own():
    """The lecture's modules at the root import only each other, the input checks and the ground floor."""
    graph = import_graph()
    allowed = {f"glassnet.{name}" for name in [*LECTURE, "_validation", "errors", "notation"]}
    for name in LECTURE:
        up = sorted(t for t in graph[f"glassnet.{name}"] if t not in allowed and not t.startswith("glassnet._support"))
        assert up == [], f"glassnet.{name} imports {up}: the lecture must not reach into the floors above it"


def test_the_pages_es_modules_import_one_way():
    """The explorer's modules (server/static/*.js) form no import loop either: views register with the wiring."""
    import re

    static = SRC / PACKAGE / "server" / "static"
    graph = {path.name: set(re.findall(r'^\s*(?:import|export)\b[^;]*?\bfrom\s+"\./([\w.-]+\.js)"',
                                        path.read_text(encoding="utf-8"), re.M | re.S))
             for path in static.glob("*.js")}
    assert "network.js" in graph and "notation.js" in graph["dom.js"]
    cycle = find_cycle(graph)
    assert cycle is None, "import loop among the page's modules: " + " -> ".join(cycle or [])
