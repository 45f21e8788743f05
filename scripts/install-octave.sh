#!/bin/sh
# Install GNU Octave (Debian's package `octave`, for its octave-cli) so that `glassnet grade` can run students' .m files
# and the Octave grading tests (tests/test_grade_octave.py) run.
#
# `make test` runs this first. It never fails the build: without apt-get, without root (or password-less sudo), or
# offline, it says so and the Octave tests skip with a message. GLASSNET_OCTAVE names another octave-cli.
set -u
OCTAVE="${GLASSNET_OCTAVE:-octave-cli}"
if command -v "$OCTAVE" >/dev/null 2>&1; then
    exit 0
fi
skip() {
    echo "install-octave: $1; the Octave grading tests will be skipped (install Debian's octave, or set GLASSNET_OCTAVE)" >&2
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
LOG="${TMPDIR:-/tmp}/glassnet-install-octave.log"
echo "install-octave: installing octave with apt-get (once; log in $LOG)" >&2
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends octave >"$LOG" 2>&1; then
    # The package lists may be missing or stale on a fresh machine.
    { $SUDO apt-get update && \
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends octave; } >>"$LOG" 2>&1 \
        || skip "apt-get could not install octave (see $LOG)"
fi
command -v "$OCTAVE" >/dev/null 2>&1 || skip "octave was installed but $OCTAVE is not on PATH"
echo "install-octave: $("$OCTAVE" --version 2>/dev/null | head -n 1)" >&2
exit 0
