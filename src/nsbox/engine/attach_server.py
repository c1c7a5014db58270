"""The attach socket of a terminal container: whoever holds its pty master (the monitor of a
`run -dit` container, or a `run -it` that was detached with ^P^Q) serves attach.sock in the
container's directory, so that `nsbox attach` gets back to the terminal.

Frames both ways are TYPE (one byte) + LENGTH (4 bytes, big-endian) + payload. From the
server: b"D" terminal output, b"X" the exit (the wait status as text) once the process has
ended. From a client: b"D" input for the terminal, b"W" a window size ("ROWS COLUMNS").
"""
from __future__ import annotations

import os
import struct

SOCKET = "attach.sock"
HEADER = struct.Struct(">cI")


def frame(kind: bytes, payload: bytes) -> bytes:
    return HEADER.pack(kind, len(payload)) + payload


def connect(path: str):
    """A client socket connected to an attach.sock (deep roots: through a directory descriptor,
    as console.listen does)."""
    import socket
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    directory = -1
    if len(path.encode()) > 107:
        directory = os.open(os.path.dirname(path), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        path = f"/proc/self/fd/{directory}/{os.path.basename(path)}"
    try:
        client.connect(path)
    except OSError:
        client.close()
        raise
    finally:
        if directory >= 0:
            os.close(directory)
    return client


class FrameReader:
    """Frames from a byte stream that arrives in pieces."""

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, data: bytes) -> list[tuple[bytes, bytes]]:
        self.buffer += data
        frames = []
        while len(self.buffer) >= HEADER.size:
            kind, length = HEADER.unpack_from(self.buffer)
            if len(self.buffer) < HEADER.size + length:
                break
            frames.append((kind, self.buffer[HEADER.size:HEADER.size + length]))
            self.buffer = self.buffer[HEADER.size + length:]
        return frames


def serve_terminal(pid: int, master: int, log_fd: int, listener, pidfd: int | None = None) -> int:
    """Copy the pty's output into the log and to every attached client, and clients' input
    into the pty, until `pid` (our child) exits; its wait status. Clients get the exit frame."""
    import select
    import socket

    from nsbox.engine.monitor_loop import _reap, drain, flush_pending, log_chunk
    pidfd = os.pidfd_open(pid) if pidfd is None else pidfd
    poller = select.poll()
    for fd in (pidfd, master, listener.fileno()):
        poller.register(fd, select.POLLIN)
    os.set_blocking(master, False)
    clients: dict[int, tuple[socket.socket, FrameReader]] = {}
    pending: dict[bytes, bytes] = {}
    status = None

    def output() -> bool:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO once the last slave is closed; EAGAIN
            return False
        if not data:
            return False
        log_chunk(log_fd, b"stdout", data, pending)
        for fd, (client, _) in list(clients.items()):
            try:
                client.sendall(frame(b"D", data))
            except OSError:
                _drop(poller, clients, fd)
        return True

    while status is None:
        for fd, _ in poller.poll(10_000):
            if fd == pidfd:
                status = _reap(pid)
            elif fd == master:
                if not output():
                    poller.unregister(master)
            elif fd == listener.fileno():
                client, _ = listener.accept()
                clients[client.fileno()] = (client, FrameReader())
                poller.register(client.fileno(), select.POLLIN)
            elif fd in clients:
                _client_input(poller, clients, fd, master)
        if status is None:
            status = _reap(pid, block=False)
    drain(master, output)
    flush_pending(log_fd, pending)
    for fd, (client, _) in list(clients.items()):
        try:
            client.sendall(frame(b"X", str(status).encode()))
        except OSError:
            pass
        _drop(poller, clients, fd)
    os.close(pidfd)
    return status


def _client_input(poller, clients: dict, fd: int, master: int) -> None:
    client, reader = clients[fd]
    try:
        data = client.recv(65536)
    except OSError:
        data = b""
    if not data:
        _drop(poller, clients, fd)
        return
    for kind, payload in reader.feed(data):
        if kind == b"D":
            from nsbox.engine.monitor_loop import write_all
            write_all(master, payload)
        elif kind == b"W":
            from nsbox.linux.terminal import set_window_size
            rows, columns = (int(word) for word in payload.split())
            set_window_size(master, rows, columns)


def _drop(poller, clients: dict, fd: int) -> None:
    client, _ = clients.pop(fd)
    try:
        poller.unregister(fd)
    except KeyError:
        pass
    client.close()


DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q"


def parse_detach_keys(text: str) -> bytes:
    """Docker's --detach-keys: "ctrl-p,ctrl-q", "ctrl-a,x" ... as the bytes a terminal sends."""
    from nsbox.errors import InvalidOption
    keys = b""
    for key in text.split(",") if text else []:
        if key.startswith("ctrl-") and len(key) == 6 and (key[5].isalpha() or key[5] in "@[\\]^_"):
            keys += bytes([ord(key[5].upper()) & 0x1F])
        elif len(key) == 1:
            keys += key.encode()
        else:
            raise InvalidOption("--detach-keys", f"invalid key {key!r}: use a letter, or ctrl-LETTER "
                                                 "(ctrl-@, ctrl-[ ... ctrl-_), separated by commas")
    return keys


class DetachWatch:
    """Finds the detach sequence in what the user types; the bytes to pass on otherwise (a
    sequence begun and broken off is passed on whole, as Docker does)."""

    def __init__(self, keys: bytes) -> None:
        self.keys = keys
        self.matched = 0

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        passed = bytearray()
        for byte in data:
            if self.keys and byte == self.keys[self.matched]:
                self.matched += 1
                if self.matched == len(self.keys):
                    return bytes(passed), True
                continue
            if self.matched:
                passed += self.keys[:self.matched]
                self.matched = 0
                if self.keys and byte == self.keys[0]:
                    self.matched = 1
                    continue
            passed.append(byte)
        return bytes(passed), False
