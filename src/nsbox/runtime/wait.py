"""Waiting for a container's processes to end (children, or reparented to this subreaper)."""
from __future__ import annotations

import os
import time

from nsbox.linux import proc


def wait_gone(pid: int, started: int | None, timeout: float = 10.0) -> None:
    """Wait until `pid` has exited (reaped by whoever is its parent)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our child (or orphan: we are a subreaper)
                return
        except ChildProcessError:
            pass
        if not proc.is_alive(pid, started) or time.monotonic() >= deadline:
            return
        time.sleep(0.002)


def wait_exit(pid: int) -> int:
    """Wait for a child (or reparented) process; its exit code, 128+N for a signal, as shells do."""
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code
