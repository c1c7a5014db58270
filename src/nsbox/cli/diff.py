"""nsbox diff: the files a container added (A), changed (C) and deleted (D) in its root filesystem."""
from __future__ import annotations


def main(argv: list[str], root: str) -> int:
    import os
    import sys

    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError, StateError
    from nsbox.flags import parse
    from nsbox.image.commit import changes
    from nsbox.image.rootfs import rootfs_path
    from nsbox.image.store import ImageStore
    _, names = parse(argv, {}, "usage: nsbox diff CONTAINER", stop_at_positional=False)
    if len(names) != 1:
        raise ConfigError("CONTAINER", "name one container\nusage: nsbox diff CONTAINER")
    engine = Engine(root)
    record = engine.get(names[0])
    if not record.get("Image"):
        raise StateError(f"container {record['Name']} runs a --rootfs directory: it has no layer of changes")
    upper = os.path.join(os.path.dirname(rootfs_path(engine.root, record["Id"])), "upper")
    lower = ImageStore(engine.root).resolve(record["Image"]).layer_dirs()
    sys.stdout.write("".join(f"{kind} {path}\n" for kind, path in changes(upper, lower)))
    return 0
