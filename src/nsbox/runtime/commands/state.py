"""`nsbox-runtime state`: its flags and usage (COMMAND: its --help too) and the call it makes."""
from __future__ import annotations

import sys

from nsbox.flags import Command
from nsbox.runtime.cli import Context, one_id

COMMAND = Command("nsbox-runtime state ID", "The OCI state of a container, as JSON.")


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    from nsbox.oci.jsonio import dumps  # not json: its decoder pulls in re and enum (~11 ms)
    from nsbox.runtime.state import state
    sys.stdout.write(dumps(state(ctx.root, one_id(positionals, "state"))) + "\n")
    return 0
