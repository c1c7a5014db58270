"""A foreground `run` with process.terminal: the runtime keeps the pty master itself.

As with `runc run`, no --console-socket is needed at a shell: the runtime receives the
master over a socket of its own, puts the user's terminal in raw mode, copies bytes both
ways and passes window-size changes on, until the container's process exits.
"""
from __future__ import annotations

import os
import socket
import sys


class ConsoleReceiver:
    """A listening unix socket for create's --console-socket; `master()` accepts the pty."""

    def __init__(self, directory: str) -> None:
        self.path = os.path.join(directory, f"console-{os.getpid()}.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(1)

    def master(self) -> int:
        connection, _ = self.listener.accept()
        with connection:
            _, fds, _, _ = socket.recv_fds(connection, 64, 1)
        if not fds:
            from nsbox.errors import NsboxError
            raise NsboxError("the container's init sent no terminal")
        return fds[0]

    def close(self) -> None:
        self.listener.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def proxy(master: int, pid: int) -> int:
    """Copy between this terminal (or plain stdio) and the pty until `pid` exits; its exit code."""
    import select

    from nsbox.linux.terminal import copy_window_size, give_back_terminal, take_terminal
    from nsbox.runtime.wait import wait_exit
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    saved = take_terminal(lambda: copy_window_size(stdin, master), fd=stdin)
    try:
        sources = [master, stdin]
        while master in sources:
            try:
                readable, _, _ = select.select(sources, [], [])
            except InterruptedError:
                continue
            if master in readable:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every slave descriptor is closed
                    data = b""
                if not data:
                    sources.remove(master)
                else:
                    os.write(stdout, data)
            if stdin in readable:
                data = os.read(stdin, 65536)
                if data:
                    os.write(master, data)
                else:
                    sources.remove(stdin)
    finally:
        give_back_terminal(saved, stdin)
        os.close(master)
    return wait_exit(pid)
