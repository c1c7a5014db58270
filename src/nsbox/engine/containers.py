"""Containers: create from an image (or a root directory) and options, launch through a
runtime, record the exit, stop, kill, remove, pause, wait, rename.

`Engine(root)` is what the CLI and the Python API use. A container is launched either by
a foreground `run` (the CLI process waits for it) or by its monitor (nsbox.engine.monitor);
whichever launched it records its exit through `finish`.
"""
from __future__ import annotations

import os
import time

from nsbox.engine import checked_state
from nsbox.engine.runconfig import make_record
from nsbox.engine.runtimes import runtime_for
from nsbox.engine.container_store import ContainerStore
from nsbox.engine.events import emit
from nsbox.engine.networking import etc_paths
from nsbox.engine.undo import Steps
from nsbox.errors import NotFound, NsboxError, StateError
from nsbox.linux import proc
from nsbox.linux.proc import wait_gone
from nsbox.linux.signals import SIGKILL
from nsbox.oci import jsonio
from nsbox.oci.timestamps import rfc3339_now

NAMESPACE_FILES = {"pid": "pid", "ipc": "ipc", "uts": "uts", "network": "net"}


def exit_code(wait_status: int) -> int:
    """A wait status as a shell shows it: the exit code, or 128+N after signal N."""
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code


