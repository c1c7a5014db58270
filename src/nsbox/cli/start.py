"""nsbox start: start created or stopped containers, each under a new monitor."""
from __future__ import annotations


def main(argv: list[str], root: str) -> int:
    from nsbox.flags import parse
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError
    usage = "usage: nsbox start CONTAINER [CONTAINER...]"
    _, names = parse(argv, {}, usage, stop_at_positional=False)
    if not names:
        raise ConfigError("CONTAINER", f"name at least one container\n{usage}")
    engine = Engine(root)
    for name in names:
        engine.start(name)
        print(name)
    return 0
