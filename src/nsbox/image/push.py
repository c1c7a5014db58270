"""Pushing an image from the store to a registry: missing blobs first, the manifest last."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from nsbox.image.pull import PARALLEL_DOWNLOADS, client_for
from nsbox.image.reference import parse_reference
from nsbox.image.store import ImageStore


def push(root: str, text: str, insecure_registries: tuple[str, ...] = (), progress=None) -> str:
    """Push the local image named `text` to the registry its name points at; return the manifest digest.

    The manifest is sent byte for byte as stored, so its digest is the same there as here.
    """
    store = ImageStore(root)
    image = store.resolve(text)
    reference = parse_reference(text)
    client = client_for(root, reference, insecure_registries)
    descriptors = [image.manifest.config, *image.manifest.layers]
    # a repository of the same registry that this image came from may lend its blobs
    siblings = [parse_reference(name) for name in image.names if "/" in name and not name.startswith("<")]
    mount_from = next((other.path for other in siblings
                       if other.domain == reference.domain and other.path != reference.path), None)

    def send(descriptor) -> None:
        if progress:
            progress.layer(descriptor.digest, descriptor.size, "checking")
        if client.has_blob(reference.path, descriptor.digest):
            if progress:
                progress.status(descriptor.digest, "exists")
            return
        path = store.blob_path(descriptor.digest)
        if progress:
            progress.status(descriptor.digest, "pushing")
        client.upload_blob(reference.path, descriptor.digest, path, os.path.getsize(path), mount_from)
        if progress:
            progress.status(descriptor.digest, "pushed")

    with ThreadPoolExecutor(max_workers=PARALLEL_DOWNLOADS) as pool:
        list(pool.map(send, descriptors))
    body = store.read_blob(image.manifest_digest)
    client.put_manifest(reference.path, reference.tag or image.manifest_digest, body, image.manifest.media_type)
    return image.manifest_digest
