"""A container's network namespace as a file (a bind mount of nsfs), made before the
container so that CNI plugins can set it up and any OCI runtime can join it by path.

Made in process: this thread unshares a new network namespace, binds it to the file,
brings lo up, and returns to the namespace it came from (no `ip netns`, no fork).
"""
from __future__ import annotations

import os

from nsbox.linux import libc
from nsbox.linux.namespaces import CLONE_NEWNET

MS_BIND = 0x1000
MNT_DETACH = 0x2


def create(path: str) -> None:
    from nsbox.linux.netdev import set_up
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o444))
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        libc.unshare(CLONE_NEWNET)
        try:
            libc.mount("/proc/thread-self/ns/net", path, None, MS_BIND)
            set_up("lo")
        finally:
            libc.setns(home, CLONE_NEWNET, "/proc/thread-self/ns/net (the host's)")
    except BaseException:
        remove(path)
        raise
    finally:
        os.close(home)


def remove(path: str) -> None:
    """Unmount and delete the namespace file; the namespace ends with its last process."""
    try:
        libc.umount2(path, MNT_DETACH)
    except OSError:
        pass
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
