#!/bin/bash
# Runs the whole test suite as root against the real kernel. Run with no arguments (as CI
# and the README do), it first runs the pure-logic tests (marker needs_no_root) as the
# unprivileged user nobody, so that they keep working without root.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ] && [ "$(id -u)" = 0 ]; then
    if setpriv --reuid=nobody --regid=nogroup --clear-groups test -r .venv/bin/python -a -r pyproject.toml; then
        setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/tmp \
            .venv/bin/python -m pytest -m needs_no_root -p no:cacheprovider -q
    else
        echo "test.sh: NOT running the needs_no_root tests as nobody: $PWD is not readable by nobody" \
             "(chmod o+rx its parent directories)" >&2
    fi
fi
exec .venv/bin/python -m pytest "$@"
