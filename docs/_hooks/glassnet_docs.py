"""MkDocs hooks for the glassnet site: generated pages and offline assets.

What it does, each at build time so nothing generated is committed and nothing can go stale:

- ships MathJax 3 (``tex-svg-full.js``, self-contained) from the installed ``django-static-mathjax`` wheel (the
  ``docs`` extra) as ``javascripts/mathjax/tex-svg-full.js``: equations render with no network;
- fills ``<!-- glassnet:cli-reference -->`` in cli.md from :func:`glassnet.cli.build_parser`;
- runs every ``examples/*.py`` with ``--out`` into memory and fills ``<!-- glassnet:gallery -->`` in examples.md with
  each script's title, description, figures and source;
- fills ``<!-- glassnet:benchmark-results -->`` in benchmarks.md from ``benchmarks/results/*.json`` when such results
  exist (otherwise the page's committed section stays);
- runs the notebooks' kernels over local IPC sockets in a private temporary folder (an nbconvert config put first on
  ``JUPYTER_CONFIG_PATH``, which mkdocs-jupyter reads): over TCP without CurveZMQ keys each kernel warned that it
  runs "without encryption", once per notebook;
- removes the CDN MathJax 2 ``<script>`` that nbconvert puts into every notebook page (the site's own MathJax
  typesets notebooks too) and its CDN Mermaid loader (the notebooks have no Mermaid diagrams), and points the
  notebooks' links to .md/.ipynb files (right inside Jupyter) at the built pages.

Docstrings are adapted for Markdown by the griffe extension next to this file (griffe_markdown.py).

Not for: anything the package itself needs; the hook only reads glassnet.
"""

from __future__ import annotations

import argparse
import ast
import html
import json
import logging
import os
import posixpath
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.glassnet")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
# GLASSNET_BENCH_RESULTS points the benchmark page at another folder of results (default: benchmarks/results).
RESULTS = Path(os.environ.get("GLASSNET_BENCH_RESULTS") or ROOT / "benchmarks" / "results")
MATHJAX_URI = "javascripts/mathjax/tex-svg-full.js"
GALLERY_DIR = "gallery"
EXAMPLE_TIMEOUT_S = 120

_gallery: list[dict] = []


# --------------------------------------------------------------------------------------------------- files


def _mathjax_file() -> Path:
    try:
        import mathjax  # the django-static-mathjax wheel: MathJax 3's files, no Django needed to read them
    except ImportError:
        raise RuntimeError("the docs need MathJax from the 'django-static-mathjax' package: "
                           "pip install -e '.[docs]'") from None
    path = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5" / "tex-svg-full.js"
    if not path.is_file():
        raise RuntimeError(f"django-static-mathjax: expected {path}; reinstall the 'docs' extra")
    return path


# The gallery follows the lecture: the small network, g and gradient checking, then training on real data. Scripts
# not listed here come after these, in file-name order.
GALLERY_ORDER = ["plot_network_2221", "plot_sigmoid", "plot_gradcheck_epsilon", "plot_decision_boundary",
                 "plot_digits_training", "plot_validation_curve", "plot_explain_digit"]


def example_scripts() -> list[Path]:
    """The gallery's scripts: every ``examples/*.py`` not starting with ``_``, in the gallery's order."""
    rank = {name: k for k, name in enumerate(GALLERY_ORDER)}
    found = [p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")]
    return sorted(found, key=lambda p: (rank.get(p.stem, len(rank)), p.name))


def _docstring_parts(path: Path) -> tuple[str, str]:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or path.stem
    title, _, rest = doc.partition("\n")
    return title.strip().rstrip("."), rest.strip()


def _run_example(path: Path) -> dict:
    """Run one example with ``--out`` into a temporary folder; return its figures as bytes and its stdout."""
    with tempfile.TemporaryDirectory(prefix="glassnet-gallery-") as tmp:
        env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, str(path), "--out", tmp], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=EXAMPLE_TIMEOUT_S)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"examples/{path.name} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        figures = {p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir()) if p.suffix in (".png", ".svg")}
    if not figures:
        raise RuntimeError(f"examples/{path.name} wrote no .png or .svg figure into --out")
    title, description = _docstring_parts(path)
    log.info("gallery: examples/%s ran in %.1f s (%d figure(s))", path.name, seconds, len(figures))
    return {"path": path, "title": title, "description": description, "figures": figures,
            "stdout": proc.stdout.strip(), "seconds": seconds}


