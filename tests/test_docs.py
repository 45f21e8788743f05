"""The documentation site: it builds strictly, every internal link and picture resolves, nothing loads from the network.

The site is built once per session, as ``make docs`` builds it but with the tutorial notebooks left unexecuted
(``GLASSNET_DOCS_EXECUTE=false``: tests/test_notebooks.py executes them) into a temporary folder. Checks:
internal links and anchors, offline assets (MathJax and the search shim are local files), the CLI reference against
``glassnet.cli.build_parser()``, the API reference against ``glassnet.__all__``, the examples gallery, the notebook
pages, the benchmark table generator, and the Python code shown on the Markdown pages (it is run).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import types
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

pytest.importorskip("mkdocs", reason="the docs extra is not installed: pip install -e '.[docs]'")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOTEBOOKS = sorted((DOCS / "tutorials").glob("*.ipynb"))
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))


def _load_hook():
    spec = importlib.util.spec_from_file_location("glassnet_docs_hook", DOCS / "_hooks" / "glassnet_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, GLASSNET_DOCS_EXECUTE="false", NO_MKDOCS_2_WARNING="1", MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{log[-6000:]}"
    assert "WARNING" not in log, log[-6000:]
    return out


class _Page(HTMLParser):
    """Collects ids, links (a/link href) and resources (script/img/iframe/source src, stylesheet href) of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []
        self.resources: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        if tag in ("a", "area") and a.get("href") is not None:
            self.links.append((tag, a["href"]))
        if tag == "link" and a.get("href") is not None:
            rel = (a.get("rel") or "").lower()
            (self.resources if "stylesheet" in rel or "icon" in rel else self.links).append((tag, a["href"]))
        if tag in ("script", "img", "iframe", "source", "embed", "audio", "video") and a.get("src") is not None:
            self.resources.append((tag, a["src"]))


def _pages(site: Path) -> dict[Path, _Page]:
    pages = {}
    for path in sorted(site.rglob("*.html")):
        parser = _Page()
        parser.feed(path.read_text(encoding="utf-8"))
        pages[path] = parser
    return pages


@pytest.fixture(scope="module")
def pages(site) -> dict[Path, _Page]:
    return _pages(site)


def broken_internal_links(site: Path, pages: dict[Path, _Page]) -> list[str]:
    """Every href/src that points inside the site but to a missing file or a missing #anchor."""
    problems = []
    for path, page in pages.items():
        for tag, url in page.links + page.resources:
            parts = urlsplit(url)
            if parts.scheme or url.startswith("//"):
                continue  # external: checked by test_no_resource_from_the_network for the things that must load
            if not url:
                problems.append(f"{path.relative_to(site)}: <{tag}> with an empty URL")
                continue
            if parts.path.endswith((".md", ".ipynb")) and tag == "a":
                problems.append(f"{path.relative_to(site)}: <a> {url} links a source file, not its page")
                continue
            if parts.path:
                # Root-relative URLs (only 404.html has them: a server shows it for any missing path) start at the site.
                base = site if parts.path.startswith("/") else path.parent
                target = (base / unquote(parts.path.lstrip("/"))).resolve()
                if target.is_dir():
                    target = target / "index.html"
                if not target.is_file() or site.resolve() not in target.parents:
                    problems.append(f"{path.relative_to(site)}: <{tag}> {url} -> missing {target}")
                    continue
            else:
                target = path
            if parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _pages_single(target)
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{path.relative_to(site)}: <{tag}> {url} -> no id {parts.fragment!r}")
    return problems


def _pages_single(path: Path) -> set[str]:
    parser = _Page()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.ids


def test_link_checker_finds_broken_links(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#there">b</a><img src="pic.png"><a href="#top">t</a>'
                                     '<a href="https://example.org/x">e</a><p id="top"></p><a href="/b.html#here">'
                                     '</a>', encoding="utf-8")
    (tmp_path / "b.html").write_text('<h1 id="here">b</h1><script src="missing.js"></script>', encoding="utf-8")
    problems = broken_internal_links(tmp_path, _pages(tmp_path))
    assert len(problems) == 3, problems
    assert any("no id 'there'" in p for p in problems)
    assert any("pic.png" in p for p in problems)
    assert any("missing.js" in p for p in problems)


