"""cgroup v1 limits: OCI linux.resources planned as writes to v1 interface files.

Each planner takes the resource group's Fields, the Plan, and `where(controller)`, which
gives the controller's directory for this cgroup or raises a CgroupError naming the option.
"""
from __future__ import annotations

import os

from nsbox.cgroups.interface_files import read_int
from nsbox.cgroups.plan import Plan, cpuset, device_numbers, pids  # noqa: F401 - pids is a planner of this driver
from nsbox.cgroups.plan import is_set as _set
from nsbox.errors import CgroupError

UNLIMITED = 1 << 62  # v1 shows "no limit" as a page-rounded 2^63 - 1


def memory(f, plan: Plan, where) -> None:
    d = where("memory", f.path)
    limit, swap = f.int("limit"), f.int("swap")
    check_below_usage(f, limit, os.path.join(d, "memory.usage_in_bytes"))
    if _set(limit) and _set(swap):
        # memory.memsw.limit_in_bytes (memory+swap) may never be below memory.limit_in_bytes:
        # raise memsw first when it grows, lower the limit first when it shrinks. A cgroup not
        # made yet (a plan shown by `run --explain`) will start unlimited.
        current = read_int(os.path.join(d, "memory.memsw.limit_in_bytes"), UNLIMITED)
        if swap == -1 or swap > current:
            plan.add("memory.swap", d, "memory.memsw.limit_in_bytes", swap)
            plan.add("memory.limit", d, "memory.limit_in_bytes", limit)
        else:
            plan.add("memory.limit", d, "memory.limit_in_bytes", limit)
            plan.add("memory.swap", d, "memory.memsw.limit_in_bytes", swap)
    elif _set(limit):
        memsw = read_int(os.path.join(d, "memory.memsw.limit_in_bytes"), -1)
        memsw_set = 0 <= memsw < UNLIMITED
        if memsw_set and (limit == -1 or limit > memsw):
            raise CgroupError(f"linux.resources.memory.limit: {limit} is above the memory+swap limit {memsw} set "
                              "before; give linux.resources.memory.swap too (e.g. --memory-swap)")
        plan.add("memory.limit", d, "memory.limit_in_bytes", limit)
    elif _set(swap):
        plan.add("memory.swap", d, "memory.memsw.limit_in_bytes", swap)
    if _set(f.int("reservation")):
        plan.add("memory.reservation", d, "memory.soft_limit_in_bytes", f.int("reservation"))
    if _set(f.int("kernel")):
        if _kernel_memory_limits_hold(d):
            plan.add("memory.kernel", d, "memory.kmem.limit_in_bytes", f.int("kernel"))
        else:
            plan.warn("memory.kernel", "Linux 5.16 and later do not limit kernel memory; the option is ignored")
    if _set(f.int("kernelTCP")):
        if os.path.exists(os.path.join(d, "memory.kmem.tcp.limit_in_bytes")):
            plan.add("memory.kernelTCP", d, "memory.kmem.tcp.limit_in_bytes", f.int("kernelTCP"))
        else:
            plan.warn("memory.kernelTCP", "this kernel has no memory.kmem.tcp.limit_in_bytes; the option is ignored")
    swappiness = f.int("swappiness")
    if swappiness is not None and swappiness != -1:
        if not 0 <= swappiness <= 100:
            from nsbox.errors import ConfigError
            raise ConfigError(f.where("swappiness"), f"must be between 0 and 100, got {swappiness}")
        plan.add("memory.swappiness", d, "memory.swappiness", swappiness)
    if f.bool("disableOOMKiller"):
        plan.add("memory.disableOOMKiller", d, "memory.oom_control", 1)
    if f.has("useHierarchy") and not f.bool("useHierarchy"):
        plan.warn("memory.useHierarchy", "Linux 5.x+ memory cgroups are always hierarchical; false is ignored")


def check_below_usage(f, limit: int | None, usage_file: str) -> None:
    """memory.checkBeforeUpdate: refuse a limit below what the cgroup uses now (instead of an OOM kill)."""
    if f.bool("checkBeforeUpdate") and _set(limit) and limit != -1:
        usage = read_int(usage_file)
        if limit < usage:  # type: ignore[operator]
            raise CgroupError(f"linux.resources.memory.limit: {limit} bytes is below the {usage} bytes the "
                              "container uses now (checkBeforeUpdate is set); choose a higher limit")


def _kernel_memory_limits_hold(d: str) -> bool:
    """Linux 5.16+ accepts writes to memory.kmem.limit_in_bytes and ignores them (later ones drop it)."""
    parts = os.uname().release.split(".")
    major, minor = int(parts[0]), int(parts[1].split("-")[0])
    return (major, minor) < (5, 16) and os.path.exists(os.path.join(d, "memory.kmem.limit_in_bytes"))


