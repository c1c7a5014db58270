"""`nsbox-runtime resume`: its flags (FLAGS), its --help (USAGE) and the call it makes."""
from __future__ import annotations

from nsbox.runtime.cli import Context, one_id

USAGE = """nsbox-runtime resume ID: thaw a paused container."""

FLAGS: dict = {}


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    from nsbox.runtime.pause import resume
    resume(ctx.root, one_id(positionals, "resume"))
    return 0
