"""nsbox export: a container's filesystem as a tar archive (to stdout or -o FILE)."""
from __future__ import annotations

import sys

from nsbox.flags import Command, flag, parse

COMMAND = Command("nsbox export [OPTIONS] CONTAINER", "Write a container's filesystem as a tar archive.",
                  flag("-o --output FILE", "write to FILE instead of stdout"))


def main(argv: list[str], root: str) -> int:
    from nsbox.engine.containers import Engine
    from nsbox.engine.file_copy import export
    from nsbox.errors import ConfigError
    options, names = parse(argv, COMMAND, stop_at_positional=False)
    if len(names) != 1:
        raise ConfigError("CONTAINER", f"name one container\n{COMMAND.usage}")
    if not options.get("output") and sys.stdout.isatty():
        raise ConfigError("-o", "refusing to write a tar archive to a terminal: use -o FILE or a redirect")
    engine = Engine(root)
    if options.get("output"):
        with open(options["output"], "wb") as out:
            export(engine, names[0], out)
    else:
        export(engine, names[0], sys.stdout.buffer)
    return 0
