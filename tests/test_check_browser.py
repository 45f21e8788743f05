"""The explorer's "check my hand calculation" form in a real browser (Chromium through Playwright)."""

from __future__ import annotations

from glassnet.explain import explain
from test_server_browser import browser, page, server, shot  # noqa: F401 (fixtures shared with the explorer's tests)


def test_the_form_checks_a_hand_calculation_of_the_current_example(page, server):  # training example 0, shown first  # noqa: F811
    _, thetas, cfg, _, parts = server.session.snapshot_view()
    tr = explain(thetas, parts[0][:1], parts[1][:1], cfg.lam, rows=0)
    right, slipped = tr.z[2][1], -tr.delta[tr.L][1]  # δ⁽ᴸ⁾ with the wrong sign
    page.fill("#check-answers", f"z_1^(2), {right:.6f}\nδ₁⁽{tr.L}⁾, {slipped:.6f}")
    page.click("#check")
    page.wait_for_selector("#check-result li")
    text = page.inner_text("#check-result")
    assert "1 of 2 right" in text
    assert f"✓ z₁⁽²⁾ = {right:.6g}" in text
    assert "wrong sign" in text
    for size in ((1366, 768), (1920, 1080)):
        page.set_viewport_size({"width": size[0], "height": size[1]})
        page.locator("#check-panel").scroll_into_view_if_needed()
        shot(page, f"check-form-{size[0]}x{size[1]}")
    assert page.locator("#check-panel").bounding_box()["width"] > 200
