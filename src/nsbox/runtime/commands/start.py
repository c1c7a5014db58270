"""`nsbox-runtime start`: its flags and usage (COMMAND: its --help too) and the call it makes."""
from __future__ import annotations

from nsbox.flags import Command
from nsbox.runtime.cli import Context, one_id

COMMAND = Command("nsbox-runtime start ID", "Run the program of a created container.")


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    from nsbox.runtime.start import start
    start(ctx.root, one_id(positionals, "start"))
    return 0
