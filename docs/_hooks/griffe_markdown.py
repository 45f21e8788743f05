"""Griffe extension for the API reference: glassnet's reST-flavoured docstrings, made to read well as Markdown.

glassnet's docstrings are numpydoc with two habits from Sphinx that Markdown does not know:

- bare doctest blocks (``>>>`` lines and their output) outside an ``Examples`` section: Markdown would read ``>>>``
  as a nested block quote and ``x[2][1]`` as a reference link; they are fenced as ``pycon`` code blocks;
- roles such as ``:func:`glassnet.forward``` or ``:class:`~glassnet.explain.trace.Trace```: they become links to the
  object's entry in the API reference when that entry exists (a public object with a docstring in a module that
  a page of docs/api/ renders), and plain code otherwise.

The docstrings themselves are not changed on disk; only the text griffe hands to mkdocstrings.
"""

from __future__ import annotations

import re
from pathlib import Path

import griffe

API_DIR = Path(__file__).resolve().parents[1] / "api"
_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj|const):`(~?)([^`<>]+?)`")
_FENCE = re.compile(r"^\s*(```|~~~)")


def documented_modules(api_dir: Path = API_DIR) -> set[str]:
    """Module paths that some page of docs/api/ renders with their members (``::: path`` not followed by
    ``members: false``)."""
    out = set()
    for page in api_dir.glob("*.md"):
        lines = page.read_text(encoding="utf-8").splitlines()
        for k, line in enumerate(lines):
            m = re.match(r"^::: ([\w.]+)\s*$", line)
            if not m:
                continue
            options = []
            for nxt in lines[k + 1 :]:
                if nxt.startswith("    ") or not nxt.strip():
                    options.append(nxt)
                    if not nxt.strip():
                        break
                else:
                    break
            if not any(re.match(r"\s+members:\s*false", o) for o in options):
                out.add(m.group(1))
    return out


def fence_doctests(text: str) -> str:
    """Wrap each run of doctest lines (``>>>``/``...`` prompts and the output up to a blank line) in a pycon fence."""
    lines = text.split("\n")
    out: list[str] = []
    in_fence = False
    k = 0
    while k < len(lines):
        line = lines[k]
        if _FENCE.match(line):
            in_fence = not in_fence
            out.append(line)
            k += 1
            continue
        if not in_fence and line.lstrip().startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            block = []
            while k < len(lines) and lines[k].strip():
                block.append(lines[k][len(indent) :] if lines[k].startswith(indent) else lines[k].lstrip())
                k += 1
            out += [f"{indent}```pycon", *(f"{indent}{b}" for b in block), f"{indent}```"]
            continue
        out.append(line)
        k += 1
    return "\n".join(out)


class GlassnetMarkdown(griffe.Extension):
    """Rewrite docstrings of the loaded package (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.documented = documented_modules()

    def _resolve(self, obj: griffe.Object, target: str) -> str | None:
        """The canonical path of ``target`` (absolute, or relative to ``obj``'s module) if the docs render it."""
        module = obj if obj.is_module else obj.module
        candidates = [target]
        parts = module.path.split(".")
        candidates += [".".join(parts[:n] + [target]) for n in range(len(parts), 0, -1)]
        for path in candidates:
            try:
                found = obj.modules_collection.get_member(path)
            except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
                continue
            try:
                found = found.final_target if found.is_alias else found
            except (griffe.AliasResolutionError, griffe.CyclicAliasError):
                return None
            canonical = found.path
            if any(p.startswith("_") for p in canonical.split(".")):
                return None
            if not any(canonical == m or canonical.startswith(m + ".") for m in self.documented):
                return None
            node = found
            while not node.is_module:  # every enclosing object must be rendered, so must have a docstring
                if not node.docstring:
                    return None
                node = node.parent
            return canonical
        return None

    def _rewrite(self, obj: griffe.Object) -> None:
        if obj.docstring is None:
            return
        text = fence_doctests(obj.docstring.value)

        def role(m: re.Match) -> str:
            short, target = m.group(1) == "~", m.group(2).strip()
            shown = target.rsplit(".", 1)[-1] if short else target
            canonical = self._resolve(obj, target.lstrip("."))
            return f"[`{shown}`][{canonical}]" if canonical else f"`{shown}`"

        obj.docstring.value = _ROLE.sub(role, text)

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs) -> None:
        stack: list[griffe.Object] = [pkg]
        while stack:
            obj = stack.pop()
            self._rewrite(obj)
            stack += [m for m in obj.members.values() if not m.is_alias]