def test_no_broken_internal_link(site, pages):
    assert len(pages) > 15
    problems = broken_internal_links(site, pages)
    assert not problems, "\n".join(problems[:50])


def test_no_resource_from_the_network(site, pages):
    """Scripts, stylesheets and pictures are all local: the site works offline (and from file://)."""
    external = [f"{path.relative_to(site)}: <{tag}> {url}" for path, page in pages.items()
                for tag, url in page.resources if urlsplit(url).scheme in ("http", "https") or url.startswith("//")]
    assert not external, "\n".join(external[:20])
    for path in site.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "cdnjs" not in text and "fonts.googleapis" not in text and "unpkg.com" not in text, path


def test_mathjax_is_shipped_and_configured(site, pages):
    mathjax = site / "javascripts" / "mathjax" / "tex-svg-full.js"
    assert mathjax.stat().st_size > 1_000_000
    assert "MathJax" in mathjax.read_text(encoding="utf-8")
    index = pages[site / "index.html"]
    scripts = [url for tag, url in index.resources if tag == "script"]
    config = scripts.index("javascripts/mathjax-config.js")
    assert scripts.index("javascripts/mathjax/tex-svg-full.js") > config  # the configuration must come first
    notation = (site / "notation.html").read_text(encoding="utf-8")
    assert notation.count('class="arithmatex"') > 30  # equations reach MathJax wrapped for it
    assert r"\Theta^{(l)}_{ij}" in notation


def test_notebook_pages(site):
    for nb in NOTEBOOKS:
        page = site / "tutorials" / f"{nb.stem}.html"
        text = page.read_text(encoding="utf-8")
        title = json.loads(nb.read_text(encoding="utf-8"))["cells"][0]["source"]
        title = "".join(title).splitlines()[0].lstrip("# ").strip()
        assert title.split()[0] in text, page
        assert "jp-RenderedMarkdown" in text and "jp-CodeCell" in text, page
        assert "Load mathjax" not in text, f"{page}: nbconvert's CDN MathJax block was not removed"
        assert (site / "tutorials" / nb.name).is_file(), "the notebook file is copied next to its page"


def _documented_ids(site: Path) -> set[str]:
    ids: set[str] = set()
    for page in (site / "api").glob("*.html"):
        ids |= _pages_single(page)
    return ids


def test_api_reference_documents_every_public_name(site):
    import glassnet

    ids = _documented_ids(site)
    missing = []
    for name in glassnet.__all__:
        obj = getattr(glassnet, name)
        if not callable(obj):
            continue
        # glassnet.explain is a callable package: it is documented as the module
        canonical = obj.__name__ if isinstance(obj, types.ModuleType) else f"{obj.__module__}.{obj.__qualname__}"
        if canonical not in ids:
            missing.append(f"glassnet.{name} ({canonical})")
    assert not missing, missing


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text))


def _summary_words(doc: str) -> str:
    """The first 6 words of a docstring's summary line, Sphinx roles reduced to what the page shows."""
    line = doc.strip().splitlines()[0]
    line = re.sub(r":[a-z:]+:`~[\w.]*?(\w+)`", r"\1", line)
    line = re.sub(r":[a-z:]+:`([^`]+)`", r"\1", line)
    return " ".join(_words(line).split()[:6])


def test_api_reference_shows_the_docstrings(site):
    import html

    import glassnet

    raw = ""
    for page in sorted((site / "api").glob("*.html")):
        raw += " " + html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))
    text = _words(raw)
    missing = [name for name in glassnet.__all__ if callable(getattr(glassnet, name))
               and getattr(glassnet, name).__doc__ and _summary_words(getattr(glassnet, name).__doc__) not in text]
    assert not missing, [(n, _summary_words(getattr(glassnet, n).__doc__)) for n in missing]
    core = (site / "api" / "core.html").read_text(encoding="utf-8")
    assert '<span class="gp">&gt;&gt;&gt; </span>' in core  # doctests are highlighted code, not block quotes
    assert "<blockquote>" not in core
    assert ":func:`" not in raw and ":class:`" not in raw  # Sphinx roles became links or code


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_cli_reference_matches_the_parser(site):
    from glassnet.cli import build_parser

    text = (site / "cli.html").read_text(encoding="utf-8")
    subs = _subcommands(build_parser())
    assert subs, "build_parser() has no subcommands"
    for name, sub in subs.items():
        assert f'id="glassnet-{name}"' in text, f"no section for glassnet {name}"
        for action in sub._actions:
            for flag in action.option_strings:
                assert flag in text, f"glassnet {name}: option {flag} missing from the CLI reference"