_jupyter: tempfile.TemporaryDirectory | None = None


def on_config(config):
    """Kernels over IPC: an nbconvert config first on the path mkdocs-jupyter reads its config from.

    The sockets get an absolute path in a private folder: a kernel runs in its notebook's folder, the build in the
    repository, and a relative socket name would point to two different places.
    """
    global _jupyter
    if _jupyter is None:
        _jupyter = tempfile.TemporaryDirectory(prefix="glassnet-docs-jupyter-")
        folder = Path(_jupyter.name)
        settings = {"KernelManager": {"transport": "ipc", "ip": str(folder / "kernel")}}
        (folder / "jupyter_nbconvert_config.json").write_text(json.dumps(settings), encoding="utf-8")
        paths = [p for p in os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p]
        os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join([str(folder), *paths])
    return config


def on_shutdown() -> None:
    """Remove the kernels' folder and its entry on the config path."""
    global _jupyter
    if _jupyter is not None:
        paths = os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep)
        os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(p for p in paths if p and p != _jupyter.name)
        _jupyter.cleanup()
        _jupyter = None


def on_files(files: Files, config) -> Files:
    files.append(File.generated(config, MATHJAX_URI, abs_src_path=str(_mathjax_file())))
    _gallery.clear()
    for path in example_scripts():
        entry = _run_example(path)
        _gallery.append(entry)
        for name, data in entry["figures"].items():
            files.append(File.generated(config, f"{GALLERY_DIR}/{path.stem}/{name}", content=data))
    return files


# --------------------------------------------------------------------------------------------------- markdown


def _md_cell(text: str) -> str:
    """Text for a Markdown table cell: no HTML, no pipes, no emphasis, one line."""
    text = html.escape(" ".join(str(text).split()), quote=False)
    return text.replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def _expand_help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    if not action.help or action.help == argparse.SUPPRESS:
        return ""
    return parser._get_formatter()._expand_help(action)  # argparse's own %(default)s expansion


def _option_name(action: argparse.Action) -> str:
    names = ", ".join(action.option_strings) if action.option_strings else (action.metavar or action.dest)
    if action.option_strings and action.nargs != 0:
        metavar = action.metavar or action.dest.upper()
        names += f" {metavar if isinstance(metavar, str) else ' '.join(metavar)}"
    return names


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, tuple[argparse.ArgumentParser, str]]:
    out = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                out[name] = (sub, helps.get(name, ""))
    return out


def _options_table(parser: argparse.ArgumentParser) -> list[str]:
    rows = []
    for action in parser._actions:
        if isinstance(action, (argparse._SubParsersAction, argparse._HelpAction)) or action.help == argparse.SUPPRESS:
            continue
        default = action.default
        shown = "" if default in (None, argparse.SUPPRESS) or action.nargs == 0 else f"`{default}`"
        if isinstance(action, argparse._VersionAction):
            shown = ""
        rows.append(f"| `{_option_name(action)}` | {shown} | {_md_cell(_expand_help(parser, action))} |")
    if not rows:
        return ["This command takes no options besides `-h, --help`.", ""]
    return ["| Argument | Default | Description |", "| --- | --- | --- |", *rows, ""]


