"""id-mapped mounts: a detached copy of a tree whose file owners are seen through a user
namespace's mapping (open_tree, mount_setattr(MOUNT_ATTR_IDMAP), move_mount; Linux 5.12+).

A file owned by uid U on disk shows as the host uid that the mapping gives container id
U: with "0 100000 65536", root's files show as owned by 100000 and a file created there
by host uid 100000 is stored as 0.
"""
from __future__ import annotations

import ctypes
import os

from nsbox.linux.libc import _libc

SYS_OPEN_TREE, SYS_MOVE_MOUNT, SYS_MOUNT_SETATTR = 428, 429, 442  # x86_64
OPEN_TREE_CLONE = 1
AT_EMPTY_PATH, AT_RECURSIVE = 0x1000, 0x8000
MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOUNT_ATTR_IDMAP = 0x00100000
CLONE_NEWUSER = 0x10000000


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64), ("propagation", ctypes.c_uint64),
                ("userns_fd", ctypes.c_uint64)]


def _check(result: int, call: str, *args: object) -> int:
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{call}({', '.join(repr(a) for a in args)}): {os.strerror(errno)}")
    return result


def user_namespace(uid_lines: str, gid_lines: str) -> int:
    """An fd of a new user namespace with these uid_map/gid_map contents ("ID HOSTID SIZE\\n"...).

    A child makes the namespace and waits while this process writes its maps; the fd keeps
    the namespace alive after the child is gone."""
    ready_read, ready_write = os.pipe2(os.O_CLOEXEC)
    hold_read, hold_write = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:
        try:
            os.close(hold_write)
            os.close(ready_read)
            _check(_libc.unshare(ctypes.c_int(CLONE_NEWUSER)), "unshare", "CLONE_NEWUSER")
            os.write(ready_write, b"1")
            os.read(hold_read, 1)
        finally:
            os._exit(0)
    os.close(ready_write)
    os.close(hold_read)
    try:
        if os.read(ready_read, 1) != b"1":
            raise OSError(1, "unshare(CLONE_NEWUSER) failed in the helper for an id-mapped mount")
        for name, lines in (("uid_map", uid_lines), ("gid_map", gid_lines)):
            with open(f"/proc/{pid}/{name}", "w") as mapping:
                mapping.write(lines)
        return os.open(f"/proc/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(ready_read)
        os.close(hold_write)
        os.waitpid(pid, 0)


def detached_tree(source: str, recursive: bool) -> int:
    """A detached copy of the mount tree at `source` (an fd for move_mount), as a bind mount
    would make: it can be attached later by a process that cannot reach `source` itself."""
    flags = OPEN_TREE_CLONE | os.O_CLOEXEC | (AT_RECURSIVE if recursive else 0)
    return _check(_libc.syscall(ctypes.c_long(SYS_OPEN_TREE), ctypes.c_int(-100), source.encode(),
                                ctypes.c_uint(flags)), "open_tree", source)


def idmapped_tree(source: str, userns_fd: int, recursive: bool) -> int:
    """A detached, id-mapped copy of the mount tree at `source` (an fd for move_mount)."""
    fd = detached_tree(source, recursive)
    attr = _MountAttr(MOUNT_ATTR_IDMAP, 0, 0, userns_fd)
    try:
        _check(_libc.syscall(ctypes.c_long(SYS_MOUNT_SETATTR), ctypes.c_int(fd), b"",
                             ctypes.c_uint(AT_EMPTY_PATH | (AT_RECURSIVE if recursive else 0)), ctypes.byref(attr),
                             ctypes.c_size_t(ctypes.sizeof(attr))), "mount_setattr", source, "MOUNT_ATTR_IDMAP")
    except OSError:
        os.close(fd)
        raise
    return fd


def attach(tree_fd: int, target: str) -> None:
    """move_mount a detached tree onto `target`."""
    _check(_libc.syscall(ctypes.c_long(SYS_MOVE_MOUNT), ctypes.c_int(tree_fd), b"", ctypes.c_int(-100),
                         target.encode(), ctypes.c_uint(MOVE_MOUNT_F_EMPTY_PATH)), "move_mount", target)
