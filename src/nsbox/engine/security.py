"""A container's confinement beyond capabilities: seccomp, no_new_privs, devices.

`host_config(options)` reads --security-opt and --device into HostConfig fields (the
profile given with seccomp=PATH is read once, at create, and kept in the record as
Docker keeps it); `apply(spec, host, caps)` writes them into the OCI config.json.
--privileged means exactly what it means to Docker: every capability nsbox-runtime holds,
no seccomp filter, every host device in /dev, /sys and the cgroup mount writable, and no
masked or read-only paths.
"""
from __future__ import annotations

import os
import stat

from nsbox.errors import InvalidOption

UNCONFINED = "unconfined"


def host_config(options: dict) -> dict:
    """SecurityOpt (as given), SeccompProfile (None: the default; "unconfined"; or a Docker
    profile as data), NoNewPrivileges and Devices."""
    seccomp: object = None
    no_new_privileges = False
    given = list(options.get("security_opt") or [])
    for item in given:
        key, _, value = item.partition("=" if "=" in item else ":")  # Docker also reads seccomp:PATH
        if key == "seccomp":
            if not value:
                raise InvalidOption("--security-opt", "seccomp needs a value: seccomp=unconfined or seccomp=PATH.json")
            if value == UNCONFINED:
                seccomp = UNCONFINED
            else:
                from nsbox.engine.seccomp_profile import read_profile
                seccomp = read_profile(value)
        elif key == "no-new-privileges":
            if value not in ("", "true", "false"):
                raise InvalidOption("--security-opt", f"no-new-privileges takes true or false, got {value!r}")
            no_new_privileges = value != "false"
        elif key in ("apparmor", "label"):
            if value not in (UNCONFINED, "disable"):
                raise InvalidOption("--security-opt", f"{key} profiles are not supported on this host; "
                                                      f"only {key}={UNCONFINED} is accepted")
        else:
            raise InvalidOption("--security-opt", f"unknown option {item!r}: use seccomp=unconfined|PATH.json or "
                                                  "no-new-privileges[=true|false]")
    return {"SecurityOpt": given, "SeccompProfile": seccomp, "NoNewPrivileges": no_new_privileges,
            "Devices": [parse_device(item) for item in options.get("device") or []]}


def parse_device(item: str) -> dict:
    """HOST[:CONTAINER][:PERMISSIONS], as Docker's --device."""
    parts = item.split(":")
    host_path = parts[0]
    container_path, permissions = host_path, "rwm"
    if len(parts) == 2:
        if parts[1] and set(parts[1]) <= set("rwm") and not parts[1].startswith("/"):
            permissions = parts[1]
        else:
            container_path = parts[1]
    elif len(parts) == 3:
        container_path, permissions = parts[1], parts[2]
    elif len(parts) > 3:
        raise InvalidOption("--device", f"must be HOST[:CONTAINER][:rwm], got {item!r}")
    if not host_path.startswith("/") or not container_path.startswith("/"):
        raise InvalidOption("--device", f"paths must be absolute, got {item!r}")
    if not permissions or not set(permissions) <= set("rwm"):
        raise InvalidOption("--device", f"permissions are some of r, w and m, got {permissions!r}")
    try:
        info = os.stat(host_path)
    except OSError as error:
        raise InvalidOption("--device", f"cannot use {host_path}: {error.strerror}") from None
    if not (stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)):
        raise InvalidOption("--device", f"{host_path} is not a device node")
    return {"PathOnHost": host_path, "PathInContainer": container_path, "CgroupPermissions": permissions}


def _device_node(host_path: str, container_path: str) -> dict | None:
    try:
        info = os.stat(host_path)
    except OSError:
        return None
    if stat.S_ISCHR(info.st_mode):
        kind = "c"
    elif stat.S_ISBLK(info.st_mode):
        kind = "b"
    else:
        return None
    return {"path": container_path, "type": kind, "major": os.major(info.st_rdev), "minor": os.minor(info.st_rdev),
            "fileMode": stat.S_IMODE(info.st_mode), "uid": info.st_uid, "gid": info.st_gid}


