"""A signal to every process of a cgroup, with no process forking past it."""
from __future__ import annotations

import os

from nsbox.cgroups import freezer
from nsbox.cgroups.interface_files import write
from nsbox.linux.signals import SIGKILL


def kill(cgroup, signal: int) -> None:
    """Send `signal` to every process in the cgroup. SIGKILL on v2 uses cgroup.kill; else the
    cgroup is frozen while signalling, so that no process forks past the signal."""
    if signal == SIGKILL and cgroup.unified is not None and os.path.exists(os.path.join(cgroup.unified, "cgroup.kill")):
        write(os.path.join(cgroup.unified, "cgroup.kill"), "1")
        if "freezer" in cgroup.v1 and freezer.frozen(cgroup):
            freezer.set_frozen(cgroup, False)  # a hybrid host's v1 freezer holds killed processes until thawed
        return
    if not cgroup.pids():
        return  # nothing to signal (or the cgroup is gone already)
    can_freeze = freezer.can_freeze(cgroup)
    was_frozen = can_freeze and freezer.frozen(cgroup)
    if can_freeze and not was_frozen:
        freezer.set_frozen(cgroup, True)
    try:
        for pid in cgroup.pids():
            try:
                os.kill(pid, signal)
            except ProcessLookupError:
                pass
    finally:
        if can_freeze and (not was_frozen or signal == SIGKILL):
            freezer.set_frozen(cgroup, False)  # a frozen process cannot die of SIGKILL until thawed
