"""One container's OCI lifecycle: create, start, state, kill, delete, pause, resume.

This is the runtime as a library; `nsbox-runtime` (runtime/cli.py) and the engine both
call it. The caller of `create` becomes a child subreaper, so that the container's init,
orphaned when the intermediate process exits, is reparented to it and can be waited for.
"""
from __future__ import annotations

import os
import time

from nsbox.errors import NsboxError, StateError
from nsbox.linux import proc
from nsbox.oci.runtime_spec import Spec, parse_config
from nsbox.runtime.channel import Channel, ChannelClosed
from nsbox.runtime.state import ContainerRecord

PR_SET_CHILD_SUBREAPER = 36
SIGKILL = 9


def load_spec(bundle: str) -> Spec:
    path = os.path.join(bundle, "config.json")
    try:
        with open(path, "rb") as config:
            data = config.read()
    except FileNotFoundError:
        from nsbox.errors import NotFound
        raise NotFound(f"{path} does not exist: a bundle needs a config.json (nsbox-runtime spec writes one)") from None
    return parse_config(data, path)


def load(state_root: str, container_id: str) -> ContainerRecord:
    """The container's record, unlocked (for reading)."""
    record = ContainerRecord.load(state_root, container_id, lock=False)
    record.unlock()
    return record


def create(state_root: str, container_id: str, bundle: str, *, pid_file: str | None = None,
           console_socket: str | None = None, no_pivot: bool = False, preserve_fds: int = 0,
           stdio: tuple[int, int, int] | None = None, spec: Spec | None = None) -> int:
    """Create the container; returns its init's host PID. The init waits until start().

    `spec` is the bundle's config.json when the caller has read it already."""
    bundle = os.path.abspath(bundle)
    if spec is None:
        spec = load_spec(bundle)
    if spec.process is None:
        from nsbox.errors import ConfigError
        raise ConfigError("process", "is required to create a container")
    rootfs = spec.root_path if spec.root_path.startswith("/") else os.path.join(bundle, spec.root_path)
    if not os.path.isdir(rootfs):
        from nsbox.errors import ConfigError
        raise ConfigError("root.path", f"{rootfs} is not a directory")
    if spec.process.terminal and console_socket is None:
        from nsbox.errors import ConfigError
        raise ConfigError("process.terminal", "a terminal needs --console-socket (the pty master is sent there)")
    from nsbox.runtime.preflight import check
    check(spec, rootfs)
    record = ContainerRecord.make(state_root, container_id)
    channel = child_channel = console = None
    intermediate_pid = init_pid = 0
    cgroup = None
    try:
        record.data.update(bundle=bundle, rootfs=rootfs, annotations=spec.annotations, creating=True,
                           created=iso_now(), owner="")
        record.save()
        os.mkfifo(record.fifo)
        os.chmod(record.fifo, 0o622)  # writable by the container's root even in a user namespace
        from nsbox.cgroups import open_cgroup
        cgroup = open_cgroup(spec.linux.cgroups_path, container_id)
        cgroup.create()
        record.data["cgroup"] = cgroup.to_state()
        record.save()
        cgroup.apply(spec.linux.resources)
        if console_socket is not None:
            console = connect_console(console_socket)
        from nsbox.linux import libc
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1)
        channel, child_channel = Channel.pair()
        from nsbox.runtime.init import InitOptions, intermediate
        # The init gets its own handle on the state directory (not the locked one: it keeps
        # it while it waits for start, and start must be able to take the lock).
        state_dir_fd = os.open(record.dir, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        fifo_fd = os.open(record.fifo, os.O_PATH | os.O_CLOEXEC)
        options = InitOptions(spec, bundle, rootfs, state_dir_fd, fifo_fd, record.lock_fd, no_pivot, preserve_fds,
                              console, stdio)
        if spec.linux.seccomp is not None:
            from nsbox.runtime.seccomp_filter import prepare
            options.seccomp = prepare(spec.linux.seccomp, state_root, container_id, bundle)
        intermediate_pid = os.fork()
        if intermediate_pid == 0:
            channel.close()
            intermediate(options, child_channel)
        child_channel.close()
        os.close(state_dir_fd)
        os.close(fifo_fd)
        if console is not None:
            console.close()
            console = None
        user_ns = spec.linux.namespace("user")
        if user_ns is not None and not user_ns.path:
            channel.expect("userns")
            write_id_maps(intermediate_pid, spec)
            channel.send("mapped")
        init_pid = int(channel.expect("pid")[0])
        # The init mounts its root filesystem meanwhile: the kernel's first migration of a
        # burst waits for an RCU grace period (~15 ms on cgroup v1), so it must not be alone.
        cgroup.add_process(init_pid)
        channel.send("cgroup-joined")
        os.waitpid(intermediate_pid, 0)
        intermediate_pid = 0
        record.data.update(pid=init_pid, started=proc.start_time(init_pid))
        record.save()  # from here a killed create leaves a record that delete can clean up
        if options.runtime_hooks:
            channel.expect("prestart")
            state = record.oci_state() | {"status": "creating", "pid": init_pid}
            from nsbox.runtime.hooks import run_hooks
            run_hooks("prestart", spec.hooks.get("prestart", []), state)
            run_hooks("createRuntime", spec.hooks.get("createRuntime", []), state)
            channel.send("hooks-done")
        channel.expect("ready")
        del record.data["creating"]
        record.save()
        if pid_file:
            from nsbox.linux.files import write_atomic
            write_atomic(os.path.abspath(pid_file), str(init_pid).encode(), 0o644)
        return init_pid
    except BaseException as error:
        undo_create(record, cgroup, intermediate_pid, init_pid)
        if isinstance(error, ChannelClosed):
            raise NsboxError(f"container {container_id!r}: its init process exited during create"
                             + (f" ({error})" if str(error) else "")) from None
        raise
    finally:
        for item in (channel, child_channel, console):
            if item is not None:
                item.close()
        record.unlock()


def iso_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e9):09d}Z"


