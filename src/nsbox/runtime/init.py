"""The two processes `create` forks.

The intermediate joins and makes the namespaces (the user namespace first, its maps
written by the runtime), then forks the container's init, which is PID 1 of the new PID
namespace, reports the init's host PID and exits. Where none of that needs a process of
its own, the runtime clones the init itself, in its new namespaces (cloned_init). The init builds the root filesystem,
lets the runtime run its hooks, pivots, resolves the program, says "ready", and waits on
exec.fifo until `start` opens it; then it drops privileges and execs the program.
"""
from __future__ import annotations

import os

from nsbox.errors import ENGINE_EXIT, NsboxError
from nsbox.linux import libc
from nsbox.linux import namespaces as ns
from nsbox.runtime import process as proc_setup
from nsbox.runtime import rootfs as rootfs_setup
from nsbox.runtime.channel import Channel
from nsbox.runtime.init_options import InitOptions
from nsbox.runtime.seccomp_filter import connect_listener, install

TIOCSCTTY = 0x540E
TIOCSWINSZ = 0x5414


def report_and_exit(channel: Channel, error: BaseException) -> None:
    if isinstance(error, NsboxError):
        code, message = error.exit_code, str(error)
    elif isinstance(error, OSError):
        code, message = ENGINE_EXIT, str(error)
    else:
        code, message = ENGINE_EXIT, f"{type(error).__name__}: {error}"
    try:
        channel.send("error", code, message)
    except OSError:
        pass
    os._exit(code if code < 256 else ENGINE_EXIT)


def close_inherited_fds(keep: list[int], preserve_fds: int) -> None:
    """First thing in a forked child: close every descriptor above 2 except `keep` and the
    preserved ones. The fork copied all of the caller's, and a caller with threads (the
    Python API) has other threads' locks and pipes among them: held here until execve,
    they would make those threads wait for this container (and it for them)."""
    import gc
    gc.disable()  # an object of another thread, collected here, would close a reused number
    low = 3 + preserve_fds
    for fd in sorted(set(fd for fd in keep if fd >= low)):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 20)


def import_child_modules() -> None:
    """Import now every module the children import lazily. A caller with threads (the
    Python API) calls this before its first create: a child forked while another thread is
    importing a module would wait forever for that module's import lock. Keep it in step
    with the lazy imports of init.py, rootfs.py, process.py, cgroup_mount.py,
    seccomp_filter.py and exec_process.py."""
    import fcntl  # noqa: F401
    import socket  # noqa: F401
    import struct  # noqa: F401

    from nsbox.linux import capabilities, idmap, mounts, netdev, seccomp_call  # noqa: F401
    from nsbox.oci import runtime_spec  # noqa: F401
    from nsbox.runtime import cgroup_mount, hooks  # noqa: F401


def intermediate(options: InitOptions, channel: Channel) -> None:
    """Runs in the first child; never returns."""
    try:
        _leave_the_runtime(options, channel)
        options.cgroup_entry.enter()  # still the host's root, in the host's namespaces
        linux = options.spec.linux
        joined = _join_namespaces(linux.namespaces)
        new = [n.type for n in linux.namespaces if not n.path]
        if "user" in new:
            libc.unshare(ns.CLONE_NEWUSER)
            channel.send("userns")
            channel.expect("mapped")
            os.setresgid(0, 0, 0)
            os.setresuid(0, 0, 0)
        flags = ns.creation_flags(kind for kind in new if kind not in ("user", "cgroup"))
        if flags:  # (the init makes its cgroup namespace once in its cgroup)
            libc.unshare(flags)
        _bring_up_loopback(new)
        if linux.time_offsets:
            with open("/proc/self/timens_offsets", "w") as offsets:
                for clock, (secs, nanosecs) in linux.time_offsets.items():
                    offsets.write(f"{clock} {secs} {nanosecs}\n")
        # The init waits until its PID is reported, so that the runtime reads "pid" first.
        reported_read, reported_write = os.pipe2(os.O_CLOEXEC)
        channel.expect("cgroup-joined")  # so that the init is born in the container's cgroup
        pid = options.cgroup_entry.fork()
        if pid == 0:
            os.close(reported_write)
            os.read(reported_read, 1)
            os.close(reported_read)
            init(options, channel, in_user_ns="user" in new or "user" in joined)
        channel.send("pid", pid)
        os.write(reported_write, b"1")
        os._exit(0)
    except BaseException as error:  # noqa: BLE001 - everything must reach the runtime
        report_and_exit(channel, error)


