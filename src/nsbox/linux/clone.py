"""fork() with clone3's extras: the child born in new namespaces (CLONE_NEW*) and in a
cgroup v2 directory (CLONE_INTO_CGROUP, Linux 5.7).

A child born in its cgroup costs nothing, while moving a process there afterwards (a PID
written to cgroup.procs) takes the kernel's global threadgroup lock, whose first taking in
a burst waits for an RCU grace period (12-18 ms on a busy machine).

Python has no clone3, so this makes the raw system call the way os.fork() calls fork():
between PyOS_BeforeFork and PyOS_AfterFork_Child/_Parent, holding the GIL throughout
(a libc.Library with the PYTHONAPI flag, as ctypes.PyDLL). glibc's own fork handlers do
not run, so only a single-threaded process may call it: no other thread can then hold a
lock (malloc's, stdio's) that the child would wait for forever.

fork_without_collecting wraps either fork for the runtime's children (create's, exec's) and
the engine's monitor.
"""
from __future__ import annotations

import _ctypes
import os

from nsbox.linux.libc import (Library, Long, ULong, block_all_signals, default_signal_actions, ignore_signal,
                              set_signal_mask)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

SYS_CLONE3 = 435  # x86_64 and the generic table alike
CLONE_INTO_CGROUP = 0x200000000
SIGCHLD = 17
SIGPIPE, SIGXFSZ = 13, 25

_python = Library(_ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_PYTHONAPI | _ctypes.FUNCFLAG_USE_ERRNO)
_syscall = _python.syscall
_syscall.restype = Long


def _clone_args(flags: int, exit_signal: int, cgroup: int) -> bytes:
    """struct clone_args up to `cgroup` (CLONE_ARGS_SIZE_VER2: eleven u64, 88 bytes)."""
    fields = (flags, 0, 0, 0, exit_signal, 0, 0, 0, 0, 0, cgroup)  # pidfd, tids, stack, tls, set_tid: none
    return b"".join(field.to_bytes(8, "little") for field in fields)


def clone3(flags: int = 0, cgroup_fd: int = -1) -> int:
    """Like os.fork(): 0 in the child, its PID in the parent. `flags` are CLONE_NEW* flags;
    with `cgroup_fd` (a cgroup v2 directory, open) the child is born in that cgroup.

    Raises OSError with nothing forked where the kernel refuses: ENOSYS (no clone3, or a
    seccomp filter that hides it), E2BIG or EINVAL (no CLONE_INTO_CGROUP), EACCES or
    ENOENT (the caller may not move a process there: a user or cgroup namespace), EPERM
    (no CAP_SYS_ADMIN for a namespace)."""
    if cgroup_fd >= 0:
        flags |= CLONE_INTO_CGROUP
    args = _clone_args(flags, SIGCHLD, max(cgroup_fd, 0))
    _python.PyOS_BeforeFork()
    pid = _syscall(SYS_CLONE3, args, ULong(len(args)))
    if pid == 0:
        _python.PyOS_AfterFork_Child()
        return 0
    errno = _ctypes.get_errno()
    _python.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(errno, f"clone3(flags {flags:#x}, cgroup fd {cgroup_fd}): {os.strerror(errno)}")
    return pid


def fork_without_collecting(fork: Callable[[], int]) -> int:
    """fork() (os.fork or a clone) with the garbage collector off in the child from its first
    instruction, and as it was in the parent. The child's pages are the parent's, shared
    until written, and a collection writes to every object it visits, so copies their
    pages (measured in a container's init: 340 page copies while it imports its code, 180
    without collections; its CPU until "ready" ~11.5 -> ~8.6 ms). For children that exec
    or exit soon: nothing there needs collecting.

    Nor does the child run any of the caller's signal handlers (a program's SIGTERM handler
    in a container's init, until its execve resets them, would run the program's shutdown
    there and end the init: a `kill` right after a start killed the container that PID 1's
    default action must keep): signals stay blocked across the fork, and the child unblocks
    them once each has a fresh interpreter's action (fresh_signal_actions)."""
    import gc
    collecting = gc.isenabled()
    gc.disable()
    mask = block_all_signals()
    try:
        pid = fork()
    except BaseException:
        set_signal_mask(mask)
        if collecting:
            gc.enable()
        raise
    if pid == 0:
        fresh_signal_actions()
    set_signal_mask(mask)
    if pid and collecting:
        gc.enable()
    return pid


def fresh_signal_actions() -> None:
    """Every signal's action as a Python process starts with: the default, but SIGPIPE and
    SIGXFSZ ignored (a write then fails with an error rather than ending the process)."""
    default_signal_actions()
    for number in (SIGPIPE, SIGXFSZ):
        ignore_signal(number)
