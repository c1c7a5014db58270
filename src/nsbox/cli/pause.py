"""nsbox pause: freeze every process of containers (the cgroup freezer)."""
from __future__ import annotations

USAGE = "usage: nsbox pause CONTAINER [CONTAINER...]"


def main(argv: list[str], root: str) -> int:
    from nsbox.flags import parse
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError
    _, names = parse(argv, {}, USAGE, stop_at_positional=False)
    if not names:
        raise ConfigError("CONTAINER", f"name at least one container\n{USAGE}")
    engine = Engine(root)
    for name in names:
        engine.pause(name)
        print(name)
    return 0
