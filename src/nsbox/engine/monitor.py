"""The monitor of a detached container (like conmon): its parent for its whole life.

`spawn_monitor` (in the CLI's process) forks a process that leaves the CLI's session,
launches the container with its stdout and stderr on pipes (or a pseudo-terminal), reports
the PID back and then execs the monitor loop: monitor_loop.c as built ahead of time (~0.2
MiB PSS; see monitor_build), or where it was not built (no C compiler) monitor_loop.py as
a small script (`python -I ...`, near the bare interpreter's ~3 MiB). Both do the
same; see monitor_loop.py for the rest of the monitor's life.
"""
from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable


def spawn_monitor(engine, container_id: str, while_launching: Callable[[], None] | None = None,
                  caller_exits: bool = False) -> int:
    """Start the container under a new monitor; returns the container's host PID.
    `while_launching()` runs in this process while the monitor launches the container.

    The monitor is forked twice, so that it is nobody's child (a long-lived caller, the
    Python API or serve, would otherwise keep its zombie); a caller that exits as soon as
    this returns (`nsbox run -d`) says `caller_exits`, and the monitor is forked once: the
    kernel gives it away at that exit all the same, and the container starts a fork sooner
    (each fork of the engine copies its page tables, ~2 ms here)."""
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    from nsbox.linux.clone import fork_without_collecting
    first = fork_without_collecting(os.fork)  # (the monitor execs its loop soon: no collection copies pages)
    if first == 0:
        try:
            os.close(read_end)
            # nothing of the caller's but the report pipe: an inherited pipe (`3>&1 | cat`) held
            # for the container's life would keep the caller's pipeline waiting, as conmon knows
            os.closerange(3, write_end)
            os.closerange(write_end + 1, _max_fd())
            os.setsid()
            monitor = 0 if caller_exits else os.fork()
            if monitor != 0:
                os.write(write_end, f"{monitor}\n".encode())
                os._exit(0)
            if caller_exits:
                os.write(write_end, f"{os.getpid()}\n".encode())
            _become_monitor(engine, container_id, write_end)
        except BaseException as error:
            _report_failure(write_end, error)
        os._exit(125)
    os.close(write_end)
    if while_launching is not None:
        while_launching()
    if not caller_exits:
        os.waitpid(first, 0)
    reply = _read_reply(read_end)
    os.close(read_end)
    if reply.startswith("ok "):
        return int(reply[3:].split("\n", 1)[0])
    from nsbox.errors import ContainerStartError
    code, _, message = reply.partition(" ")
    raise ContainerStartError(message or "the monitor exited before starting the container",
                              int(code) if code.isdigit() else 125)


def _max_fd() -> int:
    try:
        return max(int(name) for name in os.listdir("/proc/self/fd")) + 1
    except (OSError, ValueError):
        return os.sysconf("SC_OPEN_MAX")


