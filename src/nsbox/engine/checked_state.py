"""A record's State made truthful: what the stored record says, checked against /proc.

A kill -9 can stop a CLI or a monitor before it writes what happened; so a record that
says "running" is believed only while its init process (same PID, same start time)
still exists, and the monitor's absence is reported rather than hidden.
"""
from __future__ import annotations

from nsbox.linux import proc

LOST_EXIT = "the container's process ended while no monitor was watching: its exit code is unknown"
ORPHAN_INIT = ("its init (PID {pid}) waits for a start that will not come: the nsbox starting it was killed; "
               "remove it with `nsbox rm -f`")
LOST_MONITOR = "monitor process gone: the exit code will not be recorded"


def current_state(record: dict) -> dict:
    """record["State"] as it is now (a copy; the stored record is not changed)."""
    state = dict(record["State"])
    if state.get("Running"):
        monitor = monitor_alive(record)
        if not proc.is_alive(state.get("Pid") or 0, record.get("InitStart")):
            if not monitor:  # (a live monitor records the exit in a moment: until then, as stored)
                marked = state.get("Status") == "removing"  # (an interrupted `rm`: still to finish)
                state.update(Status="removing" if marked else "exited", Running=False, Paused=False,
                             Restarting=False, Pid=0, ExitCode=-1, Error=LOST_EXIT)
        elif not monitor:
            state["Error"] = LOST_MONITOR
    return state


def monitor_alive(record: dict) -> bool:
    monitor = record.get("Monitor") or {}
    return bool(monitor.get("Pid")) and proc.is_alive(monitor["Pid"], monitor.get("Start"))


def with_current_state(record: dict) -> dict:
    return dict(record, State=current_state(record))


def check_startable(record: dict) -> None:
    """Refuse to start a container marked for removal, as Docker does: a remover is at work,
    or one was interrupted (a kill -9, a reboot) and `rm -f` finishes it."""
    if record["State"].get("Status") == "removing":
        from nsbox.errors import StateError
        name = record.get("Name") or record["Id"][:12]
        raise StateError(f"container {name} is marked for removal and cannot be started: "
                         f"finish its removal with `nsbox rm -f {name}`")


def running_record(engine, reference: str) -> dict:
    from nsbox.errors import StateError
    record = engine.get(reference)
    if record["State"]["Status"] not in ("running", "paused"):
        raise StateError(f"container {record['Name']} is {record['State']['Status']}, not running")
    return record
