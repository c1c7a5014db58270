"""nsbox-runtime state ID: the OCI state as JSON."""
from __future__ import annotations

import sys

from nsbox.runtime.cli import Context, one_id

FLAGS: dict = {}


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    import json

    from nsbox.runtime.state import state
    sys.stdout.write(json.dumps(state(ctx.root, one_id(positionals, "state")), indent=2) + "\n")
    return 0
