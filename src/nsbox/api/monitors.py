"""This process as a child subreaper only while it needs to be, and the monitors of the
detached containers it started, reaped once they exit.

The runtime makes its caller a child subreaper: a container's init (or an exec'd
process) is orphaned by the runtime's intermediate process and must be reparented to
the caller, which waits for it. A program using the API would otherwise stay a
subreaper for good and collect, as zombies, every orphan of its other children; so
`subreaper()` holds the flag only around the starts, counted across threads. A monitor
spawned while another thread holds it becomes this process's child: `note` and `reap`
wait for those.
"""
from __future__ import annotations

import contextlib
import os
import threading

from nsbox.linux.libc import PR_SET_CHILD_SUBREAPER, prctl

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

_adopted: set[int] = set()
_lock = threading.Lock()
_holders = 0


@contextlib.contextmanager
def subreaper() -> Iterator[None]:
    """Be a child subreaper inside the block (and while any other thread is in one)."""
    global _holders
    with _lock:
        if _holders == 0:
            prctl(PR_SET_CHILD_SUBREAPER, 1)
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                prctl(PR_SET_CHILD_SUBREAPER, 0)


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
            except ChildProcessError:  # not ours: the process it was orphaned to reaps it
                done = pid
            if done:
                _adopted.discard(pid)
