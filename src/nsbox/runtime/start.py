"""`start`: let a created container's init run the user's program (it waits on exec.fifo)."""
from __future__ import annotations

import os

from nsbox.errors import StateError
from nsbox.runtime.state import ContainerRecord


def start(state_root: str, container_id: str) -> None:
    record = ContainerRecord.load(state_root, container_id)
    try:
        status = record.status()
        if status != "created":
            raise StateError(f"container {container_id!r} is {status}; only a created container can be started")
        fd = os.open(record.fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            reply = read_start_reply(fd, record)
        finally:
            os.close(fd)
        os.unlink(record.fifo)
        if reply != b"0":
            raise StateError(f"container {container_id!r} did not start: its init exited before running the program")
        poststart = record.hooks("poststart")
        if poststart:
            from nsbox.runtime.hooks import run_hooks
            run_hooks("poststart", poststart, record.oci_state(), warn_only=True)
    finally:
        record.unlock()


def read_start_reply(fd: int, record: ContainerRecord) -> bytes:
    """Wait for the init to open the fifo and write its byte (after startContainer hooks)."""
    import select
    while True:
        readable, _, _ = select.select([fd], [], [], 0.05)
        if readable:
            data = os.read(fd, 16)
            if data:
                return data
        if not record.alive():  # it may have written just before it exited (a fast program)
            try:
                return os.read(fd, 16)
            except BlockingIOError:
                return b""