def test_gallery_shows_every_example(site):
    text = (site / "examples.html").read_text(encoding="utf-8")
    assert EXAMPLES
    for script in EXAMPLES:
        figures = sorted((site / "gallery" / script.stem).glob("*.png"))
        assert figures, f"no figure from examples/{script.name}"
        for fig in figures:
            assert fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert f'src="gallery/{script.stem}/{fig.name}"' in text
        assert f"examples/{script.name}" in text


def test_benchmark_page_placeholder_or_results(site, tmp_path):
    hook = _load_hook()
    assert hook.benchmark_markdown(tmp_path) is None  # no results: the committed section stays
    (tmp_path / "bench_cost_gradient.json").write_text(json.dumps({
        "date": "2025-01-01", "machine": {"cpu": "test cpu", "blas_threads": 1},
        "results": [{"case": "64-25-10, m=1000", "glassnet_ms": 1.25, "sklearn_ms": 2.5, "ratio": 2.0},
                    {"case": "400-25-10, m=5000", "glassnet_ms": 10.0, "sklearn_ms": 15.0, "ratio": 1.5}]}),
        encoding="utf-8")
    table = hook.benchmark_markdown(tmp_path)
    assert "| case | glassnet\\_ms | sklearn\\_ms | ratio |" in table
    assert "| 64-25-10, m=1000 | 1.25 | 2.5 | 2 |" in table
    assert "date: 2025-01-01" in table
    assert "| cpu | blas\\_threads |" in table and "| test cpu | 1 |" in table
    # A real benchmark result (a few seconds with --quick) renders with its own report.
    bench = hook._benchmark_module("bench_cost_gradient")

    with contextlib.redirect_stdout(io.StringIO()):
        assert bench.main(["--quick", "--no-torch", "--cases", "ex4,tta", "--out",
                           str(tmp_path / "bench-quick.json")]) == 0
    (tmp_path / "bench_cost_gradient.json").unlink()
    table = hook.benchmark_markdown(tmp_path)
    assert "| case | dtype | glassnet median ms | speed vs scikit-learn |" in table
    assert "time to accuracy" in table and "cost + gradient" in table
    page = (site / "benchmarks.html").read_text(encoding="utf-8")
    results = ROOT / "benchmarks" / "results"
    if results.is_dir() and any(results.glob("*.json")):
        assert "Results of this build" in page
    else:
        assert "Committed results" in page


def _python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", markdown, flags=re.S | re.M)


@pytest.mark.parametrize("page", ["index.md", "getting-started.md"])
def test_code_on_the_pages_runs(page, tmp_path, monkeypatch):
    """The Python shown on the Markdown pages runs, and the values its comments promise are the printed ones."""
    monkeypatch.chdir(tmp_path)
    blocks = _python_blocks((DOCS / page).read_text(encoding="utf-8"))
    assert blocks
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in blocks:
            exec(compile(block, f"docs/{page}", "exec"), namespace)
    printed = out.getvalue()
    if page == "index.md":
        assert "J = 2.146360 [(5, 4), (3, 6)]" in printed and printed.rstrip().endswith("True")
    else:
        assert "True" in printed
        assert 0.96 <= float(printed.split()[-1]) <= 1.0  # "about 0.98"


_COUNT_WORDS = {w: k for k, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve"
                                             .split())}


