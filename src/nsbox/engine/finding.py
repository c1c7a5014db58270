"""Finding containers: the base of `Engine` (nsbox.engine.containers), which holds the
container store and tells each record's State truthfully."""
from __future__ import annotations

import os

from nsbox.engine import checked_state
from nsbox.engine.container_store import ContainerStore
from nsbox.engine.runtimes import runtime_for
from nsbox.errors import NotFound, NsboxError


class ContainerFinder:
    """The containers below one nsbox root, found by name or ID."""

    __slots__ = ("store", "paths", "root")

    def __init__(self, root: str) -> None:
        self.store = ContainerStore(root)
        self.paths = self.store.paths
        self.root = self.paths.root

    def get(self, reference: str) -> dict:
        """The record of the named container, with its State made truthful."""
        return self._checked(self.store.load(self.store.lookup(reference)))

    def list(self, include_stopped: bool = False) -> list[dict]:
        records = []
        for container_id in self.store.ids():
            try:
                record = self._checked(self.store.load(container_id))
            except NotFound:
                continue  # removed while we listed
            if include_stopped or record["State"]["Status"] in ("running", "paused", "restarting"):
                records.append(record)
        records.sort(key=lambda r: r.get("Created") or "", reverse=True)
        return records

    def _checked(self, record: dict) -> dict:
        """The record with its State made truthful; a "created" one whose init waits for a
        start that will not come (its nsbox was killed in between) says so, with the PID."""
        record = checked_state.with_current_state(record)
        state = record["State"]
        if state.get("Status") != "created" or (record.get("HostConfig") or {}).get("Runtime", "nsbox") != "nsbox":
            return record
        runtime_dir = os.path.join(self.paths.run, "runtime", record["Id"])
        if not os.path.isdir(runtime_dir):
            return record
        from nsbox.runtime.state import load
        try:
            init = load(os.path.dirname(runtime_dir), record["Id"])
        except NsboxError:
            return record
        if init.status() == "created":
            record["State"] = dict(state, Pid=init.pid, Error=checked_state.ORPHAN_INIT.format(pid=init.pid))
        return record

    def runtime(self, record: dict):
        return runtime_for(record["HostConfig"].get("Runtime") or "nsbox", self.paths.run)
