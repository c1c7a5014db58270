"""The fork server: nsbox.run creates its containers through small helper processes
(nsbox.api.fork_server_loop) instead of forking the caller itself.

The runtime forks twice per container (an intermediate process, then the init). Forked
from the caller, each fork copies the caller's page tables and each child's exit or
execve tears them down again: with a 300 MB caller that was ~30 ms more system CPU per
run in the children and ~10 ms more in the caller than with a 30 MB one. A helper holds
only the interpreter and the runtime, so a create costs the same whatever the caller's
size; it is started once (posix_spawn, which copies nothing) and serves until the caller
closes it or exits. A helper is single-threaded, so its forks never meet another
thread's lock either.

The helper is the parent of the inits it creates: the caller learns how one ended with
reap(pid), which asks the helper that made it. Each thread's create takes a helper of
its own (up to MAX_SERVERS, then they share), so creates from threads run side by side.
Nobody waits for a helper to start: until one is ready, the caller creates the
container itself, as without a fork server (a one-run script pays nothing for it).
"""
from __future__ import annotations

import os
import threading

from nsbox.engine.containers import Engine
from nsbox.engine.runtimes import NsboxRuntime
from nsbox.errors import NsboxError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_SERVERS = 4  # creates in flight at once; more gain nothing on a few cores
MESSAGE_SIZE = 65536
KEPT_EXITS = 4096
LOST_CHILD = 255 << 8  # the wait status of a process whose end is not known: exit code 255


