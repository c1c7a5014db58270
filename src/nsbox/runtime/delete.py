"""`delete`: end a container's processes, remove its cgroup and state, run poststop hooks."""
from __future__ import annotations

import os

from nsbox.errors import StateError
from nsbox.linux.signals import SIGKILL
from nsbox.runtime.state import ContainerRecord
from nsbox.linux.proc import wait_gone


def delete(state_root: str, container_id: str, force: bool = False) -> None:
    record = ContainerRecord.load(state_root, container_id, damaged_ok=force)
    if "damaged" in record.data:
        record.remove()
        raise StateError(f"removed container {container_id!r}, whose state was damaged ({record.data['damaged']}); "
                         "its processes and cgroup, which only that state named, were not looked for")
    try:
        status = record.status()
        if status in ("running", "paused") and not force:
            raise StateError(f"container {container_id!r} is {status}: stop it first, or use delete --force")
        cgroup = record.cgroup
        if status != "stopped" or (cgroup is not None and cgroup.pids()):
            if cgroup is not None:
                cgroup.kill(SIGKILL)
                cgroup.thaw()
            elif record.pid:
                os.kill(record.pid, SIGKILL)
            wait_gone(record.pid, record.data.get("started"))
        if cgroup is not None:
            cgroup.remove()
        poststop = record.hooks("poststop")
        final_state = record.oci_state() | {"status": "stopped"}
        record.remove()
        if poststop:
            from nsbox.runtime.hooks import run_hooks
            run_hooks("poststop", poststop, final_state, warn_only=True)
    finally:
        record.unlock()
