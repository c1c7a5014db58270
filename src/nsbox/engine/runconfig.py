"""Docker's run options turned into a container record (Config, HostConfig, Mounts; the
mount flags are read by nsbox.engine.mount_options).

The options come as a dict keyed by flag (`memory`, `env`, `volume` ...; lists for
repeatable flags), from the CLI's parser or the Python API. Every refusal is a
InvalidOption naming the flag. The record is what the store keeps and `inspect` shows;
nsbox.engine.spec turns it into an OCI config.json at each start.
"""
from __future__ import annotations

import os

from nsbox.linux.signals import parse_signal
from nsbox.engine.quantities import SECONDS_MAX, parse_int, parse_size
from nsbox.errors import InvalidOption
from nsbox.oci.timestamps import rfc3339_now

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")
NAMESPACE_MODES = {"ipc": ("", "private", "shareable", "host"), "pid": ("", "host"), "uts": ("", "host")}


def make_record(options: dict, image: dict | None, root: str) -> dict:
    """A new container's record (without Id and Name, which the store gives)."""
    image_config = (image or {}).get("config") or {}
    from nsbox.engine.networking import network_config
    config = _config(options, image_config)
    host = _host_config(options)
    network_host, network_settings = network_config(options, root, config["ExposedPorts"])
    host.update(network_host)
    if options.get("sysctl"):
        from nsbox.engine.sysctls import host_config
        host.update(host_config(options["sysctl"], host))
    config["MacAddress"] = options.get("mac_address") or ""
    mounts: list[dict] = []
    if options.get("volume") or options.get("mount") or options.get("tmpfs"):
        from nsbox.engine.mount_options import parse_mounts
        mounts = parse_mounts(options, root)
    return {
        "Created": rfc3339_now(),
        "Path": (config["Entrypoint"] or config["Cmd"] or [""])[0],
        "Args": ((config["Entrypoint"] or []) + (config["Cmd"] or []))[1:],
        "Image": (image or {}).get("id", ""),
        "Rootfs": options.get("rootfs") or "",
        "Config": config,
        "HostConfig": host,
        "Mounts": mounts,
        "NetworkSettings": network_settings,
        "State": {"Status": "created", "Running": False, "Paused": False, "Restarting": False,
                  "OOMKilled": False, "Dead": False, "Pid": 0, "ExitCode": 0, "Error": "",
                  "StartedAt": "", "FinishedAt": ""},
        "RestartCount": 0,
        "Monitor": {"Pid": 0, "Start": 0},
        "ManualStop": False,
    }


def _config(options: dict, image_config: dict) -> dict:
    command = list(options.get("command") or [])
    entrypoint = image_config.get("Entrypoint") or []
    cmd = image_config.get("Cmd") or []
    if "entrypoint" in options:
        entrypoint = [options["entrypoint"]] if options["entrypoint"] else []
        cmd = []
    if command:
        cmd = command
    if not entrypoint and not cmd:
        raise InvalidOption("COMMAND", "no command given and the image sets none: add one after the image name")
    env = _env(options, image_config.get("Env") or [])
    stop_signal = options.get("stop_signal") or image_config.get("StopSignal") or "SIGTERM"
    parse_signal(stop_signal, "--stop-signal")
    labels = dict(image_config.get("Labels") or {})
    for item in options.get("label") or []:
        key, _, value = item.partition("=")
        if not key:
            raise InvalidOption("--label", f"must be KEY=VALUE, got {item!r}")
        labels[key] = value
    workdir = options.get("workdir") or image_config.get("WorkingDir") or ""  # "": the runtime's "/"
    if workdir and not workdir.startswith("/"):
        raise InvalidOption("--workdir", f"must be an absolute path inside the container, got {workdir!r}")
    attached = not options.get("detach")
    interactive = bool(options.get("interactive"))
    return {
        "Hostname": options.get("hostname") or "",
        "Domainname": "",
        "User": options.get("user") or image_config.get("User") or "",
        "AttachStdin": interactive and attached,
        "AttachStdout": attached,
        "AttachStderr": attached,
        "StdinOnce": interactive and attached,
        "Env": env,
        "Entrypoint": entrypoint or None,
        "Cmd": cmd or None,
        "WorkingDir": workdir,
        "Labels": labels,
        "Tty": bool(options.get("tty")),
        "OpenStdin": bool(options.get("interactive")),
        "StopSignal": stop_signal,
        "StopTimeout": parse_int(options["stop_timeout"], "--stop-timeout", -1, SECONDS_MAX) if "stop_timeout" in options else 10,
        "ExposedPorts": dict(image_config.get("ExposedPorts") or {}, **_exposed(options)),
        "Image": options.get("image") or "",
    }


