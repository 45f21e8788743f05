"""The notebook widget without a browser: its requests answered by the server's own routes in-process, its channel,
the Classifier kept in step both ways, the student's data and models, the static picture (nbconvert's HTML export),
and the committed ES module equal to a fresh build. The front ends themselves: tests/test_widget_browser.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("anywidget", reason="the widget needs the notebook extra (anywidget)")
pytest.importorskip("fastapi")

import glassnet
from conftest import EX4_WEIGHTS
from glassnet.server import Session, TrainConfig, bridge
from glassnet.server.local import LocalClient
from glassnet.server.session import wait_for
from server_helpers import api_client

ROOT = Path(__file__).resolve().parents[1]


def xor_data(m: int = 60):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(m, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


@pytest.fixture
def fitted():
    X, y = xor_data()
    clf = glassnet.Classifier(hidden_layer_sizes=(3,), max_iter=10, random_state=0).fit(X, y)
    w = clf.explore(X, y)
    yield clf, w, X, y
    w.close()


class Channel:
    """What the widget sends to its views, in order."""

    def __init__(self, w):
        self.sent: list[tuple[dict, list]] = []
        w.send = lambda content, buffers=None: self.sent.append((content, list(buffers or [])))

    def reply(self, rid: str, timeout: float = 30) -> tuple[dict, list]:
        assert wait_for(lambda: any(m.get("id") == rid for m, _ in self.sent), timeout)
        return next((m, b) for m, b in self.sent if m.get("id") == rid)


def test_the_widget_answers_with_the_servers_routes(tmp_path):
    """The same request gets the same reply in-process as over HTTP: one home for every rule of the API."""
    session = Session(TrainConfig(dataset="xor", hidden=(2,), lam=0.0))
    local = LocalClient(session)
    try:
        with api_client(session, tmp_path) as http:
            for path in ("/api/state", "/api/view?split=train&index=3&unit=2:1", "/api/plane?resolution=12",
                         "/api/view?unit=9:9", "/api/examples?which=all&limit=5"):
                mine, theirs = local.request("GET", path), http.get(path)
                assert mine.status == theirs.status_code, path
                assert json.loads(mine.body) == theirs.json(), path
            bad = b'{"lam": -1, "typo": 1}'
            mine = local.request("POST", "/api/reset", body=bad, content_type="application/json")
            theirs = http.post("/api/reset", content=bad, headers={"content-type": "application/json"})
            assert mine.status == theirs.status_code == 422
            assert json.loads(mine.body)["detail"] == theirs.json()["detail"]
        assert local.request("GET", "/static/explorer.js").status == 404  # the API only: no page, no files
    finally:
        local.close()
        session.close()


def test_a_request_over_the_channel_gets_its_reply(fitted):
    _clf, w, _X, _y = fitted
    ch = Channel(w)
    w._on_msg(w, {"type": "request", "id": "a-1", "path": "/api/view?split=train&index=2&unit=2:1",
                  "method": "GET"}, [])
    reply, _ = ch.reply("a-1")
    assert reply["ok"] and json.loads(reply["text"])["unit"]["equation"].startswith("δ₁⁽²⁾")
    w._on_msg(w, {"type": "request", "id": "a-2", "path": "/api/settings", "method": "POST", "json": {"lam": -2}}, [])
    reply, _ = ch.reply("a-2")
    assert not reply["ok"] and reply["status"] == 422 and reply["detail"].startswith("lam:")
    w._on_msg(w, {"type": "request", "id": "a-3", "path": "/api/model", "method": "GET"}, [])
    reply, buffers = ch.reply("a-3")
    assert reply["binary"] and reply["filename"].endswith(".npz") and bytes(buffers[0][:2]) == b"PK"


def test_an_upload_travels_as_the_messages_buffer(fitted):
    """The page's "Upload a data file": the file's bytes as the request's buffer, read by the server's own route."""
    _clf, w, X, y = fitted
    ch = Channel(w)
    csv = "x1,x2,label\n" + "".join(f"{a:.4f},{b:.4f},{c}\n" for (a, b), c in zip(X, y, strict=True))
    w._on_msg(w, {"type": "request", "id": "u", "path": "/api/dataset?filename=mine.csv", "method": "POST"},
              [memoryview(csv.encode())])
    theirs = [t.copy() for t in _clf.thetas_]
    reply, _ = ch.reply("u")
    assert reply["ok"], reply
    assert json.loads(reply["text"])["dataset"]["name"] == "upload:mine.csv"
    # another dataset in the widget: the student's Classifier keeps its weights, w.model is a new one
    assert w.model is not _clf and all(np.array_equal(a, b) for a, b in zip(_clf.thetas_, theirs, strict=True))
    w._on_msg(w, {"type": "request", "id": "v", "path": "/api/dataset?filename=mine.exe", "method": "POST"},
              [memoryview(b"MZ")])
    reply, _ = ch.reply("v")
    assert reply["status"] == 422 and reply["detail"].startswith("filename: expected a file ending in")


def test_a_new_view_gets_the_whole_state_and_then_each_change(fitted):
    _clf, w, _X, _y = fitted
    ch = Channel(w)
    w._on_msg(w, {"type": "subscribe"}, [])
    first = json.loads(ch.sent[-1][0]["text"])
    assert ch.sent[-1][0]["type"] == "state" and first["history"]["start"] == 0
    w.session.set_weight(1, 1, 1, 0.25)
    assert wait_for(lambda: json.loads(ch.sent[-1][0]["text"])["version"] == w.session.version)


def test_an_edit_in_the_widget_is_the_classifiers_and_a_fit_here_is_the_widgets(fitted):
    clf, w, X, y = fitted
    assert all(np.array_equal(a, b) for a, b in zip(w.thetas, clf.thetas_, strict=True))
    changes: list[dict] = []
    w.on_change(changes.append)
    w.session.set_weight(2, 1, 2, 3.5)
    assert wait_for(lambda: clf.thetas_[1][0, 2] == 3.5)
    assert w.model is clf and w.thetas[1][0, 2] == 3.5
    assert wait_for(lambda: any(c["what"] == "weights" for c in changes))
    clf.set_params(max_iter=30).fit(X, y)
    assert wait_for(lambda: w.session.state()["snapshots"]["label"].startswith("fit in Python"))
    assert all(np.array_equal(a, b) for a, b in zip(w.thetas, clf.thetas_, strict=True))
    clf.set_params(solver="adam", learning_rate=0.05).partial_fit(X, y)  # new Θ arrays too
    assert wait_for(lambda: np.array_equal(w.thetas[0], clf.thetas_[0]))
    clf.thetas_[0][0, 0] = 7.0  # in place: seen after refresh()
    w.refresh()
    assert w.thetas[0][0, 0] == 7.0


def test_the_selection_in_the_widget_is_visible_in_python(fitted):
    _clf, w, _X, _y = fitted
    seen: list[dict] = []
    w.on_change(seen.append)
    ch = Channel(w)
    w._on_msg(w, {"type": "request", "id": "s", "path": "/api/view?split=val&index=1&mode=backward&edge=1:2:0"}, [])
    ch.reply("s")
    assert w.selected == {"split": "val", "index": 1, "mode": "backward", "unit": None, "edge": (1, 2, 0)}
    assert seen[-1] == {"what": "selected", "selected": w.selected}


def test_a_fresh_widget_makes_a_fitted_model_of_its_weights():
    w = glassnet.widget(None, "xor", hidden=[3], seed=2)
    try:
        assert w.session.state()["sizes"] == [2, 3, 1]
        model = w.model
        _v, _t, _c, data, _p = w.session.snapshot_view()
        assert np.array_equal(model.predict(data.X), bridge.predictions(w.thetas, data.X)[0])
        w.session.set_weight(1, 1, 0, -1.0)
        assert wait_for(lambda: model.thetas_[0][0, 0] == -1.0)
    finally:
        w.close()


def test_thetas_and_model_files_and_the_course_weights(tmp_path):
    X, y = xor_data()
    thetas = glassnet.random_init([2, 4, 1], 1)
    w = glassnet.widget(thetas, X, y)
    assert w.session.state()["sizes"] == [2, 4, 1] and np.array_equal(w.thetas[0], thetas[0])
    path = glassnet.save(w.model, tmp_path / "m.npz")
    w.close()
    w = glassnet.widget(path, X, y)
    assert np.array_equal(w.thetas[0], thetas[0])
    w.close()
    if not EX4_WEIGHTS.exists():
        pytest.skip(f"reference weights not found at {EX4_WEIGHTS}")
    digits = glassnet.datasets.load_digits()  # the course's format: 20×20, column by column, label 10 is 0
    images = np.pad(np.kron(digits.images(), np.ones((1, 2, 2))), ((0, 0), (2, 2), (2, 2)))
    from scipy.io import savemat

    savemat(tmp_path / "digits20.mat", {"X": images.transpose(0, 2, 1).reshape(-1, 400),
                                        "y": np.where(digits.y == 0, 10, digits.y).reshape(-1, 1)})
    w = glassnet.widget(EX4_WEIGHTS, tmp_path / "digits20.mat")
    try:
        st = w.session.state()
        assert st["sizes"] == [400, 25, 10] and st["dataset"]["image_shape"] == [20, 20]
        assert w.session.data.classes[-1] == "0"  # the course's unit 10 is the digit 0
    finally:
        w.close()


def test_glassnet_widget_is_the_function_also_after_the_package_is_imported():
    import glassnet.widget.explorer  # binds the package to the attribute glassnet.widget
    from glassnet.widget import ExplorerWidget

    w = glassnet.widget(None, "xor", hidden=[2])
    assert isinstance(w, ExplorerWidget)
    w.close()


def test_clear_errors():
    X, y = xor_data()
    with pytest.raises(ValueError, match="^y: expected the labels of X"):
        glassnet.widget(None, X)
    with pytest.raises(ValueError, match="^X: a model needs its data"):
        glassnet.widget(glassnet.random_init([2, 2, 1], 0))
    with pytest.raises(ValueError, match="^thetas: the layers 3-2-1 need 3 features"):
        glassnet.widget(glassnet.random_init([3, 2, 1], 0), X, y)
    with pytest.raises(TypeError, match="^model_or_thetas: expected"):
        glassnet.widget(42, X, y)
    with pytest.raises(ValueError, match="^X: expected an array, a data file"):
        glassnet.widget(None, "no-such-dataset")
    with pytest.raises(ValueError, match="^y: expected one label per row of X"):
        glassnet.widget(None, X, y[:-1])


def test_the_static_picture_is_the_traces(fitted):
    _clf, w, _X, _y = fitted
    bundle, _meta = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    _v, thetas, cfg, _d, parts = w.session.snapshot_view()
    tr = bridge.trace(thetas, parts[0][0], int(parts[1][0]), parts[0].shape[0], **bridge.kinds(cfg))
    def same(html: str) -> str:  # each drawing numbers its SVG ids anew
        return re.sub(r"glassnet-\d+-", "glassnet-N-", html)

    assert same(bundle["text/html"]) == same(f'<div class="glassnet-static">{tr._repr_html_()}</div>')


def test_nbconvert_html_export_shows_the_static_picture(tmp_path):
    """A notebook saved without widget state (JupyterLab's default), exported to HTML: the picture, no error."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nbconvert = pytest.importorskip("nbconvert")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import glassnet\nw = glassnet.widget(None, 'xor', hidden=[2])\nw")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    html, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    assert '<div class="glassnet-static"><div class="glassnet-trace">' in html
    assert "network 2-2-1" in html and "<svg" in html


def test_the_committed_module_is_a_fresh_build():
    """src/glassnet/widget/static/widget.js is what scripts/build-widget.mjs makes of the page's modules now."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "esbuild").is_dir():
        pytest.skip("node and esbuild (npm ci) are needed to rebuild the widget's module")
    out = subprocess.run([node, "scripts/build-widget.mjs", "--check"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr + "\nrun: make widget"
