"""Waiting inside an asyncio event loop for a process to end, with no thread and no polling:
a pidfd (which becomes readable when the process exits) watched by the loop. Closing a
pidfd costs nothing (an inotify instance would wait for an RCU grace period), and it
works for a process that is not ours (a detached container's init, its monitor's child)."""
from __future__ import annotations

import asyncio
import os

SETTLE = 0.01  # seconds: the process has ended; its monitor is recording the exit


async def process_exit(pid: int, timeout: float) -> None:
    """Return once process `pid` has exited (after SETTLE), or after `timeout` seconds. A
    PID reused meanwhile by another process costs at most `timeout`."""
    try:
        fd = os.pidfd_open(pid) if pid > 0 else -1
    except OSError:  # ESRCH: gone (and reaped) already
        fd = -1
    if fd < 0:
        await asyncio.sleep(min(timeout, SETTLE) if pid > 0 else timeout)
        return
    loop = asyncio.get_running_loop()
    ended: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not ended.done():
            ended.set_result(None)
    loop.add_reader(fd, readable)
    try:
        await asyncio.wait_for(ended, timeout)
    except TimeoutError:
        return
    finally:
        loop.remove_reader(fd)
        os.close(fd)
    await asyncio.sleep(SETTLE)
