"""nsbox stop: send the stop signal, then SIGKILL after -t seconds."""
from __future__ import annotations

USAGE = "usage: nsbox stop [-t SECONDS] CONTAINER [CONTAINER...]"


def main(argv: list[str], root: str) -> int:
    from nsbox.flags import parse
    from nsbox.engine.containers import Engine
    from nsbox.engine.units import parse_int
    from nsbox.errors import ConfigError
    options, names = parse(argv, {"-t=": "time", "--time=": "time", "--timeout=": "time"}, USAGE,
                           stop_at_positional=False)
    if not names:
        raise ConfigError("CONTAINER", f"name at least one container\n{USAGE}")
    timeout = parse_int(options["time"], "--time", -1) if "time" in options else None  # type: ignore[arg-type]
    engine = Engine(root)
    for name in names:
        engine.stop(name, timeout)
        print(name)
    return 0
