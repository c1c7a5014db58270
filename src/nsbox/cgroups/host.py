"""Which cgroup hierarchies this host mounts, and where the calling process sits in them.

Read from /proc/self/mountinfo and /proc/self/cgroup on every call (nothing is cached
on disk: a host can be remounted between two runtime processes), and parsed again only
when what was read differs from the last time. Imports only os.
"""
from __future__ import annotations

import os

from nsbox.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar
    T = TypeVar("T")

# The v1 controllers nsbox knows; a v1 mount lists its controllers in its super options.
V1_CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "hugetlb",
                  "net_cls", "net_prio", "perf_event", "rdma", "misc")
# The v2 controllers nsbox enables for its cgroups when the host gives them.
V2_CONTROLLERS = ("cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc")


def _unescape(path: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    if "\\" not in path:
        return path
    return path.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def mounts(mountinfo: str = "/proc/self/mountinfo") -> tuple[dict[str, tuple[str, str]], tuple[str, str] | None]:
    """({v1 controller or "name=X": (mount point, mounted root)}, (cgroup2 mount point, root) or None)."""
    return _parsed(mountinfo, _parse_mounts)


def _parse_mounts(text: str) -> tuple[dict[str, tuple[str, str]], tuple[str, str] | None]:
    v1: dict[str, tuple[str, str]] = {}
    unified: tuple[str, str] | None = None
    for line in text.splitlines():
        if "cgroup" not in line:
            continue
        fields = line.split()
        sep = fields.index("-")
        fstype = fields[sep + 1]
        where = (_unescape(fields[4]), _unescape(fields[3]))
        if fstype == "cgroup2":
            if unified is None:
                unified = where
        elif fstype == "cgroup":
            for option in fields[sep + 3].split(","):
                if (option in V1_CONTROLLERS or option.startswith("name=")) and option not in v1:
                    v1[option] = where
    return v1, unified


def own_cgroups(proc_cgroup: str = "/proc/self/cgroup") -> tuple[dict[str, str], str | None]:
    """({v1 controller or "name=X": this process's cgroup path}, its cgroup2 path or None)."""
    return _parsed(proc_cgroup, parse_proc_cgroup)


def parse_proc_cgroup(text: str) -> tuple[dict[str, str], str | None]:
    """A /proc/PID/cgroup's text: ({v1 controller or "name=X": cgroup path}, cgroup2 path or None)."""
    v1: dict[str, str] = {}
    unified: str | None = None
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            unified = path
        else:
            for controller in controllers.split(","):
                v1[controller] = path
    return v1, unified


_last_read: dict[str, tuple[bytes, Any]] = {}  # path -> (its bytes, what they parsed to)


def _parsed(path: str, parse: Callable[[str], T]) -> T:
    """parse() of the file's text, done again only when its bytes differ from the last read:
    a process that asks often (stats of 20 containers, the Python API) parses once, and
    never misses a remount or a move. The result is shared: callers must not change it."""
    with open(path, "rb") as file:
        data = file.read()
    last = _last_read.get(path)
    if last is not None and last[0] == data:
        return last[1]
    result = parse(data.decode(errors="surrogateescape"))
    _last_read[path] = (data, result)
    return result


DEFAULT_PARENT = "/nsbox"  # of a container whose spec gives no linux.cgroupsPath


def cgroup_path(cgroups_path: str, container_id: str) -> str:
    """Check an OCI linux.cgroupsPath; "" becomes "/nsbox/<id>". Returns it absolute or relative."""
    if cgroups_path == "":
        return f"{DEFAULT_PARENT}/{container_id}"
    if ":" in cgroups_path and not cgroups_path.startswith("/"):
        raise CgroupError(f"linux.cgroupsPath {cgroups_path!r} is in the systemd form (slice:prefix:name); "
                          "nsbox drives cgroupfs only: give a path such as /nsbox/<id> or a relative one")
    if ".." in cgroups_path.split("/"):
        raise CgroupError(f"linux.cgroupsPath {cgroups_path!r} must not contain '..'")
    return cgroups_path


def directory(mount: tuple[str, str], own: str | None, path: str) -> str:
    """The directory of cgroup `path` (absolute, or relative to `own`) in a hierarchy mounted at mount."""
    mount_point, mount_root = mount
    if not path.startswith("/"):
        path = f"{(own or '/').rstrip('/')}/{path}"
    if mount_root != "/" and (path == mount_root or path.startswith(mount_root + "/")):
        path = path[len(mount_root):]
    return os.path.normpath(f"{mount_point}/{path.strip('/')}")


def find_named(name: str, max_depth: int = 12) -> list[str]:
    """Absolute cgroup paths, in any hierarchy, whose last component is `name` (a container
    ID: how `rm -f` finds the cgroups of a container whose record is damaged)."""
    v1, unified = mounts()
    found: set[str] = set()
    for mount_point, mount_root in list(v1.values()) + ([unified] if unified else []):
        base_depth = mount_point.rstrip("/").count("/")
        for directory, subdirectories, _ in os.walk(mount_point):
            if directory.count("/") - base_depth >= max_depth:
                subdirectories.clear()
            if name in subdirectories:
                relative = os.path.join(directory, name)[len(mount_point.rstrip("/")):]
                found.add(mount_root.rstrip("/") + relative)
                subdirectories.remove(name)
    return sorted(found)
