"""The front ends stay thin: one CLI module per subcommand that uses only public library names, and a web app whose
factory only assembles routers (no routes as closures, one guard middleware)."""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

from glassnet import cli

CLI_DIR = Path(cli.__file__).parent


def _commands_of(module_name: str) -> list[str]:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    importlib.import_module(f"glassnet.cli.{module_name}").register(sub)
    return list(sub.choices)


def test_every_subcommand_has_its_module_in_help_order():
    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == ["demo", "train", "evaluate", "predict", "gradcheck", "serve", "explain", "plot",
                                 "walk", "grade", "worksheet", "bench"]
    for name in ("train", "evaluate", "predict", "gradcheck"):
        assert _commands_of(name) == [name]


@pytest.mark.parametrize("path", sorted(CLI_DIR.glob("*.py")), ids=lambda p: p.name)
def test_the_cli_uses_only_public_library_names(path):
    """No ``obj._private`` and no ``from glassnet.x import _private`` (private modules such as ``_support`` are
    floors of their own, with public functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            assert not (node.attr.startswith("_") and not node.attr.startswith("__")), (
                f"{path.name}:{node.lineno}: .{node.attr}")
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("glassnet"):
            if node.module.startswith("glassnet.cli"):
                continue
            module = importlib.import_module(node.module) if importlib.util.find_spec(node.module) else None
            assert module is not None, f"{path.name}:{node.lineno}: no module {node.module}"
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    is_module = hasattr(module, "__path__") and importlib.util.find_spec(
                        f"{module.__name__}.{alias.name}") is not None
                    assert is_module, f"{path.name}:{node.lineno}: {node.module}.{alias.name}"


def test_the_app_factory_only_assembles_routers(tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.routing import APIRoute

    from glassnet.server import Session, TrainConfig, create_app
    from glassnet.server.guard import Guard

    session = Session(TrainConfig(dataset="xor", hidden=(2,), lam=0.0))
    try:
        app = create_app(session, token="t" * 32, allowed_hosts={"testserver"}, upload_dir=tmp_path)
        assert [m.cls for m in app.user_middleware] == [Guard]  # one guard for every path
        # every route comes from a router of glassnet.server.routes (FastAPI keeps included routers whole or, in
        # older versions, copies their routes into the app's list)
        routers = [getattr(r, "original_router", None) for r in app.routes]
        routes = [r for r in app.routes if isinstance(r, APIRoute)]
        routes += [r for router in routers if router is not None for r in router.routes if isinstance(r, APIRoute)]
        assert {r.path for r in routes} >= {"/", "/api/state", "/api/events", "/api/view", "/api/model"}
        assert len(routes) >= 20
        for route in routes:
            fn = route.endpoint
            assert fn.__module__.startswith("glassnet.server.routes."), (route.path, fn.__module__)
            assert "<locals>" not in fn.__qualname__, (route.path, fn.__qualname__)
    finally:
        session.close()
