"""The monitor of a detached container (like conmon): its parent for its whole life.

`spawn_monitor` (in the CLI's process) forks a process that leaves the CLI's session,
launches the container with its stdout and stderr on pipes (or a pseudo-terminal), reports
the PID back and then execs this file as a small script (`python -S -I monitor.py ...`):
that keeps its memory near the bare interpreter's. The script copies the container's
output into the log (nsbox.engine.logs format), waits for the exit, and hands the rest
(record the exit code and OOM kill, --rm, the restart policy) to a short-lived
`python -m nsbox.engine.monitor_exit`, which may launch the container again; its init
is then reparented to the monitor (a child subreaper) and watched the same way.

The script imports nothing from nsbox: it runs without site-packages.
"""
from __future__ import annotations

import os
import sys

READ_SIZE = 65536


def spawn_monitor(engine, container_id: str) -> int:
    """Start the container under a new monitor; returns the container's host PID."""
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    first = os.fork()
    if first == 0:
        try:
            os.close(read_end)
            os.setsid()
            monitor = os.fork()
            if monitor != 0:
                os.write(write_end, f"{monitor}\n".encode())
                os._exit(0)
            _become_monitor(engine, container_id, write_end)
        except BaseException as error:
            _report_failure(write_end, error)
        os._exit(125)
    os.close(write_end)
    os.waitpid(first, 0)
    reply = _read_reply(read_end)
    os.close(read_end)
    if reply.startswith("ok "):
        return int(reply[3:])
    from nsbox.errors import ContainerStartError
    code, _, message = reply.partition(" ")
    raise ContainerStartError(message or "the monitor exited before starting the container",
                              int(code) if code.isdigit() else 125)


def _read_reply(read_end: int) -> str:
    """The monitor's report: its PID line, then "ok PID" or "CODE MESSAGE". Ends when the
    monitor exits, even if a process it forked (the container's init) still holds the pipe."""
    import select
    data = b""
    pidfd = -1
    try:
        while True:
            if pidfd < 0 and b"\n" in data:
                try:
                    pidfd = os.pidfd_open(int(data.split(b"\n", 1)[0]))
                except (ProcessLookupError, ValueError):
                    break
            readable, _, _ = select.select([read_end] + ([pidfd] if pidfd >= 0 else []), [], [])
            if read_end in readable:
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break
                data += chunk
            elif pidfd in readable:
                os.set_blocking(read_end, False)
                try:
                    data += os.read(read_end, 65536)
                except BlockingIOError:
                    pass
                break
    finally:
        if pidfd >= 0:
            os.close(pidfd)
    return data.partition(b"\n")[2].decode(errors="replace")


def _report_failure(fd: int, error: BaseException) -> None:
    from nsbox.errors import NsboxError
    code = error.exit_code if isinstance(error, NsboxError) else 125
    message = str(error) if isinstance(error, (NsboxError, OSError)) else f"{type(error).__name__}: {error}"
    try:
        os.write(fd, f"{code} {message}".encode())
    except OSError:
        pass


def _become_monitor(engine, container_id: str, report_fd: int) -> None:
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.chdir(engine.paths.container(container_id))  # also marks the monitor as this container's
    record = engine.store.load(container_id)
    console_path = ""
    listener = None
    readers = [-1, -1, -1, -1]  # stdout read, stderr read, stdout write, stderr write
    if record["Config"].get("Tty"):
        from nsbox.engine import console
        listener, console_path = console.listen(engine.paths.container(container_id), "console.sock")
        stdio = (devnull, devnull, devnull)
    else:
        readers[0], readers[2] = os.pipe()
        readers[1], readers[3] = os.pipe()
        stdio = (devnull, readers[2], readers[3])
    pid = engine.launch(container_id, stdio, console_path or None)
    master = console.receive(listener) if listener is not None else -1
    if master >= 0:
        readers[0] = master
    os.write(report_fd, f"ok {pid}".encode())
    os.close(report_fd)
    passed = [fd for fd in readers if fd >= 0]
    if listener is not None:
        passed.append(listener.fileno())
    for fd in passed:
        os.set_inheritable(fd, True)
    os.execv(sys.executable, [sys.executable, "-S", "-I", os.path.abspath(__file__), engine.root, container_id,
                              str(pid), engine.paths.container(container_id, "container.log"),
                              *map(str, readers), str(listener.fileno() if listener is not None else -1),
                              console_path])


