"""Readers for /proc: process start times (to tell a PID from its reuse), NSpid, status."""
from __future__ import annotations

import os


def stat_fields(pid: int) -> list[bytes] | None:
    """/proc/<pid>/stat from field 3 (the state) on, or None if the process is gone.

    The command name (field 2) may hold spaces and parentheses, so it is cut at the last ')'."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            data = stat.read()
    except OSError:
        return None
    return data[data.rfind(b")") + 2:].split()


def start_time(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat (clock ticks since boot), or None if the process is gone."""
    fields = stat_fields(pid)
    return None if fields is None else int(fields[19])


def state_letter(pid: int) -> str | None:
    """R, S, D, Z, T ... or None if the process is gone."""
    fields = stat_fields(pid)
    return None if fields is None else fields[0].decode()


def single_threaded() -> bool:
    """Whether this process has one thread (threads started by C code too)."""
    return len(os.listdir("/proc/self/task")) == 1


def status(pid: int) -> dict[str, str]:
    """/proc/<pid>/status as a dict of its fields."""
    fields: dict[str, str] = {}
    with open(f"/proc/{pid}/status") as lines:
        for line in lines:
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    return fields


def is_alive(pid: int, started: int | None) -> bool:
    """True if `pid` runs and is the same process that started at `started` (not a zombie)."""
    letter = state_letter(pid)
    if letter is None or letter in ("Z", "X"):
        return False
    return started is None or start_time(pid) == started


def wait_gone(pid: int, started: int | None, timeout: float | None = 10.0) -> bool:
    """Wait (up to `timeout` seconds; None: forever) for `pid` (the process that started at
    `started`) to end, and reap it if it is our child; True if it is gone. A pidfd makes the
    wait safe for a process that is not our child, and from PID reuse."""
    if not pid:
        return True
    if is_alive(pid, started):
        import select
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            pidfd = -1
        if pidfd >= 0:
            try:
                if is_alive(pid, started):  # the PID could have been reused before pidfd_open
                    select.select([pidfd], [], [], timeout)
            finally:
                os.close(pidfd)
    try:
        os.waitpid(pid, os.WNOHANG)  # our child (or an orphan, to a subreaper): reap it
    except ChildProcessError:
        pass
    return not is_alive(pid, started)
