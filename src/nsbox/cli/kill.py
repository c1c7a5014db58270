"""nsbox kill: send a signal (SIGKILL unless -s) to containers."""
from __future__ import annotations

from nsbox.flags import Command, flag, parse

COMMAND = Command("nsbox kill [OPTIONS] CONTAINER [CONTAINER...]", "Send a signal to containers.",
                  flag("-s --signal SIGNAL", "the signal (default KILL)"))


def main(argv: list[str], root: str) -> int:
    from nsbox.engine.containers import Engine
    from nsbox.linux.signals import parse_signal
    from nsbox.errors import ConfigError
    options, names = parse(argv, COMMAND, stop_at_positional=False)
    if not names:
        raise ConfigError("CONTAINER", f"name at least one container\n{COMMAND.usage}")
    number = parse_signal(options.get("signal") or "SIGKILL")
    engine = Engine(root)
    for name in names:
        engine.kill(name, number)
        print(name)
    return 0
