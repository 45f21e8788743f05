#!/bin/sh
# Install Debian's bubblewrap (bwrap), the sandbox of `glassnet grade` (tests/test_sandbox_isolation.py), when missing.
#
# `make test` runs this first. It never fails the build: without apt-get, without root (or password-less sudo), or
# offline, it says so; the grader then falls back to what remains (unshare, else hard limits only) and says so in its
# report, and the isolation tests skip with a message. It also says when bwrap is installed but cannot create its
# namespaces here (user namespaces disabled, e.g. by a container or by the kernel.unprivileged_userns_clone setting).
set -u
check() {
    if ! bwrap --ro-bind / / --unshare-all --die-with-parent true >/dev/null 2>&1 && \
       ! bwrap --ro-bind / / --unshare-pid --unshare-net --unshare-ipc --die-with-parent true >/dev/null 2>&1; then
        echo "install-bwrap: bwrap is installed but cannot create namespaces here (user namespaces may be disabled);" \
             "graded files will run with hard limits only and the isolation tests will be skipped" >&2
    fi
    exit 0
}
if command -v bwrap >/dev/null 2>&1; then
    check
fi
skip() {
    echo "install-bwrap: $1; graded files will run without bubblewrap (install Debian's bubblewrap) and the" \
         "isolation tests will be skipped" >&2
    exit 0
}
# How to install (apt-get, root or sudo, a log) lives in apt-install.sh; what it means when it cannot, here.
reason=$(sh "$(dirname "$0")/apt-install.sh" install-bwrap bubblewrap bwrap) || skip "$reason"
command -v bwrap >/dev/null 2>&1 || skip "bubblewrap was installed but bwrap is not on PATH"
echo "install-bwrap: $(bwrap --version 2>/dev/null || echo bwrap)" >&2
check
