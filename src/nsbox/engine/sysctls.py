"""`--sysctl KEY=VALUE`: kernel settings that the container's own namespaces hold, as Docker
allows them: net.* in a network namespace of its own (not --network host), the System V IPC
and POSIX message queue ones in an IPC namespace of its own (not --ipc host). Any other key is
host-wide and refused. The runtime writes them (linux.sysctl) inside the namespaces."""
from __future__ import annotations

from nsbox.errors import InvalidOption

IPC_KEYS = ("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
            "kernel.shmmni", "kernel.shm_rmid_forced")


def host_config(items: list[str], host: dict) -> dict:
    """{"Sysctls": {key: value}} from the --sysctl items, checked against host's NetworkMode and IpcMode."""
    settings = {}
    for item in items:
        key, separator, value = item.partition("=")
        key = key.strip().replace("/", ".")
        if not separator or not key:
            raise InvalidOption("--sysctl", f"must be KEY=VALUE (as net.core.somaxconn=1024), got {item!r}")
        if key.startswith("net."):
            if host.get("NetworkMode") == "host":
                raise InvalidOption("--sysctl", f"{key}: with --network host it would change the host's network "
                                                "namespace: drop it or use another network")
        elif key in IPC_KEYS or key.startswith("fs.mqueue."):
            if host.get("IpcMode") == "host":
                raise InvalidOption("--sysctl", f"{key}: with --ipc host it would change the host's IPC namespace")
        else:
            raise InvalidOption("--sysctl", f"{key} is not namespaced (it is host-wide): only net.*, fs.mqueue.* "
                                            f"and {', '.join(IPC_KEYS)} can be set for a container")
        settings[key] = value
    return {"Sysctls": settings}