def cloned_init(options: InitOptions, channel: Channel) -> None:
    """The init that the runtime cloned itself (create's direct path: no user or time
    namespace, no joins but of network, IPC and UTS namespaces), born in its new namespaces
    and its cgroup2 directory. Moves into its v1 cgroups, joins, brings lo up, then goes on
    as init(); never returns."""
    try:
        _leave_the_runtime(options, channel)
        options.cgroup_entry.cgroup.enter_v1()  # first: a single thread, the host's root
        namespaces = options.spec.linux.namespaces
        _join_namespaces(namespaces)
        _bring_up_loopback([n.type for n in namespaces if not n.path])
    except BaseException as error:  # noqa: BLE001 - everything must reach the runtime
        report_and_exit(channel, error)
    init(options, channel, in_user_ns=False)


def _leave_the_runtime(options: InitOptions, channel: Channel) -> None:
    """First thing in create's child: none of the runtime's descriptors but its own."""
    os.close(options.lock_fd)
    console = [options.console.fileno()] if options.console is not None else []  # type: ignore[attr-defined]
    close_inherited_fds([channel.read_fd, channel.write_fd, options.state_dir_fd, options.fifo_fd,
                         *(options.stdio or ()), *console, *options.idmapped.values()], options.preserve_fds)


def _join_namespaces(namespaces: list) -> list[str]:
    """setns into every namespace the config gives a path for, in JOIN_ORDER; their kinds."""
    joins = [(n.type, ns.open_namespace(n.path)) for n in namespaces if n.path]
    joins.sort(key=lambda item: ns.JOIN_ORDER.index(item[0]))
    for kind, fd in joins:
        libc.setns(fd, ns.KINDS[kind][0], kind)
        os.close(fd)
    return [kind for kind, _ in joins]


def _bring_up_loopback(new: list[str]) -> None:
    """A new network namespace has lo down; runc and crun bring it up."""
    if "network" in new:
        from nsbox.linux.netdev import set_up
        set_up("lo")


def init(options: InitOptions, channel: Channel, in_user_ns: bool) -> None:
    """Runs as the container's PID 1; never returns."""
    ready = False
    try:
        spec = options.spec
        process = spec.process
        if process is None:
            raise NsboxError("process: is required to create a container")
        os.setsid()
        if options.keyring is not None:
            _join_session_keyring(options.keyring)
        if options.stdio is not None:
            for target, fd in enumerate(options.stdio):
                if fd != target:
                    os.dup2(fd, target)
        proc_setup.set_inheritable_fds(options.preserve_fds)
        def join_cgroup() -> None:  # born in its cgroup: only the cgroup namespace is left
            cgroup_ns = spec.linux.namespace("cgroup")
            if cgroup_ns is not None and not cgroup_ns.path:
                libc.unshare(ns.CLONE_NEWCGROUP)
        connect_listener(options.seccomp)
        rootfs_setup.prepare(spec, options.bundle, options.rootfs, in_user_ns, join_cgroup, options.idmapped)
        if options.runtime_hooks:
            channel.send("prestart")
            channel.expect("hooks-done")
        if spec.hooks.get("createContainer") or spec.hooks.get("startContainer"):
            from nsbox.runtime import hooks
        if spec.hooks.get("createContainer"):
            hooks.run_hooks("createContainer", spec.hooks["createContainer"], creating_state(options, "created"))
        if options.console is not None:
            import fcntl
            import struct
        rootfs_setup.pivot(options.rootfs, options.no_pivot,
                           spec.linux.rootfs_propagation in ("shared", "rshared"))
        _set_names_and_sysctls(spec)
        rootfs_setup.finish(spec)
        if options.console is not None:
            setup_terminal(options.console, process.console_size, fcntl, struct)
        proc_setup.set_rlimits(process)
        proc_setup.set_oom_score_adj(process)
        env = proc_setup.environment(process)
        program = proc_setup.find_program(process.args[0], env, process.cwd)
        channel.send("ready")
        ready = True
        _wait_for_start_and_exec(options, program, env)
    except BaseException as error:  # noqa: BLE001 - everything must reach the runtime
        if not ready:
            report_and_exit(channel, error)
        code = getattr(error, "exit_code", ENGINE_EXIT)
        try:
            os.write(2, f"nsbox-runtime: {error}\n".encode())
        except OSError:
            pass
        os._exit(code)