def test_no_page_miscounts_the_tutorial_notebooks():
    """A number of notebooks or tutorials written in the README or on a page is the number in docs/tutorials (the
    pages said "five" when there were six)."""
    pattern = re.compile(r"\b(\w+) (?:tutorial notebooks|notebooks|tutorials)\b", re.IGNORECASE)
    texts = {"README.md": (ROOT / "README.md").read_text(encoding="utf-8")}
    texts.update({str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in sorted(DOCS.rglob("*.md"))})
    counts = [(name, m.group(0), int(w) if w.isdigit() else _COUNT_WORDS[w.lower()])
              for name, text in texts.items() for m in pattern.finditer(text)
              if (w := m.group(1)).isdigit() or w.lower() in _COUNT_WORDS]
    wrong = [(name, said) for name, said, k in counts if k != len(NOTEBOOKS)]
    assert not wrong, f"{len(NOTEBOOKS)} notebooks in docs/tutorials, but: {wrong}"
    index = (DOCS / "tutorials" / "index.md").read_text(encoding="utf-8")
    assert all(f"({nb.name})" in index for nb in NOTEBOOKS)  # the tutorials page lists every notebook


def test_signatures_are_formatted_by_ruff_from_the_docs_extra():
    """mkdocstrings formats signatures with Black or Ruff and says "Formatting signatures requires either Black or
    Ruff" when neither is installed: the docs extra installs ruff."""
    import tomllib

    extra = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert any(re.match(r"ruff\b", dep) for dep in extra["docs"]), extra["docs"]
    from ruff.__main__ import find_ruff_bin  # what mkdocstrings runs

    assert Path(find_ruff_bin()).is_file()


def test_notebook_kernels_run_over_ipc_without_the_encryption_warning(monkeypatch, capfd, tmp_path):
    """The docs' kernels: the hook puts its Jupyter config on the path nbconvert reads (mkdocs-jupyter loads it), so
    a kernel runs over IPC and prints no "[IPKernelApp] WARNING ... without encryption" (one per notebook over TCP)."""
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    from nbconvert.nbconvertapp import NbConvertApp
    from nbconvert.preprocessors import ExecutePreprocessor

    monkeypatch.setenv("JUPYTER_CONFIG_PATH", "")
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    hook = _load_hook()
    assert hook.on_config({}) == {}
    try:
        app = NbConvertApp()
        app.load_config_file()  # what mkdocs-jupyter does before it executes a notebook
        assert app.config.KernelManager.transport == "ipc"
        nb = nbformat.v4.new_notebook()
        nb.cells.append(nbformat.v4.new_code_cell("6 * 7"))
        folder = tmp_path / "tutorials"  # the kernel runs in the notebook's folder, not where the build runs
        folder.mkdir()
        ExecutePreprocessor(config=app.config, kernel_name="python3", timeout=120, startup_timeout=60).preprocess(
            nb, {"metadata": {"path": str(folder)}})
        assert nb.cells[0].outputs[0]["data"]["text/plain"] == "42"
    finally:
        hook.on_shutdown()
    out, err = capfd.readouterr()
    assert "without encryption" not in out + err and "IPKernelApp" not in out + err
    assert os.environ["JUPYTER_CONFIG_PATH"] == "" and not list(folder.iterdir())


CHROMIUM = os.environ.get("GLASSNET_CHROMIUM", "/usr/bin/chromium")
# Pages with equations, pictures or both: (page, least number of typeset equations).
BROWSER_PAGES = [("index.html", 5), ("notation.html", 60), ("tutorials/02-what-delta-means.html", 20),
                 ("examples.html", 0), ("api/core.html", 0)]
_PAGE_STATE = """async () => {
    await MathJax.startup.promise;
    const unrendered = [...document.querySelectorAll('.arithmatex, .jp-RenderedMarkdown')]
        .filter(e => /\\\\\\(|\\\\\\[|\\$/.test(e.textContent.replace(/\\$\\d/g, '')));
    return {
        math: document.querySelectorAll('mjx-container').length,
        mathErrors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
        unrendered: unrendered.map(e => e.textContent.slice(0, 80)),
        brokenImages: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
        images: document.images.length,
    };
}"""


def _collect_problems(page) -> list[str]:
    """A list that fills with the page's errors, console errors and failed requests as they happen."""
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url}"))
    return problems


