"""The layer cache, keyed like Docker's: the key of the step before (down to the base
image's ID), the instruction as it will run (variables substituted, flags included), and
for COPY/ADD the digest of the files copied. A hit gives back what the step produced: its
layer (if any), the image config after it and its history entry."""
from __future__ import annotations

import hashlib
import os

from nsbox.oci import jsonio


def step_key(parent: str, instruction: str, extra: str = "") -> str:
    return "sha256:" + hashlib.sha256(f"{parent}\0{instruction}\0{extra}".encode()).hexdigest()


class BuildCache:
    __slots__ = ("directory",)

    def __init__(self, root: str) -> None:
        self.directory = os.path.join(root, "build-cache")

    def _path(self, key: str) -> str:
        return os.path.join(self.directory, key.removeprefix("sha256:") + ".json")

    def get(self, key: str, has_blob) -> dict | None:
        """The recorded outcome of a step, if its layer is still in the store."""
        try:
            with open(self._path(key), "rb") as f:
                entry = jsonio.loads(f.read())
        except (OSError, ValueError):
            return None
        layer = entry.get("layer")
        if layer is not None and not has_blob(layer["digest"]):
            return None
        return entry

    def put(self, key: str, entry: dict) -> None:
        from nsbox.linux.store_files import write_atomic
        os.makedirs(self.directory, exist_ok=True)
        write_atomic(self._path(key), jsonio.dumps(entry).encode(), durable=False)

    def prune(self) -> int:
        """Forget every step; returns how many there were (their layers go with `image prune`)."""
        from nsbox.linux.store_files import remove_tree
        if not os.path.isdir(self.directory):
            return 0
        count = len(os.listdir(self.directory))
        remove_tree(self.directory)
        return count
