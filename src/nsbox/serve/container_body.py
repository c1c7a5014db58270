"""POST /containers/create's body (Docker's Config and HostConfig) as the engine's run
options, the same dict `nsbox run`'s flags make."""
from __future__ import annotations

from nsbox.serve.http import ApiError


def run_options(body: dict, name: str | None) -> dict:
    config = body
    host = body.get("HostConfig") or {}
    if not config.get("Image"):
        raise ApiError(400, "Config.Image: name the image to run")
    options: dict = {"image": config["Image"], "name": name or None, "detach": True}
    command = list(config.get("Cmd") or [])
    entrypoint = config.get("Entrypoint")
    if isinstance(entrypoint, str):
        entrypoint = [entrypoint]
    if entrypoint is not None:  # the engine takes one program; its other words lead the command
        options["entrypoint"] = entrypoint[0] if entrypoint else ""
        command = list(entrypoint[1:]) + command
    options["command"] = command
    _copy(config, options, (("Env", "env"), ("WorkingDir", "workdir"), ("User", "user"), ("Tty", "tty"),
                            ("OpenStdin", "interactive"), ("Hostname", "hostname"), ("StopSignal", "stop_signal")))
    if config.get("ExposedPorts"):
        options["expose"] = list(config["ExposedPorts"])
    if config.get("Labels"):
        options["label"] = [f"{key}={value}" for key, value in config["Labels"].items()]
    if config.get("StopTimeout") is not None:
        options["stop_timeout"] = str(config["StopTimeout"])
    _host(host, options)
    endpoints = (body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}
    mode = options.get("network")  # HostConfig.NetworkMode: the first network; its endpoint has the options
    endpoint = endpoints.get(mode) or next(iter(endpoints.values()), None) or {}
    options["network_alias"] = list(endpoint.get("Aliases") or [])
    requested = endpoint.get("IPAMConfig") or {}
    options["ip"], options["ip6"] = requested.get("IPv4Address"), requested.get("IPv6Address")
    others = {name: other for name, other in endpoints.items() if name != mode}
    if mode and others:  # several networks at once (API 1.44+), each with its own aliases and addresses
        options["network"] = [mode, *others]
        options["network_endpoints"] = {name: {"Aliases": list(other.get("Aliases") or []),
                                               "IPAMConfig": other.get("IPAMConfig") or None}
                                        for name, other in others.items()}
    if host.get("Dns"):
        options["dns"] = list(host["Dns"])
    if host.get("ExtraHosts"):
        options["add_host"] = list(host["ExtraHosts"])
    if host.get("Sysctls"):
        options["sysctl"] = [f"{key}={value}" for key, value in host["Sysctls"].items()]
    return {key: value for key, value in options.items() if value not in (None, "", [], False, 0)}


def _copy(source: dict, options: dict, pairs) -> None:
    for key, option in pairs:
        if source.get(key):
            options[option] = source[key]


def _host(host: dict, options: dict) -> None:
    numbers = (("Memory", "memory"), ("MemorySwap", "memory_swap"), ("MemoryReservation", "memory_reservation"),
               ("CpuShares", "cpu_shares"), ("PidsLimit", "pids_limit"), ("BlkioWeight", "blkio_weight"))
    for key, option in numbers:
        if host.get(key):
            options[option] = str(host[key])
    if host.get("NanoCpus"):
        options["cpus"] = str(host["NanoCpus"] / 1e9)
    _copy(host, options, (("Binds", "volume"), ("CapAdd", "cap_add"), ("CapDrop", "cap_drop"),
                          ("SecurityOpt", "security_opt"), ("Privileged", "privileged"), ("Init", "init"),
                          ("ReadonlyRootfs", "read_only"), ("AutoRemove", "rm"), ("CgroupParent", "cgroup_parent"),
                          ("PidMode", "pid"), ("IpcMode", "ipc"), ("UTSMode", "uts"), ("Runtime", "runtime")))
    mode = host.get("NetworkMode")
    if mode and mode != "default":
        options["network"] = mode
    policy = host.get("RestartPolicy") or {}
    if policy.get("Name") and policy["Name"] != "no":
        retries = policy.get("MaximumRetryCount") or 0
        options["restart"] = policy["Name"] + (f":{retries}" if policy["Name"] == "on-failure" and retries else "")
    if host.get("Tmpfs"):
        options["tmpfs"] = [f"{path}:{opts}" if opts else path for path, opts in host["Tmpfs"].items()]
    if host.get("Ulimits"):
        options["ulimit"] = [f"{u['Name']}={u['Soft']}:{u['Hard']}" for u in host["Ulimits"]]
    if host.get("Devices"):
        options["device"] = [f"{d['PathOnHost']}:{d.get('PathInContainer') or d['PathOnHost']}:"
                             f"{d.get('CgroupPermissions') or 'rwm'}" for d in host["Devices"]]
    mounts = []
    for mount in host.get("Mounts") or []:
        text = f"type={mount.get('Type', 'volume')},target={mount['Target']}"
        if mount.get("Source"):
            text += f",source={mount['Source']}"
        if mount.get("ReadOnly"):
            text += ",readonly"
        mounts.append(text)
    if mounts:
        options["mount"] = mounts
    publish = []
    for port, bindings in (host.get("PortBindings") or {}).items():
        for binding in bindings or [{}]:
            ip, host_port = binding.get("HostIp") or "", binding.get("HostPort") or ""
            publish.append(f"{ip}:{host_port}:{port}" if ip else (f"{host_port}:{port}" if host_port else port))
    if publish:
        options["publish"] = publish
    options["publish_all"] = bool(host.get("PublishAllPorts"))
