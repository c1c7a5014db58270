"""`create`: a container's namespaces, cgroup and root filesystem, with its init waiting for `start`.

The runtime clones the container's init itself where it can (_clones_directly); else it
forks an intermediate process that makes the namespaces and forks the init (runtime.init).
The caller of `create` becomes a child subreaper, so that the init, orphaned when the
intermediate exits, is reparented to it and can be waited for.
"""
from __future__ import annotations

import os

from nsbox.errors import NsboxError
from nsbox.linux import libc, proc
from nsbox.linux.clone import fork_without_collecting
from nsbox.linux.namespaces import creation_flags
from nsbox.linux.signals import SIGKILL
from nsbox.oci.runtime_spec import Spec
from nsbox.oci.timestamps import rfc3339_now
from nsbox.runtime.bundle import load_spec
from nsbox.runtime.cgroup_entry import CgroupEntry
from nsbox.runtime.channel import Channel, ChannelClosed
from nsbox.runtime.state import ContainerRecord
from nsbox.runtime.console_socket import connect_console
from nsbox.linux.proc import wait_gone

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def create(state_root: str, container_id: str, bundle: str, *, pid_file: str | None = None,
           console_socket: str | None = None, no_pivot: bool = False, preserve_fds: int = 0,
           stdio: tuple[int, int, int] | None = None, spec: Spec | None = None, new_keyring: bool = True,
           while_waiting: Callable[[], None] | None = None) -> int:
    """Create the container; returns its init's host PID. The init waits until start().

    `spec` is the bundle's config.json when the caller has read it already;
    `while_waiting()` is called while the init builds the root filesystem (the caller's
    own work, done then instead of after)."""
    bundle = os.path.abspath(bundle)
    if spec is None:
        spec = load_spec(bundle)
    rootfs = checked_rootfs(spec, bundle, console_socket)
    record = ContainerRecord.make(state_root, container_id)
    channel = child_channel = console = None
    intermediate_pid = init_pid = 0
    cgroup = None
    try:
        planned = _open_cgroup(spec, container_id)
        _begin_record(record, bundle, rootfs, spec, planned)
        cgroup = planned
        _make_cgroup(cgroup, spec)
        if console_socket is not None:
            console = connect_console(console_socket)
        libc.set_child_subreaper()
        channel, child_channel = Channel.pair()
        options = _init_options(spec, bundle, rootfs, record, state_root, container_id,
                                no_pivot, preserve_fds, console, stdio, new_keyring)
        options.cgroup_entry = CgroupEntry(cgroup, user_namespace=spec.linux.namespace("user") is not None)
        init_pid = _clone_init(options, channel, child_channel) if _clones_directly(spec) else 0
        if not init_pid:
            intermediate_pid = fork_without_collecting(os.fork)
            if intermediate_pid == 0:
                _become_intermediate(options, channel, child_channel)
        _close_init_handles(options, child_channel)
        console = None  # (closed with them)
        if intermediate_pid:
            init_pid = _init_from_intermediate(intermediate_pid, options.cgroup_entry, spec, channel)
            intermediate_pid = 0
        _await_ready(record, spec, channel, init_pid, bool(options.runtime_hooks), while_waiting)
        if pid_file:
            _write_pid_file(pid_file, init_pid)
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


def _await_ready(record: ContainerRecord, spec: Spec, channel: Channel, init_pid: int, runtime_hooks: bool,
                 while_waiting: Callable[[], None] | None) -> None:
    """The init exists: its PID recorded (from here a killed create leaves a record that
    delete can clean up), the createRuntime and createContainer hooks run, then the wait for
    its root filesystem (the caller's `while_waiting` meanwhile); the state says "created"."""
    record.data.update(pid=init_pid, started=proc.start_time(init_pid))
    record.save()
    if runtime_hooks:
        _run_create_hooks(record, spec, channel, init_pid)
    if while_waiting is not None:
        while_waiting()
    channel.expect("ready")
    del record.data["creating"]
    record.save()


def _begin_record(record: ContainerRecord, bundle: str, rootfs: str, spec: Spec, cgroup) -> None:
    """The container's first state (still "creating") and the exec FIFO that start opens.
    The state names the cgroup before it is made (one write fewer; delete of a record whose
    cgroup was never made finds no directory and no process)."""
    record.data.update(bundle=bundle, rootfs=rootfs, annotations=spec.annotations, creating=True,
                       created=rfc3339_now(), owner="", hooks=_later_hooks(spec), cgroup=cgroup.to_state())
    record.save()
    os.mkfifo(record.fifo)
    os.chmod(record.fifo, 0o622)  # writable by the container's root even in a user namespace


def _make_cgroup(cgroup, spec: Spec) -> None:
    """The container's cgroup made, with its limits."""
    cgroup.create()
    cgroup.apply(spec.linux.resources)


def _write_pid_file(path: str, pid: int) -> None:
    from nsbox.linux.store_files import write_atomic
    write_atomic(os.path.abspath(path), str(pid).encode(), 0o644)


def checked_rootfs(spec: Spec, bundle: str, console_socket: str | None) -> str:
    """The root filesystem's path, once the spec is known to be one this host can create."""
    from nsbox.errors import ConfigError
    if spec.process is None:
        raise ConfigError("process", "is required to create a container")
    rootfs = spec.root_path if spec.root_path.startswith("/") else os.path.join(bundle, spec.root_path)
    if not os.path.isdir(rootfs):
        raise ConfigError("root.path", f"{rootfs} is not a directory")
    if spec.process.terminal and console_socket is None:
        raise ConfigError("process.terminal", "a terminal needs --console-socket (the pty master is sent there)")
    from nsbox.runtime.preflight import check
    check(spec, rootfs)
    return rootfs


