"""nsbox.run: a container in this process, like subprocess.run — created, started, its
output collected, its exit recorded, removed — through the engine, as `nsbox run --rm`.

The runtime forks this process (os.fork) to make the container's init. A process with
threads may fork: only the calling thread goes on in the child, which runs nsbox's own
runtime code up to execve and takes no lock of the caller's other threads — with one
exception made safe here: a module import. Every module the child may import is imported
before the first fork (nsbox.runtime.init.import_child_modules), so the child never
waits for an import lock another thread held at the fork.
"""
from __future__ import annotations

import os
import threading
import time

from nsbox.api import fork_server, monitors
from nsbox.api.capture import Captured, capture
from nsbox.api.result import Result
from nsbox.engine.containers import Engine
from nsbox.engine.launching import exit_code
from nsbox.errors import NsboxError
from nsbox.runtime.init import import_child_modules

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

import_child_modules()

SIGKILL = 9
TERMINAL_SIZE = {"height": 24, "width": 80}  # a tty=True run's terminal, as a plain terminal window


class ForegroundRun:
    """One container run to its end by the calling thread; cancel() from another thread
    (or an asyncio task) kills it."""

    __slots__ = ("engine", "record", "launched", "cancelled")

    def __init__(self, engine: Engine, options: dict[str, Any]) -> None:
        monitors.reap()
        self.engine = engine
        self.record = engine.create(options)
        self.launched = False
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True
        if self.launched:
            self.kill()

    def kill(self) -> None:
        self.engine.signal(self.record, SIGKILL, all_processes=True)

    def run(self, stdin: bytes | int | None, timeout: float | None, text: bool) -> Result:
        """Launch, collect, record the exit, and (with AutoRemove) remove the container."""
        engine, container_id = self.engine, self.record["Id"]
        remove = bool(self.record["HostConfig"].get("AutoRemove"))
        started = time.monotonic()
        finished = False
        try:
            captured, usage = self._launch_and_capture(stdin, timeout, remove)
            final = engine.finish(container_id, captured.wait_status, auto_remove=True)  # (and removed)
            finished = True
        finally:
            if remove and not finished:
                engine.remove(container_id, force=True, volumes=True, wait_monitor=False)
        stdout, stderr = captured.output(text)
        peak, cpu = usage
        return Result([self.record["Path"], *self.record["Args"]], exit_code(captured.wait_status), stdout, stderr,
                      oom_killed=bool(final.get("State", {}).get("OOMKilled")), timed_out=captured.timed_out,
                      wall_time=time.monotonic() - started, cpu_time=None if cpu is None else cpu / 1e9,
                      peak_memory=peak, container_id=container_id, name=self.record["Name"].lstrip("/"))

    def _launch_and_capture(self, stdin: bytes | int | None, timeout: float | None,
                            remove: bool) -> tuple[Captured, tuple[int | None, int | None]]:
        engine, container_id = self.engine, self.record["Id"]
        feed = stdin if isinstance(stdin, bytes) else b""
        child_fds: list[int] = []
        own_fds: list[int] = []
        try:
            if isinstance(stdin, int):
                stdin_fd, feed_fd = stdin, -1
            elif feed:
                stdin_fd, feed_fd = os.pipe2(os.O_CLOEXEC)
                child_fds.append(stdin_fd)
            else:
                stdin_fd, feed_fd = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC), -1
                child_fds.append(stdin_fd)
            out_read, out_write = os.pipe2(os.O_CLOEXEC)
            err_read, err_write = os.pipe2(os.O_CLOEXEC)
            child_fds += [out_write, err_write]
            own_fds += [out_read, err_read]
            if self.cancelled:
                from nsbox.errors import StateError
                raise StateError("the run was cancelled before it started")
            try:
                pid, terminal = self._launch((stdin_fd, out_write, err_write))
            except NsboxError as error:
                _add_stderr_note(error, err_read)
                raise
            if terminal >= 0:  # the program's output comes through its terminal
                own_fds.append(terminal)
                out_read = terminal
            self.launched = True
            if self.cancelled:
                self.kill()
            for fd in child_fds:
                os.close(fd)
            child_fds.clear()
            log, flush = (None, None) if remove else _log_writer(engine, container_id, own_fds)
            try:
                captured = capture(pid, out_read, err_read, feed_fd, feed, timeout, self.kill, log,
                                   (fork_server.open_pidfd, fork_server.reap))
            except BaseException:  # e.g. KeyboardInterrupt: end the container, record its exit
                self.kill()
                engine.finish(container_id, fork_server.reap(pid))
                raise
            finally:
                feed_fd = -1  # capture closed it
            if flush is not None:
                flush()
            # the cgroup goes with the runtime's state in finish(): read it first
            return captured, engine.cgroup(self.record).peak_usage()
        except BaseException:
            if feed_fd >= 0:
                os.close(feed_fd)
            raise
        finally:
            for fd in child_fds + own_fds:
                os.close(fd)


    def _launch(self, stdio: tuple[int, int, int]) -> tuple[int, int]:
        """Create and start the container: (its init's PID, its terminal's master or -1).
        With tty=True the runtime hands the pty master over a console socket."""
        engine, container_id = self.engine, self.record["Id"]
        with monitors.subreaper():  # until the init is reparented to this process (without a fork server)
            if not self.record["Config"].get("Tty"):
                return engine.launch(container_id, stdio), -1
            from nsbox.engine import console
            return console.start_with_pty(
                engine.paths.container(container_id), f"console-{os.getpid()}-{threading.get_ident():x}.sock",
                lambda path: engine.launch(container_id, stdio, path, console_size=TERMINAL_SIZE))


