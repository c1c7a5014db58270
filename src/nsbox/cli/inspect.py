"""nsbox inspect: containers (or images: Docker falls back to them) as Docker-shaped JSON,
or through a Go template (-f/--format)."""
from __future__ import annotations

from nsbox.flags import Command, flag, parse

COMMAND = Command("nsbox inspect [OPTIONS] NAME|ID [NAME|ID...]", "Containers or images as JSON.",
                  flag("-f --format FORMAT", "a Go template, e.g. '{{.State.Pid}}', or json"),
                  flag("--type container|image", "only this kind of object"),
                  flag("-s --size", "a container's sizes too (SizeRw, SizeRootFs)"))


def _image_shape(root: str, name: str) -> dict | None:
    from nsbox.errors import ImageError, NotFound
    from nsbox.image.manage import describe
    try:
        return describe(root, name)
    except (NotFound, ImageError):
        return None


def main(argv: list[str], root: str) -> int:
    import sys

    from nsbox.cli.formatting import print_json
    from nsbox.engine.containers import Engine
    from nsbox.engine.docker_shape import container_inspect
    from nsbox.errors import ConfigError, NotFound
    options, names = parse(argv, COMMAND, stop_at_positional=False)
    if not names:
        raise ConfigError("NAME", f"name at least one container or image\n{COMMAND.usage}")
    kind = options.get("type") or ""
    if kind not in ("", "container", "image"):
        raise ConfigError("--type", f"must be container or image, got {kind!r}")
    engine = Engine(root)
    found, missing = [], []
    for name in names:
        shape = None
        if kind != "image":
            try:
                record = engine.get(name)
                shape = container_inspect(record, engine.root)
            except NotFound:
                pass
        if shape is None and kind != "container":
            shape = _image_shape(engine.root, name)
        if shape is None:
            missing.append(name)
        else:
            found.append(shape)
    form = options.get("format")
    if form and form != "json":
        from nsbox.cli.formatting import render_each
        sys.stdout.write(render_each(form, found))
    else:
        print_json(found)
    if missing:
        from nsbox.errors import ContainerNotFound, ImageNotFound, ObjectNotFound
        error = {"container": ContainerNotFound, "image": ImageNotFound}.get(kind, ObjectNotFound)
        raise error("\n".join(f"No such {kind or 'object'}: {name}" for name in missing))
    return 0
