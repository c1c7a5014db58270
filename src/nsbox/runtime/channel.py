"""Line messages between the runtime and the processes it forks (a pipe each way).

The forked init and the runtime take turns (user namespace maps, hooks, ready); each turn
is one line: a word, then arguments. "error CODE MESSAGE" ends the conversation.
"""
from __future__ import annotations

import os


class ChannelClosed(Exception):
    """The other side exited before saying what it was asked to."""


class Channel:
    __slots__ = ("read_fd", "write_fd", "buffer")

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.buffer = b""

    @staticmethod
    def pair() -> tuple[Channel, Channel]:
        """(runtime side, child side)."""
        child_read, parent_write = os.pipe2(os.O_CLOEXEC)
        parent_read, child_write = os.pipe2(os.O_CLOEXEC)
        return Channel(parent_read, parent_write), Channel(child_read, child_write)

    def send(self, *words: object) -> None:
        line = " ".join(str(w) for w in words).replace("\n", " ") + "\n"
        os.write(self.write_fd, line.encode())

    def receive(self) -> list[str]:
        while b"\n" not in self.buffer:
            chunk = os.read(self.read_fd, 4096)
            if not chunk:
                raise ChannelClosed()
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode().split(" ")

    def expect(self, word: str) -> list[str]:
        """Wait for `word`; an "error CODE MESSAGE" line from the child raises ContainerStartError."""
        message = self.receive()
        if message[0] == "error":
            from nsbox.errors import ContainerStartError
            raise ContainerStartError(" ".join(message[2:]), int(message[1]))
        if message[0] != word:
            raise ChannelClosed(f"expected {word!r}, got {' '.join(message)!r}")
        return message[1:]

    def close(self) -> None:
        for fd in (self.read_fd, self.write_fd):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.read_fd = self.write_fd = -1
