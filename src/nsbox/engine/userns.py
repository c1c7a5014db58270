"""--userns remap|auto and --uidmap/--gidmap: root inside is an unprivileged id outside.

As Docker's userns-remap, the range comes from /etc/subuid and /etc/subgid, under the
name "nsbox", and the entry is added on first use (the first free 65536 ids from
100000). NSBOX_SUBUID_FILE and NSBOX_SUBGID_FILE point elsewhere (tests use them).
"""
from __future__ import annotations

import os

from nsbox.errors import InvalidOption

RANGE_NAME = "nsbox"
RANGE_SIZE = 65536
FIRST_ID = 100000
MODES = ("", "host", "remap", "auto")


def _path(kind: str) -> str:
    return os.environ.get(f"NSBOX_SUB{kind.upper()}_FILE") or f"/etc/sub{kind}"


def subordinate_range(kind: str) -> tuple[int, int]:
    """(first host id, count) of the "nsbox" entry of /etc/sub{uid,gid}, added if missing."""
    path = _path(kind)
    import fcntl
    with open(path, "a+") as table:
        fcntl.flock(table, fcntl.LOCK_EX)
        table.seek(0)
        end = FIRST_ID
        for number, line in enumerate(table.read().splitlines(), 1):
            fields = line.strip().split(":")
            if len(fields) != 3 or not fields[1].isdigit() or not fields[2].isdigit():
                continue
            start, count = int(fields[1]), int(fields[2])
            if fields[0] == RANGE_NAME:
                return start, count
            end = max(end, start + count)
        start = end  # the first id after every range listed (100000 on a fresh host)
        table.seek(0, os.SEEK_END)
        if table.tell() and not _ends_with_newline(path):
            table.write("\n")
        table.write(f"{RANGE_NAME}:{start}:{RANGE_SIZE}\n")
        table.flush()
        os.fsync(table.fileno())
        return start, RANGE_SIZE


def _ends_with_newline(path: str) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def parse_map(item: str, flag: str) -> list[int]:
    parts = item.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or int(parts[2]) == 0:
        raise InvalidOption(flag, f"must be CONTAINER_ID:HOST_ID:SIZE, got {item!r}")
    return [int(p) for p in parts]


def host_config(options: dict) -> dict:
    """UsernsMode and IdMappings ({"UidMap": [[container, host, size]...], "GidMap": ...}),
    decided at create so that a later change of /etc/subuid leaves the container as it was."""
    mode = options.get("userns") or ""
    if mode not in MODES:
        raise InvalidOption("--userns", f"unsupported mode {mode!r}: use host, remap or auto")
    uid_map = [parse_map(item, "--uidmap") for item in options.get("uidmap") or []]
    gid_map = [parse_map(item, "--gidmap") for item in options.get("gidmap") or []]
    if (uid_map or gid_map) and mode == "host":
        raise InvalidOption("--userns", "host conflicts with --uidmap/--gidmap")
    if mode in ("remap", "auto") and not uid_map:
        start, count = subordinate_range("uid")
        uid_map = [[0, start, count]]
    if (mode in ("remap", "auto") or uid_map) and not gid_map:
        start, count = subordinate_range("gid") if mode in ("remap", "auto") else (uid_map[0][1], uid_map[0][2])
        gid_map = [[0, start, count]]
    if gid_map and not uid_map:
        raise InvalidOption("--gidmap", "needs --uidmap (or --userns remap) as well")
    mappings = {"UidMap": uid_map, "GidMap": gid_map} if uid_map else None
    return {"UsernsMode": mode, "IdMappings": mappings}


def host_root(mappings: dict | None) -> tuple[int, int] | None:
    """The host uid and gid of the container's root, or None when it is the host's root."""
    if not mappings:
        return None
    def host_id(table: list[list[int]]) -> int:
        for container, host, size in table:
            if container <= 0 < container + size:
                return host - container
        return 65534  # root is not mapped: it shows as nobody
    return host_id(mappings["UidMap"]), host_id(mappings["GidMap"])


def overlay_maps(mappings: dict | None) -> tuple[str, str] | None:
    """The uid_map and gid_map lines a remapped container's root filesystem is mounted
    with (id-mapped layers); None when it is not remapped."""
    if not mappings:
        return None
    return map_lines(mappings["UidMap"]), map_lines(mappings["GidMap"])


def map_lines(table: list[list[int]]) -> str:
    return "".join(f"{container} {host} {size}\n" for container, host, size in table)


def check_reachable(root: str) -> None:
    """The remapped root must pass through every directory above nsbox's root to its root
    filesystem (nsbox opens its own directories for it; the ones above are the user's)."""
    path = os.path.dirname(os.path.abspath(root))
    while True:
        if not os.stat(path).st_mode & 0o001:
            raise InvalidOption("--userns", f"the container's root (an unprivileged host uid) cannot pass through "
                                            f"{path}: give it search permission (chmod o+x {path}) or use an nsbox "
                                            "--root below directories that have it")
        if path == "/":
            return
        path = os.path.dirname(path)
