"""nsbox rename: give a container a new (unique) name."""
from __future__ import annotations

USAGE = "usage: nsbox rename CONTAINER NEW_NAME"


def main(argv: list[str], root: str) -> int:
    from nsbox.flags import parse
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError
    _, names = parse(argv, {}, USAGE, stop_at_positional=False)
    if len(names) != 2:
        raise ConfigError("CONTAINER NEW_NAME", f"give the container and its new name\n{USAGE}")
    Engine(root).rename(names[0], names[1])
    return 0
