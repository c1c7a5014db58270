"""`kill`: a signal to a container's init, or to every process in its cgroup."""
from __future__ import annotations

import os

from nsbox.errors import StateError
from nsbox.linux.signals import SIGKILL
from nsbox.runtime.state import load


def kill(state_root: str, container_id: str, signal: int, all_processes: bool = False) -> None:
    record = load(state_root, container_id)
    status = record.status()
    if status not in ("created", "running", "paused"):
        # "container not running" is runc's phrase: containerd's shim reads it as "already gone".
        raise StateError(f"container {container_id!r} is {status}: container not running, there is no process to signal")
    cgroup = record.cgroup
    if all_processes and cgroup is not None:
        cgroup.kill(signal)
    else:
        os.kill(record.pid, signal)
    if status == "paused" and signal == SIGKILL and cgroup is not None:
        cgroup.thaw()
