"""nsbox diff: the files a container added (A), changed (C) and deleted (D) in its root filesystem."""
from __future__ import annotations


def main(argv: list[str], root: str) -> int:
    import sys

    from nsbox.engine.containers import Engine
    from nsbox.engine.file_copy import changes
    from nsbox.errors import ConfigError
    from nsbox.flags import Command, parse
    command = Command("nsbox diff CONTAINER", "List the files a container changed (A added, C changed, D deleted).")
    _, names = parse(argv, command, stop_at_positional=False)
    if len(names) != 1:
        raise ConfigError("CONTAINER", f"name one container\n{command.usage}")
    sys.stdout.write("".join(f"{kind} {path}\n" for kind, path in changes(Engine(root), names[0])))
    return 0
