#!/bin/bash
# Runs the whole test suite as root against the real kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pytest "$@"
