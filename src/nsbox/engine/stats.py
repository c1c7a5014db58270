"""What a running container uses, as `nsbox stats` shows it: CPU, memory, network, block I/O, PIDs."""
from __future__ import annotations

import time


def sample(engine, record: dict) -> dict:
    """One reading: cgroup stats, network counters and the time it was taken."""
    stats = engine.cgroup(record).stats()
    return {"time": time.monotonic(), "cgroup": stats, "net": network_bytes(record["State"].get("Pid") or 0)}


def since_start(record: dict, reading: dict) -> dict:
    """What a container's first reading is compared with: its start, with no CPU used yet, so
    that its CPU % is the average since the start, as podman gives its first sample (Docker's
    CLI waits for a second sample instead); 0 % when the start time is not known."""
    from nsbox.oci.timestamps import parse_rfc3339
    started = parse_rfc3339(record["State"].get("StartedAt") or "")
    if not started:
        return reading
    return {"time": reading["time"] - max(time.time() - started, 1e-3), "cgroup": {}, "net": (0, 0)}


def network_bytes(pid: int) -> tuple[int, int]:
    """Bytes received and sent on the container's interfaces other than lo."""
    received = sent = 0
    try:
        with open(f"/proc/{pid}/net/dev") as lines:
            for line in list(lines)[2:]:
                name, _, counters = line.partition(":")
                if name.strip() == "lo":
                    continue
                fields = counters.split()
                received += int(fields[0])
                sent += int(fields[8])
    except (OSError, ValueError, IndexError):
        pass
    return received, sent


def host_memory() -> int:
    with open("/proc/meminfo") as lines:
        for line in lines:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def summarize(record: dict, before: dict, after: dict) -> dict:
    """The columns of `docker stats` from two readings (CPU % needs the time between)."""
    cpu_before = before["cgroup"].get("cpu", {}).get("usage", {}).get("total", 0)
    cpu_after = after["cgroup"].get("cpu", {}).get("usage", {}).get("total", 0)
    elapsed = max(after["time"] - before["time"], 1e-9)
    memory = after["cgroup"].get("memory", {})
    usage = memory.get("usage", {}).get("usage", 0)
    raw = memory.get("raw", {})
    usage = max(0, usage - raw.get("total_inactive_file", raw.get("inactive_file", 0)))
    limit = memory.get("usage", {}).get("limit", 0)
    total = host_memory()
    if not limit or limit > total:
        limit = total
    block_read = block_write = 0
    for entry in after["cgroup"].get("blkio", {}).get("ioServiceBytesRecursive", []):
        op = entry.get("op", "").lower()
        if op == "read":
            block_read += entry["value"]
        elif op == "write":
            block_write += entry["value"]
    return {"ID": record["Id"], "Name": record.get("Name") or "",
            "CPUPerc": (cpu_after - cpu_before) / (elapsed * 1e9) * 100,
            "MemUsage": usage, "MemLimit": limit, "MemPerc": usage / limit * 100 if limit else 0.0,
            "NetInput": after["net"][0], "NetOutput": after["net"][1],
            "BlockInput": block_read, "BlockOutput": block_write,
            "PIDs": after["cgroup"].get("pids", {}).get("current", 0)}
