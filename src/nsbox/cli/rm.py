"""nsbox rm: remove containers (-f: running ones too; -v: their anonymous volumes)."""
from __future__ import annotations

USAGE = "usage: nsbox rm [-f] [-v] CONTAINER [CONTAINER...]"


def main(argv: list[str], root: str) -> int:
    from nsbox.flags import parse
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError
    options, names = parse(argv, {"-f": "force", "--force": "force", "-v": "volumes", "--volumes": "volumes"},
                           USAGE, stop_at_positional=False)
    if not names:
        raise ConfigError("CONTAINER", f"name at least one container\n{USAGE}")
    engine = Engine(root)
    for name in names:
        engine.remove(name, force=bool(options.get("force")), volumes=bool(options.get("volumes")))
        print(name)
    return 0
