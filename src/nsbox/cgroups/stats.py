"""A cgroup's usage as one record, runc's `events --stats` "data": each group read from the
hierarchy that holds its controller (v1_stats or v2_stats)."""
from __future__ import annotations


def stats(cgroup) -> dict:
    from nsbox.cgroups import v1_stats, v2_stats
    from nsbox.cgroups.v2_controllers import controllers
    data: dict = {}
    if "cpu" in cgroup.v1 or "cpuacct" in cgroup.v1:
        data["cpu"] = v1_stats.cpu_stats(cgroup.v1.get("cpu"), cgroup.v1.get("cpuacct"))
    elif cgroup.unified is not None:
        data["cpu"] = v2_stats.cpu_stats(cgroup.unified)
    for key, v1_name, v2_name, v1_reader, v2_reader in (
            ("memory", "memory", "memory", v1_stats.memory_stats, v2_stats.memory_stats),
            ("pids", "pids", "pids", v1_stats.pids_stats, v2_stats.pids_stats),
            ("blkio", "blkio", "io", v1_stats.blkio_stats, v2_stats.io_stats),
            ("hugetlb", "hugetlb", "hugetlb", v1_stats.hugetlb_stats, v2_stats.hugetlb_stats)):
        if v1_name in cgroup.v1:
            data[key] = v1_reader(cgroup.v1[v1_name])
        elif cgroup.unified is not None and v2_name in controllers(cgroup.unified):
            data[key] = v2_reader(cgroup.unified)
    return data


def peak_usage(cgroup) -> tuple[int | None, int | None]:
    import os

    from nsbox.cgroups.interface_files import read_int, read_or
    memory = cpu = None
    if "memory" in cgroup.v1:
        memory = read_int(os.path.join(cgroup.v1["memory"], "memory.max_usage_in_bytes")) or None
    elif cgroup.unified is not None:
        memory = read_int(os.path.join(cgroup.unified, "memory.peak")) or None
    if "cpuacct" in cgroup.v1:
        cpu = read_int(os.path.join(cgroup.v1["cpuacct"], "cpuacct.usage"))
    elif cgroup.unified is not None:
        for line in (read_or(os.path.join(cgroup.unified, "cpu.stat"), "") or "").splitlines():
            if line.startswith("usage_usec "):
                cpu = int(line.split()[1]) * 1000
    return memory, cpu
