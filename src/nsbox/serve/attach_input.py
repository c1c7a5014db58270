"""A terminal container's input and window size, from an API client to whoever holds the
container's pty (its monitor), through the container's attach.sock (engine.attach_server).
The output goes to the client from the container's log (serve.streams)."""
from __future__ import annotations

import os
import threading

from nsbox.linux.inotify import Watch


class InputForwarder:
    """A thread that passes the hijacked connection's bytes to the container's terminal
    until either side ends or stop() (the attach request may come before the start: it
    waits for the socket). stop() returns once the thread is done with the connection."""

    def __init__(self, handler, engine, container_id: str) -> None:
        self.handler, self.engine, self.container_id = handler, engine, container_id
        self.stop_read, self.stop_write = os.pipe2(os.O_CLOEXEC)
        self.thread = threading.Thread(target=self._forward, daemon=True, name=f"attach-input-{container_id[:12]}")
        self.thread.start()

    def stop(self) -> None:
        os.write(self.stop_write, b"x")
        self.thread.join()
        os.close(self.stop_read)
        os.close(self.stop_write)

    def _forward(self) -> None:
        import select

        from nsbox.engine.attach_server import frame
        terminal = self._connect_when_served()
        if terminal is None:
            return
        client = self.handler.connection.fileno()
        try:
            while True:
                readable, _, _ = select.select([client, terminal, self.stop_read], [], [])
                if self.stop_read in readable:
                    return
                if terminal in readable and not terminal.recv(65536):  # its output reaches the client from the log
                    return
                if client in readable:
                    data = self.handler.connection.recv(65536)
                    if not data:  # the client closed its input
                        return
                    terminal.sendall(frame(b"D", data))
        except OSError:
            return
        finally:
            terminal.close()

    def _connect_when_served(self):
        """The attach socket once the container's monitor serves it; None if the container
        ends (or stop() comes) first."""
        from nsbox.engine.attach_server import SOCKET, connect
        from nsbox.errors import NotFound
        directory = self.engine.paths.container(self.container_id)
        with Watch([directory], {SOCKET}) as watch:
            while True:
                try:
                    return connect(os.path.join(directory, SOCKET))
                except OSError:
                    pass
                try:
                    status = self.engine.get(self.container_id)["State"]["Status"]
                except NotFound:
                    return None
                if status not in ("created", "running") or watch.wait(1.0, self.stop_read):
                    return None


def resize_terminal(engine, record: dict, rows: int, columns: int) -> None:
    """Set the container's terminal size (POST /containers/ID/resize)."""
    from nsbox.engine.attach_server import SOCKET, connect, frame
    try:
        terminal = connect(engine.paths.container(record["Id"], SOCKET))
    except OSError:
        return  # no terminal served (not a -t container, or it has ended): as Docker, nothing to size
    try:
        terminal.sendall(frame(b"W", f"{rows} {columns}".encode()))
    finally:
        terminal.close()