def host_devices() -> list[dict]:
    """Every device node under the host's /dev (not its pts, shm or mqueue), for --privileged."""
    nodes = []
    for directory, subdirs, files in os.walk("/dev"):
        subdirs[:] = [d for d in subdirs if os.path.join(directory, d) not in ("/dev/pts", "/dev/shm", "/dev/mqueue")]
        for name in files:
            path = os.path.join(directory, name)
            if os.path.islink(path) or path in ("/dev/console", "/dev/ptmx"):
                continue
            node = _device_node(path, path)
            if node is not None:
                nodes.append(node)
    return nodes


def apply(spec: dict, host: dict, capabilities: list[str]) -> None:
    """Write seccomp, no_new_privs and devices of `host` into the OCI `spec`."""
    privileged = bool(host.get("Privileged"))
    spec["process"]["noNewPrivileges"] = bool(host.get("NoNewPrivileges"))
    profile = host.get("SeccompProfile")
    if not privileged and profile != UNCONFINED:
        from nsbox.engine import seccomp_profile
        if profile is None:
            profile = seccomp_profile.read_profile(seccomp_profile.DEFAULT_PROFILE, "the default seccomp profile")
        spec["linux"]["seccomp"] = seccomp_profile.to_oci(profile, capabilities)
    devices = host_devices() if privileged else []
    rules = spec["linux"]["resources"].setdefault("devices", [])
    for device in host.get("Devices") or []:
        node = _device_node(device["PathOnHost"], device["PathInContainer"])
        if node is None:
            raise InvalidOption("--device", f"{device['PathOnHost']} is no longer a device node on this host")
        devices.append(node)
        rules.append({"allow": True, "type": node["type"], "major": node["major"], "minor": node["minor"],
                      "access": device["CgroupPermissions"]})
    if devices:
        spec["linux"]["devices"] = devices


def confinement(record: dict) -> dict:
    """What confines the container, for `inspect`: read from the kernel while it runs
    (/proc/PID/status, uid_map), else what its next start will apply."""
    from nsbox.engine.spec import MASKED_PATHS, READONLY_PATHS, capabilities
    host = record["HostConfig"]
    privileged = bool(host.get("Privileged"))
    profile = host.get("SeccompProfile")
    shown: dict = {
        "Capabilities": capabilities(host),
        "Seccomp": {"Mode": "disabled" if privileged or profile == UNCONFINED else "filter",
                    "Profile": "unconfined" if privileged or profile == UNCONFINED
                    else "default (Docker's)" if profile is None else "custom"},
        "NoNewPrivileges": bool(host.get("NoNewPrivileges")),
        "UidMap": [], "GidMap": [],
        "MaskedPaths": [] if privileged else list(MASKED_PATHS),
        "ReadonlyPaths": [] if privileged else list(READONLY_PATHS),
    }
    pid = record["State"].get("Pid") if record["State"].get("Running") else 0
    if pid:
        try:
            _read_kernel_view(pid, shown)
        except OSError:
            pass  # it ended meanwhile: the configured view stands
    return shown


def _read_kernel_view(pid: int, shown: dict) -> None:
    from nsbox.linux.capabilities import names
    with open(f"/proc/{pid}/status") as status:
        fields = dict(line.rstrip("\n").split(":\t", 1) for line in status if ":\t" in line)
    shown["Capabilities"] = names(int(fields.get("CapEff", "0"), 16))
    shown["Seccomp"]["Mode"] = {"0": "disabled", "1": "strict", "2": "filter"}.get(fields.get("Seccomp", ""), "unknown")
    shown["NoNewPrivileges"] = fields.get("NoNewPrivs") == "1"
    for key, name in (("UidMap", "uid_map"), ("GidMap", "gid_map")):
        with open(f"/proc/{pid}/{name}") as mapping:
            shown[key] = [" ".join(line.split()) for line in mapping]
