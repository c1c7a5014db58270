"""The monitor's loop, run as a script (`python -I monitor_loop.py ...`, exec'd by
nsbox.engine.monitor once the container runs, where monitor_loop.c, which does the same
in ~0.2 MiB, was not built); the foreground run uses its relay and log functions too.

It copies the container's output into the log (nsbox.engine.logs reads it), reaps the
container's init (the monitor is its parent, a child subreaper), and hands the rest
(record the exit code and OOM kill, --rm, the restart policy) to a short-lived
`python -m nsbox.engine.monitor_exit`, which may launch the container again: the new
init is then reparented to the monitor and watched the same way.
"""
from __future__ import annotations

import os
import sys

from nsbox.oci.timestamps import rfc3339_now

READ_SIZE = 65536


class Log:
    """The container's log file, appended to in whole lines only: a write the disk cannot
    take (ENOSPC, EDQUOT) is cut back to the last whole line and its lines are counted, and
    the next write that fits says how many were dropped. The monitor never dies of it."""

    __slots__ = ("fd", "dropped")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.dropped = 0

    def write(self, lines: list[bytes]) -> None:
        if not lines and not self.dropped:
            return
        if self.dropped:
            note = b"%s stderr F nsbox: %d log lines dropped: no space left for the log\n" % (rfc3339_now().encode(), self.dropped)
            lines = [note] + lines
        data = b"".join(lines)
        try:
            end = os.lseek(self.fd, 0, os.SEEK_END)
        except OSError:
            end = -1
        try:
            if os.write(self.fd, data) == len(data):
                self.dropped = 0
                return
        except OSError:
            pass
        if end >= 0:
            try:
                os.ftruncate(self.fd, end)  # no torn line
            except OSError:
                pass
        self.dropped += len(lines) - (1 if self.dropped else 0)


def log_chunk(log: Log | int, stream: bytes, data: bytes, pending: dict[bytes, bytes]) -> None:
    """Append `data` to the log (a Log, or a file descriptor) as CRI lines: "TIME STREAM F
    text" (P for a partial line)."""
    if isinstance(log, int):
        log = Log(log)
    data = pending.pop(stream, b"") + data
    lines = data.split(b"\n")
    rest = lines.pop()
    stamp = rfc3339_now().encode()
    out = [b"%s %s F %s\n" % (stamp, stream, line.rstrip(b"\r")) for line in lines]
    if len(rest) >= READ_SIZE:
        out.append(b"%s %s P %s\n" % (stamp, stream, rest))
    elif rest:
        pending[stream] = rest
    if out:
        log.write(out)


def flush_pending(log: Log | int, pending: dict[bytes, bytes]) -> None:
    if isinstance(log, int):
        log = Log(log)
    stamp = rfc3339_now().encode()
    lines = [b"%s %s P %s\n" % (stamp, stream, rest) for stream, rest in pending.items()]
    if lines:
        log.write(lines)
    pending.clear()


def relay(pid: int, log_fd: int | Log, streams: dict[int, bytes], echo: dict[int, int] | None = None) -> int:
    """Copy the container's output into the log until its init exits; its wait status.

    `echo` maps a stream's fd to an fd that gets a copy too (a foreground run's own
    stdout and stderr)."""
    echo = echo or {}
    log = log_fd if isinstance(log_fd, Log) else Log(log_fd)
    import select
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    for fd in streams:
        os.set_blocking(fd, False)
        poller.register(fd, select.POLLIN)
    pending: dict[bytes, bytes] = {}
    status = None
    open_streams = dict(streams)
    while status is None:
        for fd, _ in poller.poll(10_000):
            if fd == pidfd:
                status = _reap(pid)
            elif fd in open_streams and not _copy(fd, open_streams[fd], log, pending, echo.get(fd)):
                poller.unregister(fd)
                del open_streams[fd]
        if status is None:
            status = _reap(pid, block=False)
    for fd, stream in open_streams.items():  # what the process wrote just before it exited
        drain(fd, lambda: _copy(fd, stream, log, pending, echo.get(fd)))
        poller.unregister(fd)
    flush_pending(log, pending)
    os.close(pidfd)
    return status


def drain(fd: int, copy) -> None:
    """Copy what is left in `fd` once the writer has exited. A pipe has it all already; a
    pty master may still be receiving it (the kernel moves pty output asynchronously), so
    it is read until the closed slave's EIO, for at most a second without data."""
    import select
    while copy():
        pass
    if os.isatty(fd):
        while select.select([fd], [], [], 1.0)[0] and copy():
            pass


