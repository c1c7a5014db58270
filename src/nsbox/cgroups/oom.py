"""File descriptors that become readable when a cgroup runs out of memory.

v1: an eventfd registered for memory.oom_control through cgroup.event_control (the
kernel signals it on every OOM in the cgroup, and once more when the cgroup is removed).
v2: an inotify watch on memory.events (the kernel notifies a modification when a count
in it, oom_kill among them, changes). Either way the reader drains the fd and compares
Cgroup.oom_kills() with the count it saw before.
"""
from __future__ import annotations

import os

from nsbox.errors import CgroupError


def watch_v1(memory_dir: str) -> int:
    event_fd = os.eventfd(0, os.EFD_CLOEXEC)
    try:
        control_fd = os.open(os.path.join(memory_dir, "memory.oom_control"), os.O_RDONLY | os.O_CLOEXEC)
        try:
            from nsbox.cgroups.interface_files import write
            write(os.path.join(memory_dir, "cgroup.event_control"), f"{event_fd} {control_fd}")
        finally:
            os.close(control_fd)
    except OSError as error:
        os.close(event_fd)
        raise CgroupError(f"cannot watch {memory_dir} for OOM events: {error}") from None
    return event_fd


IN_MODIFY = 0x00000002
IN_CLOEXEC = 0o2000000
IN_NONBLOCK = 0o4000


def watch_v2(directory: str) -> int:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(IN_CLOEXEC | IN_NONBLOCK)
    if fd < 0:
        raise CgroupError(f"inotify_init1: {os.strerror(ctypes.get_errno())}")
    path = os.path.join(directory, "memory.events")
    if libc.inotify_add_watch(fd, os.fsencode(path), IN_MODIFY) < 0:
        code = ctypes.get_errno()
        os.close(fd)
        raise CgroupError(f"cannot watch {path} for OOM events: {os.strerror(code)}")
    return fd


def drain(fd: int) -> None:
    """Consume what made `fd` readable (an eventfd counter or inotify events)."""
    try:
        os.read(fd, 4096)
    except BlockingIOError:
        pass


def kills(cgroup) -> int:
    """How many processes the OOM killer has killed in this cgroup so far."""
    if "memory" in cgroup.v1:
        from nsbox.cgroups import v1_stats
        return v1_stats.oom_kills(cgroup.v1["memory"])
    if cgroup.unified is not None:
        from nsbox.cgroups import v2_stats
        return v2_stats.oom_kills(cgroup.unified)
    return 0


def watch(cgroup) -> int:
    """An fd that becomes readable on an OOM event in the cgroup."""
    if "memory" in cgroup.v1:
        return watch_v1(cgroup.v1["memory"])
    if cgroup.unified is not None:
        return watch_v2(cgroup.unified)
    raise CgroupError("this host has no memory cgroup controller to watch for OOM kills")
