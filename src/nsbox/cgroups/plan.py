"""A Plan: every file write that OCI linux.resources turns into, checked before any is made.

The drivers (v1_limits.py, v2_limits.py) only fill a Plan; limits.py decides where each resource
group goes (which hierarchy holds its controller), checks that every file exists, and
only then writes, so that a limit the host cannot apply fails before anything changed.
"""
from __future__ import annotations

import os

from nsbox.errors import CgroupError, LimitUnsupported

# Why a host may lack an interface file, for the error message.
MISSING_REASONS = {
    "blkio.weight": "no CFQ/BFQ proportional-weight I/O scheduling in this kernel",
    "blkio.weight_device": "no CFQ/BFQ proportional-weight I/O scheduling in this kernel",
    "blkio.leaf_weight": "the CFQ I/O scheduler, the only one with leaf weights, is gone from this kernel",
    "blkio.leaf_weight_device": "the CFQ I/O scheduler, the only one with leaf weights, is gone from this kernel",
    "memory.memsw.limit_in_bytes": "swap accounting is off (boot with swapaccount=1)",
    "memory.swap.max": "swap accounting is off (boot with swapaccount=1)",
    "cpu.rt_runtime_us": "the kernel was built without CONFIG_RT_GROUP_SCHED",
    "cpu.rt_period_us": "the kernel was built without CONFIG_RT_GROUP_SCHED",
    "cpu.cfs_burst_us": "CPU burst needs Linux 5.14 or later",
    "cpu.max.burst": "CPU burst needs Linux 5.14 or later",
    "cpu.idle": "SCHED_IDLE cgroups need Linux 5.15 or later",
    "cpu.cfs_quota_us": "the kernel was built without CONFIG_CFS_BANDWIDTH",
    "io.weight": "no BFQ or io.cost weight-based I/O control for this cgroup",
}


# Files that hold one entry per device, interface or rule: a write adds or changes one entry,
# and reading gives all of them back, so they cannot be restored by writing the old text.
LIST_FILES = {"devices.allow", "devices.deny", "net_prio.ifpriomap", "io.max", "io.weight", "io.bfq.weight",
              "rdma.max", "blkio.weight_device", "blkio.bfq.weight_device", "blkio.leaf_weight_device",
              "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
              "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"}


class Plan:
    """Writes (field, path, value) in order, warnings for options accepted but ignored."""

    __slots__ = ("writes", "warnings", "device_program")

    def __init__(self) -> None:
        self.writes: list[tuple[str, str, str]] = []
        self.warnings: list[str] = []
        self.device_program: tuple[str, list] | None = None  # (cgroup2 dir, rules) for the eBPF filter

    def add(self, field: str, directory: str, name: str, value: object) -> None:
        self.writes.append((field, os.path.join(directory, name), str(value)))

    def warn(self, field: str, message: str) -> None:
        self.warnings.append(f"linux.resources.{field}: {message}")

    def check_files(self) -> None:
        """Every file the plan writes exists; else a CgroupError that names the option and why."""
        seen: set[str] = set()
        for field, path, _ in self.writes:
            if path in seen:
                continue
            seen.add(path)
            if not os.path.exists(path):
                name = os.path.basename(path)
                reason = MISSING_REASONS.get(name, "the kernel or the cgroup does not provide it")
                raise LimitUnsupported(f"linux.resources.{field}", f"this host has no {name} ({reason}); "
                                  "remove the option or run on a host that supports it")

    def run(self, restore: bool) -> None:
        """Make the writes; with `restore` (a live update), a write the kernel refuses puts the
        single-value files already written back as they were before raising."""
        from nsbox.cgroups.interface_files import read_or, write, write_field
        done: list[tuple[str, str]] = []
        try:
            for field, path, value in self.writes:
                if restore and os.path.basename(path) not in LIST_FILES:
                    previous = (read_or(path, "") or "").strip()
                    if previous and "\n" not in previous:
                        done.append((path, previous))
                write_field(field, path, value)
        except CgroupError:
            for path, previous in reversed(done):
                try:
                    write(path, previous)
                except OSError:
                    pass
            raise


def device_numbers(item, field: str) -> str:
    """"major:minor" of a weightDevice / throttle entry."""
    from nsbox.errors import ConfigError
    major = item.int("major", required=True)
    minor = item.int("minor", required=True)
    if major < 0 or minor < 0:
        raise ConfigError(field, "major and minor must not be negative")
    return f"{major}:{minor}"


def is_set(value: int | None) -> bool:
    """OCI leaves a limit alone when it is absent or 0 (runtimes treat 0 as "not given")."""
    return value is not None and value != 0


# The files below have the same names and meaning on v1 and v2: both drivers plan them here.

def cpuset(f, plan: Plan, where) -> None:
    """cpu.cpus and cpu.mems: the CPUs and memory nodes the container may use."""
    if f.str("cpus") or f.str("mems"):
        d = where("cpuset", f.path + (".cpus" if f.str("cpus") else ".mems"))
        if f.str("cpus"):
            plan.add("cpu.cpus", d, "cpuset.cpus", f.str("cpus"))
        if f.str("mems"):
            plan.add("cpu.mems", d, "cpuset.mems", f.str("mems"))


def pids(f, plan: Plan, where) -> None:
    limit = f.int("limit", required=True)
    plan.add("pids.limit", where("pids", f.path), "pids.max", limit if limit > 0 else "max")
