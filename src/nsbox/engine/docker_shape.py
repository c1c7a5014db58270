"""Docker's shapes of nsbox's objects, one implementation for every face (the CLI's inspect,
ps and images, `nsbox serve`'s answers, the Python API): a container as `docker inspect` shows
it, a container or image as the Engine API lists it, and the words Docker uses for a state."""
from __future__ import annotations

import time

from nsbox.engine.names import SHORT_ID

ZERO_TIME = "0001-01-01T00:00:00Z"

# Docker's HostConfig keys that nsbox has no setting for, with Docker's empty values
HOST_DEFAULTS: dict = {
    "Binds": None, "ContainerIDFile": "", "LogConfig": {"Type": "json-file", "Config": {}}, "PortBindings": {},
    "VolumeDriver": "", "VolumesFrom": None, "Dns": [], "DnsOptions": [], "DnsSearch": [], "ExtraHosts": None,
    "GroupAdd": None, "Cgroup": "", "Links": None, "OomScoreAdj": 0, "PublishAllPorts": False,
    "SecurityOpt": None, "ShmSize": 67108864, "ConsoleSize": [0, 0], "Isolation": "", "BlkioWeightDevice": [],
    "CpuPeriod": 0, "CpuQuota": 0, "CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0, "Devices": [],
    "DeviceCgroupRules": None, "DeviceRequests": None, "KernelMemory": 0, "KernelMemoryTCP": 0,
    "MemorySwappiness": None, "OomKillDisable": False, "CpuCount": 0, "CpuPercent": 0, "IOMaximumIOps": 0,
    "IOMaximumBandwidth": 0, "MaskedPaths": None, "ReadonlyPaths": None}


# Docker's Config keys in Docker's order, with the values of a record made before nsbox kept them
CONFIG_DEFAULTS: dict = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
    "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": None, "Cmd": None,
    "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None, "OnBuild": None, "Labels": {}}


def container_inspect(record: dict, root: str) -> dict:
    """A container as `docker inspect` (and GET /containers/ID/json) shows it: Docker's keys in Docker's order, nsbox's extras after."""
    from nsbox.engine.paths import Paths
    from nsbox.engine.security import confinement
    state = dict(record["State"], MonitorPid=(record.get("Monitor") or {}).get("Pid", 0))
    state["StartedAt"] = state.get("StartedAt") or ZERO_TIME
    state["FinishedAt"] = state.get("FinishedAt") or ZERO_TIME
    host = dict(HOST_DEFAULTS, **(record.get("HostConfig") or {}))
    if isinstance(host.get("SeccompProfile"), dict):
        host["SeccompProfile"] = "custom"  # the whole profile is kept in the record, not shown
    security = confinement(record)
    host["MaskedPaths"], host["ReadonlyPaths"] = security["MaskedPaths"], security["ReadonlyPaths"]
    binds = [f"{m['Source']}:{m['Destination']}" + ("" if m.get("RW", True) else ":ro")
             for m in record.get("Mounts") or [] if m.get("Type") == "bind"]
    host["Binds"] = host["Binds"] or binds or None
    config = record.get("Config") or {}
    shown_config = {key: config.get(key, default) for key, default in CONFIG_DEFAULTS.items()}
    shown_config["WorkingDir"] = shown_config["WorkingDir"] if shown_config["WorkingDir"] != "/" else ""
    shown_config["Volumes"] = shown_config["Volumes"] or _volumes(record)
    if (record.get("HostConfig") or {}).get("NetworkMode", "none") == "none":  # omitted otherwise, as by Docker
        shown_config = dict(list(shown_config.items())[:15] + [("NetworkDisabled", True)]
                            + list(shown_config.items())[15:])
    shown_config.update((key, value) for key, value in config.items() if key not in shown_config)
    pid = record["State"].get("Pid")
    network = (record.get("HostConfig") or {}).get("NetworkMode", "none")
    shown = {
        "Id": record["Id"], "Created": record.get("Created", ""), "Path": record.get("Path", ""),
        "Args": record.get("Args", []), "State": state, "Image": record.get("Image", ""),
        "ResolvConfPath": record.get("ResolvConfPath", ""), "HostnamePath": record.get("HostnamePath", ""),
        "HostsPath": record.get("HostsPath", ""), "LogPath": Paths(root).container(record["Id"], "container.log"),
        "Name": "/" + (record.get("Name") or ""), "RestartCount": record.get("RestartCount", 0),
        "Driver": "overlay" if record.get("Image") else "", "Platform": "linux", "MountLabel": "",
        "ProcessLabel": "", "AppArmorProfile": "", "ExecIDs": record.get("ExecIDs") or None, "HostConfig": host,
        "GraphDriver": _graph_driver(record, root), "Mounts": record.get("Mounts") or [], "Config": shown_config,
        "NetworkSettings": _network_settings(record, network, pid),
        "Security": security}
    shown.update((key, value) for key, value in record.items()
                 if key not in shown and key not in ("InitStart", "Monitor", "ManualStop"))
    return shown


def _volumes(record: dict) -> dict | None:
    volumes: dict[str, dict] = {m["Destination"]: {} for m in record.get("Mounts") or [] if m.get("Type") == "volume"}
    return volumes or None


