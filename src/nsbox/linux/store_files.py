"""The file operations every store is made of (runtime state, containers, images): atomic
writes, tree removal, and fcntl locks, so that a crash at any moment leaves either the old
or the new content and concurrent writers take turns."""
from __future__ import annotations

import _thread
import fcntl
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO


def write_atomic(path: str, data: bytes, mode: int = 0o644, durable: bool = True) -> None:
    """Write `data` to a temporary file beside `path`, fsync it, and rename it into place.

    The rename alone makes the write atomic for every other process (a kill -9 at any
    moment leaves the old or the new file); the fsync adds survival of a power loss.
    State that a reboot makes meaningless anyway (live container state under /run) passes
    durable=False and skips it. The temporary name is unique per process and thread, so
    concurrent writers never share one; a failed write removes its temporary file."""
    temporary = f"{path}.tmp-{os.getpid()}-{_thread.get_ident():x}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temporary, path)
    except BaseException as error:
        if isinstance(error, OSError) and error.filename is None:
            error.filename = path  # (a full disk: which file, and so which filesystem, is full)
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def remove_tree(path: str) -> None:
    """Delete a directory tree without following symlinks; a missing tree is no error.

    shutil.rmtree would do, but importing shutil costs ~12 ms here (it pulls in bz2, lzma
    and fnmatch), and `nsbox run --rm` removes a root filesystem on its way out."""
    try:
        entries = list(os.scandir(path))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            remove_tree(entry.path)
        else:
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                pass
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass


def unlink_if_there(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def lock_fd(fd: int, exclusive: bool = True) -> None:
    """Wait for an fcntl (flock) lock on an open file or directory; closing the fd releases it."""
    fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)


class locked:
    """`with locked(path):` holds an fcntl lock on the file at `path` (made if missing).

    With `remove`, the file is deleted while the lock is still held; a waiter that got
    the lock on a file deleted meanwhile notices (the inode differs) and starts again.
    """

    __slots__ = ("path", "exclusive", "remove", "fd")

    def __init__(self, path: str, exclusive: bool = True, remove: bool = False) -> None:
        self.path = path
        self.exclusive = exclusive
        self.remove = remove
        self.fd = -1

    def __enter__(self) -> int:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            lock_fd(fd, self.exclusive)
            try:
                if os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                    self.fd = fd
                    return fd
            except FileNotFoundError:
                pass
            os.close(fd)

    def __exit__(self, *exc: object) -> None:
        if self.remove:
            unlink_if_there(self.path)
        os.close(self.fd)  # closing releases the lock
        self.fd = -1


def read_whole_lines(source: str | BinaryIO, offset: int) -> tuple[bytes, int]:
    """The complete lines appended to `source` (a path, or a file kept open so that its
    lines outlive an unlink) from `offset` on (a line still being written waits for the next
    read) and the offset after them; nothing while the file is missing."""
    if isinstance(source, str):
        try:
            with open(source, "rb") as appended:
                return read_whole_lines(appended, offset)
        except FileNotFoundError:
            return b"", offset
    source.seek(offset)
    data = source.read()
    complete = data[:data.rfind(b"\n") + 1]
    return complete, offset + len(complete)
