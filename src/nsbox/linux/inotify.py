"""inotify: one file descriptor that becomes readable when files in watched directories
change, so that a reader waits for the change instead of polling for it."""
from __future__ import annotations

import os
import select
import struct
import time

from nsbox.linux.libc import _libc, check

IN_MODIFY = 0x002
IN_CLOSE_WRITE = 0x008
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_Q_OVERFLOW = 0x4000
IN_IGNORED = 0x8000
EVENT = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len, then the name
IN_CLOEXEC = 0o2000000
IN_NONBLOCK = 0o4000
# a file written, made, renamed into place or removed, or the directory itself removed
CHANGES = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF


class Watch:
    """Directories watched for CHANGES (of the files in `names` only, when given); wait()
    returns once something changed (or a given fd became ready, or the time ran out). A
    directory that is missing is skipped."""

    def __init__(self, directories: list[str], names: set[str] | None = None, mask: int = CHANGES) -> None:
        self.names = {os.fsencode(name) for name in names} if names is not None else None
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
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = [fd for fd, _ in poller.poll(None if left is None else left * 1000)]
            others = [fd for fd in ready if fd != self.fd]
            if others or (self.fd in ready and self._changed()) or left == 0:
                return others

    def _changed(self) -> bool:
        """Read the pending events: whether one is about a watched name (or the watch itself)."""
        data = b""
        try:
            while chunk := os.read(self.fd, 65536):
                data += chunk
        except BlockingIOError:
            pass
        offset, changed = 0, False
        while offset + EVENT.size <= len(data):
            _, mask, _, length = EVENT.unpack_from(data, offset)
            name = data[offset + EVENT.size:offset + EVENT.size + length].rstrip(b"\0")
            offset += EVENT.size + length
            changed = changed or self.names is None or name in self.names \
                or bool(mask & (IN_DELETE_SELF | IN_IGNORED | IN_Q_OVERFLOW))
        return changed

    def close(self) -> None:
        """Close the fd in a thread of its own: the kernel waits for an RCU grace period when an
        inotify instance goes (~15 ms here), which the caller's answer should not wait for."""
        if self.fd >= 0:
            import threading
            threading.Thread(target=os.close, args=(self.fd,), name="inotify-close", daemon=True).start()
            self.fd = -1

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