def connect_console(path: str):  # -> socket.socket
    import socket
    console = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        console.connect(path)
    except OSError as error:
        console.close()
        from nsbox.errors import NsboxError
        raise NsboxError(f"--console-socket {path}: cannot connect: {error.strerror}") from None
    return console


def write_id_maps(pid: int, spec: Spec) -> None:
    linux = spec.linux
    try:
        with open(f"/proc/{pid}/uid_map", "w") as uid_map:
            uid_map.write("".join(m.line() for m in linux.uid_mappings))
        with open(f"/proc/{pid}/gid_map", "w") as gid_map:
            gid_map.write("".join(m.line() for m in linux.gid_mappings))
    except OSError as error:
        from nsbox.errors import ConfigError
        raise ConfigError("linux.uidMappings", f"the kernel refused the id maps: {error.strerror}") from None


def undo_create(record: ContainerRecord, cgroup, intermediate_pid: int, init_pid: int) -> None:
    """Leave nothing of a failed create: processes, cgroup, state directory."""
    for pid in (intermediate_pid, init_pid):
        if pid:
            try:
                os.kill(pid, SIGKILL)
            except ProcessLookupError:
                pass
    for pid in (intermediate_pid, init_pid):
        if pid:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                wait_gone(pid, None)
    if cgroup is not None:
        cgroup.kill(SIGKILL)
        cgroup.remove()
    record.remove()


def wait_gone(pid: int, started: int | None, timeout: float = 10.0) -> None:
    """Wait until `pid` has exited (reaped by whoever is its parent)."""
    deadline = time.monotonic() + timeout
    while proc.is_alive(pid, started) and time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        time.sleep(0.002)


