"""`nsbox-runtime resume`: its flags and usage (COMMAND: its --help too) and the call it makes."""
from __future__ import annotations

from nsbox.flags import Command
from nsbox.runtime.cli import Context, one_id

COMMAND = Command("nsbox-runtime resume ID", "Thaw a paused container.")


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    from nsbox.runtime.pause import resume
    resume(ctx.root, one_id(positionals, "resume"))
    return 0
