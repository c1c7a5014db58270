#!/bin/bash
# Sets up nsbox on a fresh Debian 12 machine (as root): Debian packages, a venv in
# .venv with nsbox installed, then runs a first container from a busybox bundle.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=$(grep -v '^#' scripts/apt-packages.txt | xargs)
missing=$(for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi

# Debian's interpreter starts in ~10 ms; a pyenv shim in front of it costs ~100 ms.
[ -x .venv/bin/python ] || /usr/bin/python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
bash scripts/launchers.sh  # nsbox's own launchers in place of pip's (see there)
.venv/bin/python -m compileall -q src >/dev/null
.venv/bin/python -m nsbox.engine.monitor_build  # the detached containers' monitor, in C

# No registry in reach here: a busybox:latest image made from Debian's busybox-static.
.venv/bin/python -m nsbox.image.busybox_image >/dev/null

if [ "${1:-}" != "--no-demo" ]; then
    demo=$(mktemp -d /tmp/nsbox-demo.XXXXXX)
    cleanup() { rm -rf "$demo"; }
    # The demo's cgroups go below this shell's own (a relative parent), not /nsbox, and
    # that parent goes too once the demo's containers are gone.
    if [ -z "${NSBOX_CGROUP_PARENT:-}" ]; then
        export NSBOX_CGROUP_PARENT=nsbox-setup
        cleanup() {
            rm -rf "$demo"
            find /sys/fs/cgroup -maxdepth 6 -type d -name nsbox-setup -exec rmdir {} + 2>/dev/null || true
        }
    fi
    trap cleanup EXIT
    .venv/bin/python -m nsbox.busybox "$demo" sh -c 'echo "nsbox-runtime: hello from $(hostname), I am PID $$"'
    .venv/bin/nsbox-runtime --root "$demo/state" run --bundle "$demo" "demo-$$"
    .venv/bin/nsbox run --rm busybox sh -c 'echo "nsbox: hello from $(hostname), I am PID $$"'
fi
