"""nsbox kill: send a signal (SIGKILL unless -s) to containers."""
from __future__ import annotations

USAGE = "usage: nsbox kill [-s SIGNAL] CONTAINER [CONTAINER...]"


def main(argv: list[str], root: str) -> int:
    from nsbox.flags import parse
    from nsbox.engine.containers import Engine
    from nsbox.linux.signals import parse_signal
    from nsbox.errors import ConfigError
    options, names = parse(argv, {"-s=": "signal", "--signal=": "signal"}, USAGE, stop_at_positional=False)
    if not names:
        raise ConfigError("CONTAINER", f"name at least one container\n{USAGE}")
    number = parse_signal(options.get("signal") or "SIGKILL")
    engine = Engine(root)
    for name in names:
        engine.kill(name, number)
        print(name)
    return 0
