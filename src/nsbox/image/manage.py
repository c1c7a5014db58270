"""Naming and removing images: tag, rmi, and prune (unreferenced blobs and layers)."""
from __future__ import annotations

import os
import shutil

from nsbox.errors import ImageError, NotFound, StateError
from nsbox.image.reference import parse_reference
from nsbox.image.rootfs import containers_using, image_users
from nsbox.image.store import UNTAGGED, ImageStore
from nsbox.linux.store_files import locked
from nsbox.oci import image_spec
from nsbox.oci.timestamps import go_rfc3339nano


def tag(root: str, source: str, target: str) -> str:
    """Give the image `source` the name `target`; return the full new name."""
    store = ImageStore(root)
    image = store.resolve(source)
    name = str(parse_reference(target))
    if parse_reference(target).digest:
        raise ImageError(f"cannot tag with a digest ({target!r}): a tag names a repository and a tag")
    with store.editing_references() as references:
        references[name] = image_spec.Descriptor(image.manifest.media_type, image.manifest_digest,
                                                 len(store.read_blob(image.manifest_digest)))
    return name


def remove_image(root: str, text: str, force: bool = False) -> list[str]:
    """`nsbox rmi`: untag a name, or remove an image by ID; return what was untagged/deleted.

    An image that a container's root filesystem uses is refused (with -f only its names go;
    its layers stay until the container is removed). An ID whose image has several names
    is refused without -f, as Docker does.
    """
    store = ImageStore(root)
    image = store.resolve(text)
    by_id = image.id[len("sha256:"):].startswith(text.removeprefix("sha256:")) and len(text) >= 3
    users = containers_using(root, image)
    if users and not force:
        raise StateError(f"image {text!r} ({image.id[7:19]}) is used by container(s) {', '.join(sorted(users))}: "
                         "remove them first, or use -f to remove only the image's names")
    if by_id:
        removing = list(image.names)
        tagged = [name for name in removing if not name.startswith(UNTAGGED)]
        if len(tagged) > 1 and not force:
            raise StateError(f"image {image.id[7:19]} has several names ({', '.join(tagged)}): "
                             "remove them by name, or use -f")
    else:
        name = str(parse_reference(text))
        if name not in image.names:
            raise NotFound(f"{text!r} is not a name of image {image.id[7:19]} (its names: {', '.join(image.names)})")
        removing = [name]
    report = []
    with store.editing_references() as references:
        for name in removing:
            if references.pop(name, None) is not None and not name.startswith(UNTAGGED):
                report.append(f"Untagged: {name}")
        remaining = [name for name, descriptor in references.items() if descriptor.digest == image.manifest_digest]
    if not remaining:
        report.append(f"Deleted: {image.id}")
        prune(root, dangling=False)
    return report


def store_contents(root: str) -> tuple[set[str], set[str]]:
    """(blob file names, layer directory names) in the store now: what `prune(keep=...)` spares."""
    store = ImageStore(root)
    return set(_listdir(store.blobs)), set(_listdir(store.layers))


def prune(root: str, dangling: bool = True, keep: tuple[set[str], set[str]] = (set(), set())) -> tuple[list[str], int]:
    """Remove unnamed images no container uses (if `dangling`), then every blob and layer
    directory that no name and no container root filesystem keeps, except those named in
    `keep` (from store_contents()); return (removed, bytes freed)."""
    keep_blobs, keep_layers = keep
    store = ImageStore(root)
    if not os.path.isdir(store.path):
        return [], 0
    removed: list[str] = []
    freed = 0
    with locked(os.path.join(store.path, "gc.lock")):
        in_use = set(image_users(root).values())
        if dangling:
            with store.editing_references() as references:
                for name in [n for n in references if n.startswith(UNTAGGED)]:
                    image_id = store.image(references[name].digest, []).id
                    if image_id not in in_use:
                        del references[name]
                        removed.append(f"unnamed image {image_id}")
        with locked(os.path.join(store.path, "index.lock")):
            blobs, diff_ids = store.manifest_digests_reachable()
            for config_digest in in_use:
                if store.has_blob(config_digest):
                    blobs.add(config_digest)
                    diff_ids.update(image_spec.parse_config(store.read_blob(config_digest)).diff_ids)
            for name in _listdir(store.blobs):
                if f"sha256:{name}" not in blobs and ".tmp-" not in name and name not in keep_blobs:
                    path = os.path.join(store.blobs, name)
                    freed += os.path.getsize(path)
                    os.unlink(path)
                    removed.append(f"blob sha256:{name}")
            for name in _listdir(store.layers):
                path = os.path.join(store.layers, name)
                if name.endswith(".lock") or f"sha256:{name}" in diff_ids or name in keep_layers:
                    continue  # (no pull runs while we hold gc.lock: any .tmp- unpack is a killed one's)
                shutil.rmtree(path)
                removed.append(f"unfinished layer {name}" if name.startswith(".tmp-") else f"layer sha256:{name}")
    return removed, freed


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except FileNotFoundError:
        return []


def describe(root: str, text: str) -> dict:
    """What `nsbox image inspect` prints for one image (Docker's field names)."""
    image = ImageStore(root).resolve(text)
    config = image.config.raw
    tags = []
    digests = []
    for name in image.names:
        if name.startswith(UNTAGGED):
            continue
        reference = parse_reference(name)
        if reference.tag:
            tags.append(reference.familiar())
        if reference.digest:
            digests.append(reference.familiar())
    image_config = _docker_config(config.get("config") or {})
    layers = image.layer_dirs()
    return {
        "Id": image.id,
        "RepoTags": tags,
        "RepoDigests": digests,
        "Parent": "",
        "Comment": next((h.get("comment", "") for h in reversed(config.get("history") or []) if h.get("comment")), ""),
        "Created": go_rfc3339nano(config.get("created") or "0001-01-01T00:00:00Z"),
        "Container": "",
        "ContainerConfig": _docker_config({}),
        "DockerVersion": "",
        "Author": config.get("author") or "",
        "Config": image_config,
        "Architecture": config.get("architecture"),
        "Variant": config.get("variant"),
        "Os": config.get("os"),
        "Size": image.size,
        "VirtualSize": image.size,
        "GraphDriver": {"Data": {"LowerDir": ":".join(reversed(layers))}, "Name": "overlay"},
        "RootFS": {"Type": "layers", "Layers": image.config.diff_ids},
        "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},
        "ManifestDigest": image.manifest_digest,
        "LayerDirs": layers,
        "UsedBy": containers_using(root, image),
    }


def _docker_config(config: dict) -> dict:
    """An image's config with every key Docker's image inspect shows (empty where unset)."""
    shown = {"Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
             "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": None,
             "Cmd": None, "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None, "OnBuild": None,
             "Labels": None}
    shown.update(config)
    return shown