def _command_section(parser: argparse.ArgumentParser, path: list[str], summary: str, level: int) -> list[str]:
    name = " ".join(path)
    out = [f"{'#' * level} `{name}`", ""]
    text = parser.description or summary
    if text:
        out += [_md_cell(text).replace("\\_", "_").replace("\\*", "*"), ""]
    out += ["```text", parser.format_usage().strip(), "```", ""]
    out += _options_table(parser)
    for sub_name, (sub, sub_help) in _subparsers(parser).items():
        out += _command_section(sub, path + [sub_name], sub_help, min(level + 1, 6))
    return out


def cli_reference() -> str:
    """Markdown for every command of ``glassnet.cli.build_parser()``: usage, arguments, defaults, help."""
    from glassnet.cli import build_parser

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "90"  # argparse wraps usage lines at the terminal width: make it reproducible
    try:
        parser = build_parser()
        subs = _subparsers(parser)
        out = ["```text", parser.format_usage().strip(), "```", ""]
        out += ["| Command | What it does |", "| --- | --- |"]
        out += [f"| [`glassnet {n}`](#glassnet-{n}) | {_md_cell(h)} |" for n, (_, h) in subs.items()]
        out += ["", "Global options:", ""] + _options_table(parser)
        for name, (sub, help_) in subs.items():
            out += _command_section(sub, ["glassnet", name], help_, 2)
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    return "\n".join(out)


def gallery_markdown() -> str:
    out = [f"- [{entry['title']}](#{entry['path'].stem})" for entry in _gallery] + [""]
    for entry in _gallery:
        stem = entry["path"].stem
        out += [f"## {entry['title']} {{#{stem}}}", ""]
        if entry["description"]:
            out += [entry["description"], ""]
        out += [f"`python examples/{entry['path'].name} --out figures/` (ran in {entry['seconds']:.1f} s while this "
                "site was built)", ""]
        for name in entry["figures"]:
            alt = html.escape(f"{entry['title']}: {name}")
            out += [f'<div class="glassnet-figure"><img alt="{alt}" src="{GALLERY_DIR}/{stem}/{name}"></div>', ""]
        if entry["stdout"]:
            out += ['??? note "Output"', "", "    ```text"]
            out += [f"    {line}" for line in entry["stdout"].splitlines()] + ["    ```", ""]
        out += [f'??? example "Source: examples/{entry["path"].name}"', "", "    ```python"]
        out += [f"    {line}" if line else "" for line in entry["path"].read_text(encoding="utf-8").splitlines()]
        out += ["    ```", ""]
    return "\n".join(out)


def _fmt(value) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value):
        return "-".join(str(v) for v in value) if all(isinstance(v, int) for v in value) else ", ".join(
            _fmt(v) for v in value)
    return str(value)


def _benchmark_module(name: str):
    """A script of ``benchmarks/`` as a module (they import their shared ``_harness`` from that folder)."""
    import importlib

    folder = str(ROOT / "benchmarks")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module(name)


def _bench_cli_markdown(name: str, data: dict) -> list[str]:
    """A ``benchmarks/bench_cost_gradient.py`` result: the glassnet rows as a table, then the script's full report."""
    format_report = _benchmark_module("bench_cost_gradient").format_report  # the report exactly as it prints it

    meta = data.get("meta", {})
    out = [f"### {name}", "",
           f"{_md_cell(meta.get('date', '?'))} · {_md_cell(meta.get('cpu', '?'))} · "
           f"{meta.get('cores_available', '?')} cores, {meta.get('threads', '?')} BLAS thread(s) · numpy "
           f"{meta.get('numpy', '?')}, scikit-learn {meta.get('sklearn', '?')}, torch {meta.get('torch', '-')}", "",
           "| case | dtype | glassnet median ms | speed vs scikit-learn | speed vs torch | % of GEMM peak |",
           "| --- | --- | --- | --- | --- | --- |"]
    for case in data.get("cases", []):
        g = case.get("contenders", {}).get("glassnet", {})
        out.append(f"| {_md_cell(case.get('note') or case.get('case'))} | {case.get('dtype', '')} | "
                   f"{_fmt(g.get('median_ms', ''))} | {_fmt(g.get('vs_sklearn', ''))}× | "
                   f"{_fmt(g.get('vs_torch', ''))}× | {_fmt(g.get('pct_peak', ''))} |")
    tta = data.get("time_to_accuracy") or []
    if tta:
        out += ["", "| time to accuracy | network | threads | glassnet s | scikit-learn s | speedup |",
                "| --- | --- | --- | --- | --- | --- |"]
        for row in tta:
            if "glassnet" not in row:
                reason = row.get("skipped") or row.get("error") or "no result"
                out.append(f"| {_md_cell(row.get('dataset', ''))} | {_md_cell(reason)} | | | | |")
                continue
            out.append(f"| {_md_cell(row.get('dataset', ''))} | {row.get('network', '')} | {row.get('threads', '')} | "
                       f"{_fmt(row.get('glassnet', {}).get('seconds', ''))} | "
                       f"{_fmt(row.get('sklearn', {}).get('seconds', ''))} | {_fmt(row.get('speedup', ''))}× |")
    out += ["", '??? note "The full report (`benchmarks/bench_cost_gradient.py` output)"', "", "    ```text"]
    out += [f"    {line}" if line else "" for line in format_report(data).splitlines()]
    out += ["    ```", ""]
    return out


