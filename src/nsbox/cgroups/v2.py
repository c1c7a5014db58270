"""cgroup v2: OCI resources to unified-hierarchy files (with the unit conversions), stats,
and enabling controllers down the tree under the no-internal-processes rule.

The planners have v1.py's shape: `where(controller, field)` gives this cgroup's directory
once the controller is enabled for it, or raises a CgroupError naming the option.
"""
from __future__ import annotations

import os

from nsbox.cgroups.files import read_int, read_keyed, read_or, write
from nsbox.cgroups.plan import Plan, cpuset, device_numbers, pids  # noqa: F401 - pids is a planner of this driver
from nsbox.cgroups.plan import is_set as _set
from nsbox.errors import CgroupError, ConfigError, LimitUnsupported

UNLIMITED = 18446744073709551615  # how runc reports v2's "max" in stats


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
    from nsbox.cgroups.v1 import check_below_usage
    check_below_usage(f, limit, os.path.join(d, "memory.current"))
    if _set(limit):
        plan.add("memory.limit", d, "memory.max", _limit(limit))  # type: ignore[arg-type]
    if _set(f.int("swap")):
        plan.add("memory.swap", d, "memory.swap.max", _limit(swap_max(f.int("swap"), limit, f.where("swap"))))  # type: ignore[arg-type]
    if _set(f.int("reservation")):
        plan.add("memory.reservation", d, "memory.low", _limit(f.int("reservation")))  # type: ignore[arg-type]
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
            plan.add("cpu.shares", d, "cpu.weight", shares_to_weight(f.int("shares")))  # type: ignore[arg-type]
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
                 weight if bfq else f"default {blkio_to_io_weight(weight)}")  # type: ignore[arg-type]
    if _set(f.int("leafWeight")):
        raise LimitUnsupported("linux.resources.blockIO.leafWeight", "cgroup v2 has no leaf weights; remove the option")
    for item in f.objs("weightDevice"):
        field = item.path.removeprefix("linux.resources.")
        if _set(item.int("leafWeight")):
            raise LimitUnsupported(f"linux.resources.{field}.leafWeight", f"cgroup v2 has no leaf weights; remove the option")
        if _set(item.int("weight")):
            weight = item.int("weight")
            plan.add(field + ".weight", d, "io.bfq.weight" if bfq else "io.weight",
                     f"{device_numbers(item, item.path)} {weight if bfq else blkio_to_io_weight(weight)}")  # type: ignore[arg-type]
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
    from nsbox.cgroups import v1
    v1.rdma(f, plan, where)  # rdma.max has one format in both versions


def network(f, plan: Plan, where) -> None:
    from nsbox.cgroups import v1
    v1.network(f, plan, where)  # net_cls/net_prio exist only as v1 controllers: where() says so


def unified(f, plan: Plan, directory: str) -> None:
    """linux.resources.unified: v2 file name -> value, written as given."""
    for name in f.data:
        value = f.str(name, required=True)
        if "/" in name or name.startswith(".") or "." not in name:
            raise ConfigError(f.where(name), "must name a cgroup v2 interface file such as memory.high")
        if name.startswith("cgroup."):
            raise ConfigError(f.where(name), "cgroup.* files belong to the runtime, not to the container's limits")
        plan.add(f"unified.{name}", directory, name, value)


# --- enabling controllers ----------------------------------------------------------------

def _tokens(text: str | None) -> set[str]:
    return {token.lstrip("+") for token in (text or "").split()}


def enable(mount_point: str, directory: str, wanted: set[str]) -> set[str]:
    """Enable `wanted` controllers for `directory` in every cgroup.subtree_control from the top down.

    A cgroup with processes may not give controllers to its children, so such a cgroup is
    left alone: returns the controllers that could not be enabled. The kernel exempts the
    root, but the root belongs to the host (systemd sets it up), so nsbox leaves it alone too.
    """
    relative = os.path.relpath(directory, mount_point)
    parts = [] if relative == "." else relative.split("/")
    current = mount_point
    handed_down = set(wanted) & _tokens(read_or(os.path.join(mount_point, "cgroup.controllers")))
    for part in parts:
        needed = handed_down - _tokens(read_or(os.path.join(current, "cgroup.subtree_control")))
        if needed and (current == mount_point or (read_or(os.path.join(current, "cgroup.procs"), "") or "").strip()):
            handed_down -= needed
        elif needed:
            handed_down -= _enable_here(current, needed)
        current = os.path.join(current, part)
    return set(wanted) - handed_down


def _enable_here(directory: str, controllers: set[str]) -> set[str]:
    """Enable `controllers` in one cgroup.subtree_control; returns those the kernel refused."""
    control = os.path.join(directory, "cgroup.subtree_control")
    try:
        write(control, " ".join(f"+{name}" for name in sorted(controllers)))
        return set()
    except OSError:
        pass
    refused = set()
    for name in controllers:  # one by one, to keep the ones the kernel accepts
        try:
            write(control, f"+{name}")
        except OSError:
            refused.add(name)
    return refused