def _add_stderr_note(error: NsboxError, err_read: int) -> None:
    """What the container's init wrote to stderr before it failed, as a note of the error."""
    os.set_blocking(err_read, False)
    try:
        said = os.read(err_read, 65536).decode(errors="replace").strip()
    except OSError:
        return
    if said and said not in str(error):
        error.add_note(f"the container's stderr: {said}")


def _log_writer(engine: Engine, container_id: str,
                own_fds: list[int]) -> tuple[Callable[[bytes, bytes], None], Callable[[], None]]:
    """log(stream, data) into the container's log, as a monitor writes it (`nsbox logs`)."""
    from nsbox.engine.monitor_loop import flush_pending, log_chunk
    log_fd = os.open(engine.paths.container(container_id, "container.log"),
                     os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
    own_fds.append(log_fd)
    pending: dict[bytes, bytes] = {}

    def log(stream: bytes, data: bytes) -> None:
        log_chunk(log_fd, stream, data, pending)
    return log, lambda: flush_pending(log_fd, pending)


def run(engine: Engine, image: str, command: list[str] | str | None, stdin: bytes | str | int | None,
        timeout: float | None, text: bool, check: bool, remove: bool, name: str | None,
        options: dict[str, object]) -> Result:
    """nsbox.run and containers.run(detach=False): see Client.run."""
    result = ForegroundRun(engine, run_settings(image, command, stdin, remove, name, options)).run(
        stdin_bytes(stdin), timeout, text)
    if check:
        result.check_returncode()
    return result


def run_settings(image: str, command: list[str] | str | None, stdin: bytes | str | int | None, remove: bool,
                 name: str | None, options: dict[str, object]) -> dict[str, Any]:
    from nsbox.api.options import engine_options
    settings = engine_options(image, command, dict(options, name=name, remove=remove))
    if settings.get("tty") and stdin is not None:
        from nsbox.errors import InvalidOption
        raise InvalidOption("stdin", "with tty=True the program reads its terminal, not a pipe: "
                                     "pass stdin without tty, or tty without stdin")
    return settings


def stdin_bytes(stdin: bytes | str | int | None) -> bytes | int | None:
    return stdin.encode() if isinstance(stdin, str) else stdin


def run_exec(engine: Engine, reference: str, command: list[str], env: list[str], user: str, workdir: str,
             stdin: bytes, timeout: float | None, text: bool, tty: bool = False) -> Result:
    """Container.exec: another process in a running container, its output collected."""
    if tty and stdin:
        from nsbox.errors import InvalidOption
        raise InvalidOption("stdin", "with tty=True the process reads its terminal, not a pipe: "
                                     "pass stdin without tty, or tty without stdin")
    started = time.monotonic()
    fds: list[int] = []
    try:
        if stdin:
            stdin_fd, feed_fd = os.pipe2(os.O_CLOEXEC)
        else:
            stdin_fd, feed_fd = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC), -1
        out_read, out_write = os.pipe2(os.O_CLOEXEC)
        err_read, err_write = os.pipe2(os.O_CLOEXEC)
        fds += [out_read, err_read]
        try:
            with monitors.subreaper():
                pid, terminal = _start_exec(engine, reference, command, env, user, workdir,
                                            (stdin_fd, out_write, err_write), tty)
        except BaseException:
            if feed_fd >= 0:
                os.close(feed_fd)
            raise
        finally:
            for fd in (stdin_fd, out_write, err_write):
                os.close(fd)
        if terminal >= 0:  # its output comes through its terminal
            fds.append(terminal)
            out_read = terminal

        def kill() -> None:
            try:
                os.kill(pid, SIGKILL)
            except ProcessLookupError:
                pass
        captured = capture(pid, out_read, err_read, feed_fd, stdin, timeout, kill, None,
                           (fork_server.open_pidfd, fork_server.reap))
    finally:
        for fd in fds:
            os.close(fd)
    stdout, stderr = captured.output(text)
    return Result(command, exit_code(captured.wait_status), stdout, stderr, timed_out=captured.timed_out,
                  wall_time=time.monotonic() - started)


def _start_exec(engine: Engine, reference: str, command: list[str], env: list[str], user: str, workdir: str,
                stdio: tuple[int, int, int], tty: bool) -> tuple[int, int]:
    """Start the exec'd process: (its PID, its terminal's master or -1)."""
    from nsbox.engine.execs import exec_process_spec, running, start_exec
    if not tty:
        return start_exec(engine, reference, command, env, user, workdir, stdio), -1
    from nsbox.engine import console
    record = running(engine, reference)
    process = dict(exec_process_spec(engine, record, command, env, user, workdir, True), consoleSize=TERMINAL_SIZE)
    return console.start_with_pty(
        engine.paths.container(record["Id"]), f"exec-{os.getpid()}-{threading.get_ident():x}.sock",
        lambda path: engine.runtime(record).exec_process(record["Id"], process, stdio, path))
