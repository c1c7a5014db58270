"""nsbox rename: give a container a new (unique) name."""
from __future__ import annotations

from nsbox.flags import Command, parse

COMMAND = Command("nsbox rename CONTAINER NEW_NAME", "Give a container a new name.")


def main(argv: list[str], root: str) -> int:
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError
    _, names = parse(argv, COMMAND, stop_at_positional=False)
    if len(names) != 2:
        raise ConfigError("CONTAINER NEW_NAME", f"give the container and its new name\n{COMMAND.usage}")
    Engine(root).rename(names[0], names[1])
    return 0
