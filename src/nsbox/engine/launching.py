"""Launching a container's process through its runtime and recording how it ended; a base
of `Engine` (nsbox.engine.containers). Whoever launched the process (a foreground `run` or
the monitor) is its parent and records its exit through `finish`."""
from __future__ import annotations

import os

from nsbox.engine import checked_state
from nsbox.engine.events import emit
from nsbox.engine.finding import ContainerFinder
from nsbox.engine.undo import Steps
from nsbox.errors import NotFound, NsboxError, StateError
from nsbox.linux import proc
from nsbox.oci import jsonio
from nsbox.oci.timestamps import rfc3339_now

TYPE_CHECKING = False  # (mypy reads the import below; `run` does not pay for collections)
if TYPE_CHECKING:
    from collections.abc import Callable

NAMESPACE_FILES = {"pid": "pid", "ipc": "ipc", "uts": "uts", "network": "net"}


def exit_code(wait_status: int) -> int:
    """A wait status as a shell shows it: the exit code, or 128+N after signal N."""
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code


def import_exit_steps() -> None:
    """Import the modules that start, finish and an AutoRemove removal use, for a caller
    that will wait for the container and finish it itself: as launch's `while_waiting`,
    they load while the container's init builds its root filesystem on another CPU (the
    caller would only wait then) instead of on the way out."""
    import nsbox.cgroups.oom  # noqa: F401  (the exit's OOM check)
    import nsbox.engine.removal  # noqa: F401
    import nsbox.linux.mounts  # noqa: F401  (the removal's)
    import nsbox.runtime.delete  # noqa: F401
    import nsbox.runtime.start  # noqa: F401
    import select  # noqa: F401  (the start's)


