"""A small `busybox:latest` image built from Debian's busybox-static, for machines with no
registry in reach (the set-up script and the tests use it).

    python -m nsbox.image.busybox_image [--root DIR] [NAME]    (NAME defaults to busybox:latest)
"""
from __future__ import annotations

import os
import sys
import tarfile
import tempfile

from nsbox.busybox import make_rootfs
from nsbox.errors import NotFound
from nsbox.image.store import Image, ImageStore

DEFAULT_NAME = "busybox:latest"


def _owned_by_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def build_busybox_image(root: str, name: str = DEFAULT_NAME, replace: bool = False,
                        changes: tuple[str, ...] = ('CMD ["sh"]',)) -> Image:
    """Import a one-layer busybox image named `name` (kept as it is if it exists, unless `replace`);
    `changes` are Dockerfile instructions for its config, as `nsbox import --change` takes."""
    from nsbox.image.archive import import_rootfs
    if not replace:
        try:
            return ImageStore(root).resolve(name)
        except NotFound:
            pass
    with tempfile.TemporaryDirectory(prefix="nsbox-busybox-") as work:
        rootfs = make_rootfs(os.path.join(work, "rootfs"))
        tarball = os.path.join(work, "rootfs.tar")
        with tarfile.open(tarball, "w") as tar:
            for entry in sorted(os.listdir(rootfs)):
                tar.add(os.path.join(rootfs, entry), arcname=entry, filter=_owned_by_root)
        return import_rootfs(root, tarball, name, list(changes))


def main(argv: list[str]) -> int:
    root = os.environ.get("NSBOX_ROOT", "/var/lib/nsbox")
    if argv[:1] == ["--root"] and len(argv) >= 2:
        root, argv = argv[1], argv[2:]
    image = build_busybox_image(root, argv[0] if argv else DEFAULT_NAME)
    print(f"{' '.join(image.names)} {image.id}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
