"""`run -it` that the user can leave with the detach keys (^P^Q) while the container runs on.

The process the shell waits for forks first: its child becomes the container's parent and
runs it on the shared terminal as a foreground `run` does. On the detach keys the child
tells the first process, which returns to the shell (exit 0), and turns itself into the
container's monitor: it leaves the terminal's session and serves the pty on attach.sock
(nsbox.engine.attach_server) until the container exits, then records the exit (and --rm).
"""
from __future__ import annotations

import os

DETACHED_MESSAGE = b"detached\n"


def run_detachable(engine, container_id: str, detach_keys: bytes) -> int:
    """A foreground `run -it` that ^P^Q (the detach keys) turns into a detached container."""
    def work(detached) -> int:
        from nsbox.engine.foreground import run_attached

        def on_detach(pid: int, master: int, log_fd: int) -> int:
            detached()
            return _become_monitor(engine, container_id, pid, master, log_fd)
        return run_attached(engine, container_id, True, True, detach_keys, on_detach)
    return in_detachable_child(work)


def in_detachable_child(work) -> int:
    """work(detached) -> exit code, run in a forked child (the parent of what it starts); this
    process returns its exit code, or 0 as soon as it calls detached()."""
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    child = os.fork()
    if child == 0:
        os.close(read_end)
        _child(work, write_end)  # never returns
    os.close(write_end)
    from nsbox.engine.attach import forward_signals
    forward_signals(child)
    return _wait_child(child, read_end)


def hold_detached(pid: int, master: int) -> int:
    """After a detach with no one to attach again (exec -it): leave the terminal's session and
    keep the pty open, its output read and dropped, until the process (our child) exits."""
    import select

    from nsbox.engine.attach import wait_status
    os.setsid()
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    pidfd = os.pidfd_open(pid)
    while not select.select([pidfd], [], [], 0)[0]:
        readable = select.select([master, pidfd], [], [])[0]
        if master in readable:
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break
    os.close(pidfd)
    return wait_status(pid)


def _wait_child(child: int, read_end: int) -> int:
    """The child's exit code, or 0 as soon as it says the user detached; an error it reports is raised."""
    from nsbox.engine.launching import exit_code
    report = b""
    while True:
        try:
            chunk = os.read(read_end, 4096)
        except InterruptedError:
            continue
        if not chunk:
            break
        report += chunk
        if report.startswith(DETACHED_MESSAGE):
            os.close(read_end)
            return 0
    os.close(read_end)
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    if report.startswith(b"error "):
        from nsbox.errors import ContainerStartError
        code, _, message = report[6:].decode(errors="replace").partition(" ")
        raise ContainerStartError(message, int(code))
    return exit_code(status)


def _child(work, report_fd: int) -> None:
    from nsbox.errors import NsboxError

    def detached() -> None:
        os.write(report_fd, DETACHED_MESSAGE)
        os.close(report_fd)

    code = 125
    try:
        code = work(detached)
    except NsboxError as error:
        try:
            os.write(report_fd, f"error {error.exit_code} {error}".encode())
        except OSError:
            pass
    except BaseException as error:  # nothing must escape into the caller's code in this forked child
        try:
            os.write(report_fd, f"error 125 {type(error).__name__}: {error}".encode())
        except OSError:
            pass
    os._exit(code)


def _become_monitor(engine, container_id: str, pid: int, master: int, log_fd: int) -> int:
    """Serve the detached container's terminal until it exits; its wait status."""
    from nsbox.engine import console
    from nsbox.engine.attach_server import SOCKET, serve_terminal
    os.setsid()
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    listener, _ = console.listen(engine.paths.container(container_id), SOCKET)
    try:
        return serve_terminal(pid, master, log_fd, listener)
    finally:
        listener.close()
