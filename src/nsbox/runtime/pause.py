"""`pause` and `resume`: freeze and thaw every process of a container through its cgroup."""
from __future__ import annotations

from nsbox.errors import StateError
from nsbox.runtime.state import load


def pause(state_root: str, container_id: str) -> None:
    record = load(state_root, container_id)
    if record.status() != "running":
        raise StateError(f"container {container_id!r} is {record.status()}; only a running container can be paused")
    record.cgroup.freeze()


def resume(state_root: str, container_id: str) -> None:
    record = load(state_root, container_id)
    if record.status() != "paused":
        raise StateError(f"container {container_id!r} is {record.status()}; only a paused container can be resumed")
    record.cgroup.thaw()
