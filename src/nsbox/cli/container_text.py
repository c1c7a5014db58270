"""How the container commands show a container: its status, how long ago, short ID, command."""
from __future__ import annotations

import time

from nsbox.engine.names import SHORT_ID
from nsbox.oci.timestamps import parse_rfc3339


def ago(stamp: str) -> str:
    """"3 minutes", "About an hour", ... as Docker writes durations."""
    from nsbox.cli.humanize import human_duration
    return human_duration(max(0.0, time.time() - parse_rfc3339(stamp)))


def status_text(record: dict) -> str:
    """Docker's STATUS column: "Up 5 seconds", "Exited (0) 2 minutes ago", ..."""
    from nsbox.engine.checked_state import LOST_MONITOR
    state = record["State"]
    status = state.get("Status")
    if status == "running":
        text = f"Up {ago(state.get('StartedAt') or '')}"
        return text + " (no monitor)" if state.get("Error") == LOST_MONITOR else text
    if status == "paused":
        return f"Up {ago(state.get('StartedAt') or '')} (Paused)"
    if status == "restarting":
        return f"Restarting ({state.get('ExitCode', 0)}) {ago(state.get('FinishedAt') or '')} ago"
    if status == "exited":
        code = state.get("ExitCode")
        shown = "unknown" if code == -1 else code
        return f"Exited ({shown}) {ago(state.get('FinishedAt') or '')} ago" if state.get("FinishedAt") \
            else f"Exited ({shown})"
    if status == "created":
        return f"Created (init {state['Pid']} waiting, its nsbox gone)" if state.get("Pid") else "Created"
    if status == "removing":
        return "Removal In Progress"
    if record.get("Damaged"):
        return f"Dead (damaged record: {record['Damaged']})"
    return "Dead"


def short(container_id: str, full: bool = False) -> str:
    return container_id if full else container_id[:SHORT_ID]


def command_text(record: dict) -> str:
    config = record.get("Config") or {}
    return " ".join((config.get("Entrypoint") or []) + (config.get("Cmd") or []))
