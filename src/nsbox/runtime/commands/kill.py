"""`nsbox-runtime kill`: its flags and usage (COMMAND: its --help too) and the call it makes."""
from __future__ import annotations

from nsbox.flags import Command, flag
from nsbox.runtime.cli import Context, UsageError

COMMAND = Command("nsbox-runtime kill [OPTIONS] ID [SIGNAL]", "Send a signal to a container's init.",
                  flag("-a --all", "to every process of the container"),
                  notes="SIGNAL: a name like TERM or SIGKILL, or a number; default TERM")


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    from nsbox.linux.signals import parse_signal  # not the signal module: its enum costs ~6 ms
    from nsbox.runtime.kill import kill
    if not 1 <= len(positionals) <= 2:
        raise UsageError("kill takes a container id and optionally a signal")
    number = parse_signal(positionals[1], "signal") if len(positionals) == 2 else 15
    kill(ctx.root, positionals[0], number, bool(options.get("all")))
    return 0
