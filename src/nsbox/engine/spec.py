"""A container record (plus its root filesystem) as an OCI runtime config.json.

Docker's default confinement: its capability set, its masked and read-only /proc and
/sys paths and its device allowlist, loosened by --privileged and --cap-add/--cap-drop.
"""
from __future__ import annotations

import os

from nsbox.errors import InvalidOption

DOCKER_CAPABILITIES = ("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                       "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                       "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE")

MASKED_PATHS = ("/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
                "/sys/devices/virtual/powercap")

READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

# Docker's device allowlist: mknod of anything, use of the standard character devices.
ALLOWED_DEVICES = (("c", None, None, "m"), ("b", None, None, "m"), ("c", 1, 3, "rwm"), ("c", 1, 5, "rwm"),
                   ("c", 1, 7, "rwm"), ("c", 1, 8, "rwm"), ("c", 1, 9, "rwm"), ("c", 5, 0, "rwm"),
                   ("c", 5, 1, "rwm"), ("c", 5, 2, "rwm"), ("c", 136, None, "rwm"), ("c", 10, 200, "rwm"))

INIT_BINARY = "/usr/bin/tini-static"
INIT_PATH = "/dev/init"
CPU_PERIOD = 100_000


def cgroups_path(record: dict) -> str:
    """The OCI linux.cgroupsPath of a container: its own cgroup below --cgroup-parent."""
    return record["HostConfig"]["CgroupParent"].rstrip("/") + "/" + record["Id"]


def capabilities(host: dict) -> list[str]:
    """Docker's default set changed by --cap-add/--cap-drop; with --privileged (or ALL) every
    capability this process holds (a runtime cannot grant more: root here lacks CAP_SYS_RESOURCE)."""
    from nsbox.linux.capabilities import held, names
    every = names(held())
    if host.get("Privileged"):
        return every
    add, drop = host.get("CapAdd") or [], host.get("CapDrop") or []
    chosen = [] if "ALL" in drop else list(DOCKER_CAPABILITIES)
    chosen += every if "ALL" in add else [c for c in add if c not in chosen]
    return [c for c in chosen if c not in drop or c in add]


def resources(host: dict) -> dict:
    """HostConfig limits as OCI linux.resources (the runtime's cgroups layer applies them)."""
    res: dict = {}
    memory: dict = {}
    if host.get("Memory"):
        memory["limit"] = host["Memory"]
    if host.get("MemorySwap"):
        memory["swap"] = host["MemorySwap"]
    if host.get("MemoryReservation"):
        memory["reservation"] = host["MemoryReservation"]
    if memory:
        res["memory"] = memory
    cpu: dict = {}
    if host.get("NanoCpus"):
        cpu["period"] = CPU_PERIOD
        cpu["quota"] = host["NanoCpus"] * CPU_PERIOD // 1_000_000_000
    if host.get("CpuShares"):
        cpu["shares"] = host["CpuShares"]
    if host.get("CpusetCpus"):
        cpu["cpus"] = host["CpusetCpus"]
    if host.get("CpusetMems"):
        cpu["mems"] = host["CpusetMems"]
    if cpu:
        res["cpu"] = cpu
    if host.get("PidsLimit"):
        res["pids"] = {"limit": host["PidsLimit"]}
    block: dict = {}
    if host.get("BlkioWeight"):
        block["weight"] = host["BlkioWeight"]
    for key, oci in (("BlkioDeviceReadBps", "throttleReadBpsDevice"), ("BlkioDeviceWriteBps", "throttleWriteBpsDevice"),
                     ("BlkioDeviceReadIOps", "throttleReadIOPSDevice"),
                     ("BlkioDeviceWriteIOps", "throttleWriteIOPSDevice")):
        if host.get(key):
            block[oci] = [{"major": d["Major"], "minor": d["Minor"], "rate": d["Rate"]} for d in host[key]]
    if block:
        res["blockIO"] = block
    return res


