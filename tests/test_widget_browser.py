"""The notebook widget in real front ends: JupyterLab (from PyPI) and marimo, driven in Chromium by Playwright.

One JupyterLab per module, on a temporary notebook that builds the widget from the student's own arrays (no token, a
free port, its own Jupyter config/data/runtime folders, nothing fetched from the network). The test reads and runs code
in the notebook's kernel through a second client on the kernel's connection file, as another front end would. Then a
marimo app with the widget is served headless and checked in the browser. Screenshots go to
``$GLASSNET_SCREENSHOTS`` (default ``<tmp>/glassnet-explorer-screenshots``), with the time to first render.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("anywidget", reason="the widget tests need the notebook extra (anywidget)")
pytest.importorskip("fastapi")
from browser_helpers import ARGS, CHROMIUM, SHOTS, require_browser

sync_api = require_browser()
jupyter_client = pytest.importorskip("jupyter_client", reason="the JupyterLab test needs jupyter_client")

from glassnet.explain.text import unit_equation  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src"

# The student's notebook: their own arrays, a fitted Classifier, and the widget on it (the last line shows it).
SETUP = """\
import warnings
import numpy as np
import glassnet
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 2))
y = (X[:, 0] * X[:, 1] > 0).astype(int)
clf = glassnet.Classifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, y)
w = clf.explore(X, y, delay_ms=30, max_iter=300)
w"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    import urllib.request

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"{url} did not start (exit {proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"{url} did not answer in {timeout} s:\n{log.read_text()[-3000:]}")


def _env(tmp: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    for name in ("CONFIG", "RUNTIME"):
        (tmp / name.lower()).mkdir(exist_ok=True)
        env[f"JUPYTER_{name}_DIR"] = str(tmp / name.lower())
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    # JupyterLab's question about fetching its news would sit over the widget (and the news come from the network)
    news = tmp / "config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True, exist_ok=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    env["IPYTHONDIR"] = str(tmp / "ipython")
    env["HOME"] = str(tmp)  # marimo and JupyterLab keep their settings here, not in the user's home
    env["MARIMO_SKIP_UPDATE_CHECK"] = "1"
    return env


def shot(pg, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    pg.screenshot(path=str(path))
    assert path.stat().st_size > 20_000  # a real picture, not a blank page
    return path


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a folder holding the student's notebook: (base URL, folder)."""
    import nbformat

    tmp = tmp_path_factory.mktemp("lab")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp / "explore.ipynb")
    port = _free_port()
    log = tmp / "lab.log"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.open_browser=False", "--allow-root",
           f"--ServerApp.root_dir={tmp}", "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--ServerApp.disable_check_xsrf=True"]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=tmp, env=_env(tmp), stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_http(f"http://127.0.0.1:{port}/api/status", proc, log)
        yield f"http://127.0.0.1:{port}", tmp
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


class Kernel:
    """A second client of the notebook's kernel: runs code there and returns what it printed."""

    def __init__(self, connection_file: Path):
        self.kc = jupyter_client.BlockingKernelClient(connection_file=str(connection_file))
        self.kc.load_connection_file()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def run(self, code: str) -> str:
        out: list[str] = []

        def hook(msg):
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append("\n".join(msg["content"]["traceback"]))

        reply = self.kc.execute_interactive(code, output_hook=hook, timeout=120)
        assert reply["content"]["status"] == "ok", "".join(out)
        return "".join(out)

    def report(self) -> dict:
        """Θ of the session and of the Classifier, and the selected example, as the kernel sees them."""
        code = """
import json as _json
_v, _th, _cfg, _data, _parts = w.session.snapshot_view()
_s = w.selected
_X, _y = (_parts[0], _parts[1]) if _s["split"] == "train" else (_parts[2], _parts[3])
print(_json.dumps({"thetas": [t.tolist() for t in _th], "clf": [t.tolist() for t in clf.thetas_],
                   "x": _X[_s["index"]].tolist(), "label": int(_y[_s["index"]]), "m": int(_parts[0].shape[0]),
                   "selected": _s, "iteration": w.session.iteration}))
"""
        return json.loads(self.run(code).strip().splitlines()[-1])


