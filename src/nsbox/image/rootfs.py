"""Container root filesystems: an overlayfs over the image's unpacked layers.

    prepare_rootfs(root, "busybox", "c1") -> "<root>/image/rootfs/c1/merged"
    mount_again(root, "c1")   # after a reboot
    remove_rootfs(root, "c1")

`root` is the nsbox root (/var/lib/nsbox by default). Each container gets
image/rootfs/<id>/{upper,work,merged} and a file `image` holding the image ID, which is
how `nsbox rmi` knows the image is in use. Nothing is copied: preparing costs a mount.
"""
from __future__ import annotations

import os

from nsbox.errors import AlreadyExists, ImageError, NotFound
from nsbox.image.store import Image, ImageStore

_PAGE_SIZE = 4096


def _container_dir(store: ImageStore, container_id: str) -> str:
    if not container_id or "/" in container_id or container_id in (".", ".."):
        raise ImageError(f"invalid container ID {container_id!r} for a root filesystem")
    return os.path.join(store.rootfs_dir, container_id)


def overlay_options(lower_dirs: list[str], upper: str, work: str) -> str:
    """The overlayfs mount data: lowerdir lists the top layer first."""
    for directory in lower_dirs:
        if ":" in directory or "," in directory:
            raise ImageError(f"layer directory {directory!r} contains ':' or ',' and cannot be an overlayfs lower")
    data = f"lowerdir={':'.join(reversed(lower_dirs))},upperdir={upper},workdir={work}"
    if len(data) >= _PAGE_SIZE:
        raise ImageError(f"the image has {len(lower_dirs)} layers, too many for one overlayfs mount "
                         f"from {os.path.dirname(lower_dirs[0])} (options exceed {_PAGE_SIZE} bytes)")
    return data


def prepare_rootfs(root: str, image: str | Image, container_id: str, id_maps: tuple[str, str] | None = None,
                   volatile: bool = False) -> str:
    """Mount a fresh writable root filesystem for `container_id` from `image`; return its path.

    `image` is a reference, an image ID, or the Image the caller has resolved already (then
    only checked to be still in the store, under the lock that keeps `image prune` out). A missing layer directory (an image loaded by
    an older nsbox) is unpacked first. With `id_maps` (uid_map and gid_map lines of a user
    namespace) the layers are seen through id-mapped mounts, so that the container's root
    owns the image's files while the layers stay shared and unchanged on disk.
    `volatile`: the changes need not survive a crash of the machine (a --rm container's):
    overlayfs then skips syncing the upper directory's filesystem, which its unmount would
    otherwise do (1-8 ms here, tens of ms when that disk is busy).
    """
    store = ImageStore(root)
    directory = _container_dir(store, container_id)
    with store.pulling():  # `image prune` waits until the record below says the layers are in use
        found = store.resolve(image) if isinstance(image, str) else image
        if not store.has_blob(found.manifest_digest):  # removed since the caller resolved it
            from nsbox.errors import ImageNotFound
            raise ImageNotFound(f"image {found.id} was removed: pull or load it again")
        lower_dirs = _layer_dirs(store, found)
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            raise AlreadyExists(f"container {container_id!r} already has a root filesystem at {directory}") from None
        try:
            with open(os.path.join(directory, "image"), "w") as record:
                record.write(found.id)
            for name in ("upper", "work", "merged"):
                os.mkdir(os.path.join(directory, name), 0o755)
            if not lower_dirs:
                os.mkdir(os.path.join(directory, "empty"), 0o755)
            if id_maps is not None:
                for path in (directory, store.rootfs_dir, store.path, root):  # the container's root must
                    os.chmod(path, os.stat(path).st_mode | 0o111)           # reach merged/ (search only)
            return _mount(directory, lower_dirs, id_maps, volatile)
        except BaseException:
            from nsbox.linux.store_files import remove_tree
            try:
                remove_tree(directory)
            except OSError:
                pass
            raise