class Engine:
    """The containers below one nsbox root."""

    __slots__ = ("store", "paths", "root")

    def __init__(self, root: str) -> None:
        self.store = ContainerStore(root)
        self.paths = self.store.paths
        self.root = self.paths.root

    # -- finding -------------------------------------------------------------------

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

    # -- creating ------------------------------------------------------------------

    def create(self, options: dict) -> dict:
        """Record a new container (and mount its root filesystem); nothing runs yet."""
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
                mappings = record["HostConfig"].get("IdMappings")
                id_maps = None
                if mappings:
                    from nsbox.engine.userns import check_reachable, map_lines
                    check_reachable(self.root)
                    id_maps = (map_lines(mappings["UidMap"]), map_lines(mappings["GidMap"]))
                undo.add("root filesystem", lambda: remove_rootfs(self.root, record["Id"]))
                record["Rootfs"] = prepare_rootfs(self.root, image["id"], record["Id"], id_maps,
                                                  volatile=bool(record["HostConfig"].get("AutoRemove")))
                if record["Config"]["WorkingDir"]:  # Docker makes a missing working directory
                    from nsbox.linux.mounts import resolve_in_root
                    os.makedirs(resolve_in_root(record["Rootfs"], record["Config"]["WorkingDir"]), exist_ok=True)

        try:
            record = self.store.add(record, options.get("name"), prepare)  # (which undoes its own files)
        except BaseException:
            undo.undo()
            raise
        emit(self.root, "create", record)
        return record

    def image(self, reference: str) -> dict:
        """The image a container would be made from: its ID and its config."""
        if not reference:
            from nsbox.errors import InvalidOption
            raise InvalidOption("IMAGE", "name the image to run (or give a root directory with --rootfs)")
        from nsbox.image.store import ImageStore
        found = ImageStore(self.root).resolve(reference)
        return {"id": found.id, "config": found.config.raw.get("config") or {}}

    # -- launching -----------------------------------------------------------------

    def namespace_path(self, kind: str, mode: str) -> str:
        """/proc/PID/ns/KIND of the running container named in "container:NAME"."""
        other = self.get(mode.partition(":")[2])
        if other["State"]["Status"] not in ("running", "paused"):
            raise StateError(f"--{kind} {mode}: that container is {other['State']['Status']}, not running: "
                             "start it first")
        return f"/proc/{other['State']['Pid']}/ns/{NAMESPACE_FILES[kind]}"

    def write_bundle(self, record: dict, console_size: dict | None = None) -> str:
        from nsbox.engine.spec import make_spec
        bundle = self.paths.container(record["Id"], "bundle")
        os.makedirs(bundle, exist_ok=True)
        spec = make_spec(record, record["Rootfs"], self.namespace_path)
        if console_size and spec["process"]["terminal"]:
            spec["process"]["consoleSize"] = console_size
        # made again from the record at every start: atomic, but no need to survive a crash (no fsync)
        from nsbox.linux.store_files import write_atomic
        write_atomic(os.path.join(bundle, "config.json"), jsonio.dumps(spec).encode(), durable=False)
        return bundle

    def launch(self, container_id: str, stdio: tuple[int, int, int], console_socket: str | None = None,
               monitor_pid: int | None = None, console_size: dict | None = None) -> int:
        """Create and start the container's process through its runtime; returns its host PID.

        The caller (or, once the caller exits, the nearest subreaper above it: the monitor)
        is the process's parent and must wait for it and call finish().
        """
        record = self.store.load(container_id)
        if record["State"].get("Running") and checked_state.current_state(record)["Running"]:
            raise StateError(f"container {record['Name']} is already running")
        runtime = self.runtime(record)
        if runtime.status(container_id) is not None:  # left by a kill -9 before the exit was recorded
            runtime.delete(container_id, force=True)
        from nsbox.engine.networking import Connecting, disconnect
        connecting = Connecting(self, container_id)  # the CNI plugins run while the runtime creates
        try:
            bundle = self.write_bundle(connecting.record, console_size)
            pid = runtime.create(container_id, bundle, stdio, console_socket)
        except BaseException:
            connecting.cancel()
            raise
        try:
            record = connecting.finish()
        except BaseException:
            runtime.delete(container_id, force=True)
            raise
        monitor = monitor_pid or os.getpid()

        def running(record: dict) -> None:
            record["State"].update(Status="running", Running=True, Paused=False, Restarting=False, Pid=pid,
                                   ExitCode=0, Error="", OOMKilled=False, StartedAt=rfc3339_now(), FinishedAt="")
            record["InitStart"] = proc.start_time(pid)
            record["Monitor"] = {"Pid": monitor, "Start": proc.start_time(monitor)}

        try:
            self.store.update(container_id, running)
            runtime.start(container_id)
        except BaseException as error:
            try:
                runtime.delete(container_id, force=True)
                disconnect(self, container_id)
            finally:
                try:
                    self._record_exit(container_id, -1, False, str(error))
                except OSError:
                    pass  # (a full disk: the error being raised says more)
            raise
        emit(self.root, "start", record)
        return pid

    def finish(self, container_id: str, wait_status: int) -> dict:
        """Record how the container's process ended and release its runtime state."""
        try:
            record = self.store.load(container_id)
        except NotFound:
            return {}
        runtime = self.runtime(record)
        oom_killed = self.oom_killed(record)
        from nsbox.engine.networking import Disconnecting
        try:  # CNI DEL of the container's networks (a no-op when it holds none) while the runtime deletes
            disconnecting = Disconnecting(self, container_id)
        except (NsboxError, OSError):
            disconnecting = None
        try:
            if runtime.status(container_id) is not None:
                runtime.delete(container_id, force=True)
        except NsboxError:
            pass
        try:
            if disconnecting is not None:
                disconnecting.finish()
        except (NsboxError, OSError):
            pass
        return self._record_exit(container_id, exit_code(wait_status), oom_killed, "")

    def _record_exit(self, container_id: str, code: int, oom_killed: bool, error: str) -> dict:
        def exited(record: dict) -> None:
            if record["State"].get("Status") == "removing":
                return
            record["State"].update(Status="exited", Running=False, Paused=False, Restarting=False, Pid=0,
                                   ExitCode=code, OOMKilled=oom_killed, Error=error, FinishedAt=rfc3339_now())
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

    # -- detached containers -------------------------------------------------------

    def start(self, reference: str) -> dict:
        """Start a created or exited container under a new monitor (`nsbox start`, `run -d`)."""
        container_id = self.store.lookup(reference)
        record = checked_state.with_current_state(self.store.usable(self.store.load(container_id)))
        if record["State"]["Running"]:
            return record
        from nsbox.engine.monitor import spawn_monitor
        self.store.update(container_id, lambda r: r.update(ManualStop=False))
        spawn_monitor(self, container_id)
        return self.store.load(container_id)

    # -- signals, stop, removal ----------------------------------------------------

    def signal(self, record: dict, signal: int, all_processes: bool = False) -> None:
        """Send `signal` to the container's init (or every process in it)."""
        runtime = self.runtime(record)
        try:
            if runtime.status(record["Id"]) in ("created", "running", "paused"):
                runtime.kill(record["Id"], signal, all_processes)
                return
        except NsboxError:
            pass
        pid = record["State"].get("Pid") or 0
        if pid and proc.is_alive(pid, record.get("InitStart")):
            os.kill(pid, signal)

    def kill(self, reference: str, signal: int = SIGKILL) -> dict:
        record = self.get(reference)
        if record["State"]["Status"] not in ("running", "paused"):
            raise StateError(f"container {record['Name']} is not running ({record['State']['Status']})")
        if signal == SIGKILL:
            self._note_manual_stop(record["Id"])
        emit(self.root, "kill", record, signal=signal)
        self.signal(record, signal, all_processes=signal == SIGKILL)
        return record

    def _note_manual_stop(self, container_id: str) -> None:
        """Tell the monitor not to restart the container. Best effort: a full disk must not
        keep a user from stopping anything (the monitor's relaunch would fail there anyway)."""
        try:
            self.store.update(container_id, lambda r: r.update(ManualStop=True))
        except OSError:
            pass

    def stop(self, reference: str, timeout: int | None = None) -> dict:
        """The stop signal, then SIGKILL after `timeout` seconds; returns once the exit is recorded."""
        from nsbox.linux.signals import parse_signal
        record = self.get(reference)
        if record["State"]["Status"] not in ("running", "paused", "restarting"):
            return record
        self._note_manual_stop(record["Id"])
        if record["State"]["Status"] == "restarting":  # the monitor sees ManualStop before relaunching
            deadline = time.monotonic() + 10
            while record["State"]["Status"] == "restarting" and time.monotonic() < deadline:
                time.sleep(0.02)
                record = self.get(reference)
            if record["State"]["Status"] not in ("running", "paused"):
                return record
        if timeout is None:
            timeout = record["Config"].get("StopTimeout", 10)
        pid, started = record["State"]["Pid"], record.get("InitStart")
        if record["State"]["Status"] == "paused":
            self.signal(record, SIGKILL, all_processes=True)
        else:
            self.signal(record, parse_signal(record["Config"].get("StopSignal") or "SIGTERM"))
        if timeout < 0 or not wait_gone(pid, started, timeout):
            self.signal(record, SIGKILL, all_processes=True)
            wait_gone(pid, started, 30)
        stopped = self.wait_recorded(record["Id"])
        emit(self.root, "stop", stopped)
        return stopped

    def wait_recorded(self, container_id: str, timeout: float = 30.0) -> dict:
        """Wait for the monitor to record the exit; record it here if there is no monitor."""
        deadline = time.monotonic() + timeout
        while True:
            record = self.store.load(container_id)
            if not record["State"].get("Running") or record["State"].get("Restarting"):
                return checked_state.with_current_state(record)
            if not checked_state.monitor_alive(record) or time.monotonic() > deadline:
                break
            if time.monotonic() > deadline - timeout + 2 and self._disk_full():
                # the process is gone; the monitor holds its exit code until it can write it
                return checked_state.with_current_state(record)
            time.sleep(0.01)
        return checked_state.with_current_state(self.finish_unwatched(container_id))

    def _disk_full(self) -> bool:
        """Whether the live state's filesystem has no room for a record."""
        try:
            info = os.statvfs(self.paths.run)
        except OSError:
            return False
        return info.f_bavail * info.f_frsize < 64 << 10

    def finish_unwatched(self, container_id: str) -> dict:
        """Clean up after a process whose monitor is gone (its exit code is unknown)."""
        record = self.store.load(container_id)
        self.finish(container_id, 0)
        return self._record_exit(container_id, -1, self.oom_killed(record), checked_state.LOST_EXIT) or record

    def remove(self, reference: str, force: bool = False, volumes: bool = False, wait_monitor: bool = True) -> str:
        """Remove the container: its process (with force), runtime state, cgroups, root
        filesystem, record and name, whatever state a kill -9, a full disk or a damaged
        record left it in (nsbox.engine.removal). The monitor's own --rm passes
        wait_monitor=False."""
        from nsbox.engine.removal import remove
        try:
            record: dict | None = self.get(reference)
        except NsboxError:  # a damaged record, an orphan: removed all the same, with no event
            record = None
        removed = remove(self, reference, force, volumes, wait_monitor)
        if record is not None and not os.path.exists(self.paths.container(record["Id"])):
            emit(self.root, "destroy", record)
        return removed

    # -- the rest of the lifecycle ---------------------------------------------------

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

    def wait(self, reference: str, timeout: float | None = None) -> int:
        """Block until the container's process has exited and its exit is recorded; its exit
        code. After `timeout` seconds (None: never) a WaitTimeout."""
        container_id = self.store.lookup(reference)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            code = self.exit_code_if_done(container_id, 0.05)
            if code is not None:
                return code
            if deadline is not None and time.monotonic() >= deadline:
                from nsbox.errors import WaitTimeout
                raise WaitTimeout(f"container {container_id[:12]} still runs after {timeout} s")
            time.sleep(0.05)

    def exit_code_if_done(self, container_id: str, patience: float = 0.0) -> int | None:
        """The exit code once the exit is recorded, else None. A process that nobody will
        record (its monitor is gone) is waited for up to `patience` seconds and recorded here."""
        record = self.store.load(container_id)
        state = record["State"]
        if not state.get("Running"):
            return state["ExitCode"]
        if not checked_state.monitor_alive(record) and wait_gone(state["Pid"], record.get("InitStart"), patience):
            return self.wait_recorded(container_id)["State"]["ExitCode"]
        return None

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
