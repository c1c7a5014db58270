"""`nsbox-runtime kill`: its flags (FLAGS), its --help (USAGE) and the call it makes."""
from __future__ import annotations

from nsbox.runtime.cli import Context, UsageError

USAGE = """nsbox-runtime kill [--all] ID [SIGNAL]   (SIGNAL: a name like TERM or SIGKILL, or a number; default TERM)"""

FLAGS = {"--all": "all", "-a": "all"}


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    from nsbox.linux.signals import parse_signal  # not the signal module: its enum costs ~6 ms
    from nsbox.runtime.kill import kill
    if not 1 <= len(positionals) <= 2:
        raise UsageError("kill takes a container id and optionally a signal")
    number = parse_signal(positionals[1], "signal") if len(positionals) == 2 else 15
    kill(ctx.root, positionals[0], number, bool(options.get("all")))
    return 0
