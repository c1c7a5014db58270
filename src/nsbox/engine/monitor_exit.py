"""What a detached container's monitor runs when the container's process has exited:
record the exit, then apply --rm or the restart policy.

    python -m nsbox.engine.monitor_exit ROOT ID WAIT_STATUS MONITOR_PID STDOUT_FD STDERR_FD CONSOLE_SOCKET

Prints "restart PID" when it launched the container again (its init is reparented to
the monitor when this process exits), else "exit".
"""
from __future__ import annotations

import os
import sys
import time

from nsbox.engine.containers import Engine
from nsbox.errors import NsboxError
from nsbox.oci.timestamps import parse_rfc3339

FIRST_DELAY = 0.1
MAX_DELAY = 60.0
STEADY_SECONDS = 10  # a run this long resets the back-off, as Docker does


def should_restart(record: dict) -> bool:
    policy = record["HostConfig"].get("RestartPolicy") or {}
    name = policy.get("Name") or "no"
    if record.get("ManualStop") or record["State"].get("Status") == "removing" or name == "no":
        return False
    if name == "on-failure":
        limit = policy.get("MaximumRetryCount") or 0
        return record["State"]["ExitCode"] != 0 and (not limit or record.get("RestartCount", 0) < limit)
    return True  # always, unless-stopped (with no daemon restarts the two are the same)


def restart_delay(record: dict) -> float:
    started, finished = record["State"].get("StartedAt"), record["State"].get("FinishedAt")
    count = record.get("RestartCount", 0)
    if started and finished and parse_rfc3339(finished) - parse_rfc3339(started) >= STEADY_SECONDS:
        return FIRST_DELAY
    return min(FIRST_DELAY * 2 ** count, MAX_DELAY)


def main(argv: list[str]) -> str:
    root, container_id, wait_status, monitor_pid, out_fd, err_fd, console_path = (argv + [""])[:7]
    engine = Engine(root)
    # a --rm container is removed right there (it never restarts: run refuses --rm with --restart)
    record = engine.finish(container_id, int(wait_status), auto_remove=True)
    if not record or not should_restart(record):
        return "exit"
    delay = restart_delay(record)

    def restarting(record: dict) -> None:
        record["State"].update(Status="restarting", Restarting=True)
        record["RestartCount"] = record.get("RestartCount", 0) + 1

    engine.store.update(container_id, restarting)
    time.sleep(delay)
    record = engine.store.load(container_id)
    if not should_restart(dict(record, RestartCount=0)):
        engine.store.update(container_id, lambda r: r["State"].update(Status="exited", Restarting=False))
        return "exit"
    devnull = os.open("/dev/null", os.O_RDWR)
    stdio = (devnull, int(out_fd), int(err_fd)) if int(out_fd) >= 0 else (devnull, devnull, devnull)
    try:
        pid = engine.launch(container_id, stdio, console_path or None, int(monitor_pid))
    except NsboxError:
        return "exit"  # launch recorded the error in the container's State
    return f"restart {pid}"


if __name__ == "__main__":
    sys.stdout.write(main(sys.argv[1:]) + "\n")
