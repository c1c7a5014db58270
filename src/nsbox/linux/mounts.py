"""Mount flags, OCI mount options, and mounting safely inside a root filesystem."""
from __future__ import annotations

import os

from nsbox.linux import libc

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_SYNCHRONOUS = 0x10
MS_REMOUNT = 0x20
MS_MANDLOCK = 0x40
MS_DIRSYNC = 0x80
MS_NOSYMFOLLOW = 0x100
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_MOVE = 0x2000
MS_REC = 0x4000
MS_SILENT = 0x8000
MS_UNBINDABLE = 0x20000
MS_PRIVATE = 0x40000
MS_SLAVE = 0x80000
MS_SHARED = 0x100000
MS_RELATIME = 0x200000
MS_STRICTATIME = 0x1000000
MS_LAZYTIME = 0x2000000
MNT_DETACH = 2

# option -> (flag, clear?) ; clear=True means the option removes the flag
OPTIONS: dict[str, tuple[int, bool]] = {
    "ro": (MS_RDONLY, False), "rw": (MS_RDONLY, True),
    "nosuid": (MS_NOSUID, False), "suid": (MS_NOSUID, True),
    "nodev": (MS_NODEV, False), "dev": (MS_NODEV, True),
    "noexec": (MS_NOEXEC, False), "exec": (MS_NOEXEC, True),
    "sync": (MS_SYNCHRONOUS, False), "async": (MS_SYNCHRONOUS, True),
    "dirsync": (MS_DIRSYNC, False), "mand": (MS_MANDLOCK, False), "nomand": (MS_MANDLOCK, True),
    "noatime": (MS_NOATIME, False), "atime": (MS_NOATIME, True),
    "nodiratime": (MS_NODIRATIME, False), "diratime": (MS_NODIRATIME, True),
    "relatime": (MS_RELATIME, False), "norelatime": (MS_RELATIME, True),
    "strictatime": (MS_STRICTATIME, False), "nostrictatime": (MS_STRICTATIME, True),
    "lazytime": (MS_LAZYTIME, False), "nolazytime": (MS_LAZYTIME, True),
    "nosymfollow": (MS_NOSYMFOLLOW, False), "symfollow": (MS_NOSYMFOLLOW, True),
    "bind": (MS_BIND, False), "rbind": (MS_BIND | MS_REC, False),
    "remount": (MS_REMOUNT, False), "silent": (MS_SILENT, False), "loud": (MS_SILENT, True),
    "defaults": (0, False),
}

PROPAGATION: dict[str, int] = {
    "private": MS_PRIVATE, "rprivate": MS_PRIVATE | MS_REC,
    "shared": MS_SHARED, "rshared": MS_SHARED | MS_REC,
    "slave": MS_SLAVE, "rslave": MS_SLAVE | MS_REC,
    "unbindable": MS_UNBINDABLE, "runbindable": MS_UNBINDABLE | MS_REC,
}


def parse_options(options: list[str]) -> tuple[int, int, list[str]]:
    """OCI mount options -> (flags, propagation flags, data options for the filesystem)."""
    flags = 0
    propagation = 0
    data: list[str] = []
    for option in options:
        known = OPTIONS.get(option)
        if known is not None:
            flag, clear = known
            flags = flags & ~flag if clear else flags | flag
        elif option in PROPAGATION:
            propagation |= PROPAGATION[option]
        elif option in ("idmap", "ridmap"):
            continue  # runtime/idmapped_mounts.py reads these
        elif option in ("tmpcopyup", "recursive"):
            from nsbox.errors import ConfigError
            raise ConfigError("mounts", f"mount option {option!r} is not supported by nsbox-runtime yet")
        else:
            data.append(option)
    return flags, propagation, data


def resolve_in_root(root: str, path: str) -> str:
    """`path` (absolute inside the container) as a host path under `root`, following
    symlinks as if `root` were "/": nothing can lead out of the root filesystem."""
    parts = [p for p in path.split("/") if p and p != "."]
    resolved: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        try:
            target = os.readlink(candidate)
        except OSError:
            resolved.append(part)
            continue
        hops += 1
        if hops > 40:
            raise OSError(40, f"too many levels of symbolic links resolving {path!r} in {root}")
        if target.startswith("/"):
            resolved = []
        parts = [p for p in target.split("/") if p and p != "."] + parts
    return os.path.join(root, *resolved)


def make_mount_point(target: str, is_file: bool) -> None:
    """Create the directory (or empty file) a mount needs, with parents."""
    if os.path.lexists(target):
        return
    if is_file:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644))
    else:
        os.makedirs(target, exist_ok=True)


mount = libc.mount
umount2 = libc.umount2
pivot_root = libc.pivot_root


def mount_points(mountinfo: str = "/proc/self/mountinfo") -> list[str]:
    """Every mount point this process sees, in mount order (mountinfo's octal escapes undone)."""
    points = []
    with open(mountinfo) as lines:
        for line in lines:
            point = line.split()[4]
            if "\\" in point:
                point = point.encode().decode("unicode_escape")
            points.append(point)
    return points
