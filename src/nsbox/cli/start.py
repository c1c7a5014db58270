"""nsbox start: start created or stopped containers, each under a new monitor; with -a
(and -i) attach to the one started, as `docker start -ai` does."""
from __future__ import annotations

from nsbox.cli.attach import DETACH_KEYS
from nsbox.flags import Command, flag, parse

COMMAND = Command("nsbox start [OPTIONS] CONTAINER [CONTAINER...]", "Start created or stopped containers.",
                  flag("-a --attach", "attach to its output (one container)"),
                  flag("-i --interactive", "attach its stdin too"),
                  DETACH_KEYS)


def main(argv: list[str], root: str) -> int:
    options, names = parse(argv, COMMAND, stop_at_positional=False)
    if options.get("attach") or options.get("interactive"):
        from nsbox.cli.attach import start_and_attach
        from nsbox.engine.containers import Engine
        from nsbox.errors import ConfigError
        if len(names) != 1:
            raise ConfigError("CONTAINER", "start -a attaches to one container: name one")
        return start_and_attach(Engine(root), names[0], options.get("detach_keys"), bool(options.get("interactive")))
    from nsbox.cli.each_container import for_each_container
    return for_each_container(argv, root, COMMAND, "start")