@pytest.fixture(scope="module")
def notebook(browser, lab):
    """The notebook open in JupyterLab with its cell run: (page, kernel client, time to first render in s)."""
    import numpy as np

    base, tmp = lab
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    pg.goto(f"{base}/lab/tree/explore.ipynb")
    pg.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                         "window.jupyterapp.shell.currentWidget.sessionContext && "
                         "window.jupyterapp.shell.currentWidget.sessionContext.session && "
                         "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel", timeout=120_000)
    pg.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
                         timeout=120_000)
    t0 = time.monotonic()
    pg.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    pg.locator(".glassnet-explorer #net svg #unit-2-1").wait_for(timeout=120_000)
    first_render = time.monotonic() - t0
    kid = pg.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.id")
    kernel = Kernel(next((tmp / "runtime").rglob(f"kernel-{kid}.json")))
    pg.locator(".glassnet-explorer #conn.live").wait_for()
    (SHOTS / "widget-first-render.txt").parent.mkdir(parents=True, exist_ok=True)
    mount_ms = pg.locator(".glassnet-explorer").get_attribute("data-first-render-ms")
    (SHOTS / "widget-first-render.txt").write_text(
        f"JupyterLab: run-all to the first diagram {first_render:.2f} s (kernel start excluded); the widget's "
        f"mount to its first diagram {mount_ms} ms\n")
    yield pg, kernel, np
    kernel.kc.stop_channels()
    context.close()
    assert not errors, errors


def _w(pg, selector: str):
    return pg.locator(f".glassnet-explorer {selector}")


def test_the_diagram_renders_in_jupyterlab(notebook):
    pg, kernel, _np = notebook
    assert _w(pg, "#net circle.unit.hidden").count() == 4
    assert _w(pg, "#net circle.unit.output").count() == 1
    assert _w(pg, "#status").inner_text().lower() == "idle"
    rep = kernel.report()
    assert rep["clf"] == rep["thetas"]  # the widget started from the Classifier's own Θ
    _w(pg, ".gn-body").scroll_into_view_if_needed()
    shot(pg, "widget-jupyterlab-1920")
    pg.set_viewport_size({"width": 1366, "height": 768})
    shot(pg, "widget-jupyterlab-1366")
    pg.set_viewport_size({"width": 1920, "height": 1080})


def test_a_click_on_a_unit_shows_the_delta_of_glassnet_explain(notebook):
    pg, kernel, np = notebook
    _w(pg, "#net #unit-2-3").click()
    _w(pg, "#equation").wait_for()
    rep = kernel.report()
    assert rep["selected"]["unit"] == [2, 3]  # the widget's selection is visible in Python
    import glassnet

    tr = glassnet.explain([np.array(t) for t in rep["thetas"]], np.array(rep["x"]), rep["label"])
    assert _w(pg, "#equation").text_content() == unit_equation(tr, 2, 3)


def test_play_trains_and_the_curve_grows(notebook):
    pg, kernel, _np = notebook
    _w(pg, "#play").click()
    pg.wait_for_function("() => { const h = document.querySelector('.glassnet-explorer').shadowRoot; "
                         "return Number(h.querySelector('#metrics b').textContent) >= 12; }", timeout=60_000)
    # Pause, unless the run has ended on its own meanwhile ("done"): checked and clicked in one step of the page, so
    # the run cannot end between the check and the click.
    pg.evaluate("() => { const b = document.querySelector('.glassnet-explorer').shadowRoot.querySelector('#pause'); "
                "if (!b.disabled) b.click(); }")
    pg.wait_for_function("() => ['paused', 'done'].includes(document.querySelector('.glassnet-explorer').shadowRoot"
                         ".querySelector('#status').textContent)", timeout=30_000)
    points = _w(pg, "#curves polyline.series-J").get_attribute("points").split()
    assert len(points) >= 12
    rep = kernel.report()
    assert rep["iteration"] >= 12
    assert rep["clf"] == rep["thetas"]  # Play trained the Classifier itself
    shot(pg, "widget-jupyterlab-trained")