class ContainerLauncher(ContainerFinder):
    """Launch, finish and the exit record of the containers below one nsbox root."""

    __slots__ = ()

    def namespace_path(self, kind: str, mode: str) -> str:
        """/proc/PID/ns/KIND of the running container named in "container:NAME"."""
        other = self.get(mode.partition(":")[2])
        if other["State"]["Status"] not in ("running", "paused"):
            raise StateError(f"--{kind} {mode}: that container is {other['State']['Status']}, not running: "
                             "start it first")
        return f"/proc/{other['State']['Pid']}/ns/{NAMESPACE_FILES[kind]}"

    def write_bundle(self, record: dict, console_size: dict | None = None) -> tuple[str, dict]:
        """The container's bundle directory with its config.json; and that config, as data."""
        from nsbox.engine.spec import make_spec
        bundle = self.paths.bundle(record["Id"])
        spec = make_spec(record, record["Rootfs"], self.namespace_path)
        if console_size and spec["process"]["terminal"]:
            spec["process"]["consoleSize"] = console_size
        # made again from the record at every start: atomic, but no need to survive a crash (no fsync)
        from nsbox.linux.store_files import write_atomic
        write_atomic(os.path.join(bundle, "config.json"), jsonio.dumps(spec).encode(), durable=False)
        return bundle, spec

    def launch(self, container_id: str, stdio: tuple[int, int, int], console_socket: str | None = None,
               monitor_pid: int | None = None, console_size: dict | None = None,
               while_waiting: Callable[[], None] | None = None) -> int:
        """Create and start the container's process through its runtime; returns its host PID.

        The caller (or, once the caller exits, the nearest subreaper above it: the monitor)
        is the process's parent and must wait for it and call finish(). `while_waiting()`
        is the caller's own work, done while nsbox's runtime waits for the container's init
        to build its root filesystem (e.g. import_exit_steps). A launch that fails leaves
        the container as it was, with the error in its State (see _launch_failed).
        """
        record = self.store.load(container_id)
        if record["State"].get("Running") and checked_state.current_state(record)["Running"]:
            raise StateError(f"container {record['Name']} is already running")
        checked_state.check_startable(record)
        runtime = None
        try:
            runtime = self.runtime(record)
            return self._create_and_start(record, runtime, stdio, console_socket, monitor_pid or os.getpid(),
                                          console_size, while_waiting)
        except BaseException as error:
            self._launch_failed(container_id, runtime, record["State"], error)
            raise

    def _create_and_start(self, record: dict, runtime, stdio: tuple[int, int, int], console_socket: str | None,
                          monitor: int, console_size: dict | None,
                          while_waiting: Callable[[], None] | None) -> int:
        container_id = record["Id"]
        if runtime.status(container_id) is not None:  # left by a kill -9 before the exit was recorded
            runtime.delete(container_id, force=True)
        self.mount_rootfs(record)
        from nsbox.engine.networking import Connecting
        connecting = Connecting(self, record)  # the CNI plugins run while the runtime creates
        try:
            bundle, spec = self.write_bundle(connecting.record, console_size)
            pid = runtime.create(container_id, bundle, stdio, console_socket, spec=spec, while_waiting=while_waiting)
        except BaseException:
            connecting.cancel()
            raise
        record = connecting.finish()

        def running(record: dict) -> None:
            checked_state.check_startable(record)  # again: `rm -f` may have come meanwhile (a relaunch)
            record["State"].update(Status="running", Running=True, Paused=False, Restarting=False, Pid=pid,
                                   ExitCode=0, Error="", OOMKilled=False, StartedAt=rfc3339_now(), FinishedAt="")
            record["InitStart"] = proc.start_time(pid)
            record["Monitor"] = {"Pid": monitor, "Start": proc.start_time(monitor)}

        self.store.update(container_id, running)
        runtime.start(container_id)
        emit(self.root, "start", record)
        return pid

    def mount_rootfs(self, record: dict) -> str:
        """The container's root filesystem, mounted again if it is not (a reboot empties the
        mount table but leaves its files on disk; from create to rm it is mounted)."""
        if record.get("Image") and not os.path.ismount(record["Rootfs"]):
            from nsbox.engine.userns import overlay_maps
            from nsbox.image.rootfs import mount_again
            mount_again(self.root, record["Id"], overlay_maps(record["HostConfig"].get("IdMappings")))
        return record["Rootfs"]

    def _launch_failed(self, container_id: str, runtime, before: dict, error: BaseException) -> None:
        """After a failed launch: release what it made (the runtime's container with its
        processes and cgroups, the network's namespace, addresses and port rules) and leave
        the container as Docker does: "created" if it never ran (else "exited"), its start
        time as before, the error in State.Error and the exit code its `run` or `start` exits
        with in State.ExitCode (127 no such program, 126 not executable, 130 ^C, else 125). Its root
        filesystem stays mounted, as for every container from create to rm (`nsbox create`
        leaves the same; cp, export and commit read a stopped container's files there)."""
        from nsbox.engine.networking import disconnect
        from nsbox.errors import ENGINE_EXIT, ContainerStartError, user_message
        steps = Steps()
        if runtime is not None:
            steps.add("runtime state", lambda: runtime.status(container_id) is not None
                      and runtime.delete(container_id, force=True))
        steps.add("network", lambda: disconnect(self, container_id))
        failures = steps.run()
        text = user_message(error) if isinstance(error, Exception) else "interrupted"
        if failures:
            text += f" (and could not release: {'; '.join(failures)}: remove it with `nsbox rm -f`)"
        code = error.exit_code if isinstance(error, ContainerStartError) else ENGINE_EXIT
        if isinstance(error, KeyboardInterrupt):
            code = 130  # (^C: the CLI's code for it, as a shell's for SIGINT)

        def failed(record: dict) -> None:
            if record["State"].get("Status") == "removing":
                return
            record["State"].update(Status="created" if before.get("Status") == "created" else "exited",
                                   Running=False, Paused=False, Restarting=False, Pid=0, ExitCode=code, Error=text,
                                   OOMKilled=False, StartedAt=before.get("StartedAt") or "",
                                   FinishedAt=before.get("FinishedAt") or "")
        try:
            self.store.update(container_id, failed)
        except (NsboxError, OSError):
            pass  # (a full disk, a removed record: the error being raised says more)

    def finish(self, container_id: str, wait_status: int, auto_remove: bool = False) -> dict:
        """Record how the container's process ended and release its runtime state. With
        `auto_remove` an AutoRemove (--rm) container is removed too: its exit is recorded
        as "removing" in the same write, and the removal skips what the runtime's delete
        has just done here (ended its processes, removed its cgroups)."""
        try:
            record = self.store.load(container_id)
        except NotFound:
            return {}
        remove = auto_remove and bool(record["HostConfig"].get("AutoRemove"))
        from nsbox.engine.networking import Disconnecting
        try:  # CNI DEL of the container's networks (a no-op when it holds none), first: it runs on meanwhile
            disconnecting = Disconnecting(self, container_id, record)
        except (NsboxError, OSError):
            disconnecting = None
        runtime = self.runtime(record)
        oom_killed = self.oom_killed(record)
        deleted = False
        try:  # (NotFound: the runtime has no such container, left to a full removal below)
            runtime.delete(container_id, force=True)
            deleted = True
        except NsboxError:
            pass
        # a removal to follow waits for the DEL only after its root filesystem step
        overlap = disconnecting if remove and deleted else None
        try:
            if disconnecting is not None and overlap is None:
                disconnecting.finish()
        except (NsboxError, OSError):
            pass
        try:
            final = self._record_exit(container_id, exit_code(wait_status), oom_killed, "", removing=remove)
            if remove and final:
                from nsbox.engine.removal import remove_exited
                remove_exited(self, final, runtime_deleted=deleted, network=overlap)
                overlap = None
        finally:
            if overlap is not None:  # (no removal after all: finished here, as above)
                try:
                    overlap.finish()
                except (NsboxError, OSError):
                    pass
        return final

    def _record_exit(self, container_id: str, code: int, oom_killed: bool, error: str,
                     removing: bool = False) -> dict:
        def exited(record: dict) -> None:
            marked = record["State"].get("Status") == "removing"  # (by `rm`: it stays marked, the exit is recorded)
            record["State"].update(Status="removing" if removing or marked else "exited", Running=False, Paused=False,
                                   Restarting=False, Pid=0, ExitCode=code, OOMKilled=oom_killed, Error=error,
                                   FinishedAt=rfc3339_now())
            if removing:
                record["ManualStop"] = True
        try:
            record = self.store.update(container_id, exited)
        except (NotFound, StateError):
            return {}
        if oom_killed:
            emit(self.root, "oom", record)
        emit(self.root, "die", record, exitCode=code)
        return record

    def cgroup(self, record: dict):
        """The container's cgroup (nsbox.cgroups), while the runtime has the container."""
        from nsbox.cgroups import open_cgroup
        from nsbox.engine.spec import cgroups_path
        return open_cgroup(cgroups_path(record), record["Id"])

    def oom_killed(self, record: dict) -> bool:
        try:
            return self.cgroup(record).oom_kills() > 0
        except (NsboxError, OSError):
            return False
