"""`nsbox-runtime start`: its flags (FLAGS), its --help (USAGE) and the call it makes."""
from __future__ import annotations

from nsbox.runtime.cli import Context, one_id

USAGE = """nsbox-runtime start ID"""

FLAGS: dict = {}


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    from nsbox.runtime.start import start
    start(ctx.root, one_id(positionals, "start"))
    return 0
