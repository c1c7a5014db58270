"""A remapped container's overlay root: the image's layers through id-mapped mounts.

Each layer directory gets a detached id-mapped copy, attached only while the overlay is
mounted on top of it (overlayfs keeps its own reference), then detached again: nothing
is left mounted on the host but the overlay, and nothing on disk changes owner except the
container's own, new upper directory.
"""
from __future__ import annotations

import os

from nsbox.linux import idmap
from nsbox.linux.libc import mount, umount2
from nsbox.linux.mounts import MNT_DETACH


def _host_id(lines: str) -> int:
    for line in lines.splitlines():
        container, host, size = (int(field) for field in line.split())
        if container <= 0 < container + size:
            return host - container
    return 65534


def mount_mapped(directory: str, lower_dirs: list[str], upper: str, work: str, merged: str,
                 id_maps: tuple[str, str]) -> None:
    from nsbox.image.rootfs import overlay_options
    userns = idmap.user_namespace(*id_maps)
    attached: list[str] = []
    try:
        mapped = []
        for index, layer in enumerate(lower_dirs):
            point = os.path.join(directory, f"layer{index}")
            os.mkdir(point, 0o700)
            try:
                tree = idmap.idmapped_tree(layer, userns, False)
            except OSError as error:
                from nsbox.errors import ImageError
                raise ImageError(f"cannot give the remapped container the image's layers: {error.strerror} for an "
                                 f"id-mapped mount of {layer} (its filesystem must support id-mapped mounts, as ext4, "
                                 "xfs, btrfs and tmpfs do; overlayfs does not): put nsbox's --root on one, or run "
                                 "without --userns remap") from None
            try:
                idmap.attach(tree, point)
            finally:
                os.close(tree)
            attached.append(point)
            mapped.append(point)
        os.chown(upper, _host_id(id_maps[0]), _host_id(id_maps[1]))  # new and empty: the container's root owns /
        mount("overlay", merged, "overlay", 0, overlay_options(mapped, upper, work))
    finally:
        os.close(userns)
        for point in attached:
            umount2(point, MNT_DETACH)
            os.rmdir(point)
