"""nsbox diff: the files a container added (A), changed (C) and deleted (D) in its root filesystem."""
from __future__ import annotations


def main(argv: list[str], root: str) -> int:
    import sys

    from nsbox.engine.containers import Engine
    from nsbox.engine.file_copy import changes
    from nsbox.errors import ConfigError
    from nsbox.flags import parse
    _, names = parse(argv, {}, "usage: nsbox diff CONTAINER", stop_at_positional=False)
    if len(names) != 1:
        raise ConfigError("CONTAINER", "name one container\nusage: nsbox diff CONTAINER")
    sys.stdout.write("".join(f"{kind} {path}\n" for kind, path in changes(Engine(root), names[0])))
    return 0
