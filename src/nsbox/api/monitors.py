"""The monitors of detached containers this process started, reaped once they exit.

The runtime makes its caller a child subreaper (the container's init must be reparented
to it), and so does adopt_orphans before a detached start: a monitor this process spawns,
orphaned by design, becomes this process's child, and without a wait it would stay a
zombie. Every API call reaps those that ended.
"""
from __future__ import annotations

import os
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_adopted: set[int] = set()
_lock = threading.Lock()


def adopt_orphans() -> None:
    """Become a child subreaper before spawning a monitor, so that it is ours to reap (not
    a subreaper's further up, which would never wait for it)."""
    from nsbox.linux.libc import set_child_subreaper
    set_child_subreaper()


def note(record: dict[str, Any]) -> None:
    """Remember the monitor of a container just started from this process."""
    pid = (record.get("Monitor") or {}).get("Pid") or 0
    if pid and pid != os.getpid():
        with _lock:
            _adopted.add(pid)


def reap() -> None:
    """Wait for the remembered monitors that have exited (never blocks)."""
    with _lock:
        for pid in list(_adopted):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not ours (we were no subreaper yet): init reaps it
                done = pid
            if done:
                _adopted.discard(pid)
