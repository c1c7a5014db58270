"""Running a new process inside a running container (`exec`), as nsenter would.

The runtime forks a helper that joins the container's cgroup and every namespace of its
init that differs from the runtime's own (user first), then forks the process itself, so
that it is inside the container's PID and time namespaces. The helper reports the
process's host PID and exits; the caller, a child subreaper, waits for the process.
"""
from __future__ import annotations

import os

from nsbox.errors import StateError
from nsbox.linux import libc
from nsbox.linux import namespaces as ns
from nsbox.linux.clone import fork_without_collecting
from nsbox.oci.fields import Fields
from nsbox.oci.runtime_spec import Process
from nsbox.runtime import process as proc_setup
from nsbox.runtime.bundle import load_spec
from nsbox.runtime.console_socket import connect_console
from nsbox.runtime.state import load
from nsbox.runtime.cgroup_entry import CgroupEntry
from nsbox.runtime.channel import Channel, ChannelClosed
from nsbox.runtime.init import close_inherited_fds, report_and_exit, setup_terminal
from nsbox.runtime.seccomp_filter import Filter, install

PR_SET_DUMPABLE = 4


def base_process(state_root: str, container_id: str) -> dict:
    """The container's own `process` object, the starting point of `exec` without --process."""
    record = load(state_root, container_id)
    return dict(load_spec(record.bundle).raw.get("process") or {})


def exec_process(state_root: str, container_id: str, process_data: dict, *, console_socket: str | None = None, pid_file: str | None = None,
                 stdio: tuple[int, int, int] | None = None, preserve_fds: int = 0) -> int:
    """Start `process_data` (an OCI process object) in the container; returns its host PID."""
    process = Process(Fields(process_data, "process"))
    record = load(state_root, container_id)
    status = record.status()
    if status != "running":
        raise StateError(f"container {container_id!r} is {status}; exec needs a running container")
    if process.terminal and console_socket is None:
        from nsbox.errors import ConfigError
        raise ConfigError("process.terminal", "a terminal needs --console-socket (the pty master is sent there)")
    seccomp_filter = container_filter(state_root, container_id, record.bundle)
    joins = namespaces_to_join(record.pid)
    console = connect_console(console_socket) if console_socket else None
    cgroup = record.cgroup
    entry = None if cgroup is None else CgroupEntry(cgroup, user_namespace=any(kind == "user" for kind, _ in joins))
    libc.set_child_subreaper()
    channel, child_channel = Channel.pair()
    helper = fork_without_collecting(os.fork)
    if helper == 0:
        channel.close()
        enter(joins, process, child_channel, console, stdio, preserve_fds, seccomp_filter, entry)
    child_channel.close()
    if console is not None:
        console.close()
    for _, fd in joins:
        os.close(fd)
    pid = 0
    try:
        if entry is not None:
            entry.place(helper)
        channel.send("cgroup-joined")
        pid = int(channel.expect("pid")[0])
        os.waitpid(helper, 0)
        helper = 0
        try:  # an error line, or end of file once execve has closed the pipe
            message = channel.receive()
        except ChannelClosed:
            message = None
        if message is not None and message[0] == "error":
            from nsbox.errors import ContainerStartError
            raise ContainerStartError(" ".join(message[2:]), int(message[1]))
    except BaseException:
        for child in (helper, pid):
            if child:
                try:
                    os.kill(child, 9)
                    os.waitpid(child, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
        raise
    finally:
        channel.close()
    if pid_file:
        from nsbox.linux.store_files import write_atomic
        write_atomic(os.path.abspath(pid_file), str(pid).encode(), 0o644)
    return pid


def container_filter(state_root: str, container_id: str, bundle: str) -> Filter | None:
    """The container's seccomp filter (from the cache): an exec'd process is confined alike."""
    spec = load_spec(bundle)
    if spec.linux.seccomp is None:
        return None
    from nsbox.runtime.seccomp_filter import prepare
    return prepare(spec.linux.seccomp, state_root, container_id, bundle)


def namespaces_to_join(pid: int) -> list[tuple[str, int]]:
    """(kind, open fd) for every namespace of `pid` that is not already ours, in join order."""
    joins = []
    for kind in ns.JOIN_ORDER:
        name = ns.KINDS[kind][1]
        try:
            theirs = os.readlink(f"/proc/{pid}/ns/{name}")
        except FileNotFoundError:
            continue
        if theirs != os.readlink(f"/proc/self/ns/{name}"):
            joins.append((kind, os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC)))
    return joins


def enter(joins: list[tuple[str, int]], process: Process, channel: Channel, console: object | None,
          stdio: tuple[int, int, int] | None, preserve_fds: int, seccomp_filter: Filter | None,
          entry: CgroupEntry | None) -> None:
    """The helper: join the cgroup and the namespaces, fork the process, report its PID. Never returns.

    It is made non-dumpable first, so that from inside the container neither it nor the
    process it forks (until execve) can be ptraced or have /proc/PID/exe (the runtime's
    interpreter on the host) opened: CVE-2019-5736's way out."""
    try:
        close_inherited_fds([channel.read_fd, channel.write_fd, *(fd for _, fd in joins), *(stdio or ()),
                             *([console.fileno()] if console is not None else [])], preserve_fds)  # type: ignore[attr-defined]
        libc.prctl(PR_SET_DUMPABLE, 0)
        if entry is not None:
            entry.enter()
        channel.expect("cgroup-joined")
        # A clone3 into a cgroup is checked against the forker's cgroup namespace (where the
        # hierarchy is mounted with nsdelegate, as systemd does): the process joins the
        # container's own once it is born in the container's cgroup.
        late = [(kind, fd) for kind, fd in joins if kind == "cgroup"] if entry is not None and entry.clones() else []
        if console is not None:  # before the joins: the container's mount namespace has no stdlib
            import fcntl
            import struct
        ns.join_all([join for join in joins if join not in late])
        pid = os.fork() if entry is None else entry.fork()
        if pid == 0:
            ns.join_all(late)
            run_process(process, channel, console, stdio, preserve_fds,
                        (fcntl, struct) if console is not None else None, seccomp_filter)
        channel.send("pid", pid)
        os._exit(0)
    except BaseException as error:  # noqa: BLE001
        report_and_exit(channel, error)


def run_process(process: Process, channel: Channel, console: object | None, stdio: tuple[int, int, int] | None,
                preserve_fds: int, terminal_modules: tuple | None, seccomp_filter: Filter | None) -> None:
    try:
        os.setsid()
        if stdio is not None:
            for target, fd in enumerate(stdio):
                if fd != target:
                    os.dup2(fd, target)
        proc_setup.set_inheritable_fds(preserve_fds)
        if console is not None and terminal_modules is not None:
            setup_terminal(console, process.console_size, *terminal_modules)
        proc_setup.set_rlimits(process)
        proc_setup.set_oom_score_adj(process)
        env = proc_setup.environment(process)
        if not process.no_new_privileges:
            install(seccomp_filter)
        proc_setup.become_user(process, process.capabilities)
        proc_setup.change_directory(process.cwd)
        program = proc_setup.find_program(process.args[0], env, process.cwd)
        proc_setup.set_capabilities(process.capabilities)
        if process.no_new_privileges:
            from nsbox.linux import capabilities
            capabilities.no_new_privileges()
            install(seccomp_filter)
        proc_setup.execute(program, process.args, env)
    except BaseException as error:  # noqa: BLE001
        report_and_exit(channel, error)