def test_pages_in_a_real_browser(site):
    """Open the built pages from file:// in Chromium: equations typeset without errors, every picture loads, no
    JavaScript error, no failed request."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"needs Chromium at {CHROMIUM}: run scripts/install-browser.sh or set GLASSNET_CHROMIUM")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                                    "--disable-background-networking"])
        try:
            for name, least_math in BROWSER_PAGES:
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                problems = _collect_problems(page)
                page.goto((site / name).as_uri())
                page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                       timeout=60_000)
                state = page.evaluate(_PAGE_STATE)
                page.close()
                assert not problems, (name, problems)
                assert state["math"] >= least_math, (name, state)
                assert state["mathErrors"] == 0 and not state["unrendered"], (name, state)
                assert not state["brokenImages"], (name, state)
                if name == "examples.html":
                    assert state["images"] >= len(EXAMPLES), state
        finally:
            browser.close()


def test_trace_block_keeps_readable_text_and_whole_numbers_in_a_narrow_column():
    """The block a trace shows in a notebook, in the docs' 718 px column (1366 px screen) under JupyterLab's output
    style (break-all): the diagram's text stays 10 px and more on screen (most of it 11 and more; it scrolls
    sideways instead of shrinking to 7 px) and no number of the equations is cut over two lines ("−0.10 / 52")."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"needs Chromium at {CHROMIUM}: run scripts/install-browser.sh or set GLASSNET_CHROMIUM")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    import numpy as np

    import glassnet
    from glassnet.explain.report import notebook_html

    thetas = [np.array([[0.1, 0.3, -0.5], [-0.2, 0.4, 0.6]]), np.array([[0.2, -1.1, 0.7], [0.3, 0.5, -0.9]]),
              np.array([[-0.1, 1.2, -0.8]])]
    block = notebook_html(glassnet.explain(thetas, np.array([1.0, 2.0]), 1))
    css = (DOCS / "stylesheets" / "extra.css").read_text(encoding="utf-8")
    jupyter = (".jupyter-wrapper .jp-OutputArea-output pre { word-break: break-all; word-wrap: break-word; "
               "white-space: pre-wrap; font-size: 16px } .md-typeset svg { max-width: 100% }")  # after the site's
    page_html = (f"<style>{css} {jupyter}</style><div class='md-typeset' style='width: 718px'>"
                 f"<div class='jupyter-wrapper'><div class='jp-OutputArea-output'>{block}</div></div></div>")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.set_content(page_html)
            sizes = page.evaluate("""() => [...document.querySelectorAll('svg text')].map(t =>
                parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)""")
            split = page.evaluate("""() => { const pre = document.querySelector('pre'); const node = pre.firstChild;
                const out = []; for (const m of node.textContent.matchAll(/[−-]?\\d+(\\.\\d+)?/g)) {
                  const r = document.createRange(); r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);
                  if (r.getClientRects().length > 1) out.push(m[0]); } return out; }""")
            lines = page.evaluate("() => document.querySelector('pre').getClientRects()[0].height / 19")
        finally:
            browser.close()
    assert len(sizes) > 30 and min(sizes) >= 9.9, sorted(sizes)[:5]
    assert sorted(sizes)[len(sizes) // 4] >= 11, sorted(sizes)
    assert not split, split
    assert lines > 2  # the equations did wrap in the narrow column: between words


def test_commands_on_the_pages_parse():
    """Every ``glassnet ...`` line in the pages' bash blocks is a valid command line for this version's CLI."""
    import shlex

    from glassnet.cli import build_parser

    lines = []
    for page in sorted(DOCS.rglob("*.md")):
        for block in re.findall(r"^```bash\n(.*?)^```", page.read_text(encoding="utf-8"), flags=re.S | re.M):
            lines += [(page.name, ln.split("#")[0].strip()) for ln in block.splitlines()
                      if ln.strip().startswith("glassnet ")]
    assert len(lines) >= 4
    for page, line in lines:
        argv = shlex.split(line)[1:]
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            try:
                args = build_parser().parse_args(argv)
            except SystemExit as exc:
                pytest.fail(f"docs/{page}: `{line}` does not parse (exit {exc.code}): {stderr.getvalue()}")
        assert getattr(args, "func", None), f"docs/{page}: `{line}` names no command"
