#!/bin/sh
# Install one Debian package with apt-get: the one home of how the install-*.sh scripts do it (as root or with
# password-less sudo; when the first try fails, the package lists are refreshed once and it tries again; output goes
# to a log file).
#
# Usage: sh scripts/apt-install.sh TAG PACKAGE LOGNAME
#   TAG names the calling script in what it says; the log is ${TMPDIR:-/tmp}/glassnet-install-LOGNAME.log.
# Exit 0 once apt-get has installed PACKAGE. Otherwise exit 1 with the reason on stdout: the caller says what that
# means for the tests and never fails the build.
set -u
TAG="$1"
PACKAGE="$2"
LOG="${TMPDIR:-/tmp}/glassnet-install-$3.log"
command -v apt-get >/dev/null 2>&1 || { echo "apt-get not found"; exit 1; }
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "not root and no password-less sudo"
        exit 1
    fi
fi
echo "$TAG: installing $PACKAGE with apt-get (once; log in $LOG)" >&2
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$PACKAGE" >"$LOG" 2>&1; then
    # The package lists may be missing or stale on a fresh machine.
    { $SUDO apt-get update && \
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$PACKAGE"; } >>"$LOG" 2>&1 \
        || { echo "apt-get could not install $PACKAGE (see $LOG)"; exit 1; }
fi
exit 0