def cpu(f, plan: Plan, where) -> None:
    if _set(f.int("shares")) or f.has("quota") or _set(f.int("period")) or _set(f.int("burst")) \
            or _set(f.int("realtimeRuntime")) or _set(f.int("realtimePeriod")) or f.has("idle"):
        d = where("cpu", f.path)
        if _set(f.int("shares")):
            plan.add("cpu.shares", d, "cpu.shares", f.int("shares"))
        if _set(f.int("period")):
            plan.add("cpu.period", d, "cpu.cfs_period_us", f.int("period"))
        if f.has("quota") and f.int("quota") != 0:
            plan.add("cpu.quota", d, "cpu.cfs_quota_us", f.int("quota"))
        if f.has("burst"):
            plan.add("cpu.burst", d, "cpu.cfs_burst_us", f.int("burst"))
        if _set(f.int("realtimePeriod")):
            plan.add("cpu.realtimePeriod", d, "cpu.rt_period_us", f.int("realtimePeriod"))
        if _set(f.int("realtimeRuntime")):
            plan.add("cpu.realtimeRuntime", d, "cpu.rt_runtime_us", f.int("realtimeRuntime"))
        if f.has("idle"):
            plan.add("cpu.idle", d, "cpu.idle", f.int("idle"))
    cpuset(f, plan, where)


def block_io(f, plan: Plan, where) -> None:
    d = where("blkio", f.path)
    # BFQ took over CFQ's proportional weights under its own file names.
    bfq = not os.path.exists(os.path.join(d, "blkio.weight")) and os.path.exists(os.path.join(d, "blkio.bfq.weight"))
    prefix = "blkio.bfq." if bfq else "blkio."
    if _set(f.int("weight")):
        plan.add("blockIO.weight", d, prefix + "weight", f.int("weight"))
    if _set(f.int("leafWeight")):
        plan.add("blockIO.leafWeight", d, "blkio.leaf_weight", f.int("leafWeight"))
    for item in f.objs("weightDevice"):
        device = device_numbers(item, item.path)
        field = item.path.removeprefix("linux.resources.")
        if _set(item.int("weight")):
            plan.add(field + ".weight", d, prefix + "weight_device", f"{device} {item.int('weight')}")
        if _set(item.int("leafWeight")):
            plan.add(field + ".leafWeight", d, "blkio.leaf_weight_device", f"{device} {item.int('leafWeight')}")
    for key, name in (("throttleReadBpsDevice", "read_bps_device"), ("throttleWriteBpsDevice", "write_bps_device"),
                      ("throttleReadIOPSDevice", "read_iops_device"), ("throttleWriteIOPSDevice", "write_iops_device")):
        for item in f.objs(key):
            device = device_numbers(item, item.path)
            rate = item.int("rate", required=True, minimum=0)
            plan.add(item.path.removeprefix("linux.resources."), d, "blkio.throttle." + name, f"{device} {rate}")


def hugepages(items: list, plan: Plan, where) -> None:
    for item in items:
        size = item.str("pageSize", required=True)
        field = item.path.removeprefix("linux.resources.")
        plan.add(field, where("hugetlb", item.path), f"hugetlb.{size}.limit_in_bytes",
                 item.int("limit", required=True, minimum=0))


def network(f, plan: Plan, where) -> None:
    if f.has("classID"):
        plan.add("network.classID", where("net_cls", f.where("classID")), "net_cls.classid", f.int("classID", minimum=0))
    for item in f.objs("priorities"):
        plan.add(item.path.removeprefix("linux.resources."), where("net_prio", item.path), "net_prio.ifpriomap",
                 f"{item.str('name', required=True)} {item.int('priority', required=True, minimum=0)}")


def rdma(f, plan: Plan, where) -> None:
    d = where("rdma", f.path)
    for device in f.data:
        limits = f.obj(device, required=True)
        parts = [f"{name}={limits.int(key, minimum=0)}" for key, name in (("hcaHandles", "hca_handle"),
                 ("hcaObjects", "hca_object")) if limits.has(key)]
        if parts:
            plan.add(f"rdma.{device}", d, "rdma.max", f"{device} {' '.join(parts)}")


def devices(rules: list, plan: Plan, where) -> None:
    from nsbox.cgroups.devices import v1_line
    d = where("devices", "linux.resources.devices")
    for rule in rules:
        name, line = v1_line(rule)
        plan.add("devices", d, name, line)
