"""cgroup v2 limits: OCI linux.resources planned as writes to unified-hierarchy files (with
the unit conversions).

The planners have v1_limits.py's shape: `where(controller, field)` gives this cgroup's directory
once the controller is enabled for it, or raises a CgroupError naming the option.
"""
from __future__ import annotations

import os

from nsbox.cgroups.plan import Plan, cpuset, device_numbers, pids  # noqa: F401 - pids is a planner of this driver
from nsbox.cgroups.plan import is_set as _set
from nsbox.cgroups.interface_files import read_or
from nsbox.errors import ConfigError, LimitUnsupported


def _limit(value: int) -> str:
    return "max" if value == -1 else str(value)


def shares_to_weight(shares: int) -> int:
    """cpu.shares (2..262144, default 1024) to cpu.weight (1..10000), the linear map runtimes share."""
    shares = min(max(shares, 2), 262144)
    return 1 + (shares - 2) * 9999 // 262142


def blkio_to_io_weight(weight: int) -> int:
    """blkio.weight (10..1000) to io.weight (1..10000)."""
    weight = min(max(weight, 10), 1000)
    return 1 + (weight - 10) * 9999 // 990


def swap_max(swap: int, limit: int | None, field: str) -> int:
    """OCI's swap is memory+swap (v1's memsw); v2's memory.swap.max is swap alone."""
    if swap == -1:
        return -1
    if not _set(limit) or limit == -1:
        raise ConfigError(field, "a swap limit needs a memory limit on cgroup v2 (memory.swap.max counts swap "
                                 "alone, so nsbox sets it to swap - limit); set linux.resources.memory.limit too")
    if swap < limit:  # type: ignore[operator]
        raise ConfigError(field, f"memory+swap ({swap}) must not be below the memory limit ({limit})")
    return swap - limit  # type: ignore[operator]


def memory(f, plan: Plan, where) -> None:
    d = where("memory", f.path)
    limit = f.int("limit")
    from nsbox.cgroups.v1_limits import check_below_usage
    check_below_usage(f, limit, os.path.join(d, "memory.current"))
    if _set(limit):
        plan.add("memory.limit", d, "memory.max", _limit(limit))
    if _set(f.int("swap")):
        plan.add("memory.swap", d, "memory.swap.max", _limit(swap_max(f.int("swap"), limit, f.where("swap"))))
    if _set(f.int("reservation")):
        plan.add("memory.reservation", d, "memory.low", _limit(f.int("reservation")))
    for key in ("kernel", "kernelTCP"):
        if _set(f.int(key)):
            plan.warn(f"memory.{key}", "cgroup v2 has no separate kernel memory limit (it is counted in "
                                       "memory.max); the option is ignored")
    swappiness = f.int("swappiness")
    if swappiness is not None and swappiness != -1:
        raise LimitUnsupported("linux.resources.memory.swappiness", "cgroup v2 has no per-cgroup swappiness; "
                          "remove the option")
    if f.bool("disableOOMKiller"):
        raise LimitUnsupported("linux.resources.memory.disableOOMKiller", "cgroup v2 cannot turn the OOM killer off; "
                          "remove the option")


def cpu(f, plan: Plan, where) -> None:
    if _set(f.int("shares")) or f.has("quota") or _set(f.int("period")) or f.has("burst") or f.has("idle"):
        d = where("cpu", f.path)
        if _set(f.int("shares")):
            plan.add("cpu.shares", d, "cpu.weight", shares_to_weight(f.int("shares")))
        quota, period = f.int("quota"), f.int("period")
        if (quota is not None and quota != 0) or _set(period):
            # cpu.max holds both: keep the half that is not being changed.
            current = (read_or(os.path.join(d, "cpu.max"), "max 100000") or "max 100000").split()
            quota_text = current[0] if quota is None or quota == 0 else ("max" if quota < 0 else str(quota))
            period_text = str(period) if _set(period) else current[1]
            plan.add("cpu.quota" if quota else "cpu.period", d, "cpu.max", f"{quota_text} {period_text}")
        if f.has("burst"):
            plan.add("cpu.burst", d, "cpu.max.burst", f.int("burst"))
        if f.has("idle"):
            plan.add("cpu.idle", d, "cpu.idle", f.int("idle"))
    for key in ("realtimeRuntime", "realtimePeriod"):
        if _set(f.int(key)):
            raise LimitUnsupported(f"linux.resources.cpu.{key}", f"cgroup v2 has no real-time CPU budget per cgroup; "
                              "remove the option")
    cpuset(f, plan, where)


def block_io(f, plan: Plan, where) -> None:
    d = where("io", f.path)
    # io.weight (1..10000) when the kernel has it; else BFQ's io.bfq.weight takes blkio's 1..1000 as is.
    bfq = not os.path.exists(os.path.join(d, "io.weight")) and os.path.exists(os.path.join(d, "io.bfq.weight"))
    if _set(f.int("weight")):
        weight = f.int("weight")
        plan.add("blockIO.weight", d, "io.bfq.weight" if bfq else "io.weight",
                 weight if bfq else f"default {blkio_to_io_weight(weight)}")
    if _set(f.int("leafWeight")):
        raise LimitUnsupported("linux.resources.blockIO.leafWeight", "cgroup v2 has no leaf weights; remove the option")
    for item in f.objs("weightDevice"):
        field = item.path.removeprefix("linux.resources.")
        if _set(item.int("leafWeight")):
            raise LimitUnsupported(f"linux.resources.{field}.leafWeight", f"cgroup v2 has no leaf weights; remove the option")
        if _set(item.int("weight")):
            weight = item.int("weight")
            plan.add(field + ".weight", d, "io.bfq.weight" if bfq else "io.weight",
                     f"{device_numbers(item, item.path)} {weight if bfq else blkio_to_io_weight(weight)}")
    for key, name in (("throttleReadBpsDevice", "rbps"), ("throttleWriteBpsDevice", "wbps"),
                      ("throttleReadIOPSDevice", "riops"), ("throttleWriteIOPSDevice", "wiops")):
        for item in f.objs(key):
            rate = item.int("rate", required=True, minimum=0)
            plan.add(item.path.removeprefix("linux.resources."), d, "io.max",
                     f"{device_numbers(item, item.path)} {name}={rate or 'max'}")


def hugepages(items: list, plan: Plan, where) -> None:
    for item in items:
        size = item.str("pageSize", required=True)
        plan.add(item.path.removeprefix("linux.resources."), where("hugetlb", item.path), f"hugetlb.{size}.max",
                 item.int("limit", required=True, minimum=0))


def rdma(f, plan: Plan, where) -> None:
    from nsbox.cgroups import v1_limits
    v1_limits.rdma(f, plan, where)  # rdma.max has one format in both versions


def network(f, plan: Plan, where) -> None:
    from nsbox.cgroups import v1_limits
    v1_limits.network(f, plan, where)  # net_cls/net_prio exist only as v1 controllers: where() says so


def unified(f, plan: Plan, directory: str) -> None:
    """linux.resources.unified: v2 file name -> value, written as given."""
    for name in f.data:
        value = f.str(name, required=True)
        if "/" in name or name.startswith(".") or "." not in name:
            raise ConfigError(f.where(name), "must name a cgroup v2 interface file such as memory.high")
        if name.startswith("cgroup."):
            raise ConfigError(f.where(name), "cgroup.* files belong to the runtime, not to the container's limits")
        plan.add(f"unified.{name}", directory, name, value)