def _devices(privileged: bool) -> list[dict]:
    if privileged:
        return [{"allow": True, "access": "rwm"}]
    rules: list[dict] = [{"allow": False, "access": "rwm"}]
    for kind, major, minor, access in ALLOWED_DEVICES:
        rule: dict = {"allow": True, "type": kind, "access": access}
        if major is not None:
            rule["major"] = major
        if minor is not None:
            rule["minor"] = minor
        rules.append(rule)
    return rules


def _user(spec_user: str, rootfs: str) -> dict:
    """uid/gid from "1000", "1000:1000", "nobody" or "nobody:nogroup" (names from the image's /etc)."""
    if not spec_user:
        return {"uid": 0, "gid": 0}
    user, _, group = spec_user.partition(":")
    uid, gid, home_gid = None, None, None
    if user.isdigit():
        uid = int(user)
    entry = _etc_entry(rootfs, "passwd", user, by_number=user.isdigit())
    if entry is not None:
        uid, home_gid = int(entry[2]), int(entry[3])
    if uid is None:
        raise InvalidOption("--user", f"no user {user!r} in the image's /etc/passwd: use a numeric uid or a listed name")
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            entry = _etc_entry(rootfs, "group", group, by_number=False)
            if entry is None:
                raise InvalidOption("--user", f"no group {group!r} in the image's /etc/group: use a numeric gid")
            gid = int(entry[2])
    else:
        gid = home_gid if home_gid is not None else 0
    return {"uid": uid, "gid": gid}


def _etc_entry(rootfs: str, database: str, key: str, by_number: bool) -> list[str] | None:
    from nsbox.linux.mounts import resolve_in_root
    try:
        with open(resolve_in_root(rootfs, f"/etc/{database}")) as lines:
            for line in lines:
                fields = line.rstrip("\n").split(":")
                if len(fields) >= 3 and (fields[2] == key if by_number else fields[0] == key):
                    return fields
    except OSError:
        pass
    return None