def _read_reply(read_end: int) -> str:
    """The monitor's report: its PID line, then "ok PID\\n" or "CODE MESSAGE". Ends at the "ok"
    line (the container runs: the monitor's exec of its loop needs no witness), else when the
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
                reply = data.partition(b"\n")[2]
                if reply.startswith(b"ok ") and reply.endswith(b"\n"):
                    break
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


def loop_program() -> str | None:
    """monitor_loop's bytecode, fresh (compiled now if it is missing or older than the
    source), else its source: run from bytecode the monitor skips compiling the script,
    which saves ~0.3 MiB of each monitor's memory."""
    import importlib.util
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "monitor_loop.py")
    compiled = importlib.util.cache_from_source(source)
    try:
        with open(compiled, "rb") as pyc:
            header = pyc.read(16)
        info = os.stat(source)
        if (header[:4] == importlib.util.MAGIC_NUMBER and header[4:8] == b"\0\0\0\0"
                and int.from_bytes(header[8:12], "little") == int(info.st_mtime) & 0xFFFFFFFF
                and int.from_bytes(header[12:16], "little") == info.st_size & 0xFFFFFFFF):
            return compiled
    except OSError:
        pass
    import py_compile
    try:
        return py_compile.compile(source, doraise=True,
                                  invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    except (OSError, py_compile.PyCompileError):
        return source  # a read-only installation without bytecode: run the script itself


def _report_failure(fd: int, error: BaseException) -> None:
    from nsbox.errors import NsboxError
    code = error.exit_code if isinstance(error, NsboxError) else 125
    from nsbox.errors import user_message
    message = user_message(error)
    try:
        os.write(fd, f"{code} {message}".encode())
    except OSError:
        pass


STDIN_FIFO = "stdin.fifo"


def _attached_input(engine, container_id: str) -> int | None:
    """The container's stdin when a client attached with input before the start (`docker run -i`
    through nsbox serve, which made this FIFO and writes to it): the reading end, opened
    without waiting for a writer; else None (/dev/null)."""
    path = engine.paths.container(container_id, STDIN_FIFO)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    os.set_blocking(fd, True)
    return fd


def _become_monitor(engine, container_id: str, report_fd: int) -> None:
    from nsbox.engine.monitor_build import built_loop
    compiled = built_loop()
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
        stdio = (_attached_input(engine, container_id) or devnull, readers[2], readers[3])
    pid = engine.launch(container_id, stdio, console_path or None)
    master = console.receive(listener) if listener is not None else -1
    if master >= 0:
        readers[0] = master
    passed = [fd for fd in readers if fd >= 0]
    attach = None
    if listener is not None:  # listening before the report: once start returns, attach and resize find it
        passed.append(listener.fileno())
        from nsbox.engine import console
        from nsbox.engine.attach_server import SOCKET
        attach, _ = console.listen(engine.paths.container(container_id), SOCKET)
        passed.append(attach.fileno())
    # the caller returns at this line: the exec below (which closes report_fd) goes on alone
    os.write(report_fd, f"ok {pid}\n".encode())
    for fd in passed:
        os.set_inheritable(fd, True)
    arguments = [engine.root, container_id, str(pid), engine.paths.container(container_id, "container.log"),
                 *map(str, readers), str(listener.fileno() if listener is not None else -1), console_path]
    if attach is not None:  # the loop as a module, with site-packages: it imports nsbox.engine.attach_server
        os.execv(sys.executable, [sys.executable, "-m", "nsbox.engine.monitor_loop", *arguments,
                                  str(attach.fileno())])
    if compiled is not None:
        os.execv(compiled, [compiled, sys.executable, *arguments])
    # not -S: the loop imports nsbox.oci.timestamps, found through site (the venv, the editable install)
    os.execv(sys.executable, [sys.executable, "-I", loop_program(), *arguments])


# what a start imports after spawn_monitor's fork (measured: sys.modules in the forked
# monitor before its exec, less the parent's), beyond runtime.init.import_child_modules
MONITOR_MODULES = (
    "ipaddress", "json", "select", "socket", "subprocess", "nsbox.cgroups.cgroup", "nsbox.cgroups.devices",
    "nsbox.cgroups.host", "nsbox.cgroups.lifecycle", "nsbox.cgroups.limits", "nsbox.cgroups.plan",
    "nsbox.cgroups.v1_limits", "nsbox.cgroups.interface_files", "nsbox.engine.console",
    "nsbox.engine.monitor_build", "nsbox.engine.networking", "nsbox.engine.seccomp_profile", "nsbox.engine.spec",
    "nsbox.linux.namespaces", "nsbox.network.attach", "nsbox.network.cni", "nsbox.network.conflists",
    "nsbox.network.isolation", "nsbox.network.netns", "nsbox.network.subnets", "nsbox.oci.seccomp",
    "nsbox.runtime.bundle", "nsbox.runtime.channel", "nsbox.runtime.console_socket", "nsbox.runtime.create",
    "nsbox.runtime.idmapped_mounts", "nsbox.runtime.init_options", "nsbox.runtime.notices",
    "nsbox.runtime.preflight", "nsbox.runtime.seccomp_filter", "nsbox.runtime.start", "nsbox.runtime.state")


def import_monitor_modules() -> None:
    """For a process with threads that starts containers (`nsbox serve`): import before the
    first fork every module the forked monitor would import lazily, so that it never waits
    for an import lock another thread held at the fork."""
    import importlib

    from nsbox.runtime.init import import_child_modules
    import_child_modules()
    for name in MONITOR_MODULES:
        importlib.import_module(name)
