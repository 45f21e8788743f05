"""The explorer on one screen (Playwright + Chromium): while training, the network, the decision map (2-D data) or the
example (images), the cost curves and the play button all lie in the first viewport at 1366×768, 1440×900 and
1920×1080; presentation mode fits 1024×768 with no clipped text and text of 18 px or more.

The server, browser and page fixtures are those of ``test_server_browser.py`` (the digits); the 2-D tests switch the
page to the moons. Screenshots go to ``$GLASSNET_SCREENSHOTS`` (default: ``<tmp>/glassnet-explorer-screenshots``).
"""

from __future__ import annotations

import pytest

from glassnet.server import TrainConfig
from glassnet.server.session import wait_for
from test_server_browser import SHOTS, browser, page, server, shot  # noqa: F401 (fixtures shared with the explorer's tests)

SIZES = [(1366, 768), (1440, 900), (1920, 1080)]
MOONS = TrainConfig(dataset="moons", hidden=(8,), lam=0.1, max_iter=100_000, delay_ms=60)
DIGITS = TrainConfig(dataset="digits", hidden=(25,), lam=1.0, max_iter=100_000, delay_ms=60)

# The box of each named view, in viewport coordinates, and the window's size.
BOXES = """(sels) => {
  const out = {};
  for (const [name, sel] of Object.entries(sels)) {
    const e = document.querySelector(sel);
    const b = e && e.getBoundingClientRect();
    out[name] = b && b.width > 0 ? [b.left, b.top, b.right, b.bottom] : null;
  }
  return [out, innerWidth, innerHeight, scrollY];
}"""
VIEWS = {"network": '[aria-label="network"]', "cost curves": '[aria-label="cost curves"]', "play": "#play"}

# Every visible element with its own text outside the SVG pictures: font size, whether its text is cut
# (scrollWidth > clientWidth where it clips), and whether its box leaves the window sideways.
TEXT_CHECK = """() => {
  const bad = [];
  for (const e of document.querySelectorAll('body *')) {
    if (e.closest('svg') || ['SCRIPT', 'STYLE', 'OPTION'].includes(e.tagName)) continue;
    const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const b = e.getBoundingClientRect();
    if (!own || b.width === 0 || b.height === 0) continue;
    const cs = getComputedStyle(e);
    if (cs.visibility === 'hidden') continue;
    const size = parseFloat(cs.fontSize);
    const label = `${e.tagName.toLowerCase()}#${e.id}.${e.className} "${e.textContent.trim().slice(0, 30)}"`;
    if (size < 18) bad.push(`${label}: ${size}px`);
    const clips = cs.overflowX !== 'visible' || cs.textOverflow === 'ellipsis';
    if (clips && e.scrollWidth > e.clientWidth + 1 && !['INPUT', 'SELECT', 'TEXTAREA'].includes(e.tagName))
      bad.push(`${label}: cut (scrollWidth ${e.scrollWidth} > clientWidth ${e.clientWidth})`);
    if (b.left < -1 || b.right > innerWidth + 1) bad.push(`${label}: outside the window (${b.left}..${b.right})`);
  }
  return bad;
}"""