def _mounts(record: dict, privileged: bool) -> list[dict]:
    mounts: list[dict] = [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755",
                                                                                "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "rw" if privileged else "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "relatime", "rw" if privileged else "ro"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
    ]
    destinations = {m["Destination"] for m in record["Mounts"]}
    if "/dev/shm" not in destinations:
        mounts.append({"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
                       "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]})
    for mount in record["Mounts"]:
        access = "rw" if mount["RW"] else "ro"
        if mount["Type"] == "tmpfs":
            options = ["nosuid", "nodev", "noexec"] + [o for o in mount["Mode"].split(",") if o and o not in ("ro", "rw")]
            mounts.append({"destination": mount["Destination"], "type": "tmpfs", "source": "tmpfs",
                           "options": options + [access]})
        else:
            if mount["Type"] == "volume" and not os.path.isdir(mount["Source"]):
                os.makedirs(mount["Source"])
                from nsbox.engine.userns import host_root
                owner = host_root(record["HostConfig"].get("IdMappings"))
                if owner is not None:  # a new volume belongs to the container's root, as Docker's
                    os.chown(mount["Source"], *owner)
            mounts.append({"destination": mount["Destination"], "type": "bind", "source": mount["Source"],
                           "options": ["rbind", access, mount.get("Propagation") or "rprivate"]})
    from nsbox.engine.networking import etc_mounts
    mounts += [mount for mount in etc_mounts(record) if mount["destination"] not in destinations]
    if record["HostConfig"].get("Init"):
        mounts.append({"destination": INIT_PATH, "type": "bind", "source": INIT_BINARY, "options": ["bind", "ro"]})
    return mounts


def _rlimits(ulimits: list[dict]) -> list[dict]:
    """--ulimit as OCI process.rlimits (-1, unlimited, is the largest 64-bit value)."""
    return [{"type": "RLIMIT_" + u["Name"].upper(),
             "soft": 0xFFFFFFFFFFFFFFFF if u["Soft"] == -1 else u["Soft"],
             "hard": 0xFFFFFFFFFFFFFFFF if u["Hard"] == -1 else u["Hard"]} for u in ulimits]


def _namespaces(record: dict, namespace_path) -> list[dict]:
    """The namespaces of the container: new ones, joined ones (container:NAME, the network's
    sandbox) or none (host) per Docker's modes."""
    host = record["HostConfig"]
    namespaces: list[dict] = [{"type": "mount"}]
    for kind, mode in (("pid", host.get("PidMode")), ("ipc", host.get("IpcMode")), ("uts", host.get("UTSMode")),
                       ("network", host.get("NetworkMode"))):
        if mode == "host":
            continue
        if mode and mode.startswith("container:"):
            namespaces.append({"type": kind, "path": namespace_path(kind, mode)})
        elif kind == "network" and (record.get("NetworkSettings") or {}).get("SandboxKey"):
            namespaces.append({"type": kind, "path": record["NetworkSettings"]["SandboxKey"]})
        else:
            namespaces.append({"type": kind})
    if host.get("CgroupnsMode") == "private":
        namespaces.append({"type": "cgroup"})
    if host.get("Timens"):
        namespaces.append({"type": "time"})
    if host.get("IdMappings"):
        namespaces.append({"type": "user"})
    return namespaces


def make_spec(record: dict, rootfs: str, namespace_path) -> dict:
    """The config.json for `record`; namespace_path(kind, "container:NAME") gives /proc/PID/ns/KIND."""
    config, host = record["Config"], record["HostConfig"]
    privileged = bool(host.get("Privileged"))
    args = (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
    if host.get("Init"):
        if not os.path.exists(INIT_BINARY):
            raise InvalidOption("--init", f"needs {INIT_BINARY} on the host: apt-get install tini")
        args = [INIT_PATH, "--"] + args
    caps = capabilities(host)
    hostname = config.get("Hostname") or record["Id"][:12]
    env = list(config["Env"])
    if not any(item.startswith("HOSTNAME=") for item in env):
        env.append(f"HOSTNAME={hostname}")
    process: dict = {
        "terminal": bool(config.get("Tty")),
        "user": _user(config.get("User") or "", rootfs),
        "args": args,
        "env": env,
        "cwd": config.get("WorkingDir") or "/",
        "capabilities": {"bounding": caps, "effective": list(caps), "permitted": list(caps)},
        "noNewPrivileges": False,
        "oomScoreAdj": 0,
    }
    if host.get("Ulimits"):
        process["rlimits"] = _rlimits(host["Ulimits"])
    mappings = host.get("IdMappings")
    linux: dict = {
        "namespaces": _namespaces(record, namespace_path),
        "resources": dict(resources(host), devices=_devices(privileged)),
        "cgroupsPath": cgroups_path(record),
    }
    if host.get("Sysctls"):
        linux["sysctl"] = dict(host["Sysctls"])
    if mappings:
        linux["uidMappings"] = [{"containerID": c, "hostID": h, "size": n} for c, h, n in mappings["UidMap"]]
        linux["gidMappings"] = [{"containerID": c, "hostID": h, "size": n} for c, h, n in mappings["GidMap"]]
    if not privileged:
        linux["maskedPaths"] = list(MASKED_PATHS)
        linux["readonlyPaths"] = list(READONLY_PATHS)
    spec: dict = {
        "ociVersion": "1.1.0",
        "process": process,
        "root": {"path": rootfs, "readonly": bool(host.get("ReadonlyRootfs"))},
        "mounts": _mounts(record, privileged),
        "linux": linux,
        "annotations": {"org.nsbox.container.name": record.get("Name") or "",
                        **{f"org.nsbox.label.{k}": v for k, v in (config.get("Labels") or {}).items()}},
    }
    if not host.get("UTSMode"):  # a new UTS namespace: host and container:NAME keep theirs
        spec["hostname"] = hostname
    from nsbox.engine import security
    security.apply(spec, host, caps)
    return spec