def _later_hooks(spec: Spec) -> dict[str, list]:
    """The poststart and poststop hooks as the config gives them, for the record (ContainerRecord.hooks)."""
    return {kind: spec.raw["hooks"][kind] for kind in ("poststart", "poststop") if spec.hooks.get(kind)}


def _open_cgroup(spec: Spec, container_id: str):  # -> nsbox.cgroups.Cgroup
    from nsbox.cgroups import open_cgroup
    from nsbox.runtime.notices import warn
    cgroup = open_cgroup(spec.linux.cgroups_path, container_id)
    cgroup.warn = warn
    return cgroup


def _init_options(spec: Spec, bundle: str, rootfs: str, record: ContainerRecord, state_root: str,
                  container_id: str, no_pivot: bool, preserve_fds: int, console: object | None,
                  stdio: tuple[int, int, int] | None, new_keyring: bool):  # -> InitOptions
    """What the intermediate and the init need, prepared here (seccomp compiled, id-mapped
    trees opened) while the runtime can still read the host's files."""
    from nsbox.runtime.init_options import InitOptions  # not runtime.init: the intermediate imports it
    # The init gets its own handle on the state directory (not the locked one: it keeps
    # it while it waits for start, and start must be able to take the lock).
    state_dir_fd = os.open(record.dir, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    fifo_fd = os.open(record.fifo, os.O_PATH | os.O_CLOEXEC)
    options = InitOptions(spec, bundle, rootfs, state_dir_fd, fifo_fd, record.lock_fd, no_pivot, preserve_fds,
                          console, stdio)
    options.keyring = container_id if new_keyring else None
    if spec.linux.seccomp is not None:
        from nsbox.runtime.seccomp_filter import prepare
        options.seccomp = prepare(spec.linux.seccomp, state_root, container_id, bundle)
    from nsbox.runtime import idmapped_mounts
    if idmapped_mounts.needed(spec):
        options.idmapped = idmapped_mounts.prepare(spec, bundle)
    return options


# Namespaces the init can join itself, in any order, once cloned (create's direct path).
DIRECT_JOINS = ("network", "ipc", "uts")


def _clones_directly(spec: Spec) -> bool:
    """Whether the runtime can clone the container's init itself, with no intermediate
    process. Not with a user namespace (its id maps come in between), a time namespace (its
    offsets must be written before a process is in it) or a joined PID, mount, cgroup or
    user namespace (setns order); and only from a single-threaded process: a raw clone3 runs
    none of glibc's fork handlers (the Python API's threads get the intermediate, an os.fork)."""
    for namespace in spec.linux.namespaces:
        if namespace.type in ("user", "time") or (namespace.path and namespace.type not in DIRECT_JOINS):
            return False
    return proc.single_threaded()


def _clone_init(options, channel: Channel, child_channel: Channel) -> int:
    """The direct path: the init cloned by the runtime into its new namespaces and cgroup2
    directory (runtime.init.cloned_init); its PID, or 0 where the kernel refused the clone
    (then the intermediate tries, and says what failed)."""
    kinds = [n.type for n in options.spec.linux.namespaces if not n.path and n.type != "cgroup"]
    try:  # (the init makes its cgroup namespace once in its v1 cgroups too)
        pid = fork_without_collecting(lambda: options.cgroup_entry.clone(creation_flags(kinds)))
    except OSError:
        return 0
    if pid == 0:
        try:
            channel.close()
            from nsbox.runtime.init import cloned_init
            cloned_init(options, child_channel)  # never returns
        finally:
            os._exit(125)
    return pid


def _become_intermediate(options, channel: Channel, child_channel: Channel) -> None:
    """In the forked child: the intermediate, which makes the namespaces and forks the init."""
    try:
        channel.close()
        from nsbox.runtime.init import intermediate  # during its move into the cgroup (_init_from_intermediate)
        intermediate(options, child_channel)  # never returns
    finally:
        os._exit(125)


def _init_from_intermediate(intermediate_pid: int, entry: CgroupEntry, spec: Spec, channel: Channel) -> int:
    """Make the move into the cgroup the intermediate cannot make itself (cgroup_entry), and
    give its user namespace its id maps; then let it fork the init, born in the cgroup, and
    wait for it to exit. The init's PID."""
    entry.place(intermediate_pid)
    user_ns = spec.linux.namespace("user")
    if user_ns is not None and not user_ns.path:
        channel.expect("userns")
        write_id_maps(intermediate_pid, spec)
        channel.send("mapped")
    channel.send("cgroup-joined")
    init_pid = int(channel.expect("pid")[0])
    os.waitpid(intermediate_pid, 0)
    return init_pid


def _close_init_handles(options, child_channel: Channel) -> None:
    """The runtime's copies of the handles only the init needs."""
    child_channel.close()
    if options.console is not None:
        options.console.close()
    os.close(options.state_dir_fd)
    os.close(options.fifo_fd)
    for tree in options.idmapped.values():
        os.close(tree)


def _run_create_hooks(record: ContainerRecord, spec: Spec, channel: Channel, init_pid: int) -> None:
    """prestart and createRuntime hooks, in the runtime, while the init waits between its
    mounts and pivot_root."""
    channel.expect("prestart")
    state = record.oci_state() | {"status": "creating", "pid": init_pid}
    from nsbox.runtime.hooks import run_hooks
    run_hooks("prestart", spec.hooks.get("prestart", []), state)
    run_hooks("createRuntime", spec.hooks.get("createRuntime", []), state)
    channel.send("hooks-done")


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
