"""inotify: one file descriptor that becomes readable when files in watched directories
change, so that a reader waits for the change instead of polling for it."""
from __future__ import annotations

import os
import select

from nsbox.linux.libc import _libc, check

IN_MODIFY = 0x002
IN_CLOSE_WRITE = 0x008
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_CLOEXEC = 0o2000000
IN_NONBLOCK = 0o4000
# a file written, made, renamed into place or removed, or the directory itself removed
CHANGES = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF


class Watch:
    """Directories watched for CHANGES; wait() returns once something changed (or a given
    fd became readable, or the time ran out). A directory that is missing is skipped."""

    def __init__(self, directories: list[str], mask: int = CHANGES) -> None:
        self.fd = check(_libc.inotify_init1(IN_CLOEXEC | IN_NONBLOCK), "inotify_init1")
        for directory in directories:
            if _libc.inotify_add_watch(self.fd, os.fsencode(directory), mask) < 0 and os.path.isdir(directory):
                self.close()
                check(-1, "inotify_add_watch", directory)

    def wait(self, timeout: float | None, *readable: int, hangup: tuple[int, ...] = ()) -> list[int]:
        """Block until a change, one of `readable` has data (or an end), one of `hangup` is
        closed by its peer (a socket whose other side may have half-closed it), or `timeout`
        seconds; the fds of the last two kinds that are ready."""
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        for fd in readable:
            poller.register(fd, select.POLLIN)
        for fd in hangup:
            poller.register(fd, 0)  # POLLHUP and POLLERR are always reported
        ready = [fd for fd, _ in poller.poll(None if timeout is None else timeout * 1000)]
        if self.fd in ready:
            try:
                while os.read(self.fd, 65536):
                    pass
            except BlockingIOError:
                pass
        return [fd for fd in ready if fd != self.fd]

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
