"""The regression sets in a real browser (Playwright + Chromium): plane and multi-gaussian build an identity output
with the squared cost, Play lowers J, the map shows the predicted value on the diverging scale around 0 with the
points filled by their target, the header and curves name R², and the classification parts say they do not apply.
Every number compared with the library's. Fixtures: ``test_server_browser_2d.py``'s.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("fastapi")

import glassnet
from glassnet.server import bridge
from glassnet.server.session import wait_for
from test_server_browser_2d import browser, moons, open_page, server, shot  # noqa: F401 (shared fixtures)

CANVAS = 'canvas[aria-label="decision map"]'
# Bluish and reddish pixels of the map, and the colour at its centre.
HUES = """() => {
  const c = document.querySelector('canvas[aria-label="decision map"]');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let blue = 0, red = 0;
  for (let p = 0; p < d.length; p += 4) {
    if (d[p + 2] > d[p] + 40) blue += 1;
    if (d[p] > d[p + 2] + 40) red += 1;
  }
  return [blue, red];
}"""


def _header_number(pg, selector: str) -> float:
    return float(pg.inner_text(selector).replace("−", "-"))


@pytest.mark.parametrize("name", ["plane", "multi_gaussian"])
def test_a_regression_set_trains_and_draws_its_values(moons, server, name):  # noqa: F811
    version = server.session.version
    moons.select_option("#dataset", name)  # the page resets to the registry's settings for the set
    assert wait_for(lambda: server.session.config.dataset == name and server.session.version > version, timeout=30)
    moons.wait_for_function(f"() => document.querySelector('{CANVAS}').dataset.scale === 'diverging'")
    cfg = server.session.config
    assert (cfg.output, cfg.loss) == ("identity", "squared")
    assert cfg.hidden == glassnet.datasets.training_defaults(name)["hidden"]
    assert moons.eval_on_selector("#pair", "s => [s.value, s.disabled]") == ["identity+squared", True]
    assert "identity outputs, squared cost" in moons.inner_text("#kinds") and "a − y" in moons.inner_text("#kinds")
    J0 = server.session.initial["J"]
    assert "train R²" in moons.inner_text("#metrics")
    moons.click("#play")
    assert wait_for(lambda: server.session.status == "done", timeout=90), (server.session.status,
                                                                          server.session.error)
    final = server.session.current
    moons.wait_for_function(f"() => document.getElementById('J').textContent === '{final['J']:.6f}'")
    moons.wait_for_function(f"() => Number(document.querySelector('{CANVAS}').dataset.version) >= "
                            f"{server.session.version}")
    # J fell, and the header's J and R² are the library's for the final weights
    _, thetas, cfg, _, parts = server.session.snapshot_view()
    J = glassnet.cost(thetas, parts[0], parts[1], cfg.lam, output="identity", loss="squared")
    assert final["J"] == pytest.approx(J, rel=1e-12) and final["J"] < 0.5 * J0
    r2 = glassnet.Regressor.from_weights(thetas).score(parts[0], parts[1])
    assert _header_number(moons, "#score") == pytest.approx(r2, abs=5e-5) and r2 > 0.5
    assert "R²" in moons.inner_text("#curve-legend") and moons.text_content("#curves-title") == "Cost and R²"
    # the map: the predicted value on the diverging scale around 0, both signs present; the points' targets on it
    assert moons.get_attribute(CANVAS, "data-showing") == "value"
    m = max(abs(float(v)) for v in np.concatenate([parts[1], parts[3]]))
    assert float(moons.get_attribute(CANVAS, "data-range")) == pytest.approx(m, abs=1e-4)
    blue, red = moons.evaluate(HUES)
    assert blue > 3000 and red > 3000
    assert moons.text_content("#plane-title") == "Output map"
    assert "h = 0" in moons.inner_text("#plane-note") and "target y" in moons.inner_text("#plane-note")
    zero, top = moons.evaluate("() => import('/static/regression.js').then((r) => [r.valueColor(1, false)(0), "
                               "r.valueColor(1, false)(1)])")
    assert zero == [247, 247, 247] and top[0] > top[2] + 60  # white at 0, red at +m: the diagram's diverging scale
    # the misclassified gallery has nothing to show for real targets and says so
    moons.wait_for_function("() => document.getElementById('examples-title').textContent.includes('regression')")
    assert "no example is misclassified" in moons.inner_text("#examples") and moons.is_hidden("#examples-which")
    # the example panel names the target and the predicted value
    moons.wait_for_function("() => document.getElementById('example-info').textContent.includes('target y =')")
    assert moons.text_content("#noise-label") == "Noise (target read up to noise·6 away)"
    # hovering a hidden unit puts its map behind the points; leaving the diagram brings h back
    moons.hover("#net #unit-2-2")
    moons.wait_for_function(f"() => document.querySelector('{CANVAS}').dataset.showing === 'unit-2-2'")
    assert "hidden unit 2 of layer 2" in moons.inner_text("#plane-legend")
    moons.hover("#plane")
    moons.wait_for_function(f"() => document.querySelector('{CANVAS}').dataset.showing === 'value'")
    moons.check("#discretize")  # the sign of h only
    moons.wait_for_function(f"() => document.querySelector('{CANVAS}').dataset.showing === 'sign'")
    moons.uncheck("#discretize")
    # the gradient check on the diagram: each edge's relative error is the library's
    moons.click("#gc-run")
    moons.wait_for_selector("#net svg.gradcheck[data-gradcheck]")
    ours = bridge.edge_gradcheck(thetas, parts, cfg.lam, **bridge.kinds(cfg))
    rows = {f"edge-{r['l']}-{r['i']}-{r['j']}": r for r in ours["rows"]}
    edges = moons.eval_on_selector_all("#net svg line.edge[data-rel-error]",
                                       "els => els.map((e) => [e.id, Number(e.dataset.relError)])")
    assert len(edges) == ours["checked"] == sum(t.size for t in thetas)
    for edge_id, rel in edges:
        assert rel == pytest.approx(rows[edge_id]["relative_error"], rel=1e-3, abs=1e-14), edge_id
    # the walk: δ⁽ᴸ⁾ = a − y of the identity output with the squared cost, its number the library's
    moons.click("#step-open")
    moons.wait_for_selector("#step-text[data-phase='forward']")
    while moons.get_attribute("#step-text", "data-phase") != "output":
        k = moons.inner_text("#step-count").split()[1]
        moons.click("#step-next")
        moons.wait_for_function(f"() => !document.querySelector('#step-count').textContent.startsWith('step {k} ')")
    tr = glassnet.explain(thetas, parts[0][0], parts[1][0], m=parts[0].shape[0], output="identity", loss="squared")
    assert "δ⁽³⁾ = a⁽³⁾ − y (identity output with the squared cost" in moons.inner_text("#step-text")
    assert float(moons.get_attribute("#step-text", "data-value")) == pytest.approx(tr.delta[3][1], rel=1e-12)
    shot(moons, f"regress-{name}-1400")
    for w, h in ((1366, 768), (1920, 1080)):
        moons.set_viewport_size({"width": w, "height": h})
        moons.wait_for_timeout(300)
        moons.screenshot(path=str(shot(moons, f"regress-{name}-{w}x{h}")))


def test_back_to_a_classifier_gives_the_pairs_back(moons, server):  # noqa: F811
    moons.select_option("#dataset", "plane")
    assert wait_for(lambda: server.session.config.dataset == "plane", timeout=30)
    moons.wait_for_function(f"() => document.querySelector('{CANVAS}').dataset.scale === 'diverging'")
    moons.select_option("#dataset", "xor")
    assert wait_for(lambda: server.session.config.dataset == "xor", timeout=30)
    moons.wait_for_function(f"() => document.querySelector('{CANVAS}').dataset.scale === 'decision'")
    assert (server.session.config.output, server.session.config.loss) == ("sigmoid", "log")
    assert moons.eval_on_selector("#pair", "s => [s.value, s.disabled]") == ["sigmoid+log", False]
    assert "train acc" in moons.inner_text("#metrics") and moons.text_content("#plane-title") == "Decision map"
    moons.wait_for_function("() => document.getElementById('curves-title').textContent === 'Cost and accuracy'")
    moons.wait_for_function("() => !document.getElementById('examples-which').hidden")  # classes again
