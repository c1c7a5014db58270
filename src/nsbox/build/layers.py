"""Snapshots and layers of a build: an overlay mount of an image's layers with a fresh upper
directory for one step, and the upper directory turned into an OCI layer (overlayfs
whiteouts, 0/0 character devices and opaque directories, become .wh. entries) stored as
an uncompressed blob, so that its digest is its diff ID."""
from __future__ import annotations

import hashlib
import os
import stat
import tarfile
import tempfile

from nsbox.image.store import ImageStore
from nsbox.oci import image_spec
from nsbox.oci.image_spec import Descriptor

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


class Snapshot:
    """`with Snapshot(store, layers, workdir) as merged:` the layers mounted read-write at
    `merged`, changes going to `self.upper`; unmounted and removed on exit (keep the upper
    by calling commit() inside the block)."""

    __slots__ = ("store", "layers", "directory", "upper", "merged")

    def __init__(self, store: ImageStore, layers: list[Descriptor], diff_ids: list[str], workdir: str) -> None:
        self.store = store
        self.layers = list(zip(diff_ids, layers))
        self.directory = tempfile.mkdtemp(prefix="step-", dir=workdir)
        self.upper = os.path.join(self.directory, "upper")
        self.merged = os.path.join(self.directory, "merged")

    def __enter__(self) -> Snapshot:
        from nsbox.image.rootfs import overlay_options
        from nsbox.linux.libc import mount
        lower = [self.store.ensure_layer(diff_id, layer.digest) for diff_id, layer in self.layers]
        if not lower:
            lower = [os.path.join(self.directory, "empty")]
            os.mkdir(lower[0])
        work = os.path.join(self.directory, "work")
        for path in (self.upper, work, self.merged):
            os.mkdir(path, 0o755)
        mount("overlay", self.merged, "overlay", 0, overlay_options(lower, self.upper, work))
        return self

    def __exit__(self, *exc: object) -> None:
        from nsbox.linux.store_files import remove_tree
        from nsbox.linux.libc import umount2
        try:
            umount2(self.merged, 2)  # MNT_DETACH
        finally:
            remove_tree(self.directory)

    def commit(self) -> Descriptor | None:
        """The changes of this step as a layer in the store, or None when nothing changed."""
        return layer_from_directory(self.store, self.upper)


class _Hashing:
    """A write-only file that hashes what passes through it."""

    def __init__(self, file) -> None:
        self.file = file
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.file.write(data)


def layer_from_directory(store: ImageStore, upper: str) -> Descriptor | None:
    if not any(os.scandir(upper)):
        return None
    store.create()
    handle, temporary = tempfile.mkstemp(prefix="layer-", dir=store.ingest_dir)
    try:
        with os.fdopen(handle, "wb") as out:
            hashing = _Hashing(out)
            with tarfile.open(fileobj=hashing, mode="w|", format=tarfile.PAX_FORMAT) as archive:  # type: ignore[call-overload]
                _add_tree(archive, upper)
        digest = "sha256:" + hashing.sha.hexdigest()
        store.adopt(temporary, digest)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return Descriptor(image_spec.OCI_LAYER, digest, hashing.size)


def _add_tree(archive: tarfile.TarFile, top: str) -> None:
    for directory, dirnames, filenames in os.walk(top):
        dirnames.sort()
        relative_dir = os.path.relpath(directory, top)
        for name in sorted(dirnames + filenames):
            path = os.path.join(directory, name)
            arcname = name if relative_dir == "." else f"{relative_dir}/{name}"
            info = os.lstat(path)
            if stat.S_ISCHR(info.st_mode) and info.st_rdev == 0:  # an overlayfs whiteout
                _add_empty(archive, os.path.join(os.path.dirname(arcname), WHITEOUT + name), info)
                continue
            entry = archive.gettarinfo(path, arcname)
            entry.uname = entry.gname = ""
            if entry.isreg():
                with open(path, "rb") as content:
                    archive.addfile(entry, content)
            else:
                archive.addfile(entry)
            if stat.S_ISDIR(info.st_mode) and _opaque(path):
                _add_empty(archive, f"{arcname}/{OPAQUE}", info)


def _add_empty(archive: tarfile.TarFile, name: str, info: os.stat_result) -> None:
    entry = tarfile.TarInfo(name.lstrip("/"))
    entry.mtime = int(info.st_mtime)
    archive.addfile(entry)


def _opaque(path: str) -> bool:
    for attribute in ("trusted.overlay.opaque", "user.overlay.opaque"):
        try:
            if os.getxattr(path, attribute, follow_symlinks=False) == b"y":
                return True
        except OSError:
            continue
    return False
