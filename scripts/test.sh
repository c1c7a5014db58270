#!/bin/bash
# Runs the whole test suite as root against the real kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m nsbox.engine.monitor_build || true  # the C monitor, if its source changed
exec .venv/bin/python -m pytest "$@"
