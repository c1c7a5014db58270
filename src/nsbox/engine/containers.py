"""Containers: create from an image (or a root directory) and options, start under a
monitor, pause, update, rename, remove.

`Engine(root)` is what the CLI and the Python API use. Its bases hold the rest: finding
containers (nsbox.engine.finding), launching a process and recording its exit
(nsbox.engine.launching: a foreground `run` or the monitor calls `finish`), and signals,
stop and waiting for an exit (nsbox.engine.stopping).
"""
from __future__ import annotations

import os

from nsbox.engine import checked_state
from nsbox.engine.runconfig import make_record
from nsbox.engine.events import emit
from nsbox.engine.networking import etc_paths
from nsbox.engine.stopping import ContainerStopper
from nsbox.engine.undo import Steps
from nsbox.errors import NotFound, NsboxError, StateError


class Engine(ContainerStopper):
    """The containers below one nsbox root."""

    __slots__ = ()

    # -- creating ------------------------------------------------------------------

    def create(self, options: dict, sync: bool = True) -> dict:
        """Record a new container (and mount its root filesystem); nothing runs yet. With
        sync=False the record is not waited onto the disk: the caller calls store.sync(ID)
        while it waits for something else (`run -d`: while the monitor launches)."""
        image = None
        rootfs = options.get("rootfs")
        if rootfs:
            if not os.path.isdir(rootfs):
                from nsbox.errors import InvalidOption
                raise InvalidOption("--rootfs", f"{rootfs} is not a directory")
            options = dict(options, rootfs=os.path.abspath(rootfs))
        else:
            image = self.image(options.get("image") or "")
        record = make_record(options, image, self.root)
        undo = Steps()  # what was made, undone in reverse if a later step fails (a full disk)

        def prepare(record: dict) -> None:  # the ID is known: name its files, mount its root filesystem
            if not record["Config"]["Hostname"] and not record["HostConfig"]["UTSMode"]:
                record["Config"]["Hostname"] = record["Id"][:12]
            record.update(etc_paths(self.paths.container(record["Id"]), record["HostConfig"].get("NetworkMode") or ""))
            if image is not None:
                from nsbox.image.rootfs import prepare_rootfs, remove_rootfs
                id_maps = None
                if record["HostConfig"].get("IdMappings"):
                    from nsbox.engine.userns import check_reachable, overlay_maps
                    check_reachable(self.root)
                    id_maps = overlay_maps(record["HostConfig"]["IdMappings"])
                undo.add("root filesystem", lambda: remove_rootfs(self.root, record["Id"]))
                record["Rootfs"] = prepare_rootfs(self.root, image["found"], record["Id"], id_maps,
                                                  volatile=bool(record["HostConfig"].get("AutoRemove")))
                if record["Config"]["WorkingDir"]:  # Docker makes a missing working directory
                    from nsbox.linux.mounts import resolve_in_root
                    os.makedirs(resolve_in_root(record["Rootfs"], record["Config"]["WorkingDir"]), exist_ok=True)

        try:
            record = self.store.add(record, options.get("name"), prepare, durable=sync)  # (undoes its own files)
        except BaseException:
            undo.undo()
            raise
        emit(self.root, "create", record)
        return record

    def image(self, reference: str) -> dict:
        """The image a container would be made from: its ID, its config, and the Image found."""
        if not reference:
            from nsbox.errors import InvalidOption
            raise InvalidOption("IMAGE", "name the image to run (or give a root directory with --rootfs)")
        from nsbox.image.store import ImageStore
        found = ImageStore(self.root).resolve(reference)
        return {"id": found.id, "config": found.config.raw.get("config") or {}, "found": found}

    # -- detached containers -------------------------------------------------------

    def start(self, reference: str) -> dict:
        """Start a created or exited container under a new monitor (`nsbox start`, `run -d`)."""
        container_id = self.store.lookup(reference)
        record = self.store.usable(self.store.load(container_id))
        checked_state.check_startable(record)  # (even while its process runs: `rm -f` is at work, or was)
        record = checked_state.with_current_state(record)
        if record["State"]["Running"]:
            return record
        from nsbox.engine.monitor import spawn_monitor
        self.store.update(container_id, lambda r: r.update(ManualStop=False))
        spawn_monitor(self, container_id)
        try:
            return self.store.load(container_id)
        except NotFound:  # it has run, exited and been removed (--rm) already
            return record

    # -- removal and the rest of the lifecycle ------------------------------------

    def remove(self, reference: str, force: bool = False, volumes: bool = False, wait_monitor: bool = True) -> str:
        """Remove the container: its process (with force), runtime state, cgroups, root
        filesystem, record and name, whatever state a kill -9, a full disk or a damaged
        record left it in (nsbox.engine.removal). The monitor's own --rm passes
        wait_monitor=False."""
        from nsbox.engine.removal import remove
        return remove(self, reference, force, volumes, wait_monitor)

    def pause(self, reference: str) -> dict:
        record = self.get(reference)
        if record["State"]["Status"] != "running":
            raise StateError(f"container {record['Name']} is {record['State']['Status']}, not running")
        self.runtime(record).pause(record["Id"])
        emit(self.root, "pause", record)
        return self.store.update(record["Id"], lambda r: r["State"].update(Status="paused", Paused=True))

    def unpause(self, reference: str) -> dict:
        record = self.get(reference)
        if record["State"]["Status"] != "paused":
            raise StateError(f"container {record['Name']} is {record['State']['Status']}, not paused")
        self.runtime(record).resume(record["Id"])
        emit(self.root, "unpause", record)
        return self.store.update(record["Id"], lambda r: r["State"].update(Status="running", Paused=False))

    def restart(self, reference: str, timeout: int | None = None) -> dict:
        self.stop(reference, timeout)
        started = self.start(reference)
        emit(self.root, "restart", started)
        return started

    def update(self, reference: str, options: dict) -> dict:
        """Change resource limits (Docker's update flags); applied at once to a running container."""
        from nsbox.engine.runconfig import update_host_config
        from nsbox.engine.spec import resources
        record = self.get(reference)
        options = dict(options)
        rate = options.pop("network_rate", None)
        host = update_host_config(record["HostConfig"], options) if options else dict(record["HostConfig"])
        if rate is not None:
            from nsbox.network.attach import set_rate
            from nsbox.network.modes import parse_rate
            host["NetworkRate"] = parse_rate(rate) if rate not in ("", "0") else 0
        if record["State"]["Status"] in ("running", "paused"):
            if options:
                self.runtime(record).update(record["Id"], resources(host))
            if rate is not None and record["NetworkSettings"].get("SandboxKey"):
                set_rate(self.root, self.paths.run, record["Id"], record["NetworkSettings"], host["NetworkRate"])
        return self.store.update(record["Id"], lambda r: r.update(HostConfig=host))

    def rename(self, reference: str, new_name: str) -> None:
        container_id = self.store.lookup(reference)
        old_name = self.store.load(container_id).get("Name") or ""
        self.store.rename(container_id, new_name)
        emit(self.root, "rename", self.store.load(container_id), oldName="/" + old_name)