def _copy(fd: int, stream: bytes, log: Log, pending: dict[bytes, bytes], echo_fd: int | None = None) -> bool:
    """Move what is readable now into the log (and to `echo_fd`); False at end of file
    (or EIO: pty closed)."""
    try:
        data = os.read(fd, READ_SIZE)
    except BlockingIOError:
        return False
    except OSError:  # EIO from a pty master whose last slave closed
        return False
    if not data:
        return False
    if echo_fd is not None:
        write_all(echo_fd, data)
    log_chunk(log, stream, data, pending)
    return True


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data`; a reader that went away (EPIPE) only stops the copy to it."""
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view):]
    except OSError:
        pass


def _reap(pid: int, block: bool = True) -> int | None:
    """Reap every exited child (a subreaper inherits orphans); `pid`'s status once it exited."""
    found = None
    while True:
        try:
            child, status = os.waitpid(-1, 0 if block and found is None else os.WNOHANG)
        except ChildProcessError:
            return found
        if child == 0:
            return found
        if child == pid:
            found = status


def after_exit(root: str, container_id: str, status: int, fds: list[str], console_path: str,
               log: Log | None = None) -> int | None:
    """Have monitor_exit record the exit (and apply --rm or the restart policy); the new PID
    if it restarted the container. A helper that fails (a full disk) is run again, later,
    until it succeeds or the container is gone: the exit code waits here, in memory."""
    import time
    delay = 0.1
    container_dir = os.path.join(root, "containers", container_id)
    while True:
        if log is not None:
            log.write([])  # (says how many lines a full disk dropped, once there is room)
        words = _run_helper(root, container_id, status, fds, console_path).split()
        if len(words) == 2 and words[0] == b"restart":
            return int(words[1])
        if not os.path.isdir(container_dir):
            return None
        if words == [b"exit"]:
            while log is not None and log.dropped and os.path.isdir(container_dir):
                time.sleep(delay)  # the note of what a full disk dropped is worth the wait too
                delay = min(delay * 2, 5.0)
                log.write([])
            return None
        time.sleep(delay)
        delay = min(delay * 2, 5.0)


def _run_helper(root: str, container_id: str, status: int, fds: list[str], console_path: str) -> bytes:
    """`python -m nsbox.engine.monitor_exit ...`; what it printed ("exit", "restart PID", or
    nothing when it failed). The process that started the container may record the exit
    itself (NSBOX_EXIT_RECORDER, as in monitor_loop.c)."""
    if _recorded_by_starter(container_id, status):
        return b"exit"
    read_end, write_end = os.pipe()
    try:
        helper = os.posix_spawn(sys.executable, [sys.executable, "-m", "nsbox.engine.monitor_exit", root,
                                                 container_id, str(status), str(os.getpid()), fds[2], fds[3],
                                                 console_path],
                                os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, write_end, 1),
                                                          (os.POSIX_SPAWN_CLOSE, read_end)])
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return b""
    os.close(write_end)
    reply = b""
    while True:
        chunk = os.read(read_end, 4096)
        if not chunk:
            break
        reply += chunk
    os.close(read_end)
    try:
        os.waitpid(helper, 0)
    except ChildProcessError:
        pass
    return reply


def _recorded_by_starter(container_id: str, status: int) -> bool:
    name = os.environ.get("NSBOX_EXIT_RECORDER")
    if not name:
        return False
    import socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as recorder:
            recorder.settimeout(60)
            recorder.connect("\0" + name)
            recorder.sendall(f"{container_id} {status}\n".encode())
            return recorder.recv(16).startswith(b"exit")
    except OSError:
        return False


def main(argv: list[str]) -> None:
    root, container_id, pid_text, log_path = argv[:4]
    fds = argv[4:8]
    listener = int(argv[8])
    console_path = argv[9] if len(argv) > 9 else ""
    attach_fd = int(argv[10]) if len(argv) > 10 else -1  # a terminal container's attach socket
    out_read, err_read = int(fds[0]), int(fds[1])
    log = Log(os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640))
    pid = int(pid_text)
    while True:
        streams = {out_read: b"stdout"}
        if err_read >= 0:
            streams[err_read] = b"stderr"
        if attach_fd >= 0:
            import socket

            from nsbox.engine.attach_server import serve_terminal
            attach = socket.socket(fileno=attach_fd)
            status = serve_terminal(pid, out_read, log.fd, attach)
            attach.detach()
        else:
            status = relay(pid, log, streams)
        new_pid = after_exit(root, container_id, status, fds, console_path, log)
        if new_pid is None:
            return
        pid = new_pid
        if listener >= 0:  # a terminal container: the new process's pty master
            os.close(out_read)
            out_read = _accept_console(listener)


def _accept_console(listener_fd: int) -> int:
    """The pty master a restarted terminal container's runtime sends (as console.receive does)."""
    import socket
    listener = socket.socket(fileno=listener_fd)
    try:
        connection, _ = listener.accept()
        try:
            _, fds, _, _ = socket.recv_fds(connection, 4096, 1)
        finally:
            connection.close()
    finally:
        listener.detach()
    return fds[0]


if __name__ == "__main__":
    main(sys.argv[1:])
