"""The container's /sys/fs/cgroup: its own cgroup of each hierarchy, and nothing above it.

With a cgroup namespace the kernel already shows the container's cgroup as the root of a
fresh cgroup mount. Without one (cgroup v1's default, as Docker's), a fresh mount would
show the host's whole tree and the root's limits; so, as runc does, the container's own
directory of each hierarchy is bound from the host at that hierarchy's place (a bind,
not a fresh mount: a user namespace may not mount cgroupfs), and co-mounted controllers
("cpu,cpuacct") get their links. Programs inside (JVMs, Go, Node) then read their own
limits at the usual paths.
"""
from __future__ import annotations

import os

from nsbox.cgroups.host import directory, own_cgroups
from nsbox.linux import mounts as m

CGROUP_ROOT = "/sys/fs/cgroup"


def mount_cgroups(target: str, flags: int, own_namespace: bool) -> None:
    """Mount at `target` (inside the rootfs), read-only unless `flags` lacks MS_RDONLY.

    Called once the init is in its cgroup (and its cgroup namespace, if it has one)."""
    m.make_mount_point(target, is_file=False)
    hierarchies = host_cgroup_hierarchies()
    flags &= m.MS_RDONLY | m.MS_NOSUID | m.MS_NODEV | m.MS_NOEXEC | m.MS_RELATIME
    own = None if own_namespace else own_directories()
    if list(hierarchies) == [""]:
        _mount_hierarchy(target, "cgroup2", "", flags, own.get("") if own else None)
        return
    m.mount("tmpfs", target, "tmpfs", m.MS_NOSUID | m.MS_NODEV | m.MS_NOEXEC, "mode=755")
    for name, (fstype, options) in hierarchies.items():
        directory = os.path.join(target, name or "unified")
        os.mkdir(directory)
        _mount_hierarchy(directory, fstype, options, flags, own.get(name) if own else None)
        if "," in name:
            for part in name.split(","):
                if not os.path.lexists(os.path.join(target, part)):
                    os.symlink(name, os.path.join(target, part))
    if flags & m.MS_RDONLY:
        m.mount(None, target, None, m.MS_REMOUNT | m.MS_BIND | m.MS_RDONLY | m.MS_NOSUID | m.MS_NODEV | m.MS_NOEXEC)


def _mount_hierarchy(directory: str, fstype: str, options: str, flags: int, source: str | None) -> None:
    """The container's own cgroup directory `source` of the host bound there; without one
    (in a cgroup namespace) a fresh mount of the hierarchy."""
    if source is None:
        m.mount("cgroup", directory, fstype, flags, options or None)
        return
    m.mount(source, directory, None, m.MS_BIND)
    m.mount(None, directory, None, m.MS_BIND | m.MS_REMOUNT | flags | m.MS_NOSUID | m.MS_NODEV | m.MS_NOEXEC)


def own_directories() -> dict[str, str]:
    """Name under /sys/fs/cgroup -> the host directory of this process's cgroup there.

    Read from the mounts at /sys/fs/cgroup only: a config may have bound the host's /sys
    into the rootfs already (runc spec --rootless does), and those copies list too."""
    v1_own, unified_own = own_cgroups()
    found: dict[str, str] = {}
    with open("/proc/self/mountinfo") as info:
        for line in info:
            fields = line.split()
            separator = fields.index("-")
            fstype, point = fields[separator + 1], fields[4]
            if fstype not in ("cgroup", "cgroup2") or not point.startswith(CGROUP_ROOT):
                continue
            name = point[len(CGROUP_ROOT):].strip("/")
            if fstype == "cgroup2":
                path = unified_own
            else:
                path = next((v1_own[o] for o in fields[separator + 3].split(",") if o in v1_own), None)
            if path is not None and name not in found:
                found[name] = directory((point, fields[3]), None, path)
    return found


def host_cgroup_hierarchies() -> dict[str, tuple[str, str]]:
    """Name under /sys/fs/cgroup -> (fstype, superblock options) of every cgroup mount."""
    found: dict[str, tuple[str, str]] = {}
    with open("/proc/self/mountinfo") as info:
        for line in info:
            fields = line.split()
            separator = fields.index("-")
            fstype, super_options = fields[separator + 1], fields[separator + 3]
            if fstype not in ("cgroup", "cgroup2"):
                continue
            mount_point = fields[4]
            if not mount_point.startswith(CGROUP_ROOT):
                continue
            name = mount_point[len(CGROUP_ROOT):].strip("/")
            if fstype == "cgroup2":
                found[name] = ("cgroup2", "")
            else:
                options = [o for o in super_options.split(",") if o not in ("rw", "ro")]
                found[name] = ("cgroup", ",".join(options))
    return found
