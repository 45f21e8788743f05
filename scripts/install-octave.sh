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
# How to install (apt-get, root or sudo, a log) lives in apt-install.sh; what it means when it cannot, here.
reason=$(sh "$(dirname "$0")/apt-install.sh" install-octave octave octave) || skip "$reason"
command -v "$OCTAVE" >/dev/null 2>&1 || skip "octave was installed but $OCTAVE is not on PATH"
echo "install-octave: $("$OCTAVE" --version 2>/dev/null | head -n 1)" >&2
exit 0
