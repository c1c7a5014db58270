"""nsbox commit: a container's changes as a new image (its config: the container's)."""
from __future__ import annotations

from nsbox.flags import Command, flag, parse

COMMAND = Command("nsbox commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]", "Make an image of a container's changes.",
                  flag("-m --message MESSAGE", "the commit message"),
                  flag("-a --author AUTHOR", "the image's author"),
                  flag("-c --change INSTRUCTION...", "a CMD, ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE or LABEL instruction"),
                  flag("-p --pause", "pause the container while its changes are read"))


def main(argv: list[str], root: str) -> int:
    import os

    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError, StateError
    from nsbox.image.commit import commit
    from nsbox.image.reference import parse_reference
    from nsbox.image.rootfs import upper_path
    options, names = parse(argv, COMMAND, stop_at_positional=False)
    if len(names) not in (1, 2):
        raise ConfigError("CONTAINER", f"name the container (and the new image)\n{COMMAND.usage}")
    engine = Engine(root)
    record = engine.get(names[0])
    if not record.get("Image"):
        raise StateError(f"container {record['Name']} runs a --rootfs directory: there is no image to commit onto")
    upper = upper_path(engine.root, record["Id"])
    command = " ".join((record["Config"].get("Entrypoint") or []) + (record["Config"].get("Cmd") or []))
    image = commit(engine.root, record["Image"], upper, record["Config"],
                   [str(parse_reference(names[1]))] if len(names) == 2 else [],
                   list(options.get("change") or []), str(options.get("message") or ""),
                   str(options.get("author") or ""), command)
    print(image.id)
    return 0
