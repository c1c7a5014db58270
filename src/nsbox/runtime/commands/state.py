"""`nsbox-runtime state`: its flags (FLAGS), its --help (USAGE) and the call it makes."""
from __future__ import annotations

import sys

from nsbox.runtime.cli import Context, one_id

USAGE = """nsbox-runtime state ID: the OCI state as JSON."""

FLAGS: dict = {}


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    from nsbox.oci.jsonio import dumps  # not json: its decoder pulls in re and enum (~11 ms)
    from nsbox.runtime.state import state
    sys.stdout.write(dumps(state(ctx.root, one_id(positionals, "state"))) + "\n")
    return 0
