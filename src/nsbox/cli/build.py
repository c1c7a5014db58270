"""nsbox build: an image from a Dockerfile and a context (a directory, a tar on stdin, or
`-` with the Dockerfile on stdin and no context)."""
from __future__ import annotations

import os
import sys

from nsbox.flags import Command, flag

COMMAND = Command("nsbox build [OPTIONS] PATH | -", "Build an image from a Dockerfile.",
                  flag("-t --tag NAME[:TAG]...", "name the image"),
                  flag("-f --file PATH", "the Dockerfile (default PATH/Dockerfile)"),
                  flag("--build-arg K=V...", "set a build-time variable"),
                  flag("--target STAGE", "build up to this stage"),
                  flag("--no-cache", "run every step again"),
                  flag("--pull", "pull FROM images even when here"),
                  flag("--network MODE", "RUN steps' network (none, host, bridge, ...; default none)"),
                  flag("--label K=V...", "add a label to the image"),
                  flag("--platform OS/ARCH", "the image's platform"),
                  flag("-q --quiet", "print only the image ID"),
                  flag("--iidfile FILE", "write the image ID to FILE"))


def main(argv: list[str], root: str) -> int:
    from nsbox.errors import ConfigError
    from nsbox.flags import parse
    values, positional = parse(argv, COMMAND, stop_at_positional=False)
    if len(positional) != 1:
        raise ConfigError("PATH", f"give one build context: a directory, or - for stdin\n{COMMAND.usage}")
    quiet = bool(values.get("quiet"))
    out = sys.stderr if quiet else sys.stdout
    saved = None
    if quiet:  # RUN steps write to this process's stdout: keep it for the ID alone
        saved = os.dup(1)
        os.dup2(2, 1)
    try:
        image = _build(root, positional[0], values, lambda line: print(line, file=out, flush=True))
    finally:
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)
    if values.get("iidfile"):
        with open(str(values["iidfile"]), "w") as f:
            f.write(image.id)
    if quiet:
        print(image.id)
    else:
        print(f"Successfully built {image.id.removeprefix('sha256:')[:12]}")
        for tag in values.get("tag") or []:
            print(f"Successfully tagged {tag}")
    return 0


def _build(root: str, source: str, values: dict, say):
    import tempfile

    from nsbox.build.builder import Builder, BuildOptions
    from nsbox.build.context import Context
    from nsbox.build.dockerfile import parse
    from nsbox.linux.store_files import remove_tree
    scratch = tempfile.mkdtemp(prefix="nsbox-build-context.")
    try:
        directory, dockerfile_text, name = _context(source, values.get("file"), scratch)
        options = BuildOptions(tags=values.get("tag") or [], build_args=_pairs(values.get("build_arg"), "--build-arg"),
                               target=values.get("target"), no_cache=bool(values.get("no_cache")),
                               pull=bool(values.get("pull")), network=values.get("network"),
                               labels=_pairs(values.get("label"), "--label"), platform=values.get("platform"),
                               dockerfile_name=name, say=say)
        return Builder(root, Context(directory), parse(dockerfile_text, name), options).build()
    finally:
        remove_tree(scratch)


def _context(source: str, dockerfile: str | None, scratch: str) -> tuple[str | None, str, str]:
    """(context directory or None, the Dockerfile's text, its name for messages)."""
    from nsbox.errors import ConfigError, NotFound
    if source == "-":
        data = sys.stdin.buffer.read()
        if len(data) > 262 and data[257:262] == b"ustar" or data[:2] == b"\x1f\x8b":
            import io

            from nsbox.image.unpack import unpack_layer
            unpack_layer(io.BytesIO(data), scratch, "the build context on stdin")
            directory: str | None = scratch
        else:
            if dockerfile:
                raise ConfigError("-f", "with a Dockerfile on stdin there is no context to read it from")
            return None, data.decode(), "Dockerfile"
    else:
        if not os.path.isdir(source):
            raise NotFound(f"unable to prepare context: path {source!r} not found (give a directory)")
        directory = os.path.abspath(source)
    if dockerfile:  # -f: relative to the current directory, as the docker CLI reads it
        path = os.path.abspath(dockerfile)
    else:
        assert directory is not None
        path = os.path.join(directory, "Dockerfile")
        if not os.path.exists(path) and os.path.exists(os.path.join(directory, "Containerfile")):
            path = os.path.join(directory, "Containerfile")
    try:
        with open(path) as f:
            return directory, f.read(), os.path.basename(path)
    except FileNotFoundError:
        raise NotFound(f"no Dockerfile at {path} (name another with -f)") from None


def _pairs(items, flag: str) -> dict[str, str]:
    from nsbox.errors import ConfigError
    result = {}
    for item in items or []:
        name, has_value, value = str(item).partition("=")
        if not name:
            raise ConfigError(flag, f"{item!r}: give NAME=VALUE")
        result[name] = value if has_value else os.environ.get(name, "")
    return result
