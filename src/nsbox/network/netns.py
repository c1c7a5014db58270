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


def bound(path: str) -> os.stat_result | None:
    """The namespace mounted at `path` (its nsfs inode), or None: no file, or a file the
    namespace is no longer mounted on (left by a crash between unmount and unlink)."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return None if found.st_dev == os.stat(os.path.dirname(path)).st_dev else found


def release_unused(path: str) -> bool:
    """Unmount the namespace at `path` if no process is in it (a container:NAME sharer, a
    process of a container without its own PID namespace, an nsenter); True if it was.

    The scan comes after the unmount, with the namespace held open meanwhile, and if it finds
    a process the namespace is mounted back: once unmounted, the file can no longer be joined,
    so a process that joined before is seen. What is left is a process that opened the file
    before the unmount and joins only after the scan (nsenter opens and joins at once).
    Reads every process's link: ~1 ms per hundred processes."""
    namespace = bound(path)
    if namespace is None:
        return False
    held = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        libc.umount2(path, MNT_DETACH)
        if not _joined(namespace):
            return True
        libc.mount(f"/proc/self/fd/{held}", path, None, MS_BIND)
        return False
    finally:
        os.close(held)


def _joined(namespace: os.stat_result) -> bool:
    """True if some process's /proc/PID/ns/net is `namespace`."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                joined = os.stat(f"/proc/{entry}/ns/net")
            except OSError:  # gone, or a zombie (its namespaces are released)
                continue
            if joined.st_ino == namespace.st_ino and joined.st_dev == namespace.st_dev:
                return True
    return False


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
