"""cgroup v2 interface files read back as runc's `events --stats` "data" record."""
from __future__ import annotations

import os

from nsbox.cgroups.interface_files import read_int, read_keyed, read_or

UNLIMITED = 18446744073709551615  # how runc reports v2's "max" in stats


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
    service_bytes: list[dict] = []
    serviced: list[dict] = []
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
