"""A setup link whose network is large asks before it builds it (Playwright and Debian's Chromium, as the other
browser tests): the dialog states the layers, the weights and their memory; OK builds it, Cancel keeps the current
network and says so; a small network's link applies without asking.
"""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from browser_helpers import ARGS, CHROMIUM, SHOTS, require_browser

sync_api = require_browser()

from glassnet.server import ExplorerServer, Session, TrainConfig  # noqa: E402

CONFIG = TrainConfig(dataset="xor", hidden=(4,))
LARGE = (1024, 1, 1024, 1024)


def weights(sizes) -> int:
    return sum(b * (a + 1) for a, b in zip(sizes[:-1], sizes[1:]))


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


def open_link(browser, server, hidden, answer: bool | None, viewport=(1366, 768)):
    """The page opened on a setup link of ``hidden`` layers; ``answer`` given to a dialog (None: none expected).
    Returns (page, the dialog's messages, the page's errors)."""
    server.session.reset(CONFIG)
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    dialogs: list[str] = []
    errors: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.accept() if answer else dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.goto(server.url + "#dataset=xor&hidden=" + "-".join(map(str, hidden)))
    page.wait_for_selector("#net svg #unit-2-1")
    page.wait_for_function("() => !location.hash.includes('hidden=') || location.hash.includes('seed=')")
    return page, dialogs, errors


def test_a_large_networks_link_asks_and_builds_it_on_ok(browser, server):
    page, dialogs, errors = open_link(browser, server, LARGE, answer=True)
    try:
        page.wait_for_function(f"() => location.hash.includes('hidden={'-'.join(map(str, LARGE))}')")
        assert list(server.session.config.hidden) == list(LARGE)
        assert len(dialogs) == 1
        n = weights([2, *LARGE, 1])
        assert f"This link sets up a large network: 2-{'-'.join(map(str, LARGE))}-1, {n:,} weights" in dialogs[0]
        assert f"({n * 8 / 2**20:.1f} MB as 64-bit floats" in dialogs[0] and "Cancel keeps" in dialogs[0]
    finally:
        page.context.close()
    assert not errors, errors


@pytest.mark.parametrize("viewport", [(1366, 768), (1920, 1080)])
def test_a_large_networks_link_keeps_the_current_network_on_cancel(browser, server, viewport):
    page, dialogs, errors = open_link(browser, server, LARGE, answer=False, viewport=viewport)
    try:
        page.wait_for_function("() => location.hash.includes('hidden=4')")  # the link now shows what is built
        assert list(server.session.config.hidden) == [4] and len(dialogs) == 1
        page.wait_for_selector("text=the link's large network was not built: the current one is kept")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"setup-link-cancelled-{viewport[0]}x{viewport[1]}.png"))
    finally:
        page.context.close()
    assert not errors, errors


def test_a_small_networks_link_applies_without_asking(browser, server):
    page, dialogs, errors = open_link(browser, server, (5, 3), answer=None)
    try:
        page.wait_for_function("() => location.hash.includes('hidden=5-3')")
        assert list(server.session.config.hidden) == [5, 3] and dialogs == []
    finally:
        page.context.close()
    assert not errors, errors
