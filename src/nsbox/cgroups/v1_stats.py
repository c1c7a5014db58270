"""cgroup v1 interface files read back as runc's `events --stats` "data" record."""
from __future__ import annotations

import os

from nsbox.cgroups.interface_files import read_int, read_keyed, read_or


def cpu_stats(cpu_dir: str | None, cpuacct_dir: str | None) -> dict:
    usage: dict = {}
    if cpuacct_dir is not None:
        # cpuacct.usage_all: "cpu user system" then one line per CPU, in nanoseconds.
        rows = [line.split() for line in (read_or(os.path.join(cpuacct_dir, "cpuacct.usage_all"), "") or "")
                .splitlines()[1:]]
        user = [int(row[1]) for row in rows if len(row) == 3]
        kernel = [int(row[2]) for row in rows if len(row) == 3]
        usage = {"total": read_int(os.path.join(cpuacct_dir, "cpuacct.usage")),
                 "percpu": [u + k for u, k in zip(user, kernel)], "percpu_user": user, "percpu_kernel": kernel,
                 "kernel": sum(kernel), "user": sum(user)}
    throttling: dict = {}
    if cpu_dir is not None:
        stat = read_keyed(os.path.join(cpu_dir, "cpu.stat"))
        throttling = {"periods": stat.get("nr_periods", 0), "throttled_periods": stat.get("nr_throttled", 0),
                      "throttled_time": stat.get("throttled_time", 0)}
    return {"usage": usage, "throttling": throttling}


def _memory_entry(d: str, prefix: str) -> dict:
    return {"limit": read_int(os.path.join(d, prefix + "limit_in_bytes")),
            "usage": read_int(os.path.join(d, prefix + "usage_in_bytes")),
            "max": read_int(os.path.join(d, prefix + "max_usage_in_bytes")),
            "failcnt": read_int(os.path.join(d, prefix + "failcnt"))}


def memory_stats(d: str) -> dict:
    raw = read_keyed(os.path.join(d, "memory.stat"))
    result = {"cache": raw.get("cache", 0), "usage": _memory_entry(d, "memory."),
              "swap": _memory_entry(d, "memory.memsw."), "kernel": _memory_entry(d, "memory.kmem."),
              "kernelTCP": _memory_entry(d, "memory.kmem.tcp."), "raw": raw,
              "use_hierarchy": read_int(os.path.join(d, "memory.use_hierarchy")) == 1,
              "oom_kill": oom_kills(d)}
    return result


def oom_kills(d: str) -> int:
    return read_keyed(os.path.join(d, "memory.oom_control")).get("oom_kill", 0)


def pids_stats(d: str) -> dict:
    limit = read_int(os.path.join(d, "pids.max"))
    return {"current": read_int(os.path.join(d, "pids.current")), "limit": max(limit, 0)}


def _blkio_entries(path: str) -> list[dict]:
    entries = []
    for line in (read_or(path, "") or "").splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        major, _, minor = parts[0].partition(":")
        entries.append({"major": int(major), "minor": int(minor), "op": parts[1], "value": int(parts[2])})
    return entries


def blkio_stats(d: str) -> dict:
    return {"ioServiceBytesRecursive": _blkio_entries(os.path.join(d, "blkio.throttle.io_service_bytes_recursive")),
            "ioServicedRecursive": _blkio_entries(os.path.join(d, "blkio.throttle.io_serviced_recursive"))}


def hugetlb_stats(d: str) -> dict:
    result = {}
    for name in os.listdir(d):
        if name.startswith("hugetlb.") and name.endswith(".usage_in_bytes"):
            size = name[len("hugetlb."):-len(".usage_in_bytes")]
            result[size] = {"usage": read_int(os.path.join(d, name)),
                            "max": read_int(os.path.join(d, f"hugetlb.{size}.max_usage_in_bytes")),
                            "failcnt": read_int(os.path.join(d, f"hugetlb.{size}.failcnt"))}
    return result
