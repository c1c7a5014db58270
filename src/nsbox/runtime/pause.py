"""`pause` and `resume`: freeze and thaw every process of a container through its cgroup."""
from __future__ import annotations

from nsbox.errors import StateError
from nsbox.runtime.state import live_cgroup


def pause(state_root: str, container_id: str) -> None:
    record, cgroup = live_cgroup(state_root, container_id, "pause")
    if record.status() != "running":
        raise StateError(f"container {container_id!r} is {record.status()}; only a running container can be paused")
    cgroup.freeze()


def resume(state_root: str, container_id: str) -> None:
    record, cgroup = live_cgroup(state_root, container_id, "resume")
    if record.status() != "paused":
        raise StateError(f"container {container_id!r} is {record.status()}; only a paused container can be resumed")
    cgroup.thaw()