def _exposed(options: dict) -> dict:
    """--expose's ports (nsbox.network.ports.parse_expose), beside the image's."""
    if not options.get("expose"):
        return {}
    from nsbox.network.ports import parse_expose
    return parse_expose(options["expose"])


def _env(options: dict, image_env: list[str]) -> list[str]:
    """The user's variables first, then the image's (and PATH, TERM) that they do not set, as Docker orders them."""
    inherited: dict[str, str] = {}
    for item in [DEFAULT_PATH] + list(image_env):
        key, _, value = item.partition("=")
        inherited[key] = value
    if options.get("tty"):
        inherited.setdefault("TERM", "xterm")
    merged: dict[str, str] = {}
    given: list[tuple[str, str]] = []
    for path in options.get("env_file") or []:
        try:
            with open(path) as lines:
                for number, line in enumerate(lines, 1):
                    line = line.strip()
                    if line and not line.startswith("#"):
                        given.append((f"--env-file {path}:{number}", line))
        except OSError as error:
            raise InvalidOption("--env-file", f"cannot read {path}: {error.strerror}") from None
    given += [("--env", item) for item in options.get("env") or []]
    for field, item in given:
        key, has_value, value = item.partition("=")
        if not key or " " in key:
            raise InvalidOption(field, f"must be NAME=VALUE or NAME, got {item!r}")
        if has_value:
            merged[key] = value
        elif key in os.environ:  # `-e NAME` passes the caller's value, as Docker does
            merged[key] = os.environ[key]
    merged.update((key, value) for key, value in inherited.items() if key not in merged)
    return [f"{key}={value}" for key, value in merged.items()]


def _host_config(options: dict) -> dict:
    host: dict = {
        "Memory": parse_size(options["memory"], "--memory") if options.get("memory") else 0,
        "MemoryReservation": parse_size(options["memory_reservation"], "--memory-reservation")
        if options.get("memory_reservation") else 0,
        "MemorySwap": 0,
        "NanoCpus": 0,
        "CpuShares": parse_int(options["cpu_shares"], "--cpu-shares", 2, 262144) if options.get("cpu_shares") else 0,
        "CpusetCpus": options.get("cpuset_cpus") or "",
        "CpusetMems": options.get("cpuset_mems") or "",
        "PidsLimit": parse_int(options["pids_limit"], "--pids-limit", -1) if options.get("pids_limit") else 0,
        "BlkioWeight": parse_int(options["blkio_weight"], "--blkio-weight", 10, 1000) if options.get("blkio_weight") else 0,
        "Ulimits": [_ulimit(item) for item in options.get("ulimit") or []],
        "ReadonlyRootfs": bool(options.get("read_only")),
        "Init": bool(options.get("init")),
        "AutoRemove": bool(options.get("rm")),
        "CgroupParent": options.get("cgroup_parent") or os.environ.get("NSBOX_CGROUP_PARENT") or "/nsbox",
        "Privileged": bool(options.get("privileged")),
        "CapAdd": [_cap(c, "--cap-add") for c in options.get("cap_add") or []],
        "CapDrop": [_cap(c, "--cap-drop") for c in options.get("cap_drop") or []],
        "Runtime": options.get("runtime") or os.environ.get("NSBOX_RUNTIME") or "nsbox",
        "Timens": bool(options.get("timens")),
    }
    _check_memory(host, options)
    _check_cpus(host, options)
    for flag, key, rate_kind in (("device_read_bps", "BlkioDeviceReadBps", "size"),
                                 ("device_write_bps", "BlkioDeviceWriteBps", "size"),
                                 ("device_read_iops", "BlkioDeviceReadIOps", "int"),
                                 ("device_write_iops", "BlkioDeviceWriteIOps", "int")):
        host[key] = [_throttle(item, "--" + flag.replace("_", "-"), rate_kind) for item in options.get(flag) or []]
    host["RestartPolicy"] = _restart_policy(options, host["AutoRemove"])
    _namespace_modes(host, options)
    if options.get("userns") or options.get("uidmap") or options.get("gidmap"):
        from nsbox.engine import userns
        host.update(userns.host_config(options))
    else:
        host.update(UsernsMode="", IdMappings=None)  # (as userns.host_config says for no options)
    from nsbox.engine import security
    host.update(security.host_config(options))
    # Docker's default: a private cgroup namespace on cgroup v2, the host's on v1
    cgroupns = options.get("cgroupns") or ("private" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "host")
    if cgroupns not in ("host", "private"):
        raise InvalidOption("--cgroupns", f"must be host or private, got {cgroupns!r}")
    host["CgroupnsMode"] = cgroupns
    return host


