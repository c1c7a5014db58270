"""A container's changes as a new image (`nsbox commit`), and the list of them (`nsbox diff`).

The changes are the container's overlay upper directory: a whiteout there (a character
device 0/0) is a deletion, a directory with trusted.overlay.opaque=y hides what is below it.
In a layer tar (nsbox.image.layer_tar) they become the OCI's `.wh.NAME` and `.wh..wh..opq` entries.
"""
from __future__ import annotations

import os
import stat

from nsbox.image.layer_tar import is_whiteout, write_layer_tar
from nsbox.image.store import ImageStore

# What the engine makes in every container for its own mounts (Docker's "init layer"): not the
# container's changes, so neither `diff` nor `commit` shows them
INIT_PATHS = frozenset({"/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/etc/mtab", "/.dockerenv"})


def changes(upper: str, lower_dirs: list[str]) -> list[tuple[str, str]]:
    """Docker's `diff`: (kind, path) with kind A (added), C (changed) or D (deleted), by path.
    A directory that was in the image is listed (C) when something below it changed."""
    found: dict[str, str] = {}
    kept_dirs = []
    for directory, names, files in os.walk(upper):
        relative = os.path.relpath(directory, upper)
        for name in names + files:
            path = os.path.join(directory, name)
            inside = "/" + os.path.normpath(os.path.join(relative, name)).lstrip("./")
            if inside in INIT_PATHS:
                continue
            info = os.lstat(path)
            in_image = any(os.path.lexists(os.path.join(lower, inside.lstrip("/"))) for lower in lower_dirs)
            if is_whiteout(info):
                found[inside] = "D"
            elif stat.S_ISDIR(info.st_mode) and in_image:
                kept_dirs.append(inside)
            else:
                found[inside] = "C" if in_image else "A"
    for directory in kept_dirs:
        if any(path.startswith(directory + "/") for path in found):
            found[directory] = "C"
    return sorted(((kind, path) for path, kind in found.items()), key=lambda change: change[1])


def commit(root: str, base_id: str, upper: str, container_config: dict, names: list[str], changes_text: list[str],
           message: str, author: str, created_by: str):
    """A new image: the base image's layers and one more holding `upper`, with the container's config."""
    from nsbox.image.archive import apply_changes, store_image
    from nsbox.oci import image_spec
    from nsbox.oci.image_spec import Descriptor
    from nsbox.oci.timestamps import rfc3339_now
    store = ImageStore(root)
    base = store.resolve(base_id)
    with store.pulling():
        digest, size = store.write_new_blob("commit-", lambda out: write_layer_tar(upper, out, INIT_PATHS))
        config = dict(base.config.raw)
        section = {key: value for key, value in container_config.items()
                   if key in ("User", "Env", "Cmd", "Entrypoint", "WorkingDir", "Labels", "ExposedPorts",
                              "StopSignal", "Volumes") and value not in (None, "", [], {})}
        apply_changes(section, changes_text)
        created = rfc3339_now()
        config.update(created=created, config=section,
                      rootfs={"type": "layers", "diff_ids": list(base.config.diff_ids) + [digest]})
        entry = {"created": created, "created_by": created_by}
        if message:
            entry["comment"] = message
        if author:
            entry["author"] = author
            config["author"] = author
        config["history"] = list(config.get("history") or []) + [entry]
        layers = list(base.manifest.layers) + [Descriptor(image_spec.OCI_LAYER, digest, size)]
        return store_image(store, config, layers, names)
