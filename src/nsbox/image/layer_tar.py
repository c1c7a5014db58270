"""An overlay upper directory as an OCI layer tar (`nsbox commit`, a build step): overlayfs
whiteouts (0/0 character devices) become `.wh.NAME` entries and opaque directories get a
`.wh..wh..opq` entry, the inverse of what nsbox.image.unpack does with them."""
from __future__ import annotations

import os
import stat
import tarfile

from nsbox.image.unpack import OPAQUE_MARKER, OPAQUE_XATTR, WHITEOUT_PREFIX

OPAQUE_XATTRS = (OPAQUE_XATTR, "user.overlay.opaque")  # (user.: overlays mounted with userxattr)


def is_whiteout(info: os.stat_result) -> bool:
    return stat.S_ISCHR(info.st_mode) and info.st_rdev == 0


def is_opaque(path: str) -> bool:
    for attribute in OPAQUE_XATTRS:
        try:
            if os.getxattr(path, attribute, follow_symlinks=False) == b"y":
                return True
        except OSError:
            continue
    return False


def write_layer_tar(upper: str, out, skipped: frozenset[str] = frozenset()) -> None:
    """The tree at `upper` as an uncompressed layer tar streamed to `out` (names sorted, owner
    names left out, so that the same tree makes the same digest); `skipped`: paths inside
    ("/etc/hosts") that are not part of the layer."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as archive:
        for directory, dirnames, filenames in os.walk(upper):
            dirnames.sort()
            relative = os.path.relpath(directory, upper)
            for name in sorted(dirnames + filenames):
                path = os.path.join(directory, name)
                arcname = name if relative == "." else f"{relative}/{name}"
                if "/" + arcname in skipped:
                    continue
                info = os.lstat(path)
                if is_whiteout(info):
                    _add_marker(archive, os.path.join(os.path.dirname(arcname), WHITEOUT_PREFIX + name), info)
                    continue
                entry = archive.gettarinfo(path, arcname)
                entry.uname = entry.gname = ""
                if entry.isreg():
                    with open(path, "rb") as content:
                        archive.addfile(entry, content)
                else:
                    archive.addfile(entry)
                if stat.S_ISDIR(info.st_mode) and is_opaque(path):
                    _add_marker(archive, f"{arcname}/{OPAQUE_MARKER}", info)


def _add_marker(archive: tarfile.TarFile, name: str, info: os.stat_result) -> None:
    entry = tarfile.TarInfo(name.lstrip("/"))
    entry.mtime = int(info.st_mtime)
    archive.addfile(entry)