def _is_scalar(v) -> bool:
    return v is None or isinstance(v, (str, int, float, bool)) or (
        isinstance(v, list) and all(isinstance(x, (int, float)) for x in v))


def _sections(obj, path: str, depth: int, out: list) -> None:
    """(title, rows) tables found in a JSON value: lists of records, and dicts of plain values, up to ``depth``."""
    if isinstance(obj, list) and obj and all(isinstance(r, dict) for r in obj):
        out.append((path, obj))
    elif isinstance(obj, dict) and depth > 0:
        plain = {k: v for k, v in obj.items() if _is_scalar(v)}
        if plain and path:
            out.append((path, [plain]))
        for k, v in obj.items():
            if not _is_scalar(v):
                _sections(v, f"{path}.{k}" if path else k, depth - 1, out)


def _generic_markdown(name: str, data) -> list[str]:
    """Any other benchmark JSON: its plain top-level values, then a table per record list or group of values."""
    out = [f"### {name}", ""]
    if isinstance(data, dict):
        top = {k: v for k, v in data.items() if _is_scalar(v)}
        if top:
            out += ["; ".join(f"{_md_cell(k)}: {_md_cell(_fmt(v))}" for k, v in top.items()), ""]
    sections: list = []
    _sections(data, "", 3, sections)
    for title, rows in sections:
        columns = list(dict.fromkeys(k for r in rows for k, v in r.items() if _is_scalar(v)))
        if not columns:
            continue
        if title:
            out += [f"`{title}`", ""]
        out += ["| " + " | ".join(_md_cell(c) for c in columns) + " |", "|" + " --- |" * len(columns)]
        out += ["| " + " | ".join(_md_cell(_fmt(r.get(c, ""))) for c in columns) + " |" for r in rows]
        out.append("")
    return out


def benchmark_markdown(results_dir: Path = RESULTS) -> str | None:
    """Tables from ``benchmarks/results/*.json``; None when there are no results."""
    files = sorted(results_dir.glob("*.json")) if results_dir.is_dir() else []
    out = []
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RuntimeError(f"benchmarks/results/{path.name}: not valid JSON ({exc})") from None
        if isinstance(data, dict) and isinstance(data.get("meta"), dict) and isinstance(data.get("cases"), list):
            out += _bench_cli_markdown(path.stem, data)
        else:
            out += _generic_markdown(path.stem, data)
        out += [f"Source: `benchmarks/results/{path.name}`, read when this site was built.", ""]
    return "\n".join(out) if out else None


_MARKERS = {
    "cli.md": "<!-- glassnet:cli-reference -->",
    "examples.md": "<!-- glassnet:gallery -->",
    "benchmarks.md": "<!-- glassnet:benchmark-results -->",
}


