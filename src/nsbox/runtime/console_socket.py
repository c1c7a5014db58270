"""--console-socket: the unix socket where the runtime sends a container's pty master."""
from __future__ import annotations


def connect_console(path: str):  # -> socket.socket
    import socket
    console = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        console.connect(path)
    except OSError as error:
        console.close()
        from nsbox.errors import NsboxError
        raise NsboxError(f"--console-socket {path}: cannot connect: {error.strerror}") from None
    return console
