"""cgroups: one container's cgroup on a v1, v2 or hybrid host.

open_cgroup() resolves an OCI linux.cgroupsPath into a directory in every hierarchy the
host mounts; a Cgroup then creates, limits, joins, freezes, kills, measures and removes
it. Each resource group goes to the hierarchy that holds its controller: the v1 mount
when there is one (v1.py), else the cgroup2 mount (v2.py). On a hybrid host processes
join the cgroup2 mount too, so that cgroup.kill and the controllers only the cgroup2
mount has reach them.

On the container start path: imports only os and its own small modules; the resource
planners, the eBPF assembler and the stats readers are imported when used.
"""
from __future__ import annotations

import os
import sys

from nsbox.cgroups import host
from nsbox.errors import CgroupError, LimitUnsupported

SIGKILL = 9

# OCI resource group -> the v1 controller whose mount decides the driver (v1.py or v2.py), and
# the planner function both drivers name alike. hugepageLimits (a list) and devices are apart.
RESOURCE_GROUPS = (("memory", "memory", "memory"), ("cpu", "cpu", "cpu"), ("pids", "pids", "pids"),
                   ("blockIO", "blkio", "block_io"), ("network", "net_cls", "network"), ("rdma", "rdma", "rdma"))


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

    # --- life cycle ---------------------------------------------------------------------

    def create(self) -> None:
        """Make the directory in every hierarchy (and missing parents); a no-op for those that exist."""
        made: list[str] = []
        try:
            for directory in self.directories():
                made += _make_directories(directory)
            cpuset = self.v1.get("cpuset")
            if cpuset is not None:
                _inherit_cpuset([d for d in made if d == cpuset or cpuset.startswith(d + "/")])
            if self.mode == "v2":
                from nsbox.cgroups import v2
                v2.enable(self.unified_mount, self.unified, set(host.V2_CONTROLLERS))  # type: ignore[arg-type]
        except OSError as error:
            for directory in reversed(made):
                try:
                    os.rmdir(directory)
                except OSError:
                    pass
            raise CgroupError(f"cannot create cgroup {self.path}: {error}") from None

    def add_process(self, pid: int) -> None:
        """Move `pid` into this cgroup in every hierarchy."""
        for directory in self.directories():
            try:
                fd = os.open(os.path.join(directory, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC)
                try:
                    os.write(fd, str(pid).encode())
                finally:
                    os.close(fd)
            except OSError as error:
                raise CgroupError(f"cannot move process {pid} into {directory}: {error.strerror}") from None

    def pids(self) -> list[int]:
        """Every process in the cgroup, its sub-cgroups included."""
        from nsbox.cgroups.files import procs
        return procs(self._membership_directory())

    def remove(self) -> None:
        """Remove the cgroup (and any sub-cgroups) everywhere; waits briefly for exiting processes."""
        import time
        deadline = time.monotonic() + 5
        delay = 0.001
        while True:
            busy = []
            for directory in self.directories():
                busy += _remove_tree(directory)
            if not busy:
                return
            if time.monotonic() > deadline:
                raise CgroupError(f"cannot remove cgroup {self.path}: {', '.join(busy)} still busy "
                                  f"(processes {self.pids()} are in it); kill them and retry")
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    # --- limits -----------------------------------------------------------------------

    def apply(self, resources: dict | None) -> None:
        """Apply OCI linux.resources at creation: every group given, and the device list
        (deny all, the spec's rules, the default devices) even when none is given.

        Every option is checked (values, controllers, files) before the first write; a value
        the kernel then refuses raises, and the caller removes the half-made cgroup."""
        self._apply(resources or {}, initial=True)

    def update(self, resources: dict) -> None:
        """Change the limits of a running container: only the groups given are touched. All or
        nothing: if the kernel refuses one value, the ones already written are put back."""
        self._apply(resources, initial=False)

    def plan(self, resources: dict, initial: bool = True, enable: bool = False):
        """The writes OCI linux.resources turns into for this cgroup (a Plan), without making
        any; `enable` lets the planner enable a missing cgroup v2 controller on the way."""
        from nsbox.cgroups.plan import Plan
        from nsbox.oci.fields import Fields
        plan = Plan()
        where = self._where if enable else (lambda controller, field: self._where(controller, field, enable=False))
        f = Fields(resources, "linux.resources")
        for key, v1_controller, planner in RESOURCE_GROUPS:
            group = f.obj(key)
            if group is not None:
                getattr(self._driver(v1_controller), planner)(group, plan, where)
        if f.has("hugepageLimits"):
            self._driver("hugetlb").hugepages(f.objs("hugepageLimits"), plan, where)
        if initial or f.has("devices"):
            from nsbox.cgroups import devices
            rules = devices.rules(f.objs("devices"))
            if "devices" in self.v1:
                from nsbox.cgroups import v1
                v1.devices(rules, plan, where)
            elif self.unified is not None:
                plan.device_program = (self.unified, rules)
            elif f.has("devices"):
                raise LimitUnsupported("linux.resources.devices", "this host has no devices cgroup controller; "
                                  "remove the option")
        if f.has("unified"):
            if self.unified is None:
                raise LimitUnsupported("linux.resources.unified", "this host has no cgroup v2 hierarchy; "
                                  "remove the option or use the v1 fields")
            from nsbox.cgroups import v2
            v2.unified(f.obj("unified"), plan, self.unified)
        return plan

    def _apply(self, resources: dict, initial: bool) -> None:
        plan = self.plan(resources, initial, enable=True)
        plan.check_files()
        plan.run(restore=not initial)
        if plan.device_program is not None:
            from nsbox.cgroups import ebpf
            ebpf.install(*plan.device_program)
        for message in plan.warnings:
            self.warn(message)

    def _driver(self, v1_controller: str):
        """The planner module for a resource group: v1 where its controller is mounted as v1."""
        if v1_controller in self.v1 or self.unified is None:
            from nsbox.cgroups import v1
            return v1
        from nsbox.cgroups import v2
        return v2

    def _where(self, controller: str, field: str, enable: bool = True) -> str:
        """The directory that holds `controller`'s files for this cgroup, or a CgroupError for `field`;
        a cgroup v2 controller not enabled there yet is enabled on the way if `enable`."""
        if controller in self.v1:
            return self.v1[controller]
        field = field.removeprefix("linux.resources.")
        if self.unified is None:
            raise LimitUnsupported(f"linux.resources.{field}", f"this host has no {controller} cgroup controller "
                              "mounted; remove the option")
        if controller in ("net_cls", "net_prio"):
            raise LimitUnsupported(f"linux.resources.{field}", f"this host has no {controller} controller (cgroup v2 has "
                              "none; the network is classified with eBPF or nftables instead); remove the option")
        from nsbox.cgroups import v2
        if enable and controller not in v2.controllers(self.unified):
            try:
                v2.enable(self.unified_mount, self.unified, {controller})  # type: ignore[arg-type]
            except OSError:
                pass
            if controller not in v2.controllers(self.unified):
                raise LimitUnsupported(f"linux.resources.{field}", f"cannot use the {controller} controller: "
                                  + v2.delegation_hint(self.unified_mount, self.unified, controller))  # type: ignore[arg-type]
        return self.unified

    # --- freezing and signals -------------------------------------------------------------

    def freeze(self) -> None:
        self._set_frozen(True)

    def thaw(self) -> None:
        self._set_frozen(False)

    def frozen(self) -> bool:
        from nsbox.cgroups.files import read_or
        if "freezer" in self.v1:
            return (read_or(os.path.join(self.v1["freezer"], "freezer.state"), "") or "").strip() == "FROZEN"
        if self.unified is not None:
            from nsbox.cgroups import v2
            return v2.frozen(self.unified)
        return False

    def _can_freeze(self) -> bool:
        return "freezer" in self.v1 or self.unified is not None

    def _freeze_settled(self, frozen: bool) -> bool:
        """Has the kernel finished freezing (every task stopped) or thawing?"""
        if "freezer" in self.v1:
            return self.frozen() == frozen
        from nsbox.cgroups import v2
        return v2.events_frozen(self.unified) == frozen  # type: ignore[arg-type]

    def _set_frozen(self, frozen: bool) -> None:
        import time
        from nsbox.cgroups.files import write
        if not self._can_freeze():
            raise CgroupError("this host has no cgroup freezer (no v1 freezer controller, no cgroup v2)")
        if "freezer" in self.v1:
            path, value = os.path.join(self.v1["freezer"], "freezer.state"), ("FROZEN" if frozen else "THAWED")
        else:
            path, value = os.path.join(self.unified, "cgroup.freeze"), ("1" if frozen else "0")  # type: ignore[arg-type]
        deadline = time.monotonic() + 10
        delay = 0.0005
        try:
            while True:
                write(path, value)  # v1 can stay in FREEZING while tasks fork: writing again retries
                if self._freeze_settled(frozen):
                    return
                if time.monotonic() > deadline:
                    break
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
            if frozen:
                write(path, "THAWED" if "freezer" in self.v1 else "0")
        except OSError as error:
            raise CgroupError(f"cannot {'freeze' if frozen else 'thaw'} cgroup {self.path}: {error}") from None
        raise CgroupError(f"cgroup {self.path} did not {'freeze' if frozen else 'thaw'} within 10 s")

    def kill(self, signal: int) -> None:
        """Send `signal` to every process in the cgroup. SIGKILL on v2 uses cgroup.kill; else the
        cgroup is frozen while signalling, so that no process forks past the signal."""
        from nsbox.cgroups.files import write
        if signal == SIGKILL and self.unified is not None and os.path.exists(os.path.join(self.unified, "cgroup.kill")):
            write(os.path.join(self.unified, "cgroup.kill"), "1")
            if "freezer" in self.v1 and self.frozen():
                self.thaw()  # a hybrid host's v1 freezer holds killed processes until thawed
            return
        if not self.pids():
            return  # nothing to signal (or the cgroup is gone already)
        can_freeze = self._can_freeze()
        was_frozen = can_freeze and self.frozen()
        if can_freeze and not was_frozen:
            self.freeze()
        try:
            for pid in self.pids():
                try:
                    os.kill(pid, signal)
                except ProcessLookupError:
                    pass
        finally:
            if can_freeze and (not was_frozen or signal == SIGKILL):
                self.thaw()  # a frozen process cannot die of SIGKILL until thawed

    # --- usage ----------------------------------------------------------------------------

    def stats(self) -> dict:
        """One record in the shape of runc's `events --stats` "data"."""
        from nsbox.cgroups import v1, v2
        data: dict = {}
        if "cpu" in self.v1 or "cpuacct" in self.v1:
            data["cpu"] = v1.cpu_stats(self.v1.get("cpu"), self.v1.get("cpuacct"))
        elif self.unified is not None:
            data["cpu"] = v2.cpu_stats(self.unified)
        for key, v1_name, v2_name, v1_reader, v2_reader in (
                ("memory", "memory", "memory", v1.memory_stats, v2.memory_stats),
                ("pids", "pids", "pids", v1.pids_stats, v2.pids_stats),
                ("blkio", "blkio", "io", v1.blkio_stats, v2.io_stats),
                ("hugetlb", "hugetlb", "hugetlb", v1.hugetlb_stats, v2.hugetlb_stats)):
            if v1_name in self.v1:
                data[key] = v1_reader(self.v1[v1_name])
            elif self.unified is not None and v2_name in v2.controllers(self.unified):
                data[key] = v2_reader(self.unified)
        return data

    def oom_kills(self) -> int:
        """How many processes the OOM killer has killed in this cgroup so far."""
        if "memory" in self.v1:
            from nsbox.cgroups import v1
            return v1.oom_kills(self.v1["memory"])
        if self.unified is not None:
            from nsbox.cgroups import v2
            return v2.oom_kills(self.unified)
        return 0

    def oom_watch(self) -> int:
        """An fd that becomes readable on an OOM event in this cgroup (close it when done; drain it
        with nsbox.cgroups.oom.drain and compare oom_kills() to tell a kill from other wake-ups)."""
        from nsbox.cgroups import oom
        if "memory" in self.v1:
            return oom.watch_v1(self.v1["memory"])
        if self.unified is not None:
            return oom.watch_v2(self.unified)
        raise CgroupError("this host has no memory cgroup controller to watch for OOM kills")

    # --- persistence ----------------------------------------------------------------------

    def to_state(self) -> dict:
        return {"path": self.path, "v1": dict(self.v1), "unified": self.unified, "unified_mount": self.unified_mount}

    @classmethod
    def from_state(cls, state: dict) -> Cgroup:
        return cls(state["path"], dict(state["v1"]), state.get("unified"), state.get("unified_mount"))

    def _membership_directory(self) -> str:
        for controller in ("pids", "freezer", "memory", "cpu"):
            if controller in self.v1:
                return self.v1[controller]
        if self.unified is not None:
            return self.unified
        return next(iter(self.v1.values()))


def _make_directories(directory: str) -> list[str]:
    """mkdir -p that returns the directories it made, top first."""
    missing = []
    current = directory
    while not os.path.isdir(current):
        missing.append(current)
        current = os.path.dirname(current)
    for path in reversed(missing):
        try:
            os.mkdir(path)
        except FileExistsError:
            pass
    return list(reversed(missing))


def _inherit_cpuset(made: list[str]) -> None:
    """A new v1 cpuset cgroup starts with no CPUs and no memory nodes, and no process may join
    it: give each one made here its parent's."""
    for directory in made:
        for name in ("cpuset.cpus", "cpuset.mems"):
            _fill_cpuset(directory, name)


def _fill_cpuset(directory: str, name: str) -> str:
    """`name`'s value in `directory`, copied down from the nearest ancestor that has one when it is
    empty (a parent that another runtime made a moment ago may not have been filled in yet)."""
    from nsbox.cgroups.files import read, write
    value = read(os.path.join(directory, name)).strip()
    if not value:
        value = _fill_cpuset(os.path.dirname(directory), name)
        write(os.path.join(directory, name), value)
    return value


def _remove_tree(directory: str) -> list[str]:
    """rmdir `directory` and the cgroups below it, deepest first; returns those still busy."""
    busy = []
    for dirpath, _, _ in sorted(os.walk(directory), key=lambda entry: -entry[0].count("/")):
        try:
            os.rmdir(dirpath)
        except FileNotFoundError:
            pass
        except OSError:
            busy.append(dirpath)
    return busy
