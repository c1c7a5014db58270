"""Snapshots and layers of a build: an overlay mount of an image's layers with a fresh upper
directory for one step, and the upper directory turned into an OCI layer (overlayfs
whiteouts, 0/0 character devices and opaque directories, become .wh. entries) stored as
an uncompressed blob, so that its digest is its diff ID."""
from __future__ import annotations

import os
import tempfile

from nsbox.image.layer_tar import write_layer_tar
from nsbox.image.store import ImageStore
from nsbox.oci import image_spec
from nsbox.oci.image_spec import Descriptor

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


def layer_from_directory(store: ImageStore, upper: str) -> Descriptor | None:
    if not any(os.scandir(upper)):
        return None
    digest, size = store.write_new_blob("layer-", lambda out: write_layer_tar(upper, out))
    return Descriptor(image_spec.OCI_LAYER, digest, size)
