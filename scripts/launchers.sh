#!/bin/bash
# Writes .venv/bin/nsbox and .venv/bin/nsbox-runtime. setup.sh runs it after pip; run it
# again after any `pip install -e .`, which puts pip's launchers back.
set -euo pipefail
cd "$(dirname "$0")/.."
# Start-up is the product: pip's launchers import re (~7 ms here) only to tidy argv[0], and
# PYTHONDONTWRITEBYTECODE (set on some machines) would recompile nsbox on every start. They
# run with -S: site costs ~3 ms of CPU (its .pth files, Debian's sitecustomize/apport hook)
# only to find nsbox and its dependencies, whose two directories the launcher names itself.
paths=$(.venv/bin/python -c 'import os, sysconfig, nsbox
print(repr([os.path.dirname(os.path.dirname(nsbox.__file__)), sysconfig.get_paths()["purelib"]]))')
for launcher in nsbox:nsbox.cli.main nsbox-runtime:nsbox.runtime.cli; do
    printf '#!%s -S\nimport sys\nsys.path[0:1] = %s\nfrom %s import main\nsys.exit(main())\n' \
        "$PWD/.venv/bin/python" "$paths" "${launcher#*:}" > ".venv/bin/${launcher%%:*}"
done
