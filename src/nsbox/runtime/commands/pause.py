"""`nsbox-runtime pause`: its flags (FLAGS), its --help (USAGE) and the call it makes."""
from __future__ import annotations

from nsbox.runtime.cli import Context, one_id

USAGE = """nsbox-runtime pause ID: freeze every process of the container (its cgroup's freezer)."""

FLAGS: dict = {}


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    from nsbox.runtime.pause import pause
    pause(ctx.root, one_id(positionals, "pause"))
    return 0
