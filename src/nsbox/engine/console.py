"""Console sockets: where a runtime sends the pseudo-terminal master of a `-t` container."""
from __future__ import annotations

import os
import socket

UNIX_PATH_MAX = 107


def listen(directory: str, name: str) -> tuple[socket.socket, str]:
    """A listening AF_UNIX socket `name` in `directory`, and the path to give the runtime.

    A socket path longer than the kernel's 107 bytes (deep test roots) is reached through
    /proc/PID/fd/DIRFD/NAME instead; that directory fd stays open (and inheritable, so a
    monitor keeps it across its exec) as long as the process lives.
    """
    path = os.path.join(directory, name)
    if len(path.encode()) > UNIX_PATH_MAX:
        directory_fd = os.open(directory, os.O_PATH | os.O_DIRECTORY)
        os.set_inheritable(directory_fd, True)
        path = f"/proc/{os.getpid()}/fd/{directory_fd}/{name}"
    if os.path.lexists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(4)
    return listener, path


def receive(listener: socket.socket) -> int:
    """Accept the runtime's connection; the pty master it sends."""
    connection, _ = listener.accept()
    try:
        _, fds, _, _ = socket.recv_fds(connection, 4096, 1)
    finally:
        connection.close()
    if not fds:
        raise OSError("the runtime sent no terminal over the console socket")
    return fds[0]


def start_with_pty(directory: str, name: str, start) -> tuple[int, int]:
    """Start a process with `start(console_socket_path) -> pid` (a runtime's create or exec
    with --console-socket) and receive its pty master: (pid, master)."""
    listener, path = listen(directory, name)
    try:
        pid = start(path)
        master = receive(listener)
    finally:
        listener.close()
        os.unlink(path)
        _close_directory_fd(path)
    return pid, master


def _close_directory_fd(path: str) -> None:
    """The directory descriptor listen() opened for a long path: a one-off socket needs it
    no longer (a process that starts many, the Python API, would otherwise collect them)."""
    prefix = f"/proc/{os.getpid()}/fd/"
    if path.startswith(prefix):
        os.close(int(path[len(prefix):].partition("/")[0]))