class ServerGone(NsboxError):
    """A fork server exited; `sent`: after it was asked (what it did of the request is not known)."""

    def __init__(self, message: str, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class ForkServer:
    """One helper process and its socket; one request at a time (the lock)."""

    __slots__ = ("pid", "connection", "lock", "gone", "ready", "exits")

    def __init__(self) -> None:
        import socket
        import sys
        import nsbox
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        source = os.path.dirname(os.path.dirname(os.path.abspath(nsbox.__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
        spare = os.dup(theirs.fileno()) if theirs.fileno() == 3 else -1  # dup2(3, 3) would keep FD_CLOEXEC
        try:
            self.pid = os.posix_spawn(
                sys.executable, [sys.executable, "-S", "-m", "nsbox.api.fork_server_loop", "3"], env,
                file_actions=[(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                              (os.POSIX_SPAWN_DUP2, spare if spare >= 0 else theirs.fileno(), 3)],
                setpgroup=0)  # a Ctrl-C at the terminal is the caller's to handle, not the helper's
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
            if spare >= 0:
                os.close(spare)
        self.connection = ours
        self.lock = threading.Lock()
        self.gone = False  # it exited (killed?): the pool starts another
        self.ready = False  # it has said so: it has imported the runtime
        self.exits: dict[int, int] = {}  # PID -> wait status: the inits it has reaped, not yet asked for

    def is_ready(self) -> bool:
        """Whether it has started up and still runs, without waiting for it (the caller
        holds self.lock): what it has said meanwhile is read (its end, too)."""
        import select
        try:
            while not self.gone and select.select([self.connection], [], [], 0)[0]:
                self._receive()
        except NsboxError:  # it exited
            return False
        return self.ready and not self.gone

    def request(self, message: tuple[object, ...], fds: tuple[int, ...] = ()) -> tuple[tuple[Any, ...], list[int]]:
        """Send one request; its reply and the file descriptors that came with it (the
        caller holds self.lock)."""
        import pickle
        import socket
        try:
            socket.send_fds(self.connection, [pickle.dumps(message)], list(fds))
        except OSError as error:
            self.gone = True
            raise ServerGone(f"the fork server (PID {self.pid}) is gone: {error.strerror}", sent=False) from None
        while True:
            answer, received = self._receive()
            if answer[0] == "error":
                raise rebuilt_error(*answer[1:])
            if answer[0] not in ("exit", "ready"):
                return answer, received

    def take_exit(self, pid: int) -> int:
        """The wait status of init `pid`, once the helper has sent it (the caller holds self.lock)."""
        while pid not in self.exits:
            self._receive()
        return self.exits.pop(pid)

    def _receive(self) -> tuple[tuple[Any, ...], list[int]]:
        """The next message; its news (ready, an init's exit) noted."""
        import pickle
        import socket
        try:
            message, received, _, _ = socket.recv_fds(self.connection, MESSAGE_SIZE, 1)
        except OSError:
            message, received = b"", []
        if not message:
            self.gone = True
            raise ServerGone(f"the fork server (PID {self.pid}) exited: see its message above", sent=True)
        answer: tuple[Any, ...] = pickle.loads(message)
        if answer[0] == "ready":
            self.ready = True
        elif answer[0] == "exit":
            self.exits[answer[1]] = answer[2]
            if len(self.exits) > KEPT_EXITS:  # the oldest: an init whose start failed, never asked for
                del self.exits[next(iter(self.exits))]
        return answer, received

    def close(self) -> None:
        """End the helper (it exits at the end of its socket) and reap it."""
        self.connection.close()
        if self.gone:
            try:
                os.kill(self.pid, 9)  # SIGKILL: it may be alive and stuck
            except ProcessLookupError:
                pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def rebuilt_error(module: str, name: str, args: tuple[object, ...], attributes: dict[str, object]) -> Exception:
    """The helper's exception, as this process's class (an error of nsbox's or a builtin one)."""
    import builtins
    from nsbox import errors
    home = {"builtins": builtins, "nsbox.errors": errors}.get(module)
    kind = getattr(home, name, None) if home is not None else None
    if not (isinstance(kind, type) and issubclass(kind, Exception)):
        return NsboxError(f"{name}: {args[0] if args else ''}")
    if home is builtins:
        return kind(*args)
    error = kind.__new__(kind)
    Exception.__init__(error, *args)
    error.__dict__.update(attributes)
    return error


class Init:
    """An init a helper made: the helper, a pidfd of the init (the PID may be reaped and
    reused before this process looks), and its container."""

    __slots__ = ("server", "pidfd", "container_id")

    def __init__(self, server: ForkServer, pidfd: int, container_id: str) -> None:
        self.server, self.pidfd, self.container_id = server, pidfd, container_id


class Pool:
    """This process's fork servers, started as threads need them, closed at exit."""

    def __init__(self) -> None:
        self.owner = os.getpid()
        self.servers: list[ForkServer] = []
        self.lock = threading.Lock()
        self.inits: dict[int, Init] = {}  # by PID: the inits the helpers made, until reaped
        self.turn = 0
        self.failed = False  # a helper died starting up (no usable interpreter?): none is started again

    def start(self, request: tuple[object, ...], stdio: tuple[int, int, int]) -> int | None:
        """The PID of the init (a "create" request) or exec'd process ("exec") a helper
        started; None while no helper has started up yet (the first runs of a process do
        not wait for one: the caller starts it itself)."""
        while True:
            server = self._take()
            if server is None:
                return None
            try:
                reply, fds = server.request(request, stdio)
                break
            except ServerGone as gone:
                if gone.sent:
                    raise
                # asked nothing: another helper (or this process) creates it
            finally:
                server.lock.release()
        pid: int = reply[1]
        with self.lock:
            self.inits[pid] = Init(server, fds[0], str(request[2]))
        return pid

    def pidfd(self, pid: int) -> int | None:
        """A new pidfd of an init a helper made (the caller closes it); None if none made it."""
        with self.lock:
            init = self.inits.get(pid)
            return None if init is None else os.dup(init.pidfd)

    def reap(self, pid: int) -> int | None:
        """The wait status of an init a helper made, once it has exited; None if none made it."""
        with self.lock:
            init = self.inits.pop(pid, None)
        if init is None:
            return None
        os.close(init.pidfd)
        with init.server.lock:
            return init.server.take_exit(pid)

    def forget(self, container_id: str) -> None:
        """Drop what is kept of the container's init, whose end nobody will wait for (its
        start failed: the runtime deleted it); its helper reaps it all the same."""
        with self.lock:
            for pid, init in list(self.inits.items()):
                if init.container_id == container_id:
                    del self.inits[pid]
                    os.close(init.pidfd)

    def _take(self) -> ForkServer | None:
        """A helper that has started up, locked: an idle one, else (at MAX_SERVERS) the next
        in turn; None if none is idle and there is room for another, which starts now."""
        with self.lock:
            for server in [server for server in self.servers if server.gone]:
                self.servers.remove(server)
                server.close()
                self.failed = self.failed or not server.ready  # it could not start: it will not
            for server in self.servers:
                if server.lock.acquire(blocking=False):
                    if server.is_ready():
                        return server
                    server.lock.release()
            if self.failed:
                return None
            if len(self.servers) < MAX_SERVERS:
                self.servers.append(ForkServer())
                return None
            self.turn += 1
            server = self.servers[self.turn % len(self.servers)]
        server.lock.acquire()
        if server.is_ready():
            return server
        server.lock.release()
        return None

    def close(self) -> None:
        with self.lock:
            servers, self.servers = self.servers, []
        for server in servers:
            server.close()


_pool: Pool | None = None
_pool_lock = threading.Lock()


def pool() -> Pool:
    """This process's pool (a fork()ed child makes its own: the sockets are its parent's)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool.owner != os.getpid():
            import atexit
            _pool = Pool()
            atexit.register(_pool.close)
        return _pool


def _own_pool() -> Pool | None:
    return _pool if _pool is not None and _pool.owner == os.getpid() else None


def open_pidfd(pid: int) -> int:
    """A pidfd of an init this process started (through a fork server or not)."""
    found = _own_pool()
    pidfd = found.pidfd(pid) if found is not None else None
    return os.pidfd_open(pid) if pidfd is None else pidfd


def reap(pid: int) -> int:
    """Wait for an init this process started, through the fork server that made it or, if it
    is this process's own child, directly."""
    found = _own_pool()
    status = found.reap(pid) if found is not None else None
    if status is not None:
        return status
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:
            continue
        except ChildProcessError:  # a helper's, forgotten when its container was removed meanwhile
            return LOST_CHILD


class ForkServerRuntime(NsboxRuntime):
    """nsbox's own runtime, with create and exec done by a fork server."""

    __slots__ = ()

    def create(self, container_id: str, bundle: str, stdio: tuple[int, int, int],
               console_socket: str | None = None, spec: dict[str, Any] | None = None,
               while_waiting: Any = None) -> int:
        """(`while_waiting` is the engine's: called only when this process creates the container.)"""
        pid = pool().start(("create", self.state_root, container_id, bundle, console_socket, spec), stdio)
        if pid is None:
            return super().create(container_id, bundle, stdio, console_socket, spec, while_waiting)
        return pid

    def exec_process(self, container_id: str, process: dict[str, Any], stdio: tuple[int, int, int],
                     console_socket: str | None = None) -> int:
        pid = pool().start(("exec", self.state_root, container_id, process, console_socket, None), stdio)
        return super().exec_process(container_id, process, stdio, console_socket) if pid is None else pid

    def delete(self, container_id: str, force: bool = False) -> None:
        super().delete(container_id, force)
        found = _own_pool()
        if found is not None:
            found.forget(container_id)


class ApiEngine(Engine):
    """The engine as the API drives it: containers of nsbox's own runtime are created (and
    their exec'd processes started) through the fork server (fork_server=False: by forking this process, as the CLI does).
    Only in this process: a detached container's monitor, forked from it, is its init's
    parent and creates it itself."""

    __slots__ = ("fork_server_of",)

    def __init__(self, root: str, fork_server: bool = True) -> None:
        super().__init__(root)
        self.fork_server_of = os.getpid() if fork_server else 0

    def runtime(self, record: dict[str, Any]) -> Any:
        runtime = super().runtime(record)
        if self.fork_server_of == os.getpid() and type(runtime) is NsboxRuntime:
            return ForkServerRuntime(runtime.state_root)
        return runtime
