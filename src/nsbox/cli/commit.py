"""nsbox commit: a container's changes as a new image (its config: the container's)."""
from __future__ import annotations

USAGE = "usage: nsbox commit [-m MESSAGE] [-a AUTHOR] [-c INSTRUCTION]... [-p] CONTAINER [REPOSITORY[:TAG]]"
FLAGS = {"-m=": "message", "--message=": "message", "-a=": "author", "--author=": "author",
         "-c=": "change*", "--change=": "change*", "-p": "pause", "--pause": "pause"}


def main(argv: list[str], root: str) -> int:
    import os

    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError, StateError
    from nsbox.flags import parse
    from nsbox.image.commit import commit
    from nsbox.image.reference import parse_reference
    from nsbox.image.rootfs import rootfs_path
    options, names = parse(argv, FLAGS, USAGE, stop_at_positional=False)
    if len(names) not in (1, 2):
        raise ConfigError("CONTAINER", f"name the container (and the new image)\n{USAGE}")
    engine = Engine(root)
    record = engine.get(names[0])
    if not record.get("Image"):
        raise StateError(f"container {record['Name']} runs a --rootfs directory: there is no image to commit onto")
    upper = os.path.join(os.path.dirname(rootfs_path(engine.root, record["Id"])), "upper")
    command = " ".join((record["Config"].get("Entrypoint") or []) + (record["Config"].get("Cmd") or []))
    image = commit(engine.root, record["Image"], upper, record["Config"],
                   [str(parse_reference(names[1]))] if len(names) == 2 else [],
                   list(options.get("change") or []), str(options.get("message") or ""),
                   str(options.get("author") or ""), command)
    print(image.id)
    return 0
