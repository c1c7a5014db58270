"""Collect what a process started in this process writes, feed it its stdin, and end it at
a deadline: the loop under nsbox.run and Container.exec.

It waits for its own process only (os.waitpid(pid), never -1): other threads of the
caller may be waiting for theirs, and the caller's other children are not ours to reap.
"""
from __future__ import annotations

import os
import select
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

READ_SIZE = 65536


class Captured:
    """What capture() collected: the wait status, the output, and whether time ran out."""

    __slots__ = ("wait_status", "stdout", "stderr", "timed_out")

    def __init__(self, wait_status: int, stdout: bytes, stderr: bytes, timed_out: bool) -> None:
        self.wait_status = wait_status
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out

    def output(self, text: bool) -> tuple[bytes | str, bytes | str]:
        """(stdout, stderr): as bytes, or decoded (undecodable bytes replaced) with `text`."""
        if text:
            return self.stdout.decode(errors="replace"), self.stderr.decode(errors="replace")
        return self.stdout, self.stderr


def capture(pid: int, out_fd: int, err_fd: int, feed_fd: int, feed: bytes, timeout: float | None,
            kill: Callable[[], None], log: Callable[[bytes, bytes], None] | None = None,
            exits: tuple[Callable[[int], int], Callable[[int], int]] | None = None) -> Captured:
    """Run the loop until `pid` exits; `kill()` ends it once `timeout` seconds have passed.

    `feed` is written to `feed_fd` (closed afterwards, so the process sees end of file);
    `log(stream, data)` also gets each piece of output (the container's log);
    `exits` = (open_pidfd(pid), reap(pid)): a pidfd of it, and its wait status once it has
    exited (default: pidfd_open and waitpid, for a child of this process)."""
    open_pidfd, reap = exits or (os.pidfd_open, _reap)
    pidfd = open_pidfd(pid)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    streams = {out_fd: (b"stdout", bytearray()), err_fd: (b"stderr", bytearray())}
    for fd in streams:
        os.set_blocking(fd, False)
        poller.register(fd, select.POLLIN)
    pending = memoryview(feed)
    if feed_fd >= 0:
        os.set_blocking(feed_fd, False)
        poller.register(feed_fd, select.POLLOUT)
    deadline = None if timeout is None else time.monotonic() + timeout
    timed_out = exited = False
    try:
        while not exited:
            wait = -1 if deadline is None else max(0, int((deadline - time.monotonic()) * 1000) + 1)
            events = poller.poll(wait)
            if not events and deadline is not None and time.monotonic() >= deadline:
                kill()
                timed_out, deadline = True, None
            for fd, _ in events:
                if fd == pidfd:
                    exited = True
                elif fd == feed_fd:
                    pending = _feed(feed_fd, pending)
                    if not pending:
                        poller.unregister(feed_fd)
                        os.close(feed_fd)
                        feed_fd = -1
                elif not _read(fd, streams[fd], log):
                    poller.unregister(fd)
        for fd, stream in streams.items():  # what it wrote just before it exited
            while _read(fd, stream, log):
                pass
        wait_status = reap(pid)
    finally:
        os.close(pidfd)
        if feed_fd >= 0:
            os.close(feed_fd)
    return Captured(wait_status, bytes(streams[out_fd][1]), bytes(streams[err_fd][1]), timed_out)


def _feed(fd: int, pending: memoryview) -> memoryview:
    """Write what the pipe takes now; the rest (empty once done or if the reader is gone)."""
    try:
        return pending[os.write(fd, pending[:READ_SIZE]):]
    except BlockingIOError:
        return pending
    except OSError:  # EPIPE: the process does not read its stdin
        return pending[:0]


def _read(fd: int, stream: tuple[bytes, bytearray], log: Callable[[bytes, bytes], None] | None) -> bool:
    try:
        data = os.read(fd, READ_SIZE)
    except (BlockingIOError, OSError):
        return False
    if not data:
        return False
    stream[1].extend(data)
    if log is not None:
        log(stream[0], data)
    return True


def _reap(pid: int) -> int:
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:
            continue
