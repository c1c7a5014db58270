"""A container's cgroups as the kernel has them: the directory in each hierarchy (from
/proc/PID/cgroup, not from what nsbox thinks it made), each limit file nsbox wrote with
the value it holds now, and the usage files beside them."""
from __future__ import annotations

import os

from nsbox.cgroups import host

# usage files worth showing beside the limits, by the controller that holds them
USAGE_FILES = {"memory": ("memory.usage_in_bytes", "memory.max_usage_in_bytes", "memory.failcnt"),
               "cpuacct": ("cpuacct.usage",), "cpu": ("cpu.stat",), "pids": ("pids.current",),
               "unified": ("memory.current", "memory.peak", "memory.events", "cpu.stat", "pids.current")}
# limit files that hold lists (device rules): shown as a count, not line by line
LIST_PREFIXES = ("devices.",)


def directories(pid: int) -> list[dict]:
    """One entry per hierarchy the process is in: its controllers and its cgroup directory."""
    v1_mounts, unified_mount = host.mounts()
    with open(f"/proc/{pid}/cgroup") as file:
        v1_paths, unified_path = host.parse_proc_cgroup(file.read())
    hierarchies: dict[tuple, list[str]] = {}  # (mount, path) -> the controllers mounted together there
    for controller, path in v1_paths.items():
        if controller in v1_mounts:
            hierarchies.setdefault((v1_mounts[controller], path), []).append(controller)
    rows = [{"hierarchy": ",".join(names).replace("name=", ""), "controllers": names,
             "directory": host.directory(mount, None, path)} for (mount, path), names in hierarchies.items()]
    if unified_path is not None and unified_mount is not None:
        rows.append({"hierarchy": "unified", "controllers": _v2_controllers(unified_mount, unified_path),
                     "directory": host.directory(unified_mount, None, unified_path)})
    return rows


def _v2_controllers(mount: tuple[str, str], path: str) -> list[str]:
    try:
        with open(os.path.join(host.directory(mount, None, path), "cgroup.controllers")) as f:
            return f.read().split()
    except OSError:
        return []


def member_pids(pid: int) -> set[int]:
    """The processes in the container's cgroup (a v1 pids/memory directory, else the cgroup2 one)."""
    dirs = directories(pid)
    preferred = sorted(dirs, key=lambda d: (d["hierarchy"] not in ("pids", "memory"), d["hierarchy"] == "unified"))
    for entry in preferred:
        try:
            with open(os.path.join(entry["directory"], "cgroup.procs")) as procs:
                return {int(line) for line in procs if line.strip()}
        except OSError:
            continue
    return {pid}


def cgroup_report(pid: int, resources: dict) -> dict:
    from nsbox.cgroups import Cgroup
    dirs = directories(pid)
    v1 = {name: d["directory"] for d in dirs if d["hierarchy"] != "unified" for name in d["controllers"]}
    unified = next((d["directory"] for d in dirs if d["hierarchy"] == "unified"), None)
    _, unified_mount = host.mounts()
    cgroup = Cgroup("", v1, unified, unified_mount[0] if unified_mount else None)
    limits = []
    device_rules = 0
    for field, path, value in cgroup.plan(resources).writes:
        if os.path.basename(path).startswith(LIST_PREFIXES):
            device_rules += 1
            continue
        limits.append({"option": field, "file": path, "wrote": value, "current": _read(path)})
    usage = []
    for d in dirs:
        for name in USAGE_FILES.get(d["hierarchy"], ()) + sum((USAGE_FILES.get(c, ()) for c in d["controllers"]
                                                                if c != d["hierarchy"]), ()):
            path = os.path.join(d["directory"], name)
            if os.path.exists(path):
                usage.append({"file": path, "current": _read(path)})
    layout = "v2" if not v1 else ("hybrid" if unified else "v1")
    return {"layout": layout, "directories": dirs, "limits": limits, "device_rules": device_rules, "usage": usage}


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError as error:
        return f"<{error.strerror}>"
