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
# How to install (apt-get, root or sudo, a log) lives in apt-install.sh; what it means when it cannot, here.
reason=$(sh "$(dirname "$0")/apt-install.sh" install-browser chromium chromium) || skip "$reason"
[ -x "$BROWSER" ] || skip "chromium was installed but $BROWSER is not there"
echo "install-browser: $("$BROWSER" --version 2>/dev/null || echo "$BROWSER")" >&2
exit 0