def _check_memory(host: dict, options: dict) -> None:
    """--memory-swap (Docker's default: as much swap as memory), and the limits checked against each other."""
    swap = options.get("memory_swap")
    if swap:
        host["MemorySwap"] = -1 if swap == "-1" else parse_size(swap, "--memory-swap")
        if host["MemorySwap"] != -1:
            if not host["Memory"]:
                raise InvalidOption("--memory-swap", "needs --memory as well (it is memory plus swap)")
            if host["MemorySwap"] < host["Memory"]:
                raise InvalidOption("--memory-swap", "must be at least --memory (it is memory plus swap), or -1")
    elif host["Memory"] and _swap_accounting():
        host["MemorySwap"] = 2 * host["Memory"]  # Docker's default: as much swap as memory
    if host["Memory"] and host["Memory"] < 6 << 20:
        raise InvalidOption("--memory", "the minimum memory limit is 6m")
    if host["MemoryReservation"] and host["Memory"] and host["MemoryReservation"] > host["Memory"]:
        raise InvalidOption("--memory-reservation", "must not exceed --memory")


def _check_cpus(host: dict, options: dict) -> None:
    """--cpus as NanoCpus, and the cpuset lists checked."""
    if options.get("cpus"):
        try:
            cpus = float(options["cpus"])
        except ValueError:
            raise InvalidOption("--cpus", f"must be a number of CPUs like 1.5, got {options['cpus']!r}") from None
        count = os.cpu_count() or 1
        if not 0.01 <= cpus <= count:
            raise InvalidOption("--cpus", f"must be between 0.01 and {count} (the CPUs available), got {options['cpus']}")
        host["NanoCpus"] = int(cpus * 1e9)
    for key, flag, text in (("CpusetCpus", "--cpuset-cpus", host["CpusetCpus"]),
                            ("CpusetMems", "--cpuset-mems", host["CpusetMems"])):
        if text and any(c not in "0123456789,-" for c in text):
            raise InvalidOption(flag, f"must be a list like 0-2,4, got {text!r}")


def _restart_policy(options: dict, auto_remove: bool) -> dict:
    """--restart as Docker's RestartPolicy."""
    policy = options.get("restart") or "no"
    name, _, retries = policy.partition(":")
    if name not in RESTART_POLICIES or (retries and name != "on-failure"):
        raise InvalidOption("--restart", f"invalid policy {policy!r}: use no, on-failure[:N], always or unless-stopped")
    if name != "no" and auto_remove:
        raise InvalidOption("--restart", "conflicts with --rm: a container removed at exit cannot be restarted")
    return {"Name": name, "MaximumRetryCount": parse_int(retries, "--restart", 0) if retries else 0}


def _namespace_modes(host: dict, options: dict) -> None:
    """--ipc, --pid, --uts: private (''), host, shareable or container:NAME."""
    for kind in ("ipc", "pid", "uts"):
        mode = options.get(kind) or ""
        if mode not in NAMESPACE_MODES[kind] and not (mode.startswith("container:") and len(mode) > 10):
            choices = ", ".join(m for m in NAMESPACE_MODES[kind] if m) + ", container:NAME"
            raise InvalidOption(f"--{kind}", f"invalid mode {mode!r}: use {choices}")
        host[kind.capitalize() + "Mode" if kind != "uts" else "UTSMode"] = mode


