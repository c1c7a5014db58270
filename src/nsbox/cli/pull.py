"""`nsbox pull` (the same as `nsbox image pull`): the pull with its progress, and the pull
that `run` and `create` make for a missing image."""
from __future__ import annotations


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
    from nsbox.linux import collector
    collector.resume()  # (a pull is no start-up: `run` and `create` pause the collector)

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
    from nsbox.cli.image import run_subcommand
    return run_subcommand("pull", "nsbox pull", argv, root)


def as_image_error(error: OSError):
    """An OSError of an image command (a full disk, a read-only --root) as the ImageError
    the CLI reports: what, not a traceback."""
    from nsbox.errors import ImageError
    return ImageError(f"{error.filename + ': ' if error.filename else ''}{error.strerror or error}")