def on_page_markdown(markdown: str, page, config, files) -> str:
    uri = page.file.src_uri
    marker = _MARKERS.get(uri)
    if marker is None:
        return markdown
    if marker not in markdown:
        raise RuntimeError(f"docs/{uri}: the marker {marker} is missing")
    if uri == "cli.md":
        return markdown.replace(marker, cli_reference())
    if uri == "examples.md":
        return markdown.replace(marker, gallery_markdown())
    table = benchmark_markdown()
    if table is None:
        return markdown  # the committed numbers below the marker stay
    # Fresh results replace the committed section (everything from the marker to the next marker comment).
    end = "<!-- glassnet:benchmark-results-end -->"
    head, _, rest = markdown.partition(marker)
    _, found, tail = rest.partition(end)
    return head + "## Results of this build's benchmark run\n\n" + table + ("\n" + tail if found else "")


# --------------------------------------------------------------------------------------------------- html

_NB_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
# nbconvert's Mermaid loader: imports mermaid from a CDN when a notebook has Mermaid diagrams (ours have none).
_NB_MERMAID = re.compile(r'<script type="module">\s*document\.addEventListener\("DOMContentLoaded", async \(\) => \{'
                         r'\s*const diagrams = document\.querySelectorAll\("\.jp-Mermaid.*?</script>', re.S)


_NB_LINK = re.compile(r'href="(?![a-z][a-z0-9+.-]*:|/|#)([^"#]+\.(?:md|ipynb))(#[^"]*)?"')


def _notebook_links(html_text: str, page, files) -> str:
    """Relative links to .md/.ipynb sources (right inside Jupyter) pointed at the built pages (right on the site)."""
    base = posixpath.dirname(page.file.src_uri)

    def fix(m: re.Match) -> str:
        target = files.get_file_from_path(posixpath.normpath(posixpath.join(base, m.group(1))))
        if target is None or not target.is_documentation_page():
            raise RuntimeError(f"{page.file.src_uri}: link to {m.group(1)}, which is not a page of the site")
        return f'href="{target.url_relative_to(page.file)}{m.group(2) or ""}"'

    return _NB_LINK.sub(fix, html_text)


# A notebook that shows a live widget (glassnet.widget) is stored with its widget state when the site runs it, and
# nbconvert then loads Jupyter's widget manager from a CDN to draw it: no network on the site (it reads offline), and
# no kernel behind the page to answer the widget anyway. The loader and the state go; each widget's place says so
# (the tutorial shows a recorded picture of the widget beside it).
_NB_WIDGET_LOADER = re.compile(r"<script>\s*\(function\(\) \{\s*function addWidgetsRenderer\(\).*?</script>", re.S)
_NB_WIDGET_STATE = re.compile(r'<script type="application/vnd\.jupyter\.widget-state\+json">.*?</script>', re.S)
_NB_WIDGET_VIEW = re.compile(r'<script type="application/vnd\.jupyter\.widget-view\+json">.*?</script>', re.S)
_WIDGET_NOTE = ('<p class="widget-note"><em>A live widget is drawn here when the notebook runs in Jupyter, VS Code, '
                'Colab or marimo.</em></p>')


def _without_widgets(html_text: str) -> str:
    html_text = _NB_WIDGET_LOADER.sub("", html_text)
    html_text = _NB_WIDGET_STATE.sub("", html_text)
    return _NB_WIDGET_VIEW.sub(_WIDGET_NOTE, html_text)


def on_page_content(html_text: str, page, config, files) -> str:
    if page.file.src_uri.endswith(".ipynb"):
        html_text = _without_widgets(_notebook_links(html_text, page, files))
        for pattern, what in ((_NB_MATHJAX, "MathJax block"), (_NB_MERMAID, "Mermaid loader")):
            html_text, n = pattern.subn("", html_text)
            if n != 1:
                raise RuntimeError(f"{page.file.src_uri}: expected nbconvert's {what} once, found it {n} times")
    return html_text
