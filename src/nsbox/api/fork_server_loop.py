"""The fork server's own process (see nsbox.api.fork_server): it creates containers through
nsbox's runtime, called as a library, and reports how their inits end.

It is small (the interpreter and the runtime's modules, no site packages), so the two
forks of a create copy few page tables however large its caller is, and it is
single-threaded, so those forks are always safe. The runtime makes it the child
subreaper: each init it creates ends up its child, reaped here, its wait status sent to
the caller. It runs until its socket closes (the caller closed it or
exited).

Messages are pickled tuples, one per datagram (SOCK_SEQPACKET). The helper says
("ready",) once it has imported the runtime, and ("exit", PID, WAIT_STATUS) as soon as
it has reaped an init or exec'd process (unasked, so that the caller need not ask); the
requests:
    ("create", state_root, container_id, bundle, console_socket, spec) or
    ("exec", state_root, container_id, process, console_socket, None), with the process's
        stdin, stdout and stderr as SCM_RIGHTS  ->  ("pid", PID) + a pidfd of it | ("error", ...)
"""
from __future__ import annotations

import os
import pickle
import select
import socket
import sys

MESSAGE_SIZE = 1 << 20  # a create's spec (~10 KB for a plain run)
LOST_CHILD = 255 << 8  # the wait status of an init whose end is not known: exit code 255


class Server:
    """The loop: one request at a time (the caller's threads take turns)."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection
        self.poller = select.poll()
        self.poller.register(connection, select.POLLIN)
        self.inits: dict[int, int] = {}  # pidfd -> PID, inits still running

    def serve(self) -> None:
        import nsbox.engine.runtimes  # noqa: F401  (before saying it is ready)
        import nsbox.runtime.create  # noqa: F401
        from nsbox.linux.libc import set_child_subreaper
        from nsbox.runtime.init import import_child_modules
        import_child_modules()  # once here, not in each forked child
        set_child_subreaper()  # every init and exec'd process it starts ends up its child
        self._send(("ready",))
        while True:
            for fd, _ in self.poller.poll():
                if fd in self.inits:
                    self._reap(fd)
                elif not self._answer():
                    return

    def _answer(self) -> bool:
        message, fds, _, _ = socket.recv_fds(self.connection, MESSAGE_SIZE, 3)
        if not message:
            return False  # the caller is gone
        request = pickle.loads(message)
        if request[0] in ("create", "exec"):
            reply, pidfd = self._start(request, fds)
            self._send(reply, pidfd)
        return True

    def _start(self, request: tuple[object, ...], stdio: list[int]) -> tuple[tuple[object, ...], int]:
        """A create or an exec: ("pid", PID) and a pidfd of the process, or an error."""
        from nsbox.engine.runtimes import NsboxRuntime
        try:
            verb, state_root, container_id, detail, console_socket, spec = request
            runtime = NsboxRuntime(str(state_root))
            streams = (stdio[0], stdio[1], stdio[2])
            if verb == "create":
                pid = runtime.create(str(container_id), str(detail), streams, console_socket, spec)  # type: ignore[arg-type]
            else:
                pid = runtime.exec_process(str(container_id), detail, streams, console_socket)  # type: ignore[arg-type]
        except Exception as error:  # handed to the caller, who raises it
            return error_reply(error), -1
        finally:
            for fd in stdio:
                os.close(fd)
        pidfd = os.pidfd_open(pid)
        self.inits[pidfd] = pid
        self.poller.register(pidfd, select.POLLIN)
        return ("pid", pid), pidfd  # the caller's own pidfd: the init may be reaped here before it could open one

    def _reap(self, pidfd: int) -> None:
        pid = self.inits.pop(pidfd)
        self.poller.unregister(pidfd)
        os.close(pidfd)
        try:
            status = os.waitpid(pid, 0)[1]
        except ChildProcessError:  # not reparented here after all
            status = LOST_CHILD
        self._send(("exit", pid, status))  # unasked: the caller, woken by its pidfd too, reads it

    def _send(self, reply: tuple[object, ...], fd: int = -1) -> None:
        socket.send_fds(self.connection, [pickle.dumps(reply)], [fd] if fd >= 0 else [])


def error_reply(error: Exception) -> tuple[object, ...]:
    """The error as the caller rebuilds it: its class, args and attributes (see fork_server.raise_error)."""
    reply = ("error", type(error).__module__, type(error).__qualname__, error.args, vars(error))
    try:
        pickle.dumps(reply)
    except Exception:  # attributes pickle cannot take: the words still go
        reply = ("error", "nsbox.errors", "NsboxError", (str(error),), {})
    return reply


def main() -> None:
    connection = socket.socket(fileno=int(sys.argv[1]))
    try:
        Server(connection).serve()
    except (ConnectionError, EOFError):
        pass


if __name__ == "__main__":
    main()
