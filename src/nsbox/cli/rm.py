"""nsbox rm: remove containers (-f: running ones too; -v: their anonymous volumes)."""
from __future__ import annotations

import sys

from nsbox.flags import Command, flag, parse

COMMAND = Command("nsbox rm [OPTIONS] CONTAINER [CONTAINER...]", "Remove containers.",
                  flag("-f --force", "running ones too (killed first)"),
                  flag("-v --volumes", "their anonymous volumes too"))


def main(argv: list[str], root: str) -> int:
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError, ContainerNotFound, NsboxError
    options, names = parse(argv, COMMAND, stop_at_positional=False)
    if not names:
        raise ConfigError("CONTAINER", f"name at least one container\n{COMMAND.usage}")
    engine = Engine(root)
    failed = 0
    for name in names:  # each one, as Docker does: a failure is reported and the rest go on
        try:
            engine.remove(name, force=bool(options.get("force")), volumes=bool(options.get("volumes")))
        except ContainerNotFound as error:
            sys.stderr.write(f"nsbox: {error}\n")
            if not options.get("force"):  # rm -f of a container that is gone: done (exit 0)
                failed = failed or error.exit_code
            continue
        except NsboxError as error:
            sys.stderr.write(f"nsbox: {error}\n")
            failed = failed or error.exit_code
            continue
        print(name, flush=True)
    return failed