# -- the monitor script ----------------------------------------------------------------

def _timestamp() -> bytes:
    import time
    stamp = time.time_ns()
    return (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp // 1_000_000_000))
            + f".{stamp % 1_000_000_000:09d}Z").encode()


def log_chunk(log_fd: int, stream: bytes, data: bytes, pending: dict[bytes, bytes]) -> None:
    """Append `data` to the log as CRI lines: "TIME STREAM F text" (P for a partial line)."""
    data = pending.pop(stream, b"") + data
    lines = data.split(b"\n")
    rest = lines.pop()
    stamp = _timestamp()
    out = [b"%s %s F %s\n" % (stamp, stream, line.rstrip(b"\r")) for line in lines]
    if len(rest) >= READ_SIZE:
        out.append(b"%s %s P %s\n" % (stamp, stream, rest))
    elif rest:
        pending[stream] = rest
    if out:
        os.write(log_fd, b"".join(out))


def flush_pending(log_fd: int, pending: dict[bytes, bytes]) -> None:
    stamp = _timestamp()
    for stream, rest in pending.items():
        os.write(log_fd, b"%s %s P %s\n" % (stamp, stream, rest))
    pending.clear()


def relay(pid: int, log_fd: int, streams: dict[int, bytes]) -> int:
    """Copy the container's output into the log until its init exits; its wait status."""
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
            elif fd in open_streams and not _copy(fd, open_streams[fd], log_fd, pending):
                poller.unregister(fd)
                del open_streams[fd]
        if status is None:
            status = _reap(pid, block=False)
    for fd, stream in open_streams.items():  # what the process wrote just before it exited
        while _copy(fd, stream, log_fd, pending):
            pass
        poller.unregister(fd)
    flush_pending(log_fd, pending)
    os.close(pidfd)
    return status


def _copy(fd: int, stream: bytes, log_fd: int, pending: dict[bytes, bytes]) -> bool:
    """Move what is readable now into the log; False at end of file (or EIO: pty closed)."""
    try:
        data = os.read(fd, READ_SIZE)
    except BlockingIOError:
        return False
    except OSError:  # EIO from a pty master whose last slave closed
        return False
    if not data:
        return False
    log_chunk(log_fd, stream, data, pending)
    return True


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


def after_exit(root: str, container_id: str, status: int, fds: list[str], console_path: str) -> int | None:
    """Run monitor_exit for the bookkeeping; the new PID if it restarted the container."""
    read_end, write_end = os.pipe()
    helper = os.posix_spawn(sys.executable, [sys.executable, "-m", "nsbox.engine.monitor_exit", root,
                                             container_id, str(status), str(os.getpid()), fds[2], fds[3],
                                             console_path],
                            os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, write_end, 1),
                                                      (os.POSIX_SPAWN_CLOSE, read_end)])
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
    words = reply.split()
    return int(words[1]) if len(words) == 2 and words[0] == b"restart" else None


def main(argv: list[str]) -> None:
    root, container_id, pid_text, log_path = argv[:4]
    fds = argv[4:8]
    listener = int(argv[8])
    console_path = argv[9] if len(argv) > 9 else ""
    out_read, err_read = int(fds[0]), int(fds[1])
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
    pid = int(pid_text)
    while True:
        streams = {out_read: b"stdout"}
        if err_read >= 0:
            streams[err_read] = b"stderr"
        status = relay(pid, log_fd, streams)
        new_pid = after_exit(root, container_id, status, fds, console_path)
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
