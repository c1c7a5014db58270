"""`nsbox exec`: another process in a running container, joining every namespace and the
cgroup of its init, with the container's capabilities and environment."""
from __future__ import annotations

import os

from nsbox.errors import StateError


def exec_process_spec(engine, record: dict, args: list[str], env: list[str], user: str, workdir: str,
                      tty: bool) -> dict:
    """The OCI `process` for the exec: the container's own, changed by -e, -u, -w, -t."""
    from nsbox.engine.spec import _user, capabilities
    from nsbox.engine.runconfig import _env
    config = record["Config"]
    merged = _env({"env": env, "tty": tty}, config.get("Env") or [])
    caps = capabilities(record["HostConfig"])
    return {
        "terminal": tty,
        "user": _user(user or config.get("User") or "", record["Rootfs"]),
        "args": args,
        "env": merged,
        "cwd": workdir or config.get("WorkingDir") or "/",
        "capabilities": {"bounding": caps, "effective": list(caps), "permitted": list(caps)},
        "noNewPrivileges": False,
    }


def start_exec(engine, reference: str, args: list[str], env: list[str], user: str, workdir: str,
               stdio: tuple[int, int, int]) -> int:
    """Start the process (no terminal) with `stdio`; its host PID, a child of the caller."""
    record = running(engine, reference)
    process = exec_process_spec(engine, record, args, env, user, workdir, False)
    return engine.runtime(record).exec_process(record["Id"], process, stdio)


def running(engine, reference: str) -> dict:
    record = engine.get(reference)
    if record["State"]["Status"] != "running":
        raise StateError(f"container {record['Name']} is {record['State']['Status']}, not running: "
                         "exec needs a running container")
    return record


def run_exec(engine, reference: str, args: list[str], env: list[str], user: str, workdir: str,
             interactive: bool, tty: bool, detach: bool, detach_keys: bytes = b"") -> int:
    """Run the process; its exit code (0 at once with `detach`, or once the user types
    `detach_keys` at an -it exec: the process runs on)."""
    if tty and interactive and not detach and detach_keys and os.isatty(0):
        from nsbox.engine.detachable import in_detachable_child
        return in_detachable_child(lambda detached: _run_exec(engine, reference, args, env, user, workdir,
                                                              interactive, tty, detach, detach_keys, detached))
    return _run_exec(engine, reference, args, env, user, workdir, interactive, tty, detach)


def _run_exec(engine, reference: str, args: list[str], env: list[str], user: str, workdir: str,
              interactive: bool, tty: bool, detach: bool, detach_keys: bytes = b"", detached=None) -> int:
    from nsbox.engine.launching import exit_code
    record = running(engine, reference)
    process = exec_process_spec(engine, record, args, env, user, workdir, tty and not detach)
    runtime = engine.runtime(record)
    devnull = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    stdio = (0 if interactive and not detach else devnull, devnull if detach else 1, devnull if detach else 2)
    if tty and not detach:
        from nsbox.engine import console
        from nsbox.engine.attach import DETACHED, forward_signals, relay_terminal
        from nsbox.linux.terminal import window_size
        size = window_size(0)
        if size:
            process["consoleSize"] = size
        pid, master = console.start_with_pty(
            engine.paths.container(record["Id"]), f"exec-{os.getpid()}.sock",
            lambda console_path: runtime.exec_process(record["Id"], process, stdio, console_path))
        forward_signals(pid)
        status = relay_terminal(pid, master, interactive, None, detach_keys)
        if status == DETACHED:
            from nsbox.engine.detachable import hold_detached
            detached()
            status = hold_detached(pid, master)
        return exit_code(status)
    pid = runtime.exec_process(record["Id"], process, stdio)
    os.close(devnull)
    if detach:
        return 0
    from nsbox.engine.attach import forward_signals, wait_status
    forward_signals(pid)
    return exit_code(wait_status(pid))