def _train_and_measure(pg, srv, config, views, size, name):
    srv.session.reset(config)
    pg.set_viewport_size({"width": size[0], "height": size[1]})
    pg.goto(srv.url)
    pg.wait_for_selector("#net svg #unit-2-1")
    pg.wait_for_selector("#conn.live")
    pg.click("#play")
    assert wait_for(lambda: srv.session.status == "running" and srv.session.iteration >= 5, timeout=30)
    pg.wait_for_function("() => Number(document.querySelector('#metrics b').textContent) >= 5")
    pg.wait_for_timeout(700)  # a few redraws of the diagram, the map and the curves
    boxes, width, height, scroll = pg.evaluate(BOXES, views)
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"one-screen-{name}-{size[0]}x{size[1]}.png"))
    pg.click("#pause")
    assert scroll == 0
    for view, box in boxes.items():
        assert box is not None, f"{view} is not shown at {size}"
        left, top, right, bottom = box
        assert left >= 0 and top >= 0 and right <= width and bottom <= height, (view, size, box)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_map_network_curves_and_play_on_one_screen_while_training_2d(page, server, size):  # noqa: F811
    views = dict(VIEWS, **{"decision map": '[aria-label="decision map"]'})
    _train_and_measure(page, server, MOONS, views, size, "moons")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_example_network_curves_and_play_on_one_screen_while_training_digits(page, server, size):  # noqa: F811
    views = dict(VIEWS, example="#example-image", outputs="#outputs")
    _train_and_measure(page, server, DIGITS, views, size, "digits")


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_walk_text_sits_beside_the_diagram(page, server, size):  # noqa: F811
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.wait_for_timeout(300)
    closed = page.locator("#net svg #unit-2-1").bounding_box()
    page.click("#step-open")
    page.wait_for_selector("#step-text[data-phase]")
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"walk-open-{size[0]}x{size[1]}.png"))
    # the diagram's labels, grown to their floor in the narrower column, do not shrink the network to dots
    opened = page.locator("#net svg #unit-2-1").bounding_box()
    assert opened["width"] >= 0.5 * closed["width"], (size, closed, opened)
    net, text = page.locator("#net svg").bounding_box(), page.locator("#step-text").bounding_box()
    assert text["x"] >= net["x"] + net["width"] - 1  # to the right of the diagram, not below it
    assert text["y"] < net["y"] + net["height"]
    assert net["width"] >= 0.3 * size[0]  # the walk does not squeeze the diagram it talks about
    # the chart is redrawn for the narrower side column, not squashed: its drawing is as wide as its box
    page.wait_for_function("() => { const c = document.querySelector('#curves'); "
                           "return Math.abs(c.viewBox.baseVal.width - Math.max(300, c.clientWidth)) < 1; }")


# A regression set: the longest diagram title (target, h, the output/loss pair) in the walk's narrow column.
BUMPS = TrainConfig(dataset="multi_gaussian", hidden=(12,), lam=0.001, max_iter=600, output="identity", loss="squared")


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("config", [MOONS, BUMPS], ids=["moons", "multi_gaussian"])
def test_the_walk_into_the_backward_pass_keeps_the_network_readable_2d(page, server, size, config):  # noqa: F811
    server.session.reset(config)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(server.url)
    page.wait_for_selector("#net svg #unit-2-1")
    page.wait_for_timeout(300)
    closed = page.locator("#net svg #unit-2-1").bounding_box()
    page.click("#step-open")
    page.wait_for_selector("#step-text[data-phase]")
    while page.get_attribute("#step-text", "data-phase") == "forward":  # on to the output error δ^(L)
        page.click("#step-next")
        page.wait_for_timeout(150)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"walk-backward-{config.dataset}-{size[0]}x{size[1]}.png"))
    opened = page.locator("#net svg #unit-2-1").bounding_box()
    assert opened["width"] >= 0.5 * closed["width"], (size, closed, opened)


@pytest.mark.parametrize("config", [MOONS, DIGITS], ids=["moons", "digits"])
def test_presentation_mode_fits_1024x768_with_no_cut_text_of_18_px_or_more(page, server, config):  # noqa: F811
    server.session.reset(config)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(server.url)
    page.wait_for_selector("#net svg #unit-2-1")
    page.wait_for_selector("#conn.live")
    page.click("#present")
    page.wait_for_function("() => document.body.classList.contains('present')")
    page.wait_for_timeout(500)
    assert page.evaluate(TEXT_CHECK) == []
    boxes, width, height, _ = page.evaluate(BOXES, {"header": "#top", "network": '[aria-label="network"]'})
    for view, (left, top, right, bottom) in boxes.items():
        assert left >= 0 and top >= 0 and right <= width and bottom <= height, (view, boxes[view])
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    shot(page, f"one-screen-present-{config.dataset}-1024x768")
