"""nsbox start: start created or stopped containers, each under a new monitor; with -a
(and -i) attach to the one started, as `docker start -ai` does."""
from __future__ import annotations

FLAGS = {"-a": "attach", "--attach": "attach", "-i": "interactive", "--interactive": "interactive",
         "--detach-keys=": "detach_keys"}


def main(argv: list[str], root: str) -> int:
    from nsbox.flags import parse
    options, names = parse(argv, FLAGS, "usage: nsbox start [-a] [-i] [--detach-keys KEYS] CONTAINER...",
                           stop_at_positional=False)
    if options.get("attach") or options.get("interactive"):
        from nsbox.cli.attach import attach
        from nsbox.engine.containers import Engine
        from nsbox.errors import ConfigError
        if len(names) != 1:
            raise ConfigError("CONTAINER", "start -a attaches to one container: name one")
        engine = Engine(root)
        engine.start(names[0])
        return attach(engine, names[0], options.get("detach_keys"), bool(options.get("interactive")))
    from nsbox.cli.each_container import for_each_container
    return for_each_container(argv, root, "start", "start")
