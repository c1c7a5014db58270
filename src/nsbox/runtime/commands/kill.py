"""nsbox-runtime kill [--all] ID [SIGNAL]   (SIGNAL: a name like TERM or SIGKILL, or a number; default TERM)"""
from __future__ import annotations

from nsbox.runtime.cli import Context, UsageError

FLAGS = {"--all": "all", "-a": "all"}


def signal_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    import signal
    name = text.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    number = getattr(signal, name, None)
    if not isinstance(number, int):
        raise UsageError(f"unknown signal {text!r} (use a name like TERM, KILL, HUP or a number)")
    return int(number)


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    from nsbox.runtime.kill import kill
    if not 1 <= len(positionals) <= 2:
        raise UsageError("kill takes a container id and optionally a signal")
    number = signal_number(positionals[1]) if len(positionals) == 2 else 15
    kill(ctx.root, positionals[0], number, bool(options.get("all")))
    return 0
