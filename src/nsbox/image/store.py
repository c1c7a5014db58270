"""The content-addressed image store: an OCI image layout under <nsbox root>/image.

    image/oci-layout, image/index.json   the layout; index.json holds the references
                                         (annotation org.opencontainers.image.ref.name =
                                         the full reference, e.g. docker.io/library/busybox:latest)
    image/blobs/sha256/<hex>             manifests, configs and layer blobs, verified on write
    image/ingest/<hex>.partial|.lock     downloads in progress (resumed after an interruption; ingest.py)
    image/layers/<diff-id hex>/          each layer unpacked once, an overlayfs lower directory
    image/rootfs/<container id>/         a container's upper/work/merged (see rootfs.py)

Blobs and index.json are written under a temporary name, fsynced and renamed; a layer is
unpacked into a temporary directory and renamed into place once verified. index.json
changes hold image/index.lock; a blob or layer is made under its own fcntl lock so that
concurrent pulls do the work once; pulls hold image/gc.lock shared, `image prune` exclusive.
"""
from __future__ import annotations

import os

from nsbox.errors import ImageError, ImageNotFound, NotFound
from nsbox.linux.store_files import locked, write_atomic
from nsbox.oci import image_spec, jsonio
from nsbox.oci.image_spec import Descriptor, ImageConfig, Manifest

TYPE_CHECKING = False  # typing costs ~12 ms to import: only the type checker reads this
if TYPE_CHECKING:
    from collections.abc import Callable

    from nsbox.image.ingest import BlobWriter, HashingFile

# The engine's `run` resolves images and prepares root filesystems through this module, so
# it imports only what that needs: hashlib, shutil and the json package load on demand.

STORE_DIR = "image"
UNTAGGED = "<none>@"  # reference prefix of images that have no name (e.g. `nsbox import` without one)


def digest_hex(digest: str) -> str:
    image_spec.check_digest(digest, "digest")
    return digest[len("sha256:"):]


class Image:
    """An image in the store: its manifest, its config, and the references naming it."""

    __slots__ = ("manifest_digest", "manifest", "config", "names", "store")

    def __init__(self, store: ImageStore, manifest_digest: str, manifest: Manifest, config: ImageConfig,
                 names: list[str]) -> None:
        self.store = store
        self.manifest_digest = manifest_digest
        self.manifest = manifest
        self.config = config
        self.names = names

    @property
    def id(self) -> str:
        """Docker's image ID: the digest of the config."""
        return self.manifest.config.digest

    @property
    def size(self) -> int:
        return self.manifest.config.size + sum(layer.size for layer in self.manifest.layers)

    def layer_dirs(self) -> list[str]:
        """The unpacked layer directories, bottom first."""
        return [self.store.layer_dir(diff_id) for diff_id in self.config.diff_ids]


