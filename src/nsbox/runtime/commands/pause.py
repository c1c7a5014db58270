"""`nsbox-runtime pause`: its flags and usage (COMMAND: its --help too) and the call it makes."""
from __future__ import annotations

from nsbox.flags import Command
from nsbox.runtime.cli import Context, one_id

COMMAND = Command("nsbox-runtime pause ID", "Freeze every process of the container (its cgroup's freezer).")


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    from nsbox.runtime.pause import pause
    pause(ctx.root, one_id(positionals, "pause"))
    return 0
