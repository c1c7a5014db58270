"""Keyword arguments of nsbox.run and containers.create turned into the engine's run
options (the dict the CLI's flag parser makes: keys named after `nsbox run`'s flags).

Both the issue's short names (memory, cpus, env, volumes) and docker-py's names
(mem_limit, nano_cpus, environment, working_dir, auto_remove, ...) are accepted; a
keyword nsbox does not know is an InvalidOption, never silently ignored.
"""
from __future__ import annotations

from nsbox.errors import InvalidOption

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# keyword -> engine option, for values passed through as text
PLAIN = {
    "memory": "memory", "mem_limit": "memory", "memory_swap": "memory_swap", "memswap_limit": "memory_swap",
    "memory_reservation": "memory_reservation", "mem_reservation": "memory_reservation",
    "cpus": "cpus", "cpu_shares": "cpu_shares", "cpuset_cpus": "cpuset_cpus", "cpuset_mems": "cpuset_mems",
    "pids_limit": "pids_limit", "blkio_weight": "blkio_weight",
    "workdir": "workdir", "working_dir": "workdir", "user": "user", "hostname": "hostname",
    "stop_signal": "stop_signal", "stop_timeout": "stop_timeout", "cgroup_parent": "cgroup_parent",
    "runtime": "runtime", "ipc_mode": "ipc", "pid_mode": "pid", "uts_mode": "uts", "userns_mode": "userns",
    "cgroupns": "cgroupns", "rootfs": "rootfs", "restart": "restart",
}
# keyword -> engine option, for on/off switches
SWITCHES = {"read_only": "read_only", "init": "init", "privileged": "privileged", "timens": "timens",
            "remove": "rm", "auto_remove": "rm", "tty": "tty"}
# keyword -> engine option, for lists of text
LISTS = {"cap_add": "cap_add", "cap_drop": "cap_drop", "mounts": "mount", "env_file": "env_file"}


def engine_options(image: str | None, command: list[str] | str | None, keywords: dict[str, object]) -> dict[str, Any]:
    """The engine's options for a container of `image` running `command`."""
    options: dict[str, Any] = {"command": _command(command)}
    if image is not None:
        options["image"] = image
    for key, value in keywords.items():
        if value is None:
            continue
        if key in PLAIN:
            options[PLAIN[key]] = _text(value)
        elif key in SWITCHES:
            options[SWITCHES[key]] = bool(value)
        elif key in LISTS:
            options[LISTS[key]] = [_text(item) for item in _sequence(value, key)]
        elif key in ("network", "network_mode"):
            options["network"] = _network(value)
        elif key == "nano_cpus":
            options["cpus"] = str(int(_number(value, key)) / 1e9)
        elif key in ("env", "environment"):
            options["env"] = _pairs(value, key)
        elif key == "labels":
            options["label"] = _pairs(value, key)
        elif key == "sysctls":
            options["sysctl"] = _pairs(value, key)
        elif key == "volumes":
            options["volume"] = _volumes(value)
        elif key == "tmpfs":
            options["tmpfs"] = _tmpfs(value)
        elif key == "ulimits":
            options["ulimit"] = _ulimits(value)
        elif key == "restart_policy":
            options["restart"] = _restart(value)
        elif key == "entrypoint":
            options["entrypoint"] = " ".join(_command(value)) if value else ""
        elif key == "name":
            options["name"] = str(value)
        else:
            raise InvalidOption(key, "is not an option nsbox knows: see docs/python-api.md for the keywords "
                                     "nsbox.run and containers.create accept")
    return options


def _command(command: object) -> list[str]:
    if command is None:
        return []
    if isinstance(command, str):
        import shlex
        return shlex.split(command)
    return [str(part) for part in _sequence(command, "command")]


def _network(value: object) -> str:
    """A network's name, from the name or a Network object (nsbox.networks)."""
    from nsbox.api.networks import Network
    return value.name if isinstance(value, Network) else _text(value)


def _text(value: object) -> str:
    return str(value)


def _number(value: object, key: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise InvalidOption(key, f"must be a number, got {value!r}")


def _sequence(value: object, key: str) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    raise InvalidOption(key, f"must be a list, got {type(value).__name__}")


def _pairs(value: object, key: str) -> list[str]:
    """{"A": "1"} or ["A=1"] as ["A=1"]."""
    if isinstance(value, dict):
        return [f"{name}={item}" for name, item in value.items()]
    return [_text(item) for item in _sequence(value, key)]


def _volumes(value: object) -> list[str]:
    """docker-py's {"/host": {"bind": "/in", "mode": "ro"}} or a list of "SRC:DST[:MODE]"."""
    if not isinstance(value, dict):
        return [_text(item) for item in _sequence(value, "volumes")]
    found = []
    for source, target in value.items():
        if isinstance(target, dict):
            if "bind" not in target:
                raise InvalidOption("volumes", f"{source}: the mapping needs a 'bind' key (the path inside)")
            mode = target.get("mode", "rw")
            found.append(f"{source}:{target['bind']}:{mode}")
        else:
            found.append(f"{source}:{target}")
    return found


def _tmpfs(value: object) -> list[str]:
    """docker-py's {"/tmp": "size=64m"} or a list of "DST[:OPTIONS]"."""
    if isinstance(value, dict):
        return [f"{path}:{options}" if options else str(path) for path, options in value.items()]
    return [_text(item) for item in _sequence(value, "tmpfs")]


def _ulimits(value: object) -> list[str]:
    """[{"name": "nofile", "soft": 1024, "hard": 2048}] or ["nofile=1024:2048"]."""
    found = []
    for item in _sequence(value, "ulimits"):
        if isinstance(item, dict):
            soft = item.get("soft", item.get("Soft"))
            hard = item.get("hard", item.get("Hard", soft))
            found.append(f"{item.get('name', item.get('Name'))}={soft}:{hard}")
        else:
            found.append(_text(item))
    return found


def _restart(value: object) -> str:
    """docker-py's {"Name": "on-failure", "MaximumRetryCount": 3} or "on-failure:3"."""
    if isinstance(value, dict):
        name = str(value.get("Name") or "no")
        count = value.get("MaximumRetryCount") or 0
        return f"{name}:{count}" if count else name
    return _text(value)
