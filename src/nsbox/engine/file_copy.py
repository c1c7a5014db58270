"""Files of a container from the host: `cp` in and out, and `export` of its filesystem.

`cp` reaches a running container through /proc/PID/root (so its volumes and tmpfs mounts
are seen as it sees them), a stopped one through its root filesystem; `export` always
reads the root filesystem. Paths are resolved
inside that root, so a symlink in the container cannot lead the copy out to the host.
"""
from __future__ import annotations

import os
import shutil

from nsbox.errors import NotFound


def container_root(engine, reference: str, through_process: bool = True) -> str:
    record = engine.get(reference)
    pid = record["State"].get("Pid")
    if through_process and record["State"]["Status"] in ("running", "paused") and pid:
        return f"/proc/{pid}/root"
    if not record.get("Rootfs") or not os.path.isdir(record["Rootfs"]):
        raise NotFound(f"container {record['Name']} has no root filesystem to read")
    return engine.mount_rootfs(record)


def inside(root: str, path: str) -> str:
    from nsbox.linux.mounts import resolve_in_root
    return resolve_in_root(root, path if path.startswith("/") else "/" + path)


def copy_from(engine, reference: str, source: str, destination: str) -> None:
    found = _source_in(engine, reference, source)
    parent = os.path.dirname(os.path.abspath(destination))
    if not os.path.isdir(parent):
        raise NotFound(f"invalid output path: directory \"{parent}\" does not exist")
    _copy(found, destination)


def _source_in(engine, reference: str, source: str) -> str:
    found = inside(container_root(engine, reference), source)
    if not os.path.lexists(found):
        raise NotFound(f"Could not find the file {source} in container {reference}")
    return found


def copy_from_as_tar(engine, reference: str, source: str, out) -> None:
    """`cp CONTAINER:PATH -`: the path as a tar stream (named by its last part) to the binary file `out`."""
    import tarfile
    found = _source_in(engine, reference, source)
    with tarfile.open(fileobj=out, mode="w|") as archive:
        archive.add(found, arcname=os.path.basename(found.rstrip("/")) or ".", recursive=True)


def copy_to_from_tar(engine, reference: str, stream, destination: str) -> None:
    """`cp - CONTAINER:DIR`: unpack the tar stream read from `stream` into the directory DIR,
    with the image unpacker's guards (no entry can land outside DIR)."""
    from nsbox.image.unpack import unpack_layer
    target = inside(container_root(engine, reference), destination)
    if not os.path.isdir(target):
        raise NotFound(f"destination {destination} must be a directory in container {reference} "
                       "to extract a tar stream into")
    # "/." : the root of a running container is /proc/PID/root, a link the unpacker would not follow
    unpack_layer(stream, os.path.join(target, "."), "the tar stream on stdin")


def copy_to(engine, reference: str, source: str, destination: str) -> None:
    if not os.path.lexists(source):
        raise NotFound(f"no such file or directory on the host: {source}")
    root = container_root(engine, reference)
    _copy(source, inside(root, destination))


def _copy(source: str, destination: str) -> None:
    """Docker's rules: into an existing directory keeps the source's name; else the destination is the name."""
    if os.path.isdir(destination):
        destination = os.path.join(destination, os.path.basename(source.rstrip("/")))
    if os.path.isdir(source) and not os.path.islink(source):
        shutil.copytree(source, destination, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copy2(source, destination, follow_symlinks=False)


def export(engine, reference: str, out) -> None:
    """Write the container's root filesystem (without its volumes and mounts) as a tar
    stream to the binary file `out`."""
    import tarfile
    root = container_root(engine, reference, through_process=False)
    with tarfile.open(fileobj=out, mode="w|") as archive:
        for name in sorted(os.listdir(root)):
            archive.add(os.path.join(root, name), arcname=name, recursive=True)


def changes(engine, reference: str) -> list[tuple[str, str]]:
    """What the container added ("A"), changed ("C") and deleted ("D") in its root filesystem:
    (kind, path) pairs, from its overlay's upper directory against the image's layers."""
    from nsbox.errors import StateError
    from nsbox.image.commit import changes as layer_changes
    from nsbox.image.rootfs import upper_path
    from nsbox.image.store import ImageStore
    record = engine.get(reference)
    if not record.get("Image"):
        raise StateError(f"container {record['Name']} runs a --rootfs directory: it has no layer of changes")
    upper = upper_path(engine.root, record["Id"])
    return list(layer_changes(upper, ImageStore(engine.root).resolve(record["Image"]).layer_dirs()))
