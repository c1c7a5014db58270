"""nsbox-runtime start ID"""
from __future__ import annotations

from nsbox.runtime.cli import Context, one_id

FLAGS: dict = {}


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    from nsbox.runtime.start import start
    start(ctx.root, one_id(positionals, "start"))
    return 0
