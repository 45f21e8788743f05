"""The explorer's 2-D views, backprop step by step and shareable setups in a real browser (Playwright + Chromium).

As in ``test_server_browser.py``: a real uvicorn server on 127.0.0.1, Debian's Chromium, the numbers on the page
compared with the library's. The window is 1400 px wide, the size the readability rules are written for.
Screenshots go to ``$GLASSNET_SCREENSHOTS`` (default: ``<tmp>/glassnet-explorer-screenshots``).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from browser_helpers import ARGS, CHROMIUM, SHOTS, require_browser

sync_api = require_browser()

from glassnet.server import ExplorerServer, Session, TrainConfig, bridge
from glassnet.server.session import wait_for

MOONS = TrainConfig(dataset="moons", hidden=(8,), lam=0.1, max_iter=400, delay_ms=0)
DIGITS = TrainConfig(dataset="digits", hidden=(25,), lam=1.0, max_iter=400, delay_ms=0)

# The on-screen heights of the diagram's text boxes, sorted: (count, 25th percentile, smallest).
TEXT_SIZES = """() => {
  const h = [...document.querySelectorAll('#net svg text')].map((t) => t.getBoundingClientRect().height)
    .filter((v) => v > 0).sort((a, b) => a - b);
  return [h.length, h[Math.floor(h.length / 4)], h[0]];
}"""
# Distinct colours of the decision map, and a fingerprint of its pixels.
MAP_PIXELS = """() => {
  const c = document.querySelector('canvas[aria-label="decision map"]');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const colours = new Set();
  let sum = 0;
  for (let p = 0; p < d.length; p += 4) {
    colours.add((d[p] << 16) | (d[p + 1] << 8) | d[p + 2]);
    sum += d[p] * (p % 97);
  }
  return [colours.size, sum];
}"""


@pytest.fixture(scope="module")
def server():
    session = Session(MOONS)
    srv = ExplorerServer(session, port=0).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_page(browser, server, config, errors, url_suffix=""):
    server.session.reset(config)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    pg.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text}")
          if msg.type == "error" and "status of 422" not in msg.text else None)
    pg.goto(server.url + url_suffix)
    pg.wait_for_selector("#net svg #unit-2-1")
    pg.wait_for_selector("#conn.live")
    return context, pg


@pytest.fixture
def moons(browser, server):
    errors: list[str] = []
    context, pg = open_page(browser, server, MOONS, errors)
    pg.wait_for_selector('canvas[aria-label="decision map"][data-version]')
    yield pg
    context.close()
    assert not errors, errors


@pytest.fixture
def digits(browser, server):
    errors: list[str] = []
    context, pg = open_page(browser, server, DIGITS, errors)
    yield pg
    context.close()
    assert not errors, errors


def shot(pg, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    pg.evaluate("() => window.scrollTo(0, 0)")
    pg.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 20_000
    return path


def test_decision_map_has_many_colours_and_changes_while_training(moons, server):
    colours, before = moons.evaluate(MAP_PIXELS)
    assert colours > 50
    assert moons.locator("#plane-panel").is_visible()
    assert "training (240)" in moons.inner_text("#plane-note") and "validation (60)" in moons.inner_text("#plane-note")
    version = moons.get_attribute('canvas[aria-label="decision map"]', "data-version")
    moons.click("#play")
    assert wait_for(lambda: server.session.status == "done", timeout=60)
    moons.wait_for_function(f"() => document.querySelector('#plane').dataset.version !== '{version}' && "
                            f"Number(document.querySelector('#plane').dataset.version) >= {server.session.version}")
    colours_after, after = moons.evaluate(MAP_PIXELS)
    assert after != before and colours_after > 50
    assert "converged: the gradient is ~0" in moons.inner_text("#run-message")  # plain words, not scipy's
    assert "PGTOL" not in moons.inner_text("body")
    moons.click("#net #unit-2-3")
    moons.wait_for_selector("#equation")
    shot(moons, "2d-01-moons-trained")


def test_each_view_carries_an_aria_label_naming_it(moons):
    """Screen readers and tests find the three views by name: the network, the decision map, the cost curves."""
    views = {"network": moons.get_by_role("figure", name="network", exact=True),
             "decision map": moons.get_by_role("img", name="decision map", exact=True),
             "cost curves": moons.get_by_role("img", name="cost curves", exact=True)}
    for name, view in views.items():
        assert view.count() == 1, name
        assert view.is_visible(), name
    assert views["network"].locator("svg #unit-2-1").count() == 1  # the diagram is inside the view so named


def test_one_unit_map_per_hidden_unit_beside_it(moons):
    maps = moons.locator('#net svg g.unit-map[aria-label$=" of layer 2"]')
    assert maps.count() == 8
    assert moons.get_attribute("#net svg g.unit-map >> nth=2", "aria-label") == "unit 3 of layer 2"
    # the maps are redrawn when a newer plane arrives: measure once both are on the page (a redraw between the two
    # reads gives None)
    for _ in range(20):
        box, unit = maps.nth(2).bounding_box(), moons.locator("#net #unit-2-3").bounding_box()
        if box is not None and unit is not None:
            break
        moons.wait_for_timeout(100)
    assert box["x"] + box["width"] < unit["x"]
    assert abs((box["y"] + box["height"] / 2) - (unit["y"] + unit["height"] / 2)) < 2
    maps.nth(4).click()  # a map is a way to select its unit
    moons.wait_for_function("() => document.querySelector('#detail-title').textContent.startsWith('Unit 5 of layer 2')")


@pytest.mark.parametrize("which", ["moons", "digits"])
def test_diagram_text_is_at_least_12_px_on_screen_at_1400_px(which, request):
    pg = request.getfixturevalue(which)
    n, q25, smallest = pg.evaluate(TEXT_SIZES)
    assert n >= 20 and q25 >= 12, (n, q25, smallest)
    shot(pg, f"2d-02-{which}-1400px")


def test_a_selected_unit_highlights_its_incoming_and_outgoing_edges(digits):
    digits.click("#net #unit-2-4")
    digits.wait_for_selector("#net svg.has-selection line.edge.related")
    ids = digits.eval_on_selector_all("#net line.edge.related", "els => els.map((e) => e.id)")
    outgoing = {f"edge-2-{i}-4" for i in range(1, 11)}
    assert outgoing <= set(ids)  # all 10 edges to the output layer
    incoming = [e for e in ids if e.startswith("edge-1-4-")]
    assert incoming and set(ids) == outgoing | set(incoming)


def test_backprop_step_by_step_shows_each_delta_of_the_librarys_trace(digits, server):
    digits.click("#index")
    digits.fill("#index", "5")
    digits.press("#index", "Enter")
    digits.click("#step-open")
    digits.wait_for_selector("#step-text[data-phase='forward']")
    _, thetas, _, _, parts = server.session.snapshot_view()
    tr = bridge.trace(thetas, parts[0][5], int(parts[1][5]), parts[0].shape[0])
    count = int(digits.inner_text("#step-count").split(" of ")[1].split()[0])
    assert count == 2 + 1 + 25 + 2 + 1  # two forward layers, δ^(3), 25 hidden δ, two Δ, the batch's D
    seen = 0
    for k in range(1, count):
        digits.click("#step-next")
        digits.wait_for_function(f"() => document.querySelector('#step-count').textContent.startsWith('step {k + 1} ')")
        phase = digits.get_attribute("#step-text", "data-phase")
        if phase == "hidden":
            l, j = (int(v) for v in digits.get_attribute("#step-text", "data-unit").split(":"))
            assert float(digits.get_attribute("#step-text", "data-value")) == tr.delta[l][j]
            digits.wait_for_function("() => document.querySelectorAll('#net svg.stepping line.edge.lit').length === 10")
            lit = digits.eval_on_selector_all("#net line.edge.lit", "els => els.map((e) => e.id)")
            assert sorted(lit) == sorted(f"edge-{l}-{i}-{j}" for i in range(1, 11))
            seen += 1
            if seen == 3:
                assert digits.get_attribute("#net svg", "data-view") == "backward"
                shot(digits, "2d-03-backprop-step-hidden-delta")
        if phase == "output":
            assert "= a₁⁽³⁾ − y₁ =" in digits.inner_text("#step-text")
    assert seen == 25
    assert "Δ/m + (λ/m)Θ" in digits.inner_text("#step-text")
    digits.click("#step-prev")
    digits.wait_for_function(f"() => document.querySelector('#step-count').textContent.startsWith('step {count - 1} ')")


def test_the_setup_travels_in_the_url_fragment_without_the_token(browser, server, moons):
    moons.select_option("#dataset", "circles")
    moons.wait_for_function("() => location.hash.includes('dataset=circles')")
    assert moons.input_value("#hidden") == "6"  # the registry's settings for circles
    moons.fill("#noise", "0.2")
    moons.fill("#hidden", "5, 3")
    moons.fill("#lam", "0.05")
    moons.fill("#seed", "3")
    moons.fill("#val-share", "0.3")
    moons.click("#reset")
    moons.wait_for_function("() => location.hash.includes('seed=3') && location.hash.includes('noise=0.2')")
    fragment = moons.evaluate("() => location.hash.slice(1)")
    assert "token" not in fragment and server.token not in fragment
    setup = {k: v[0] for k, v in parse_qs(fragment).items()}
    assert setup["hidden"] == "5-3" and setup["lam"] == "0.05" and setup["val"] == "0.3"

    errors: list[str] = []
    context, other = open_page(browser, server, MOONS, errors, "#" + fragment)  # the session starts elsewhere
    try:
        assert wait_for(lambda: server.session.config.dataset == "circles", timeout=20)
        cfg = server.session.config
        assert (cfg.hidden, cfg.lam, cfg.seed, cfg.noise, cfg.validation_fraction) == ((5, 3), 0.05, 3, 0.2, 0.3)
        other.wait_for_function("() => document.querySelector('#net svg').dataset.sizes === '2-5-3-1'")
        assert other.input_value("#noise") == "0.2"
        other.wait_for_function(f"() => location.hash.slice(1) === {fragment!r}")
    finally:
        context.close()
    assert not errors, errors


def test_xor_defaults_learn_and_presentation_mode_enlarges_the_text(moons, server):
    moons.select_option("#dataset", "xor")
    moons.wait_for_function("() => document.querySelector('#net svg').dataset.sizes === '2-4-1'")
    assert server.session.config.lam == 0.1
    moons.click("#play")
    assert wait_for(lambda: server.session.status == "done", timeout=60)
    assert server.session.state()["current"]["acc"] == 1.0
    small = moons.evaluate(TEXT_SIZES)[1]
    moons.click("#present")
    moons.wait_for_function("() => document.body.classList.contains('present')")
    assert moons.evaluate(TEXT_SIZES)[1] > small
    shot(moons, "2d-04-xor-presentation-mode")


def test_choosing_the_hidden_units_and_the_cost_resets_to_that_network(moons, server):
    assert (moons.input_value("#activation"), moons.input_value("#pair")) == ("sigmoid", "sigmoid+log")
    assert moons.inner_text("#kinds").startswith("in use: sigmoid hidden units")
    moons.select_option("#activation", "tanh")
    moons.select_option("#pair", "sigmoid+squared")
    assert "apply with Reset network" in moons.inner_text("#kinds")
    assert server.session.config.activation == "sigmoid"  # nothing changes before the reset
    moons.click("#reset")
    assert wait_for(lambda: server.session.config.activation == "tanh", timeout=20)
    assert (server.session.config.output, server.session.config.loss) == ("sigmoid", "squared")
    moons.wait_for_function("() => location.hash.includes('act=tanh') && location.hash.includes('loss=squared')")
    moons.wait_for_function("() => document.querySelector('#kinds').textContent.startsWith('in use: tanh hidden')")
    assert "δ⁽ᴸ⁾ = (a − y)·g′(z)" in moons.inner_text("#kinds")
    _, thetas, _, _, parts = server.session.snapshot_view()
    tr = bridge.trace(thetas, parts[0][0], int(parts[1][0]), parts[0].shape[0], **bridge.kinds(server.session.config))
    moons.wait_for_function(f"() => document.querySelector('#setup').textContent === {tr.setup!r}")
    # the maps of the tanh network (they arrive with the next plane) are on the diverging scale: blue −m … red m
    moons.wait_for_function("() => { const t = document.querySelector('#net svg g.unit-map title'); "
                            "return t && t.textContent.includes('(blue −'); }")
    shot(moons, "2d-05-tanh-sigmoid-squared")
    # A softmax needs K ≥ 2 output units: on two classes the server's reason is shown and nothing changes.
    moons.select_option("#pair", "softmax+log")
    moons.click("#reset")
    moons.wait_for_selector("#toast:not([hidden])")
    assert "softmax output needs K ≥ 2" in moons.inner_text("#toast")
    assert server.session.config.output == "sigmoid"
