"""fork() with clone3's extras: the child born in new namespaces (CLONE_NEW*) and in a
cgroup v2 directory (CLONE_INTO_CGROUP, Linux 5.7).

A child born in its cgroup costs nothing, while moving a process there afterwards (a PID
written to cgroup.procs) takes the kernel's global threadgroup lock, whose first taking in
a burst waits for an RCU grace period (12-18 ms on a busy machine).

Python has no clone3, so this makes the raw system call the way os.fork() calls fork():
between PyOS_BeforeFork and PyOS_AfterFork_Child/_Parent, holding the GIL throughout
(ctypes.PyDLL). glibc's own fork handlers do not run, so only a single-threaded process
(such as a child just forked by os.fork) may call it: no other thread can then hold a
lock (malloc's, stdio's) that the child would wait for forever.
"""
from __future__ import annotations

import ctypes
import os

SYS_CLONE3 = 435  # x86_64 and the generic table alike
CLONE_INTO_CGROUP = 0x200000000
SIGCHLD = 17

_syscall = ctypes.PyDLL(None, use_errno=True).syscall  # PyDLL: the GIL stays held across the call
_syscall.restype = ctypes.c_long


class _CloneArgs(ctypes.Structure):
    """struct clone_args up to `cgroup` (CLONE_ARGS_SIZE_VER2, 88 bytes)."""
    _fields_ = [(name, ctypes.c_uint64) for name in (
        "flags", "pidfd", "child_tid", "parent_tid", "exit_signal", "stack", "stack_size", "tls",
        "set_tid", "set_tid_size", "cgroup")]


def clone3(flags: int = 0, cgroup_fd: int = -1) -> int:
    """Like os.fork(): 0 in the child, its PID in the parent. `flags` are CLONE_NEW* flags;
    with `cgroup_fd` (a cgroup v2 directory, open) the child is born in that cgroup.

    Raises OSError with nothing forked where the kernel refuses: ENOSYS (no clone3, or a
    seccomp filter that hides it), E2BIG or EINVAL (no CLONE_INTO_CGROUP), EACCES or
    ENOENT (the caller may not move a process there: a user or cgroup namespace), EPERM
    (no CAP_SYS_ADMIN for a namespace)."""
    if cgroup_fd >= 0:
        flags |= CLONE_INTO_CGROUP
    args = _CloneArgs(flags=flags, exit_signal=SIGCHLD, cgroup=max(cgroup_fd, 0))
    api = ctypes.pythonapi
    api.PyOS_BeforeFork()
    pid = _syscall(SYS_CLONE3, ctypes.byref(args), ctypes.c_size_t(ctypes.sizeof(args)))
    if pid == 0:
        api.PyOS_AfterFork_Child()
        return 0
    errno = ctypes.get_errno()
    api.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(errno, f"clone3(flags {flags:#x}, cgroup fd {cgroup_fd}): {os.strerror(errno)}")
    return pid
