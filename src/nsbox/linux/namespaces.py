"""Namespace kinds: clone flags, /proc/<pid>/ns names, and how to make or join them."""
from __future__ import annotations

import os

from nsbox.linux import libc

CLONE_NEWTIME = 0x00000080
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

# OCI namespace type -> (clone flag, name under /proc/<pid>/ns)
KINDS: dict[str, tuple[int, str]] = {
    "user": (CLONE_NEWUSER, "user"),
    "pid": (CLONE_NEWPID, "pid"),
    "network": (CLONE_NEWNET, "net"),
    "mount": (CLONE_NEWNS, "mnt"),
    "ipc": (CLONE_NEWIPC, "ipc"),
    "uts": (CLONE_NEWUTS, "uts"),
    "cgroup": (CLONE_NEWCGROUP, "cgroup"),
    "time": (CLONE_NEWTIME, "time"),
}

# setns order when joining: user first (it grants the rights for the rest), mount last but
# one (after it, /proc paths of the host may be gone), pid and time affect only children.
JOIN_ORDER = ("user", "ipc", "uts", "network", "cgroup", "pid", "time", "mount")


def creation_flags(kinds) -> int:
    """The CLONE_NEW* flags (for unshare or clone3) that make namespaces of the OCI `kinds`."""
    flags = 0
    for kind in kinds:
        flags |= KINDS[kind][0]
    return flags


NS_GET_NSTYPE = 0xB703  # ioctl on a namespace file: its CLONE_NEW* flag


def type_flag(fd: int) -> int:
    """The CLONE_NEW* flag of the namespace file open at `fd` (also a bind-mounted one, such
    as /run/netns/NAME); OSError ENOTTY if it is not a namespace file."""
    import fcntl
    return fcntl.ioctl(fd, NS_GET_NSTYPE)


def join(kind: str, path: str) -> None:
    flag, _ = KINDS[kind]
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        libc.setns(fd, flag, path)
    finally:
        os.close(fd)


def join_all(joins: list[tuple[str, int]]) -> None:
    """setns into each (kind, open fd), in JOIN_ORDER but the user namespace last: one owned by
    an ancestor user namespace (a network namespace made on the host for the container) refuses
    us once we are in the container's. One that refuses us before (EPERM: we lack the rights the
    user namespace gives) is joined again after it, as runc does."""
    import errno
    user = [(kind, fd) for kind, fd in joins if kind == "user"]
    refused = []
    for kind, fd in joins:
        if kind == "user":
            continue
        try:
            libc.setns(fd, KINDS[kind][0], kind)
        except OSError as error:
            if error.errno != errno.EPERM or not user:
                raise
            refused.append((kind, fd))
    for kind, fd in user + refused:
        libc.setns(fd, KINDS[kind][0], kind)


def open_namespace(path: str) -> int:
    """Open a namespace file early (before mounts change what paths mean); returns the fd."""
    return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