def test_an_edge_edited_in_the_widget_changes_clf_thetas(notebook):
    pg, kernel, _np = notebook
    edge = _w(pg, "#net #edge-2-1-2")
    edge.dispatch_event("click")  # a thin SVG line: the click event a user's click on it sends
    _w(pg, "#theta-value").wait_for()
    _w(pg, "#theta-value").fill("2.5")
    _w(pg, "#theta-set").click()
    end = time.monotonic() + 30
    while time.monotonic() < end:
        rep = kernel.report()
        if rep["clf"][1][0][2] == 2.5:
            break
        time.sleep(0.2)
    assert rep["clf"][1][0][2] == 2.5 and rep["thetas"][1][0][2] == 2.5


def test_a_fit_in_the_kernel_redraws_the_widget(notebook):
    pg, kernel, _np = notebook
    kernel.run("clf.set_params(hidden_layer_sizes=(4,), max_iter=40, random_state=7).fit(X, y)")
    rep = kernel.report()
    pg.wait_for_function("() => document.querySelector('.glassnet-explorer').shadowRoot"
                         ".querySelector('#snapinfo').textContent.includes('fit in Python')", timeout=30_000)
    value = float(_w(pg, "#net #edge-2-1-1").get_attribute("data-value"))
    end = time.monotonic() + 30
    while value != rep["clf"][1][0][1] and time.monotonic() < end:
        time.sleep(0.2)
        value = float(_w(pg, "#net #edge-2-1-1").get_attribute("data-value"))
    assert value == rep["clf"][1][0][1]
    shot(pg, "widget-jupyterlab-after-fit")


MARIMO_APP = '''\
import marimo

app = marimo.App(width="full")


@app.cell
def _():
    import marimo as mo
    import numpy as np
    import glassnet

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    clf = glassnet.Classifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, y)
    w = mo.ui.anywidget(clf.explore(X, y))
    w
    return


if __name__ == "__main__":
    app.run()
'''


def test_the_widget_renders_under_marimo(browser, tmp_path):
    app = tmp_path / "explore_app.py"
    app.write_text(MARIMO_APP)
    port = _free_port()
    log = tmp_path / "marimo.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "marimo", "run", str(app), "--headless", "--no-token",
                                 "--port", str(port), "--host", "127.0.0.1"], cwd=tmp_path, env=_env(tmp_path),
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_http(f"http://127.0.0.1:{port}/", proc, log)
        context = browser.new_context(viewport={"width": 1920, "height": 1080})
        pg = context.new_page()
        t0 = time.monotonic()
        pg.goto(f"http://127.0.0.1:{port}/")
        pg.locator(".glassnet-explorer #net svg #unit-2-1").wait_for(timeout=120_000)
        first = time.monotonic() - t0
        assert pg.locator(".glassnet-explorer #net circle.unit.hidden").count() == 4
        pg.locator(".glassnet-explorer #conn.live").wait_for()
        pg.locator(".glassnet-explorer #net #unit-2-2").click()
        pg.locator(".glassnet-explorer #equation").wait_for()
        assert pg.locator(".glassnet-explorer #equation").text_content().startswith("δ₂⁽²⁾")
        shot(pg, "widget-marimo-1920")
        pg.set_viewport_size({"width": 1366, "height": 768})
        shot(pg, "widget-marimo-1366")
        with open(SHOTS / "widget-first-render.txt", "a") as f:
            f.write(f"marimo: page load to the first diagram {first:.2f} s (kernel start included)\n")
        context.close()
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()

