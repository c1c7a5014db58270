"""`nsbox pull`: the same as `nsbox image pull`.

Its command line is read by hand: building argparse's parsers (gettext looks up message
catalogues for every help text) costs more than pulling a small image. Anything this
reader does not take plainly (--help, an unknown or abbreviated flag, a missing image) goes
to argparse, which answers exactly as for `nsbox image pull`.
"""
from __future__ import annotations

_FLAGS = ("--platform", "--insecure-registry")


def parse(argv: list[str]) -> tuple[str, str | None, tuple[str, ...]] | None:
    """(image, platform, insecure registries), or None when argparse must answer."""
    image = platform = None
    insecure: list[str] = []
    index = 0
    while index < len(argv):
        argument = argv[index]
        if argument in _FLAGS and index + 1 < len(argv):
            flag, value = argument, argv[index + 1]
            index += 2
        elif argument.startswith(tuple(f"{flag}=" for flag in _FLAGS)):
            flag, value = argument.split("=", 1)
            index += 1
        elif argument.startswith("-") or image is not None:
            return None
        else:
            image = argument
            index += 1
            continue
        if value.startswith("-"):
            return None
        if flag == "--platform":
            platform = value
        else:
            insecure.append(value)
    return None if image is None else (image, platform, tuple(insecure))


def pull_image(image: str, platform: str | None, insecure: tuple[str, ...], root: str, out=None) -> int:
    """Pull, with a progress bar per layer on a terminal, and print what Docker prints (to
    `out`, stdout by default)."""
    _tune_this_process()  # first: the imports below are a good part of a pull
    import contextlib

    from nsbox.image.progress import for_terminal
    from nsbox.image.platform import parse_platform
    from nsbox.image.pull import pull
    from nsbox.image.reference import parse_reference
    chosen = parse_platform(platform) if platform else None
    progress = for_terminal(f"Pulling {image}")
    with progress or contextlib.nullcontext():
        pulled = pull(root, image, platform=chosen, insecure_registries=insecure, progress=progress)
    print(f"Digest: {pulled.manifest_digest}", file=out)
    print(f"Image ID: {pulled.id}", file=out)
    print(str(parse_reference(image)), file=out)
    return 0


def create_pulling(engine, options: dict) -> dict:
    """engine.create(options), pulling the image first as `--pull` says (Docker's `run` and
    `create`): missing (the default) pulls only when the image is not in the store, always
    pulls every time, never does not pull. The pull's report goes to stderr, as Docker's."""
    import sys

    from nsbox.errors import ImageNotFound, InvalidOption
    policy = options.get("pull") or "missing"
    if policy not in ("missing", "always", "never"):
        raise InvalidOption("--pull", f"must be missing, always or never, got {policy!r}")
    if policy == "always" and not options.get("rootfs"):
        pull_image(options["image"], None, (), engine.root, out=sys.stderr)
        return engine.create(options)
    try:
        return engine.create(options)
    except ImageNotFound:
        if policy == "never" or options.get("rootfs"):
            raise
    sys.stderr.write(f"Unable to find image '{options['image']}' locally\n")
    try:
        pull_image(options["image"], None, (), engine.root, out=sys.stderr)
    except OSError as error:
        raise as_image_error(error) from error
    return engine.create(options)


def _tune_this_process() -> None:
    """Settings for this short-lived process, which only pulls.

    The cyclic garbage collector is off: the pull makes few cycles, and the collections
    that imports and tar headers set off cost about a tenth of the import time. malloc
    keeps the memory the pull frees instead of giving it back to the kernel: a pull goes
    through gigabytes of megabyte-sized buffers (socket reads, decompressed chunks), and
    each page given back and taken again costs a fault; they doubled the kernel time of a
    pull in a VM (glibc's mallopt; M_TRIM_THRESHOLD and M_MMAP_THRESHOLD).
    """
    import ctypes
    import gc
    gc.disable()
    libc = ctypes.CDLL(None)
    if hasattr(libc, "mallopt"):
        for parameter in (-1, -3):
            libc.mallopt(parameter, 64 << 20)


def main(argv: list[str], root: str) -> int:
    parsed = parse(argv)
    if parsed is None:
        from nsbox.cli.image import alias
        return alias("pull", "pull")(argv, root)
    try:
        return pull_image(*parsed, root)
    except OSError as error:
        raise as_image_error(error) from error


def as_image_error(error: OSError):
    """An OSError of an image command (a full disk, a read-only --root) as the ImageError
    the CLI reports: what, not a traceback."""
    from nsbox.errors import ImageError
    return ImageError(f"{error.filename + ': ' if error.filename else ''}{error.strerror or error}")
