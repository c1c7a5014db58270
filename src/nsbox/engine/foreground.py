"""A foreground `nsbox run`: the CLI process is the container's parent. It forwards
signals (and, with -t, a pseudo-terminal and its window size), copies the container's
output to its own and into the log (as a monitor does, so `nsbox logs` shows it too),
waits, records the exit, and returns the container's exit code.
"""
from __future__ import annotations

import os

from nsbox.engine.attach import forward_signals, relay_terminal
from nsbox.linux import collector


def run_foreground(engine, container_id: str, interactive: bool, tty: bool, detach_keys: bytes = b"") -> int:
    if tty and interactive and detach_keys and os.isatty(0):
        from nsbox.engine.detachable import run_detachable
        return run_detachable(engine, container_id, detach_keys)
    return run_attached(engine, container_id, interactive, tty)


def run_attached(engine, container_id: str, interactive: bool, tty: bool, detach_keys: bytes = b"",
                 on_detach=None) -> int:
    """Run the container with this process as its parent; its exit code. With `detach_keys`
    typed, `on_detach(pid, master, log_fd)` takes over the running container instead."""
    from nsbox.engine.launching import exit_code, import_exit_steps
    from nsbox.engine.monitor_loop import relay
    devnull = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    stdin = 0 if interactive else devnull
    log_fd = os.open(engine.paths.container(container_id, "container.log"),
                     os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
    if tty:
        wait_status = _run_with_terminal(engine, container_id, stdin, interactive, log_fd, detach_keys, on_detach)
    else:
        out_read, out_write = os.pipe2(os.O_CLOEXEC)
        err_read, err_write = os.pipe2(os.O_CLOEXEC)
        try:
            pid = engine.launch(container_id, (stdin, out_write, err_write), while_waiting=import_exit_steps)
        finally:
            os.close(out_write)
            os.close(err_write)
        collector.resume()  # started: from here this process relays for as long as the container runs
        forward_signals(pid)
        wait_status = relay(pid, log_fd, {out_read: b"stdout", err_read: b"stderr"}, {out_read: 1, err_read: 2})
        os.close(out_read)
        os.close(err_read)
    os.close(log_fd)
    os.close(devnull)
    engine.finish(container_id, wait_status, auto_remove=True)  # (--rm)
    return exit_code(wait_status)


def _run_with_terminal(engine, container_id: str, stdin: int, interactive: bool, log_fd: int,
                       detach_keys: bytes = b"", on_detach=None) -> int:
    from nsbox.engine import console
    from nsbox.engine.attach import DETACHED
    from nsbox.linux.terminal import window_size
    pid, master = console.start_with_pty(
        engine.paths.container(container_id), f"console-{os.getpid()}.sock",
        lambda console_path: engine.launch(container_id, (stdin, 1, 2), console_path, console_size=window_size(0)))
    collector.resume()
    forward_signals(pid)
    status = relay_terminal(pid, master, interactive, log_fd, detach_keys)
    if status == DETACHED:
        return on_detach(pid, master, log_fd)
    return status
