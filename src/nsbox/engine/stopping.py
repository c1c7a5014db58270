"""Signals, stop and kill, and waiting until a container's exit is recorded; a base of
`Engine` (nsbox.engine.containers)."""
from __future__ import annotations

import os
import time

from nsbox.engine import checked_state
from nsbox.engine.events import emit
from nsbox.engine.launching import ContainerLauncher
from nsbox.errors import NsboxError, StateError
from nsbox.linux import proc
from nsbox.linux.proc import wait_gone
from nsbox.linux.signals import SIGKILL


class ContainerStopper(ContainerLauncher):
    """Signalling, stopping and waiting for the containers below one nsbox root."""

    __slots__ = ()

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
