"""The explorer's Playground parity and what goes past it, in a real browser (Playwright + Chromium).

The decision map (two hues diverging at h = 0.5, points in their class colour, misclassified points ringed and
crossed, the "show test data" and "discretize output" toggles, a hovered hidden unit's map), the 2-D misclassified
gallery drawn as marks, + and − for layers and units, the gradient check drawn on the diagram and the hidden units'
timeline of g′(z) and |δ|; every number compared with the library's. Fixtures: ``test_server_browser_2d.py``'s.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("fastapi")

from glassnet.datasets.features import expand
from glassnet.explain import walk
from glassnet.explain.maps import plane_maps
from glassnet.explain.timeline import unit_timeline
from glassnet.server import TrainConfig, bridge
from glassnet.server.session import wait_for
from test_server_browser_2d import MOONS, SHOTS, browser, moons, open_page, server, shot  # noqa: F401 (shared fixtures)

CANVAS = 'canvas[aria-label="decision map"]'
# Pixels of the decision map whose colour is bluish (b > r + 40) and reddish (r > b + 40), and the share of the
# pixels that have one of the two most common colours (a discretized map is two flat colours).
HUES = """() => {
  const c = document.querySelector('canvas[aria-label="decision map"]');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let blue = 0, red = 0;
  const count = new Map();
  for (let p = 0; p < d.length; p += 4) {
    if (d[p + 2] > d[p] + 40) blue += 1;
    if (d[p] > d[p + 2] + 40) red += 1;
    const k = (d[p] << 16) | (d[p + 1] << 8) | d[p + 2];
    count.set(k, (count.get(k) || 0) + 1);
  }
  const top = [...count.values()].sort((a, b) => b - a);
  return [blue, red, (top[0] + (top[1] || 0)) / (d.length / 4)];
}"""


def _trained(pg, srv):
    version = pg.get_attribute(CANVAS, "data-version")
    pg.click("#play")
    assert wait_for(lambda: srv.session.status == "done", timeout=60)
    pg.wait_for_function(f"() => document.querySelector('{CANVAS}').dataset.version !== '{version}' && "
                         f"Number(document.querySelector('{CANVAS}').dataset.version) >= {srv.session.version}")


def _wrong(srv, val: bool) -> int:
    _, thetas, cfg, _, parts = srv.session.snapshot_view()
    X, y = (parts[2], parts[3]) if val else (parts[0], parts[1])
    return int(np.sum(bridge.predictions(thetas, X, activation=cfg.activation, output=cfg.output)[0] != y))


def test_decision_map_diverges_at_one_half_and_marks_the_misclassified(moons, server):  # noqa: F811
    colours = moons.evaluate("() => import('/static/colors.js').then((m) => [0.02, 0.5, 0.98].map(m.decisionColor))")
    low, mid, high = colours
    assert mid == [255, 255, 255]  # white at the threshold h = 0.5
    assert low[2] > low[0] + 60 and high[0] > high[2] + 60  # class 0's hue below, class 1's above
    moons.fill("#lam", "1")  # a smoother boundary: some points stay on the wrong side
    moons.dispatch_event("#lam", "change")
    _trained(moons, server)
    blue, red, _ = moons.evaluate(HUES)
    assert blue > 5000 and red > 5000  # both hues on the map
    wrong = _wrong(server, False) + _wrong(server, True)
    assert wrong > 0
    assert moons.get_attribute(CANVAS, "data-misclassified") == str(wrong)
    assert f"{wrong} misclassified" in moons.inner_text("#plane-note")
    m_train, m_val = len(server.session.train_idx), len(server.session.val_idx)
    assert moons.get_attribute(CANVAS, "data-points") == str(m_train + m_val)
    shot(moons, "playground-01-map-two-hues")

    moons.uncheck("#show-test")  # the held-out points leave the map
    moons.wait_for_function(f"() => document.querySelector('{CANVAS}').dataset.points === '{m_train}'")
    assert moons.get_attribute(CANVAS, "data-misclassified") == str(_wrong(server, False))
    assert f"validation ({m_val}) hidden" in moons.inner_text("#plane-note")
    moons.check("#show-test")
    moons.wait_for_function(f"() => document.querySelector('{CANVAS}').dataset.points === '{m_train + m_val}'")

    *_, smooth = moons.evaluate(HUES)
    moons.check("#discretize")  # the class, not h: two flat colours and the points
    moons.wait_for_function(f"() => document.querySelector('{CANVAS}').dataset.showing === 'class'")
    *_, flat = moons.evaluate(HUES)
    assert flat > 0.6 > smooth, (flat, smooth)
    moons.uncheck("#discretize")
    moons.wait_for_function(f"() => document.querySelector('{CANVAS}').dataset.showing === 'h'")


def test_hovering_a_hidden_unit_shows_its_map_in_the_big_map(moons):  # noqa: F811
    moons.hover("#net #unit-2-3")
    moons.wait_for_function(f"() => document.querySelector('{CANVAS}').dataset.showing === 'unit-2-3'")
    assert "hidden unit 3 of layer 2" in moons.inner_text("#plane-legend")
    moons.hover("#net svg g.unit-map >> nth=5")  # its small map beside the unit does the same
    moons.wait_for_function(f"() => document.querySelector('{CANVAS}').dataset.showing === 'unit-2-6'")
    moons.hover("#plane")  # leaving the diagram brings the output back
    moons.wait_for_function(f"() => document.querySelector('{CANVAS}').dataset.showing === 'h'")


def test_the_2d_misclassified_gallery_is_drawn_as_marks_where_the_points_lie(moons, server):  # noqa: F811
    moons.select_option("#examples-which", "train:misclassified")
    moons.wait_for_selector('#examples svg.marks[aria-label*="training"]')
    _, thetas, cfg, _, parts = server.session.snapshot_view()
    pred = bridge.predictions(thetas, parts[0], activation=cfg.activation, output=cfg.output)[0]
    wrong = np.flatnonzero(pred != parts[1])
    marks = moons.locator("#examples svg.marks g.mark")
    assert marks.count() == min(len(wrong), bridge.GALLERY_LIMIT) > 0
    assert not moons.locator("#examples .vec").count()  # no list of number pairs
    first = marks.nth(0)
    t = int(first.get_attribute("data-index"))
    assert t in set(wrong.tolist())
    assert float(first.get_attribute("data-x1")) == pytest.approx(parts[0][t][0], abs=1e-4)
    assert float(first.get_attribute("data-x2")) == pytest.approx(parts[0][t][1], abs=1e-4)
    first.click()
    moons.wait_for_function(f"() => document.querySelector('#index').value === '{t}'")


def test_plus_and_minus_change_layers_and_units_and_build_the_network(moons, server):  # noqa: F811
    moons.click('#layer-buttons button[title="add a hidden layer"]')
    assert wait_for(lambda: server.session.config.hidden == (8, 8), timeout=20)
    moons.wait_for_selector("#net svg #unit-3-8")  # 2-8-8-1
    moons.click('#layer-buttons button[title="one unit more in hidden layer 2"]')
    assert wait_for(lambda: server.session.config.hidden == (8, 9), timeout=20)
    moons.click('#layer-buttons button[title="one unit fewer in hidden layer 1"]')
    assert wait_for(lambda: server.session.config.hidden == (7, 9), timeout=20)
    moons.wait_for_function("() => document.querySelector('#hidden').value === '7, 9'")
    moons.click('#layer-buttons button[title="remove the last hidden layer"]')
    assert wait_for(lambda: server.session.config.hidden == (7,), timeout=20)
    moons.wait_for_selector("#net svg #unit-2-7")
    # 2-7-1: layer 3 is the output again (waited for: 2-7-9-1, drawn before, has a unit 3-1 too)
    moons.wait_for_function("() => document.querySelector('#net svg #unit-3-1') && "
                            "!document.querySelector('#net svg #unit-4-1')")
    assert "1 hidden layer" in moons.inner_text("#layer-buttons")
    assert server.session.thetas[0].shape == (7, 3)


def test_the_gradient_check_colours_each_edge_by_the_librarys_relative_error(moons, server):  # noqa: F811
    moons.click("#gc-run")
    moons.wait_for_selector("#net svg.gradcheck[data-gradcheck]")
    _, thetas, cfg, _, parts = server.session.snapshot_view()
    ours = bridge.edge_gradcheck(thetas, parts, cfg.lam, **bridge.kinds(cfg))
    rows = {f"edge-{r['l']}-{r['i']}-{r['j']}": r for r in ours["rows"]}
    edges = moons.eval_on_selector_all("#net svg line.edge[data-rel-error]",
                                       "els => els.map((e) => [e.id, Number(e.dataset.relError)])")
    assert len(edges) == int(moons.get_attribute("#net svg", "data-gradcheck")) >= 20
    for edge_id, rel in edges:
        assert rel == pytest.approx(rows[edge_id]["relative_error"], rel=1e-3, abs=1e-14), edge_id
    assert ours["passed"] and ours["checked"] == sum(t.size for t in thetas)
    assert "backprop agrees" in moons.inner_text("#gc-note")
    moons.click("#net #edge-2-1-3", force=True)  # Θ₁₃⁽²⁾
    moons.wait_for_selector('#gc-detail dl[data-edge="2-1-3"]')
    dl = moons.locator("#gc-detail dl")
    assert float(dl.get_attribute("data-analytic")) == pytest.approx(rows["edge-2-1-3"]["analytic"], rel=1e-9)
    assert float(dl.get_attribute("data-numeric")) == pytest.approx(rows["edge-2-1-3"]["numeric"], rel=1e-9)
    assert "Gradient check of Θ₁₃⁽²⁾" in moons.inner_text("#gc-detail")
    shot(moons, "playground-02-gradcheck-on-diagram")
    moons.fill("#lam", "0.5")  # new λ: the check no longer describes these numbers
    moons.dispatch_event("#lam", "change")
    moons.wait_for_function("() => document.querySelector('#gc-note').textContent.includes('changed since')")
    assert moons.locator("#net svg.gradcheck").count() == 0


def test_the_units_timeline_equals_the_librarys_and_scrubs_the_iterations(moons, server):  # noqa: F811
    _trained(moons, server)
    moons.click("#units-open")
    moons.wait_for_selector("#units-table tr[data-unit]")
    _, snapshots, _, cfg, parts = server.session.timeline_view()
    last = len(snapshots) - 1
    pick = np.unique(np.linspace(0, last, min(len(snapshots), bridge.TIMELINE_SNAPSHOTS)).round().astype(int))
    chosen = [snapshots[k] for k in pick]
    lib = unit_timeline([th for _, th in chosen], [it for it, _ in chosen], parts[0], parts[1], **bridge.kinds(cfg))

    def table():
        return moons.eval_on_selector_all("#units-table tr[data-unit]", "rows => rows.map((r) => [r.dataset.unit, "
                                          "Number(r.dataset.gprime), Number(r.dataset.delta), "
                                          "Number(r.dataset.saturated)])")

    for at in (len(pick) - 1, 0, len(pick) // 2):
        moons.evaluate(f"() => {{ const s = document.querySelector('#units-scrub'); s.value = '{at}'; "
                       "s.dispatchEvent(new Event('input')); }")
        moons.wait_for_function(f"() => document.querySelector('#units-table').dataset.snapshot === '{at}'")
        assert moons.get_attribute("#units-table", "data-iteration") == str(lib.iterations[at])
        rows = table()
        assert [r[0] for r in rows] == [f"2:{j}" for j in range(1, 9)]
        for j, (_, g, d, s) in enumerate(rows):
            assert g == pytest.approx(lib.gprime[0][at, j], rel=1e-12)
            assert d == pytest.approx(lib.delta[0][at, j], rel=1e-12)
            assert s == pytest.approx(lib.saturated[0][at, j], rel=1e-12)
    assert lib.iterations[-1] == server.session.iteration > 0
    assert f"iteration {lib.iterations[len(pick) // 2]}" in moons.inner_text("#units-at")
    shot(moons, "playground-03-units-timeline")


def test_timeline_and_gradcheck_of_a_two_layer_net_cover_every_hidden_layer(browser, server):  # noqa: F811
    errors: list[str] = []
    context, pg = open_page(browser, server, TrainConfig(dataset="moons", hidden=(4, 3), lam=0.1, delay_ms=0),
                            errors)
    try:
        pg.click("#units-open")
        pg.wait_for_selector('#units-table tr[data-unit="3:3"]')
        assert pg.locator("#units-table tr[data-unit]").count() == 7
        pg.click("#gc-run")
        pg.wait_for_selector("#net svg.gradcheck[data-gradcheck]")
        assert pg.locator("#net svg line.edge-hit").count() == pg.locator("#net svg line.edge[data-rel-error]").count()
    finally:
        context.close()
    assert not errors, errors
    server.session.reset(MOONS)


def test_the_walk_adds_delta_up_over_several_examples_before_d(moons, server):  # noqa: F811
    moons.click("#step-open")
    moons.wait_for_selector("#step-text[data-phase='forward']")
    moons.select_option("#step-examples", "3")
    per_example = 2 + 1 + 8 + 2  # two forward layers, δ⁽³⁾, 8 hidden δ, Δ⁽²⁾ and Δ⁽¹⁾
    moons.wait_for_function(f"() => document.querySelector('#step-count').textContent.startsWith('step 1 of "
                            f"{3 * per_example + 1} ')")
    assert "training examples 0–2" in moons.inner_text("#step-count")
    _, thetas, cfg, _, parts = server.session.snapshot_view()
    lib = walk(thetas, parts[0][:3], parts[1][:3], cfg.lam, **bridge.kinds(cfg))
    for at in (3 * per_example - 1, 3 * per_example):  # example 3's Δ⁽¹⁾ (the sum over t = 1..3), then D
        moons.evaluate(f"() => {{ for (let k = 0; k < {at}; k++) document.querySelector('#step-next').click(); }}")
        moons.wait_for_function(f"() => document.querySelector('#step-count').textContent.startsWith('step {at + 1} ')")
        values = json.loads(moons.get_attribute("#step-text", "data-values"))
        assert values and values.keys() == lib.frames[at].values.keys()
        for key, v in lib.frames[at].values.items():
            assert values[key] == pytest.approx(v, rel=1e-12, abs=1e-15), key
        moons.click("#step-first")
        moons.wait_for_function("() => document.querySelector('#step-count').textContent.startsWith('step 1 ')")
    assert np.allclose(lib.frames[3 * per_example - 1].Delta[0],
                       sum(tr.gradients[0].contribution for tr in lib.traces))  # Σ over t of δ⁽²⁾a⁽¹⁾ᵀ
    moons.evaluate(f"() => {{ for (let k = 0; k < {3 * per_example}; k++) "
                   "document.querySelector('#step-next').click(); }")
    moons.wait_for_function("() => document.querySelector('#step-text').dataset.phase === 'batch'")
    assert "m = 3" in moons.inner_text("#step-text")
    shot(moons, "playground-04-walk-delta-over-3-examples")


def test_feature_toggles_make_the_networks_inputs_and_the_map_stays_over_x1_x2(moons, server):  # noqa: F811
    # the toggles show once the session's state says the data are 2-D, which may come after the map is drawn
    moons.wait_for_selector("#features", state="visible", timeout=20_000)
    assert moons.is_checked('#features input[value="x1"]') and not moons.is_checked('#features input[value="x1^2"]')
    moons.check('#features input[value="x1^2"]')
    assert wait_for(lambda: server.session.config.features == ("x1", "x2", "x1^2"), timeout=20)
    moons.check('#features input[value="sin(x2)"]')
    assert wait_for(lambda: server.session.config.features == ("x1", "x2", "x1^2", "sin(x2)"), timeout=20)
    moons.uncheck('#features input[value="x1"]')
    moons.uncheck('#features input[value="x2"]')
    features = ("x1^2", "sin(x2)")
    # the session installs the config, then Θ (one lock, read here without it): wait for both
    assert wait_for(lambda: server.session.config.features == features and server.session.thetas[0].shape == (8, 3),
                    timeout=20)  # two inputs again, now x₁² and sin x₂
    moons.wait_for_function("() => document.querySelector('#plane-note').textContent.includes('x₁², sin x₂')")
    moons.wait_for_function(f"() => Number(document.querySelector('{CANVAS}').dataset.version) >= "
                            f"{server.session.version}")
    assert moons.get_attribute("#net #unit-1-1", "data-feature") == "x1^2"
    _trained(moons, server)
    _, thetas, cfg, data, parts = server.session.snapshot_view()
    Xtr, ytr, Xva, yva = server.session.points_view()
    assert np.array_equal(parts[0], expand(Xtr, features))  # the network's inputs are the features of the points
    wrong = sum(int(np.sum(bridge.predictions(thetas, expand(X, features))[0] != y))
                for X, y in ((Xtr, ytr), (Xva, yva)))
    assert moons.get_attribute(CANVAS, "data-misclassified") == str(wrong)
    maps = plane_maps(thetas, data.X, resolution=50, features=features)  # drawn over (x₁, x₂)
    assert moons.get_attribute(CANVAS, "data-points") == str(len(ytr) + len(yva))
    assert maps.output.shape == (1, 50, 50)
    shot(moons, "playground-05-features-x1sq-sinx2")
    moons.uncheck('#features input[value="x1^2"]')
    assert wait_for(lambda: server.session.config.features == ("sin(x2)",), timeout=20)
    moons.wait_for_function("() => !document.querySelector('#features input[value=\"x1^2\"]').checked")
    moons.click('#features input[value="sin(x2)"]')  # the last one stays: a network needs an input
    moons.wait_for_selector("#toast:not([hidden])")
    assert moons.is_checked('#features input[value="sin(x2)"]')
    assert wait_for(lambda: server.session.config.features == ("sin(x2)",), timeout=20)
    moons.select_option("#dataset", "digits")  # another dataset starts from its own columns
    assert wait_for(lambda: server.session.config.dataset == "digits", timeout=30)
    assert server.session.config.features is None
    moons.wait_for_selector("#features", state="hidden")


def test_the_header_numbers_are_not_cut_at_1366_px(browser, server):  # noqa: F811
    errors: list[str] = []
    context, pg = open_page(browser, server, TrainConfig(dataset="digits", hidden=(25,), lam=1.0, delay_ms=0), errors)
    try:
        pg.set_viewport_size({"width": 1366, "height": 768})
        pg.click("#play")
        assert wait_for(lambda: server.session.status == "done", timeout=120)
        pg.wait_for_function(f"() => document.querySelector('#metrics').textContent.startsWith("
                             f"'iteration {server.session.iteration} ')")
        cut = "() => { const m = document.querySelector('#metrics'); return m.scrollWidth - m.clientWidth; }"
        assert pg.evaluate(cut) <= 0, pg.inner_text("#metrics")
        # the widest the numbers get: a five-digit iteration, a cost in the thousands, 100.0 % everywhere
        pg.evaluate("() => { document.querySelector('#metrics').innerHTML = 'iteration <b>99999</b> · J = "
                    "<b>1234.567890</b> · train acc 100.0% · validation cost 1234.6 · validation acc 100.0%'; }")
        assert pg.evaluate(cut) <= 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / "playground-06-header-1366x768.png"))
    finally:
        context.close()
    assert not errors, errors
    server.session.reset(MOONS)
