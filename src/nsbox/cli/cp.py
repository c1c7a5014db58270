"""nsbox cp: copy files between a container and the host (CONTAINER:PATH on either side)."""
from __future__ import annotations

from nsbox.flags import Command, parse

COMMAND = Command("nsbox cp CONTAINER:SRC_PATH DEST_PATH|-\nnsbox cp SRC_PATH|- CONTAINER:DEST_PATH",
                  "Copy files between a container and the host.",
                  notes="- as DEST writes a tar stream to stdout; - as SRC extracts a tar stream from stdin into a "
                        "directory")


def main(argv: list[str], root: str) -> int:
    from nsbox.engine.containers import Engine
    from nsbox.engine.file_copy import copy_from, copy_to
    from nsbox.errors import ConfigError
    _, paths = parse(argv, COMMAND, stop_at_positional=False)
    if len(paths) != 2:
        raise ConfigError("SRC DEST", f"give a source and a destination\n{COMMAND.usage}")
    source, destination = paths
    engine = Engine(root)
    import sys
    if ":" in source and not source.startswith(("/", ".")):
        name, _, inside = source.partition(":")
        if destination == "-":
            from nsbox.engine.file_copy import copy_from_as_tar
            copy_from_as_tar(engine, name, inside, sys.stdout.buffer)
        else:
            copy_from(engine, name, inside, destination)
    elif ":" in destination and not destination.startswith(("/", ".")):
        name, _, inside = destination.partition(":")
        if source == "-":
            from nsbox.engine.file_copy import copy_to_from_tar
            copy_to_from_tar(engine, name, sys.stdin.buffer, inside)
        else:
            copy_to(engine, name, source, inside)
    else:
        raise ConfigError("SRC DEST", f"one side must be CONTAINER:PATH\n{COMMAND.usage}")
    return 0
