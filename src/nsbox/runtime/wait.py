"""Waiting for a container's process to end (a child, or reparented to this subreaper): its exit code
as a shell shows it. linux.proc.wait_gone waits for any process."""
from __future__ import annotations

import os


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