def mount_again(root: str, container_id: str, id_maps: tuple[str, str] | None = None) -> str:
    """Mount the container's root filesystem again where it is not mounted (a reboot empties
    the mount table; its files, the overlay's upper directory, are still on disk); its path.
    `id_maps` as prepare_rootfs was given them."""
    store = ImageStore(root)
    directory = _container_dir(store, container_id)
    try:
        with open(os.path.join(directory, "image")) as record:
            image_id = record.read().strip()
    except FileNotFoundError:
        raise NotFound(f"container {container_id!r} has no root filesystem in {store.rootfs_dir}") from None
    with store.pulling():  # (`rmi` keeps an image whose containers are listed there: it is still in the store)
        lower_dirs = _layer_dirs(store, store.resolve(image_id))
    return _mount(directory, lower_dirs, id_maps, volatile=False)


def _layer_dirs(store: ImageStore, found: Image) -> list[str]:
    """The image's unpacked layer directories, bottom first (a missing one unpacked again)."""
    return [store.ensure_layer(diff_id, layer.digest)
            for diff_id, layer in zip(found.config.diff_ids, found.manifest.layers)]


def _mount(directory: str, lower_dirs: list[str], id_maps: tuple[str, str] | None, volatile: bool) -> str:
    """The overlay of the container's upper directory over the layers, at DIRECTORY/merged."""
    upper, work, merged = (os.path.join(directory, name) for name in ("upper", "work", "merged"))
    lower_dirs = lower_dirs or [os.path.join(directory, "empty")]
    if id_maps is not None:
        from nsbox.image.idmapped_layers import mount_mapped
        mount_mapped(directory, lower_dirs, upper, work, merged, id_maps)
    else:
        _mount_overlay(overlay_options(lower_dirs, upper, work), merged, volatile)
    return merged


def _mount_overlay(options: str, merged: str, volatile: bool) -> None:
    from nsbox.linux.libc import mount
    if volatile:
        try:
            mount("overlay", merged, "overlay", 0, options + ",volatile")
            return
        except OSError as error:
            import errno
            if error.errno != errno.EINVAL:  # EINVAL: a kernel before 5.10, without the option
                raise
    mount("overlay", merged, "overlay", 0, options)


def remove_rootfs(root: str, container_id: str) -> None:
    """Unmount and delete the container's root filesystem (only its own upper/work/merged)."""
    store = ImageStore(root)
    directory = _container_dir(store, container_id)
    if not os.path.isdir(directory):
        raise NotFound(f"container {container_id!r} has no root filesystem in {store.rootfs_dir}")
    merged = os.path.join(directory, "merged")
    if os.path.ismount(merged):
        from nsbox.linux.libc import umount2
        try:
            umount2(merged)
        except OSError:
            umount2(merged, 2)  # MNT_DETACH: a process still holds it; the kernel frees it when it exits
    from nsbox.linux.store_files import remove_tree
    remove_tree(directory)


def rootfs_path(root: str, container_id: str) -> str:
    """Where prepare_rootfs mounts (or mounted) the container's root filesystem."""
    return os.path.join(_container_dir(ImageStore(root), container_id), "merged")


def upper_path(root: str, container_id: str) -> str:
    """The overlay upper directory of the container's root filesystem: its changes to the image."""
    return os.path.join(_container_dir(ImageStore(root), container_id), "upper")


def image_users(root: str) -> dict[str, str]:
    """container ID -> image ID, for every container root filesystem in the store."""
    store = ImageStore(root)
    users: dict[str, str] = {}
    try:
        names = os.listdir(store.rootfs_dir)
    except FileNotFoundError:
        return users
    for name in names:
        try:
            with open(os.path.join(store.rootfs_dir, name, "image")) as record:
                users[name] = record.read().strip()
        except FileNotFoundError:
            continue
    return users


def containers_using(root: str, image: Image) -> list[str]:
    """The containers whose root filesystem is made from `image`."""
    return sorted(name for name, image_id in image_users(root).items() if image_id == image.id)


def image_config(root: str, image: str):
    """The image's config (Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts, ...) as an ImageConfig."""
    return ImageStore(root).resolve(image).config
