"""How the process `create` (or `exec`) forks puts the container's process into its cgroup.

A PID written to cgroup.procs takes the kernel's global threadgroup lock, whose first
taking in a burst waits for an RCU grace period: 12-18 ms per container on this machine,
the largest single wait of a start. Two ways in take no such lock, and the forked child
(create's intermediate, exec's helper) uses them:

- in every v1 hierarchy it moves itself, first thing, while it is still the host's root in
  the host's namespaces: 0 written to `tasks` moves the one thread a freshly forked child
  has (CgroupEntry.enter);
- into the cgroup2 directory (a pure v2 host, or a hybrid host's unified mount) it forks
  the container's process with clone3(CLONE_INTO_CGROUP), born there (CgroupEntry.fork).

The kernel checks a clone3 into a cgroup with the forker's credentials and cgroup
namespace, so from inside a user namespace the runtime moves the child into the cgroup2
directory instead (while the child imports its code and makes its namespaces). Where
the kernel refuses clone3 (older than 5.7, a seccomp filter, a joined cgroup namespace)
the child writes 0 to cgroup.procs through a handle it opened beforehand, then forks.

Where create needs no intermediate (runtime.create's direct path) the runtime clones the
init itself into its new namespaces and the cgroup2 directory (CgroupEntry.clone), and the
init moves itself into the v1 hierarchies first thing.
"""
from __future__ import annotations

import os

from nsbox.linux.clone import clone3

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nsbox.cgroups import Cgroup


class CgroupEntry:
    """Made by the runtime before it forks the child; used on both sides of the fork."""

    __slots__ = ("cgroup", "runtime_moves_unified", "unified_dir", "unified_procs")

    def __init__(self, cgroup: Cgroup, user_namespace: bool) -> None:
        self.cgroup = cgroup
        self.runtime_moves_unified = cgroup.unified is not None and user_namespace
        self.unified_dir = self.unified_procs = -1  # the child's handles on the cgroup2 directory

    def place(self, child_pid: int) -> None:
        """In the runtime, once the child is forked: the move the child cannot make itself."""
        if self.runtime_moves_unified:
            self.cgroup.add_process(child_pid, only_unified=True)

    def enter(self) -> None:
        """In the single-threaded child, before it joins or makes any namespace."""
        self.cgroup.enter_v1()
        unified = self.cgroup.unified
        if unified is not None and not self.runtime_moves_unified:
            self.unified_dir = os.open(unified, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            self.unified_procs = os.open(os.path.join(unified, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC)

    def clone(self, namespace_flags: int) -> int:
        """In the runtime itself (single-threaded, the host's root, no user namespace): like
        fork(), the child born in new namespaces (CLONE_NEW* `namespace_flags`) and in the
        cgroup2 directory. The child must call cgroup.enter_v1() before anything else.
        OSError, with nothing forked, where the kernel refuses."""
        unified = self.cgroup.unified
        unified_dir = -1 if unified is None else os.open(unified, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            return clone3(namespace_flags, unified_dir)
        finally:
            if unified_dir >= 0:
                os.close(unified_dir)  # (in the container's process too: no host handle may reach it)

    def clones(self) -> bool:
        """Whether fork() will try clone3 into the cgroup2 directory (after enter())."""
        return self.unified_dir >= 0

    def fork(self) -> int:
        """In the child, after enter(): os.fork(), with the new process in every hierarchy."""
        if self.unified_dir < 0:
            return os.fork()
        try:
            pid = clone3(cgroup_fd=self.unified_dir)
        except OSError:
            try:
                os.write(self.unified_procs, b"0")
            except OSError as error:
                from nsbox.errors import CgroupError
                raise CgroupError(f"cannot move itself into {self.cgroup.unified}: {error.strerror}") from None
            pid = os.fork()
        os.close(self.unified_dir)  # (in the container's process too: no host handle may reach it)
        os.close(self.unified_procs)
        self.unified_dir = self.unified_procs = -1
        return pid