def start(state_root: str, container_id: str) -> None:
    record = ContainerRecord.load(state_root, container_id)
    try:
        status = record.status()
        if status != "created":
            raise StateError(f"container {container_id!r} is {status}; only a created container can be started")
        fd = os.open(record.fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            reply = read_start_reply(fd, record)
        finally:
            os.close(fd)
        os.unlink(record.fifo)
        if reply != b"0":
            raise StateError(f"container {container_id!r} did not start: its init exited before running the program")
        spec = load_spec(record.bundle)
        if spec.hooks.get("poststart"):
            from nsbox.runtime.hooks import run_hooks
            run_hooks("poststart", spec.hooks["poststart"], record.oci_state(), warn_only=True)
    finally:
        record.unlock()


def read_start_reply(fd: int, record: ContainerRecord) -> bytes:
    """Wait for the init to open the fifo and write its byte (after startContainer hooks)."""
    import select
    while True:
        readable, _, _ = select.select([fd], [], [], 0.05)
        if readable:
            data = os.read(fd, 16)
            if data:
                return data
        if not record.alive():
            return b""


def state(state_root: str, container_id: str) -> dict:
    return load(state_root, container_id).oci_state()


def kill(state_root: str, container_id: str, signal: int, all_processes: bool = False) -> None:
    record = load(state_root, container_id)
    status = record.status()
    if status not in ("created", "running", "paused"):
        # "container not running" is runc's phrase: containerd's shim reads it as "already gone".
        raise StateError(f"container {container_id!r} is {status}: container not running, there is no process to signal")
    cgroup = record.cgroup
    if all_processes and cgroup is not None:
        cgroup.kill(signal)
    else:
        os.kill(record.pid, signal)
    if status == "paused" and signal == SIGKILL and cgroup is not None:
        cgroup.thaw()


def delete(state_root: str, container_id: str, force: bool = False) -> None:
    record = ContainerRecord.load(state_root, container_id)
    try:
        status = record.status()
        if status in ("running", "paused") and not force:
            raise StateError(f"container {container_id!r} is {status}: stop it first, or use delete --force")
        cgroup = record.cgroup
        if status != "stopped" or (cgroup is not None and cgroup.pids()):
            if cgroup is not None:
                cgroup.kill(SIGKILL)
                cgroup.thaw()
            elif record.pid:
                os.kill(record.pid, SIGKILL)
            wait_gone(record.pid, record.data.get("started"))
        if cgroup is not None:
            cgroup.remove()
        bundle = record.bundle
        final_state = record.oci_state() | {"status": "stopped"}
        record.remove()
        if bundle:
            try:
                spec = load_spec(bundle)
            except NsboxError:
                return
            if spec.hooks.get("poststop"):
                from nsbox.runtime.hooks import run_hooks
                run_hooks("poststop", spec.hooks["poststop"], final_state, warn_only=True)
    finally:
        record.unlock()


def live_cgroup(state_root: str, container_id: str, doing: str) -> tuple[ContainerRecord, object]:
    """The record and cgroup of a container that has processes (created, running or paused)."""
    record = load(state_root, container_id)
    status = record.status()
    if status not in ("created", "running", "paused"):
        raise StateError(f"container {container_id!r} is {status}; {doing} needs a live container")
    cgroup = record.cgroup
    if cgroup is None:
        raise StateError(f"container {container_id!r} has no cgroup")
    return record, cgroup


def pause(state_root: str, container_id: str) -> None:
    record = load(state_root, container_id)
    if record.status() != "running":
        raise StateError(f"container {container_id!r} is {record.status()}; only a running container can be paused")
    record.cgroup.freeze()


def resume(state_root: str, container_id: str) -> None:
    record = load(state_root, container_id)
    if record.status() != "paused":
        raise StateError(f"container {container_id!r} is {record.status()}; only a paused container can be resumed")
    record.cgroup.thaw()


def wait_exit(pid: int) -> int:
    """Wait for a child (or reparented) process; its exit code, 128+N for a signal, as shells do."""
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code