def _wait_for_start_and_exec(options: InitOptions, program: str, env: dict[str, str]) -> None:
    """Wait for `start` (exec.fifo), run startContainer hooks, become the process's user with
    its capabilities and seccomp filter, and exec the program; never returns."""
    spec = options.spec
    process = spec.process
    assert process is not None  # checked by init
    fifo = open_exec_fifo(options)
    if spec.hooks.get("startContainer"):
        from nsbox.runtime import hooks
        hooks.run_hooks("startContainer", spec.hooks["startContainer"], creating_state(options, "running"))
    # Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before the user and
    # capabilities change (as runc); with it, as late as possible.
    if not process.no_new_privileges:
        install(options.seccomp)
    proc_setup.become_user(process, process.capabilities)
    proc_setup.change_directory(process.cwd)
    proc_setup.set_capabilities(process.capabilities)
    if process.no_new_privileges:
        from nsbox.linux import capabilities
        capabilities.no_new_privileges()
    os.write(fifo, b"0")
    os.close(fifo)
    if process.no_new_privileges:
        install(options.seccomp)
    proc_setup.execute(program, process.args, env)


def _join_session_keyring(name: str) -> None:
    """As runc: keys the container adds stay out of the caller's session keyring."""
    try:
        libc.join_session_keyring(name)
    except OSError as error:
        if error.errno != 38:  # ENOSYS: a kernel without keys
            raise


def _set_names_and_sysctls(spec) -> None:
    """hostname, domainname, personality and linux.sysctl, in the container's namespaces."""
    if spec.hostname:
        libc.sethostname(spec.hostname)
    if spec.domainname:
        libc.setdomainname(spec.domainname)
    if spec.linux.personality is not None:
        libc.personality(spec.linux.personality)
    for key, value in spec.linux.sysctl.items():
        try:
            with open("/proc/sys/" + key.replace(".", "/"), "w") as sysctl:
                sysctl.write(value)
        except OSError as error:
            from nsbox.errors import ConfigError
            raise ConfigError(f"linux.sysctl.{key}", f"cannot set: {error.strerror}") from None


def open_exec_fifo(options: InitOptions) -> int:
    """Open exec.fifo for writing: this blocks until `start` opens it for reading.

    Opened while still root. In a user namespace the runtime's state directory is out of
    reach, so the O_PATH handle is reopened through /proc (the fifo itself is writable)."""
    try:
        fifo = os.open("exec.fifo", os.O_WRONLY | os.O_CLOEXEC, dir_fd=options.state_dir_fd)
    except PermissionError:
        fifo = os.open(f"/proc/self/fd/{options.fifo_fd}", os.O_WRONLY | os.O_CLOEXEC)
    os.close(options.state_dir_fd)
    os.close(options.fifo_fd)
    return fifo


def creating_state(options: InitOptions, status: str) -> dict:
    from nsbox.oci.runtime_spec import state_document
    return state_document("", status, os.getpid(), options.bundle, options.spec.annotations)


def setup_terminal(console: object, size: tuple[int | None, int | None] | None, fcntl: object, struct: object) -> None:
    """A new pty: the master goes to the console socket, the slave becomes stdio and /dev/console."""
    master, slave = os.openpty()
    if size is not None and size[0] and size[1]:
        fcntl.ioctl(slave, TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))  # type: ignore[attr-defined]
    import socket
    socket.send_fds(console, [b"/dev/ptmx"], [master])  # type: ignore[arg-type]
    os.close(master)
    console.close()  # type: ignore[attr-defined]
    fcntl.ioctl(slave, TIOCSCTTY, 0)  # type: ignore[attr-defined]
    try:
        from nsbox.linux import mounts as m
        if not os.path.exists("/dev/console"):
            os.close(os.open("/dev/console", os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
        m.mount(os.ttyname(slave), "/dev/console", None, m.MS_BIND)
    except OSError:
        pass
    for target in (0, 1, 2):
        os.dup2(slave, target)
    if slave > 2:
        os.close(slave)
