"""Where the engine keeps things below a root (/var/lib/nsbox, or --root for tests)."""
from __future__ import annotations

import os

DEFAULT_ROOT = "/var/lib/nsbox"
DEFAULT_RUN = "/run/nsbox"


def default_root() -> str:
    """The root a face uses when not told: $NSBOX_ROOT, else /var/lib/nsbox."""
    return os.environ.get("NSBOX_ROOT", DEFAULT_ROOT)


class Paths:
    """The on-disk layout of one nsbox root.

    Records, bundles and logs live below the root; live runtime state in the run
    directory (/run/nsbox, a tmpfs, for the default root; <root>/run otherwise).
    """

    __slots__ = ("root", "run", "containers", "names", "volumes")

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.run = DEFAULT_RUN if self.root == DEFAULT_ROOT else os.path.join(self.root, "run")
        self.containers = os.path.join(self.root, "containers")
        self.names = os.path.join(self.root, "names")
        self.volumes = os.path.join(self.root, "volumes")

    def container(self, container_id: str, *parts: str) -> str:
        return os.path.join(self.containers, container_id, *parts)

    def bundle(self, container_id: str) -> str:
        """The container's OCI bundle: its own directory, config.json beside the record (a
        directory of its own would be one more to make and remove per run; on ext4 mounted
        with `discard` each rmdir waits for the disk)."""
        return self.container(container_id)