UPDATABLE = ("memory", "memory_swap", "memory_reservation", "cpus", "cpu_shares", "cpuset_cpus", "cpuset_mems",
             "pids_limit", "blkio_weight", "restart")


def update_host_config(host: dict, options: dict) -> dict:
    """`host` with the limits of `nsbox update` changed (validated as `run` validates them)."""
    for key in options:
        if key not in UPDATABLE:
            raise InvalidOption("--" + key.replace("_", "-"), "cannot be changed by update")
    current = {"memory": str(host["Memory"] or ""), "memory_reservation": str(host["MemoryReservation"] or ""),
               "memory_swap": str(host["MemorySwap"] or ""), "cpu_shares": str(host["CpuShares"] or ""),
               "cpuset_cpus": host["CpusetCpus"], "cpuset_mems": host["CpusetMems"],
               "pids_limit": str(host["PidsLimit"] or ""), "blkio_weight": str(host["BlkioWeight"] or ""),
               "cpus": str(host["NanoCpus"] / 1e9) if host["NanoCpus"] else "",
               "restart": host["RestartPolicy"]["Name"] + (f":{host['RestartPolicy']['MaximumRetryCount']}"
                                                            if host["RestartPolicy"]["MaximumRetryCount"] else ""),
               "rm": host["AutoRemove"], "cgroup_parent": host["CgroupParent"], "runtime": host["Runtime"]}
    if "memory" in options and "memory_swap" not in options and host["MemorySwap"] not in (0, -1):
        current["memory_swap"] = ""
    current.update(options)
    updated = _host_config({key: value for key, value in current.items() if value != ""})
    return dict(host, **{key: updated[key] for key in ("Memory", "MemoryReservation", "MemorySwap", "NanoCpus",
                                                       "CpuShares", "CpusetCpus", "CpusetMems", "PidsLimit",
                                                       "BlkioWeight", "RestartPolicy")})


def _ulimit(item: str) -> dict:
    from nsbox.oci.runtime_spec import RLIMIT_NAMES
    name, _, limits = item.partition("=")
    soft_text, _, hard_text = limits.partition(":")
    if "RLIMIT_" + name.upper() not in RLIMIT_NAMES or not soft_text:
        raise InvalidOption("--ulimit", f"must be NAME=SOFT[:HARD] with a name like nofile or nproc, got {item!r}")
    soft = -1 if soft_text == "-1" else parse_int(soft_text, "--ulimit", 0)
    hard = -1 if hard_text == "-1" else parse_int(hard_text, "--ulimit", 0) if hard_text else soft
    if hard != -1 and (soft == -1 or soft > hard):
        raise InvalidOption("--ulimit", f"soft limit must not exceed the hard limit in {item!r}")
    return {"Name": name.lower(), "Soft": soft, "Hard": hard}


def _cap(name: str, field: str) -> str:
    from nsbox.linux.capabilities import NAMES
    upper = name.upper()
    if upper == "ALL":
        return "ALL"
    upper = upper if upper.startswith("CAP_") else "CAP_" + upper
    if upper not in NAMES:
        raise InvalidOption(field, f"unknown capability {name!r}: use a name like NET_ADMIN or ALL")
    return upper


def _throttle(item: str, field: str, rate_kind: str) -> dict:
    path, _, rate = item.rpartition(":")
    if not path or not rate:
        raise InvalidOption(field, f"must be DEVICE_PATH:RATE, got {item!r}")
    try:
        info = os.stat(path)
    except OSError as error:
        raise InvalidOption(field, f"cannot use device {path}: {error.strerror}") from None
    import stat
    if not stat.S_ISBLK(info.st_mode):
        raise InvalidOption(field, f"{path} is not a block device")
    value = parse_size(rate, field) if rate_kind == "size" else parse_int(rate, field, 0)
    return {"Path": path, "Rate": value, "Major": os.major(info.st_rdev), "Minor": os.minor(info.st_rdev)}


def _swap_accounting() -> bool:
    """Whether memory+swap can be limited here (cgroup v1 without swapaccount=1 cannot)."""
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers") or \
        os.path.exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