def _graph_driver(record: dict, root: str) -> dict:
    """The container's overlay directories (a --rootfs container has none)."""
    if not record.get("Image"):
        return {"Data": None, "Name": ""}
    import os
    from nsbox.image.rootfs import rootfs_path
    top = os.path.dirname(rootfs_path(root, record["Id"]))
    return {"Data": {name + "Dir": os.path.join(top, name.lower()) for name in ("Merged", "Upper", "Work")},
            "Name": "overlay"}



def _network_settings(record: dict, network: str, pid: int) -> dict:
    """NetworkSettings as Docker shapes it, from what CNI ADD gave the container."""
    settings = record.get("NetworkSettings") or {}
    return {"Networks": settings.get("Networks") or ({} if network.startswith("container:") else {network: {}}),
            "Ports": settings.get("Ports") or {}, "IPAddress": settings.get("IPAddress", ""),
            "IPPrefixLen": settings.get("IPPrefixLen", 0), "Gateway": settings.get("Gateway", ""),
            "MacAddress": settings.get("MacAddress", ""),
            "SandboxKey": settings.get("SandboxKey") or (f"/proc/{pid}/ns/net" if pid else "")}


def container_summary(record: dict) -> dict:
    """A container as GET /containers/json lists it (Docker's ContainerSummary)."""
    from nsbox.oci.timestamps import parse_rfc3339
    config = record.get("Config") or {}
    settings = record.get("NetworkSettings") or {}
    network_mode = (record.get("HostConfig") or {}).get("NetworkMode") or "none"
    return {"Id": record["Id"], "Names": ["/" + (record.get("Name") or "")],
            "Image": config.get("Image") or "", "ImageID": record.get("Image") or "",
            "Command": command_text(record),
            "Created": int(parse_rfc3339(record["Created"])) if record.get("Created") else 0,
            "Ports": _port_list(settings.get("Ports") or {}), "Labels": config.get("Labels") or {},
            "State": record["State"].get("Status") or "", "Status": status_text(record),
            "HostConfig": {"NetworkMode": network_mode},
            "NetworkSettings": {"Networks": settings.get("Networks") or {}},
            "Mounts": [{"Type": m.get("Type", ""), "Name": m.get("Name", ""), "Source": m.get("Source", ""),
                        "Destination": m.get("Destination", ""), "RW": m.get("RW", True)}
                       for m in record.get("Mounts") or []]}


def _port_list(ports: dict) -> list[dict]:
    """{"80/tcp": [{"HostIp": .., "HostPort": "8080"}]} as the list a summary carries."""
    shown = []
    for key, bindings in sorted(ports.items()):
        port, _, protocol = key.partition("/")
        for binding in bindings or [{}]:
            row: dict = {"PrivatePort": int(port), "Type": protocol or "tcp"}
            if binding.get("HostPort"):
                row.update(IP=binding.get("HostIp") or "0.0.0.0", PublicPort=int(binding["HostPort"]))
            shown.append(row)
    return shown


def image_summary(described: dict) -> dict:
    """An image (as image.manage.describe gives it) as GET /images/json lists it (ImageSummary)."""
    from nsbox.oci.timestamps import parse_rfc3339
    return {"Id": described["Id"], "ParentId": "", "RepoTags": described["RepoTags"] or ["<none>:<none>"],
            "RepoDigests": described["RepoDigests"], "Size": described["Size"], "SharedSize": -1,
            "VirtualSize": described["Size"], "Labels": (described.get("Config") or {}).get("Labels") or {},
            "Containers": -1,
            "Created": int(parse_rfc3339(described["Created"])) if described.get("Created") else 0}


def ago(stamp: str) -> str:
    """"3 minutes", "About an hour", ... as Docker writes durations."""
    from nsbox.engine.humanize import human_duration
    from nsbox.oci.timestamps import parse_rfc3339
    return human_duration(max(0.0, time.time() - parse_rfc3339(stamp)))


def status_text(record: dict) -> str:
    """Docker's status words: "Up 5 seconds", "Exited (0) 2 minutes ago", ..."""
    from nsbox.engine.checked_state import LOST_MONITOR
    state = record["State"]
    status = state.get("Status")
    if status == "running":
        text = f"Up {ago(state.get('StartedAt') or '')}"
        return text + " (no monitor)" if state.get("Error") == LOST_MONITOR else text
    if status == "paused":
        return f"Up {ago(state.get('StartedAt') or '')} (Paused)"
    if status == "restarting":
        return f"Restarting ({state.get('ExitCode', 0)}) {ago(state.get('FinishedAt') or '')} ago"
    if status == "exited":
        code = state.get("ExitCode")
        shown = "unknown" if code == -1 else code
        return f"Exited ({shown}) {ago(state.get('FinishedAt') or '')} ago" if state.get("FinishedAt") \
            else f"Exited ({shown})"
    if status == "created":
        return f"Created (init {state['Pid']} waiting, its nsbox gone)" if state.get("Pid") else "Created"
    if status == "removing":
        return "Removal In Progress"
    if record.get("Damaged"):
        return f"Dead (damaged record: {record['Damaged']})"
    return "Dead"


def short(container_id: str, full: bool = False) -> str:
    return container_id if full else container_id[:SHORT_ID]


def command_text(record: dict) -> str:
    config = record.get("Config") or {}
    return " ".join((config.get("Entrypoint") or []) + (config.get("Cmd") or []))
