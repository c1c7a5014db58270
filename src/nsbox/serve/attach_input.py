"""A container's input and its terminal's size, from an API client: to whoever holds a -t
container's pty (its monitor), through the container's attach.sock (engine.attach_server);
for a container without a terminal, through a FIFO that its monitor makes its stdin at the
start (engine.monitor.STDIN_FIFO). The output goes to the client from the container's log
(serve.streams)."""
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


class PipeInput:
    """`docker run -i` without -t: before the start, a FIFO in the container's directory that
    the monitor gives the container as stdin; a thread writes the client's bytes into it and
    closes it at the client's end of input, so the container reads its end of file (Docker's
    StdinOnce). stop() returns once the thread is done with the connection."""

    def __init__(self, handler, engine, container_id: str) -> None:
        from nsbox.engine.monitor import STDIN_FIFO
        path = engine.paths.container(container_id, STDIN_FIFO)
        if not os.path.exists(path):
            os.mkfifo(path, 0o600)
        self.fifo = os.open(path, os.O_RDWR | os.O_CLOEXEC)  # read-write: the open does not wait for a reader
        self.handler, self.engine, self.container_id = handler, engine, container_id
        self.stop_read, self.stop_write = os.pipe2(os.O_CLOEXEC)
        self.thread = threading.Thread(target=self._forward, daemon=True, name=f"stdin-{container_id[:12]}")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        os.write(self.stop_write, b"x")
        if self.thread.ident is not None:  # (started)
            self.thread.join()
        self._close_fifo()
        os.close(self.stop_read)
        os.close(self.stop_write)

    def _close_fifo(self) -> None:
        if self.fifo >= 0:
            os.close(self.fifo)
            self.fifo = -1

    def _started(self) -> bool:
        """Wait until the container has started (its monitor opened the FIFO's reading end)
        or is gone; False if stop() came first."""
        from nsbox.engine.events import JOURNAL
        from nsbox.errors import NotFound
        with Watch([self.engine.root], {JOURNAL}) as watch:
            while True:
                try:
                    if self.engine.get(self.container_id)["State"]["Status"] != "created":
                        return True
                except NotFound:
                    return True
                if watch.wait(1.0, self.stop_read):
                    return False

    def _forward(self) -> None:
        import select
        client = self.handler.connection.fileno()
        try:
            while True:
                readable, _, _ = select.select([client, self.stop_read], [], [])
                if self.stop_read in readable:
                    return
                data = self.handler.connection.recv(65536)
                if not data:
                    if self._started():  # closing earlier would drop what the pipe holds: no reader yet
                        self._close_fifo()  # the container reads its end of input
                    return
                view = memoryview(data)
                while view:  # (blocks while the container does not read: the pipe's buffer is full)
                    view = view[os.write(self.fifo, view):]
        except OSError:
            return


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