class ImageStore:
    def __init__(self, root: str) -> None:
        self.root = root
        self.path = os.path.join(root, STORE_DIR)
        self.blobs = os.path.join(self.path, "blobs", "sha256")
        self.layers = os.path.join(self.path, "layers")
        self.ingest_dir = os.path.join(self.path, "ingest")
        self.rootfs_dir = os.path.join(self.path, "rootfs")

    def create(self) -> None:
        for directory in (self.blobs, self.layers, self.ingest_dir, self.rootfs_dir):
            os.makedirs(directory, mode=0o700, exist_ok=True)
        layout = os.path.join(self.path, "oci-layout")
        if not os.path.exists(layout):
            write_atomic(layout, jsonio.dumps({"imageLayoutVersion": image_spec.OCI_LAYOUT_VERSION}).encode())

    # blobs

    def blob_path(self, digest: str) -> str:
        return os.path.join(self.blobs, digest_hex(digest))

    def has_blob(self, digest: str) -> bool:
        return os.path.exists(self.blob_path(digest))

    def read_blob(self, digest: str) -> bytes:
        try:
            with open(self.blob_path(digest), "rb") as blob:
                return blob.read()
        except FileNotFoundError:
            raise NotFound(f"blob {digest} is not in the image store at {self.path}") from None

    def write_blob(self, data: bytes, expected: str | None = None) -> str:
        import hashlib
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if expected is not None and digest != expected:
            raise ImageError(f"content does not match its digest: expected {expected}, got {digest}; not stored")
        path = self.blob_path(digest)
        if not os.path.exists(path):
            self.create()
            write_atomic(path, data)
        return digest

    def ingest(self, digest: str, size: int | None = None, verified=None) -> BlobWriter:
        """`with store.ingest(digest, size) as ingest:` write the blob into `ingest` (None if stored already).

        Holds the blob's lock, so a concurrent writer of the same blob waits and then finds
        it stored. A .partial file left by an interrupted write is resumed; on success the
        content is verified (digest and size) before it is fsynced and renamed into blobs/.
        `verified()`, if given, is called as soon as the content is known good, so that a
        reader of the .partial file need not wait for the fsync.
        """
        from nsbox.image.ingest import BlobWriter
        return BlobWriter(self, digest, size, verified)

    def adopt(self, path: str, digest: str) -> None:
        """Move the file at `path` (on the store's filesystem, content already hashed to `digest`) into blobs/."""
        target = self.blob_path(digest)
        if os.path.exists(target):
            os.unlink(path)
            return
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(path, target)

    def write_new_blob(self, prefix: str, write: Callable[[HashingFile], object]) -> tuple[str, int]:
        """A blob whose digest is learned as `write(file)` writes it (a layer tar being made):
        written in the ingest directory, then fsynced and moved into blobs/; nothing is left
        when `write` fails. Its digest and size."""
        import tempfile

        from nsbox.image.ingest import HashingFile
        self.create()
        handle, temporary = tempfile.mkstemp(prefix=prefix, dir=self.ingest_dir)
        try:
            with os.fdopen(handle, "wb") as out:
                hashing = HashingFile(out)
                write(hashing)
            self.adopt(temporary, hashing.digest())
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        return hashing.digest(), hashing.size

    # layers

    def layer_dir(self, diff_id: str) -> str:
        return os.path.join(self.layers, digest_hex(diff_id))

    def ensure_layer(self, diff_id: str, blob_digest: str, source=None) -> str:
        """Unpack the layer blob once into layers/<diff id>; return that directory.

        `source` may give the blob's bytes as a raw reader (a pull streams the download
        through it); the blob itself is read otherwise.
        """
        directory = self.layer_dir(diff_id)
        if os.path.isdir(directory):
            return directory
        import shutil

        from nsbox.image.unpack import unpack_layer
        self.create()
        with locked(directory + ".lock", remove=True):
            if os.path.isdir(directory):
                return directory
            stale = f".tmp-{digest_hex(diff_id)}-"
            for name in os.listdir(self.layers):
                if name.startswith(stale):  # left by an unpack that was killed; we hold its lock now
                    shutil.rmtree(os.path.join(self.layers, name), ignore_errors=True)
            temporary = f"{self.layers}/{stale}{os.getpid()}"
            os.mkdir(temporary, 0o755)
            try:
                unpack_layer(source or self.blob_path(blob_digest), temporary, f"layer {blob_digest}", diff_id)
                os.rename(temporary, directory)
            except BaseException:
                shutil.rmtree(temporary, ignore_errors=True)
                raise
        return directory

    # references

    def _read_index(self) -> list[dict]:
        try:
            with open(os.path.join(self.path, "index.json"), "rb") as index:
                document = jsonio.loads(index.read())
        except FileNotFoundError:
            return []
        except ValueError as error:
            raise ImageError(f"{self.path}/index.json is damaged ({error})") from None
        return document.get("manifests", [])

    def references(self) -> dict[str, Descriptor]:
        """reference string -> manifest descriptor, for every name in the store."""
        found = {}
        for entry in self._read_index():
            name = entry.get("annotations", {}).get(image_spec.REF_NAME_ANNOTATION)
            if name:
                found[name] = Descriptor(entry["mediaType"], entry["digest"], entry["size"],
                                         annotations=entry.get("annotations"))
        return found

    def editing_references(self) -> ReferencesEditor:
        """`with store.editing_references() as references:` a mutable {reference: Descriptor}
        map, written back atomically (under image/index.lock) when the block ends without error."""
        return ReferencesEditor(self)

    def set_reference(self, name: str, manifest_digest: str, size: int, media_type: str) -> None:
        with self.editing_references() as references:
            references[name] = Descriptor(media_type, manifest_digest, size)

    def pulling(self) -> locked:
        """Held while blobs are added that no reference names yet (keeps `image prune` out)."""
        self.create()
        return locked(os.path.join(self.path, "gc.lock"), exclusive=False)

    # images

    def image(self, manifest_digest: str, names: list[str] | None = None) -> Image:
        manifest = image_spec.parse_manifest(self.read_blob(manifest_digest), f"manifest {manifest_digest}")
        config = image_spec.parse_config(self.read_blob(manifest.config.digest), f"config {manifest.config.digest}")
        if len(config.diff_ids) != len(manifest.layers):
            raise ImageError(f"image {manifest.config.digest}: the config lists {len(config.diff_ids)} layers, "
                             f"the manifest {len(manifest.layers)}")
        if names is None:
            names = [name for name, descriptor in self.references().items() if descriptor.digest == manifest_digest]
        return Image(self, manifest_digest, manifest, config, names)

    def images(self) -> list[Image]:
        """Every image a reference names, once each (names gathered)."""
        by_manifest: dict[str, list[str]] = {}
        for name, descriptor in sorted(self.references().items()):
            by_manifest.setdefault(descriptor.digest, []).append(name)
        return [self.image(digest, names) for digest, names in by_manifest.items()]

    def resolve(self, text: str) -> Image:
        """The image named by a reference (busybox, host:5000/app:1, app@sha256:...) or an image ID (prefix).

        A name in the store wins over an ID prefix that happens to spell the same.
        """
        from nsbox.image.reference import parse_reference
        references = self.references()
        try:
            reference = parse_reference(text)
        except ImageError:
            reference = None
        if reference is not None:
            descriptor = references.get(str(reference))
            if descriptor is None and reference.digest is not None:
                # pulled by tag: the same manifest is known by its digest too
                for name, known in sorted(references.items()):
                    same_repository = name.startswith((reference.repository + ":", reference.repository + "@"))
                    if same_repository and known.digest == reference.digest:
                        descriptor = known
                        break
            if descriptor is not None:  # (its names from the index read above, not read again)
                return self.image(descriptor.digest, [name for name, known in references.items()
                                                      if known.digest == descriptor.digest])
        candidate = text.removeprefix("sha256:")
        if 3 <= len(candidate) <= 64 and all(c in "0123456789abcdef" for c in candidate):
            matches = {}
            for descriptor in references.values():
                image = self.image(descriptor.digest, [])
                if digest_hex(image.id).startswith(candidate):
                    matches[image.id] = descriptor.digest
            if len(matches) > 1:
                raise ImageError(f"image ID prefix {text!r} is ambiguous: it matches {', '.join(sorted(matches))}")
            if matches:
                return self.image(next(iter(matches.values())))
        if reference is None:
            parse_reference(text)  # raises the reason the text is neither a name nor an ID
        raise ImageNotFound(f"image {text!r} is not in the store (pull, load or import it first)")

    def manifest_digests_reachable(self) -> tuple[set[str], set[str]]:
        """(blob digests, diff IDs) that the references and container root filesystems keep alive."""
        blobs: set[str] = set()
        diff_ids: set[str] = set()
        for descriptor in self.references().values():
            blobs.add(descriptor.digest)
            image = self.image(descriptor.digest, [])
            blobs.add(image.id)
            blobs.update(layer.digest for layer in image.manifest.layers)
            diff_ids.update(image.config.diff_ids)
        return blobs, diff_ids


class ReferencesEditor:
    """The context manager of ImageStore.editing_references (see there)."""

    def __init__(self, store: ImageStore) -> None:
        self.store = store
        self.lock = locked(os.path.join(store.path, "index.lock"))
        self.references: dict[str, Descriptor] = {}

    def __enter__(self) -> dict[str, Descriptor]:
        self.store.create()
        self.lock.__enter__()
        try:
            self.references = self.store.references()
        except BaseException:
            self.lock.__exit__()
            raise
        return self.references

    def __exit__(self, kind, error, trace) -> None:
        try:
            if kind is None:
                manifests = [{"mediaType": descriptor.media_type, "digest": descriptor.digest, "size": descriptor.size,
                              "annotations": {image_spec.REF_NAME_ANNOTATION: name}}
                             for name, descriptor in sorted(self.references.items())]
                document = {"schemaVersion": 2, "mediaType": image_spec.OCI_INDEX, "manifests": manifests}
                write_atomic(os.path.join(self.store.path, "index.json"), jsonio.dumps(document).encode())
        finally:
            self.lock.__exit__()