def delegation_hint(mount_point: str, directory: str, controller: str) -> str:
    """Why `controller` is not enabled for `directory`: the first ancestor that does not hand it down."""
    if controller not in _tokens(read_or(os.path.join(mount_point, "cgroup.controllers"))):
        return f"this host's cgroup v2 hierarchy has no {controller} controller"
    current = os.path.dirname(directory)
    chain = []
    while current.startswith(mount_point):
        chain.append(current)
        if current == mount_point:
            break
        current = os.path.dirname(current)
    for ancestor in reversed(chain):
        if controller not in _tokens(read_or(os.path.join(ancestor, "cgroup.subtree_control"))):
            if ancestor == mount_point:
                return (f"the host's root cgroup does not enable {controller} for its children, and nsbox leaves "
                        f"the root to the host (enable it with: echo +{controller} > "
                        f"{os.path.join(mount_point, 'cgroup.subtree_control')})")
            where = "/" + os.path.relpath(ancestor, mount_point)
            return (f"the {controller} controller is not delegated: {where} does not enable it in "
                    "cgroup.subtree_control and holds processes (cgroup v2's no-internal-processes rule); "
                    "run nsbox from a cgroup with delegated controllers and no processes of its own beside "
                    "its children, or use an absolute linux.cgroupsPath")
    return f"the {controller} controller is not enabled for {directory}"


# --- freezing ------------------------------------------------------------------------------

def frozen(directory: str) -> bool:
    return (read_or(os.path.join(directory, "cgroup.freeze"), "0") or "0").strip() == "1"


def events_frozen(directory: str) -> bool:
    return read_keyed(os.path.join(directory, "cgroup.events")).get("frozen", 0) == 1


# --- stats ---------------------------------------------------------------------------------

def cpu_stats(d: str) -> dict:
    stat = read_keyed(os.path.join(d, "cpu.stat"))
    return {"usage": {"total": stat.get("usage_usec", 0) * 1000, "kernel": stat.get("system_usec", 0) * 1000,
                      "user": stat.get("user_usec", 0) * 1000, "percpu": []},
            "throttling": {"periods": stat.get("nr_periods", 0), "throttled_periods": stat.get("nr_throttled", 0),
                           "throttled_time": stat.get("throttled_usec", 0) * 1000}}


def _unlimited(value: int) -> int:
    return UNLIMITED if value == -1 else value


def memory_stats(d: str) -> dict:
    raw = read_keyed(os.path.join(d, "memory.stat"))
    events = read_keyed(os.path.join(d, "memory.events"))
    usage = read_int(os.path.join(d, "memory.current"))
    swap_usage = read_int(os.path.join(d, "memory.swap.current"))
    return {"cache": raw.get("file", 0), "raw": raw, "use_hierarchy": True, "oom_kill": events.get("oom_kill", 0),
            "usage": {"usage": usage, "limit": _unlimited(read_int(os.path.join(d, "memory.max"), -1)),
                      "max": read_int(os.path.join(d, "memory.peak")), "failcnt": events.get("max", 0)},
            "swap": {"usage": usage + swap_usage,
                     "limit": _unlimited(read_int(os.path.join(d, "memory.swap.max"), -1)),
                     "max": read_int(os.path.join(d, "memory.swap.peak")), "failcnt": events.get("swap_max", 0)}}


def oom_kills(d: str) -> int:
    return read_keyed(os.path.join(d, "memory.events")).get("oom_kill", 0)


def pids_stats(d: str) -> dict:
    return {"current": read_int(os.path.join(d, "pids.current")), "limit": max(read_int(os.path.join(d, "pids.max")), 0)}


def io_stats(d: str) -> dict:
    service_bytes, serviced = [], []
    for line in (read_or(os.path.join(d, "io.stat"), "") or "").splitlines():
        device, *pairs = line.split()
        major, _, minor = device.partition(":")
        values = dict(pair.split("=", 1) for pair in pairs)
        for key, op, into in (("rbytes", "Read", service_bytes), ("wbytes", "Write", service_bytes),
                              ("rios", "Read", serviced), ("wios", "Write", serviced)):
            into.append({"major": int(major), "minor": int(minor), "op": op, "value": int(values.get(key, 0))})
    return {"ioServiceBytesRecursive": service_bytes, "ioServicedRecursive": serviced}


def hugetlb_stats(d: str) -> dict:
    result = {}
    for name in os.listdir(d):
        if name.startswith("hugetlb.") and name.endswith(".current"):
            size = name[len("hugetlb."):-len(".current")]
            events = read_keyed(os.path.join(d, f"hugetlb.{size}.events"))
            result[size] = {"usage": read_int(os.path.join(d, name)), "failcnt": events.get("max", 0)}
    return result


def controllers(directory: str) -> set[str]:
    """The controllers enabled for `directory` (its cgroup.controllers)."""
    return _tokens(read_or(os.path.join(directory, "cgroup.controllers")))
