"""The CLI attached to a container process it started (foreground `run`, `exec`): signals
forwarded, a pseudo-terminal relayed with its window size, the exit waited for."""
from __future__ import annotations

import os

import _signal

FORWARDED_SIGNALS = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGQUIT, _signal.SIGUSR1,
                     _signal.SIGUSR2)


def forward_signals(pid: int) -> None:
    """Pass the signals a shell user sends (^C, kill, hang-up) on to `pid`."""
    def forward(number: int, _frame: object) -> None:
        try:
            os.kill(pid, number)
        except ProcessLookupError:
            pass
    for number in FORWARDED_SIGNALS:
        _signal.signal(number, forward)


def wait_status(pid: int) -> int:
    """Wait for our child `pid`; its wait status."""
    while True:
        try:
            child, status = os.waitpid(pid, 0)
        except ChildProcessError:  # reaped elsewhere: should not happen to a subreaper's child
            return 255 << 8
        if child == pid:
            return status


DETACHED = -1  # relay_terminal's answer when the user typed the detach keys (never a wait status)


def relay_terminal(pid: int, master: int, interactive: bool, log_fd: int | None = None,
                   detach_keys: bytes = b"") -> int:
    """Copy between our terminal and the container's pty master until `pid` exits
    (and what the container prints into the log at `log_fd`); its wait status, or DETACHED
    when the user typed `detach_keys` (then `master` stays open and `pid` running)."""
    import select

    from nsbox.engine.attach_server import DetachWatch
    from nsbox.linux.terminal import copy_window_size, give_back_terminal, take_terminal
    saved = take_terminal(lambda: copy_window_size(0, master), raw=interactive)
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(master, select.POLLIN)
    poller.register(pidfd, select.POLLIN)
    if interactive:
        poller.register(0, select.POLLIN)
    status = None
    master_open = True
    pending: dict[bytes, bytes] = {}
    watch = DetachWatch(detach_keys)
    try:
        while status is None:
            for fd, _ in poller.poll():
                if fd == master:
                    master_open = _pump(master, 1, log_fd, pending)
                    if not master_open:
                        poller.unregister(master)
                elif fd == 0:
                    if not _pump(0, master, watch=watch):
                        poller.unregister(0)
                    if watch.matched == len(watch.keys) and watch.keys:
                        status = DETACHED
                        break
                elif fd == pidfd:
                    status = wait_status(pid)
        _finish_output(master if master_open and status != DETACHED else None, log_fd, pending)
    finally:
        give_back_terminal(saved)
        os.close(pidfd)
        if status != DETACHED:
            os.close(master)
    return status


def _finish_output(master: int | None, log_fd: int | None, pending: dict[bytes, bytes]) -> None:
    """What the container wrote before it ended: the rest of `master` (when still open)
    copied out, and the log's partial lines written."""
    from nsbox.engine.monitor_loop import drain, flush_pending
    if master is not None:
        os.set_blocking(master, False)
        drain(master, lambda: _pump(master, 1, log_fd, pending))
    if log_fd is not None:
        flush_pending(log_fd, pending)


def _pump(source: int, target: int, log_fd: int | None = None, pending: dict[bytes, bytes] | None = None,
          watch=None) -> bool:
    """Copy what is readable now from `source` to `target` (and as stdout into the log); with
    `watch` (a DetachWatch), what comes before the detach keys only."""
    from nsbox.engine.monitor_loop import log_chunk, write_all
    try:
        data = os.read(source, 65536)
    except (BlockingIOError, OSError):
        return False
    if not data:
        return False
    if watch is not None:
        data, detached = watch.feed(data)
        if detached:
            watch.matched = len(watch.keys)
    write_all(target, data)
    if log_fd is not None:
        log_chunk(log_fd, b"stdout", data, pending)  # type: ignore[arg-type]
    return True
