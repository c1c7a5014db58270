"""nsbox inspect: containers (or images: Docker falls back to them) as Docker-shaped JSON,
or through a Go template (-f/--format)."""
from __future__ import annotations

USAGE = "usage: nsbox inspect [-f FORMAT] [--type container|image] [-s] NAME|ID [NAME|ID...]"
FLAGS = {"-f=": "format", "--format=": "format", "--type=": "type", "-s": "size", "--size": "size"}
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


def docker_shape(record: dict, root: str) -> dict:
    """The record as `docker inspect` shows it: Docker's keys in Docker's order, nsbox's extras after."""
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


def _image_shape(root: str, name: str) -> dict | None:
    from nsbox.errors import ImageError, NotFound
    from nsbox.image.manage import describe
    try:
        return describe(root, name)
    except (NotFound, ImageError):
        return None


def main(argv: list[str], root: str) -> int:
    import sys

    from nsbox.flags import parse
    from nsbox.cli.formatting import print_json
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError, NotFound
    options, names = parse(argv, FLAGS, USAGE, stop_at_positional=False)
    if not names:
        raise ConfigError("NAME", f"name at least one container or image\n{USAGE}")
    kind = options.get("type") or ""
    if kind not in ("", "container", "image"):
        raise ConfigError("--type", f"must be container or image, got {kind!r}")
    engine = Engine(root)
    found, missing = [], []
    for name in names:
        shape = None
        if kind != "image":
            try:
                record = engine.get(name)
                shape = docker_shape(record, engine.root)
            except NotFound:
                pass
        if shape is None and kind != "container":
            shape = _image_shape(engine.root, name)
        if shape is None:
            missing.append(name)
        else:
            found.append(shape)
    form = options.get("format")
    if form and form != "json":
        from nsbox.cli.formatting import render_each
        sys.stdout.write(render_each(form, found))
    else:
        print_json(found)
    if missing:
        from nsbox.errors import ContainerNotFound, ImageNotFound, ObjectNotFound
        error = {"container": ContainerNotFound, "image": ImageNotFound}.get(kind, ObjectNotFound)
        raise error("\n".join(f"No such {kind or 'object'}: {name}" for name in missing))
    return 0


def _network_settings(record: dict, network: str, pid: int) -> dict:
    """NetworkSettings as Docker shapes it, from what CNI ADD gave the container."""
    settings = record.get("NetworkSettings") or {}
    return {"Networks": settings.get("Networks") or ({} if network.startswith("container:") else {network: {}}),
            "Ports": settings.get("Ports") or {}, "IPAddress": settings.get("IPAddress", ""),
            "IPPrefixLen": settings.get("IPPrefixLen", 0), "Gateway": settings.get("Gateway", ""),
            "MacAddress": settings.get("MacAddress", ""),
            "SandboxKey": settings.get("SandboxKey") or (f"/proc/{pid}/ns/net" if pid else "")}
