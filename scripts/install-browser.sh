#!/bin/sh
# Install Debian's Chromium for the explorer's real-browser tests (tests/test_server_browser.py) when it is missing.
#
# `make test` runs this first. It never fails the build: without apt-get, without root (or password-less sudo), or
# offline, it says so and the browser tests skip with a message. GLASSNET_CHROMIUM overrides the browser path.
set -u
BROWSER="${GLASSNET_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$BROWSER" ]; then
    exit 0
fi
skip() {
    echo "install-browser: $1; the browser tests will be skipped (install Debian's chromium, or set GLASSNET_CHROMIUM)" >&2
    exit 0
}
command -v apt-get >/dev/null 2>&1 || skip "apt-get not found"
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        skip "not root and no password-less sudo"
    fi
fi
LOG="${TMPDIR:-/tmp}/glassnet-install-chromium.log"
echo "install-browser: installing chromium with apt-get (once; log in $LOG)" >&2
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >"$LOG" 2>&1; then
    # The package lists may be missing or stale on a fresh machine.
    { $SUDO apt-get update && \
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; } >>"$LOG" 2>&1 \
        || skip "apt-get could not install chromium (see $LOG)"
fi
[ -x "$BROWSER" ] || skip "chromium was installed but $BROWSER is not there"
echo "install-browser: $("$BROWSER" --version 2>/dev/null || echo "$BROWSER")" >&2
exit 0
