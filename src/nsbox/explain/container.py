"""A running container's report: what the kernel shows for its process, section by section,
beside what the host has, and what nsbox asked for (its bundle's config.json)."""
from __future__ import annotations

import os

from nsbox.explain import kernel
from nsbox.oci import jsonio


def explain_container(engine, reference: str) -> dict:
    """The report of `nsbox explain CONTAINER` (a running or paused container)."""
    from nsbox.engine.checked_state import running_record
    record = running_record(engine, reference)
    pid = int(record["State"]["Pid"])
    with open(os.path.join(engine.paths.bundle(record["Id"]), "config.json"), "rb") as config:
        spec = jsonio.loads(config.read())
    init = kernel.process(pid)
    report = {
        "container": {"id": record["Id"], "name": record.get("Name") or "", "image": record.get("Config", {}).get("Image") or record.get("Image") or "",
                      "status": record["State"]["Status"], "host_pid": pid,
                      "container_pid": init["container_pid"] if init else None},
        "namespaces": kernel.namespaces(pid),
        "user_mapping": {kind: kernel.id_map(pid, kind) for kind in ("uid", "gid")},
        "processes": processes(pid),
        "cgroups": cgroups(pid, spec.get("linux", {}).get("resources") or {}),
        "rootfs": rootfs(pid, spec),
        "network": network(pid, record),
        "confinement": dict(kernel.confinement(pid), seccomp_profile=_seccomp_profile(record, spec)),
    }
    from nsbox.explain.recipe import commands
    report["commands"] = commands(report, spec)
    return report


def processes(pid: int) -> list[dict]:
    """Every process in the container's cgroup (the same set `nsbox top` shows)."""
    from nsbox.explain.cgroup_view import member_pids
    rows = [kernel.process(member) for member in sorted(member_pids(pid))]
    return [row for row in rows if row is not None]


def cgroups(pid: int, resources: dict) -> dict:
    from nsbox.explain.cgroup_view import cgroup_report
    return cgroup_report(pid, resources)


def rootfs(pid: int, spec: dict) -> dict:
    """The root mount (an overlay of image layers, or a bind of a directory), the other mounts,
    and which masked and read-only paths the kernel shows as such."""
    mounts = kernel.mountinfo(pid)
    root = next((m for m in reversed(mounts) if m["target"] == "/"), None)
    overlay = None
    if root is not None and root["type"] == "overlay":
        options = dict(item.partition("=")[::2] for item in root["super_options"].split(","))
        overlay = {"lowerdir": options.get("lowerdir", "").split(":"), "upperdir": options.get("upperdir", ""),
                   "workdir": options.get("workdir", "")}
    by_target = {m["target"]: m for m in mounts}
    linux = spec.get("linux", {})
    masked = [{"path": path, "masked": path in by_target} for path in linux.get("maskedPaths", [])]
    readonly = [{"path": path, "read_only": path in by_target and "ro" in by_target[path]["options"].split(",")}
                for path in linux.get("readonlyPaths", [])]
    return {"root": {"type": root["type"] if root else "", "source": root["source"] if root else "",
                     "read_only": root is not None and "ro" in root["options"].split(","), "overlay": overlay,
                     "host_path": spec.get("root", {}).get("path", "")},
            "mounts": [{"target": m["target"], "type": m["type"], "source": m["source"], "options": m["options"]}
                       for m in mounts if m["target"] != "/"],
            "masked_paths": masked, "readonly_paths": readonly}


def network(pid: int, record: dict) -> dict:
    host = record.get("HostConfig", {})
    settings = record.get("NetworkSettings") or {}
    gateways = [n.get("Gateway") for n in (settings.get("Networks") or {}).values() if n.get("Gateway")]
    return {"mode": host.get("NetworkMode") or "none", "interfaces": kernel.interfaces(pid),
            "ports": settings.get("Ports") or {}, "gateway": gateways[0] if gateways else ""}


def _seccomp_profile(record: dict, spec: dict) -> str:
    """Where the seccomp filter came from, as nsbox's records say (the kernel shows only the mode)."""
    seccomp = spec.get("linux", {}).get("seccomp")
    if not seccomp:
        return "none"
    for option in record.get("HostConfig", {}).get("SecurityOpt") or []:
        if option.startswith("seccomp="):
            return option.split("=", 1)[1]
    return f"default ({len(seccomp.get('syscalls', []))} rules, default action {seccomp.get('defaultAction')})"


def host_summary() -> dict:
    """The host's side for the report's header: kernel and hostname."""
    uname = os.uname()
    return {"kernel": uname.release, "hostname": uname.nodename}
