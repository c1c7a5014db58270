"""The Cgroup record: a container's cgroup directory in each hierarchy, and what it can do.

Each resource group goes to the hierarchy that holds its controller: the v1 mount when
there is one, else the cgroup2 mount. On a hybrid host processes join the cgroup2 mount
too, so that cgroup.kill and the controllers only the cgroup2 mount has reach them. The
methods are the interface; the work is in the modules named for it.
"""
from __future__ import annotations

import sys

from nsbox.cgroups import host
from nsbox.errors import CgroupError


def open_cgroup(cgroups_path: str, container_id: str) -> Cgroup:
    """The cgroup for OCI linux.cgroupsPath: "" is "/nsbox/<id>"; absolute paths start at each
    hierarchy's root; relative ones below the calling process's own cgroup. Makes no changes."""
    path = host.cgroup_path(cgroups_path, container_id)
    v1_mounts, unified_mount = host.mounts()
    if not v1_mounts and unified_mount is None:
        raise CgroupError("no cgroup filesystem is mounted (mount cgroup2 on /sys/fs/cgroup, or the v1 hierarchies)")
    own_v1, own_unified = host.own_cgroups()
    v1 = {controller: host.directory(mount, own_v1.get(controller), path) for controller, mount in v1_mounts.items()}
    unified = None if unified_mount is None else host.directory(unified_mount, own_unified, path)
    return Cgroup(path, v1, unified, None if unified_mount is None else unified_mount[0])


def _warn_to_stderr(message: str) -> None:
    sys.stderr.write(f"nsbox: warning: {message}\n")


class Cgroup:
    """A cgroup in every hierarchy: v1 controller -> directory, and the cgroup2 directory (or None).

    `warn` receives messages about options accepted but ignored (default: stderr).
    """

    __slots__ = ("path", "v1", "unified", "unified_mount", "warn")

    def __init__(self, path: str, v1: dict[str, str], unified: str | None, unified_mount: str | None) -> None:
        self.path = path
        self.v1 = v1
        self.unified = unified
        self.unified_mount = unified_mount
        self.warn = _warn_to_stderr

    def __repr__(self) -> str:
        return f"Cgroup({self.path!r}, {self.mode})"

    @property
    def mode(self) -> str:
        """"v1", "v2" or "hybrid" (v1 controllers plus a cgroup2 mount)."""
        has_v1 = any(not name.startswith("name=") for name in self.v1)
        if self.unified is None:
            return "v1"
        return "hybrid" if has_v1 else "v2"

    def directories(self) -> list[str]:
        """This cgroup's directory in each hierarchy, once each."""
        found = list(dict.fromkeys(self.v1.values()))
        if self.unified is not None:
            found.append(self.unified)
        return found

    def membership_directory(self) -> str:
        """The one directory whose cgroup.procs lists every process of the cgroup."""
        for controller in ("pids", "freezer", "memory", "cpu"):
            if controller in self.v1:
                return self.v1[controller]
        if self.unified is not None:
            return self.unified
        return next(iter(self.v1.values()))

    # --- life cycle: lifecycle.py ---------------------------------------------------------

    def create(self) -> None:
        """Make the directory in every hierarchy (and missing parents); a no-op for those that exist."""
        from nsbox.cgroups import lifecycle
        lifecycle.create(self)

    def add_process(self, pid: int, only_unified: bool = False) -> None:
        """Move `pid` into this cgroup in every hierarchy (or only the cgroup2 one)."""
        from nsbox.cgroups import lifecycle
        lifecycle.add_process(self, pid, only_unified)

    def enter_v1(self) -> None:
        """Move the calling, single-threaded process into this cgroup in every v1 hierarchy,
        without the kernel's RCU wait (see lifecycle.enter_v1)."""
        from nsbox.cgroups import lifecycle
        lifecycle.enter_v1(self)

    def pids(self) -> list[int]:
        """Every process in the cgroup, its sub-cgroups included."""
        from nsbox.cgroups.interface_files import procs
        return procs(self.membership_directory())

    def remove(self) -> None:
        """Remove the cgroup (and any sub-cgroups) everywhere; waits briefly for exiting processes."""
        from nsbox.cgroups import lifecycle
        lifecycle.remove(self)

    # --- limits: limits.py ----------------------------------------------------------------

    def apply(self, resources: dict | None) -> None:
        """Apply OCI linux.resources at creation: every group given, and the device list
        (deny all, the spec's rules, the default devices) even when none is given.

        Every option is checked (values, controllers, files) before the first write; a value
        the kernel then refuses raises, and the caller removes the half-made cgroup."""
        from nsbox.cgroups import limits
        limits.apply(self, resources or {}, initial=True)

    def update(self, resources: dict) -> None:
        """Change the limits of a running container: only the groups given are touched. All or
        nothing: if the kernel refuses one value, the ones already written are put back."""
        from nsbox.cgroups import limits
        limits.apply(self, resources, initial=False)

    def plan(self, resources: dict, initial: bool = True, enable: bool = False):  # -> Plan
        """The writes OCI linux.resources turns into for this cgroup (a Plan), without making
        any; `enable` lets the planner enable a missing cgroup v2 controller on the way."""
        from nsbox.cgroups import limits
        return limits.make_plan(self, resources, initial, enable)

    # --- freezing and signals: freezer.py, kill.py ----------------------------------------

    def freeze(self) -> None:
        from nsbox.cgroups import freezer
        freezer.set_frozen(self, True)

    def thaw(self) -> None:
        from nsbox.cgroups import freezer
        freezer.set_frozen(self, False)

    def frozen(self) -> bool:
        from nsbox.cgroups import freezer
        return freezer.frozen(self)

    def kill(self, signal: int) -> None:
        """Send `signal` to every process in the cgroup (see kill.py)."""
        from nsbox.cgroups import kill
        kill.kill(self, signal)

    # --- usage: stats.py, oom.py ----------------------------------------------------------

    def stats(self) -> dict:
        """One record in the shape of runc's `events --stats` "data"."""
        from nsbox.cgroups import stats
        return stats.stats(self)

    def peak_usage(self) -> tuple[int | None, int | None]:
        """(memory high-water mark in bytes, CPU time in ns): two small reads for a container
        that just ended (None where this host keeps no such count)."""
        from nsbox.cgroups import stats
        return stats.peak_usage(self)

    def oom_kills(self) -> int:
        """How many processes the OOM killer has killed in this cgroup so far."""
        from nsbox.cgroups import oom
        return oom.kills(self)

    def oom_watch(self) -> int:
        """An fd that becomes readable on an OOM event in this cgroup (close it when done; drain it
        with nsbox.cgroups.oom.drain and compare oom_kills() to tell a kill from other wake-ups)."""
        from nsbox.cgroups import oom
        return oom.watch(self)

    # --- persistence ----------------------------------------------------------------------

    def to_state(self) -> dict:
        return {"path": self.path, "v1": dict(self.v1), "unified": self.unified, "unified_mount": self.unified_mount}

    @classmethod
    def from_state(cls, state: dict) -> Cgroup:
        return cls(state["path"], dict(state["v1"]), state.get("unified"), state.get("unified_mount"))
