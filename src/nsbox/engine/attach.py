"""The CLI attached to a container process it started (foreground `run`, `exec`): signals
forwarded, a pseudo-terminal relayed with its window size, the exit waited for."""
from __future__ import annotations

import os

import _signal

FORWARDED_SIGNALS = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGQUIT, _signal.SIGUSR1,
                     _signal.SIGUSR2)
TIOCGWINSZ = 0x5413
TIOCSWINSZ = 0x5414


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


def window_size(fd: int) -> dict | None:
    """The terminal's size as an OCI consoleSize, so the pty starts at the right size
    (set afterwards, a fast program could see 0x0)."""
    import fcntl
    import struct
    try:
        rows, columns, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, TIOCGWINSZ, b"\0" * 8))
    except OSError:
        return None
    return {"height": rows, "width": columns} if rows and columns else None


def copy_window_size(source: int, master: int) -> None:
    import fcntl
    try:
        size = fcntl.ioctl(source, TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(master, TIOCSWINSZ, size)
    except OSError:
        pass  # not a terminal: the pty keeps its default size


DETACHED = -1  # relay_terminal's answer when the user typed the detach keys (never a wait status)


def relay_terminal(pid: int, master: int, interactive: bool, log_fd: int | None = None,
                   detach_keys: bytes = b"") -> int:
    """Copy between our terminal and the container's pty master until `pid` exits
    (and what the container prints into the log at `log_fd`); its wait status, or DETACHED
    when the user typed `detach_keys` (then `master` stays open and `pid` running)."""
    import select
    saved = None
    stdin_is_tty = os.isatty(0)
    if stdin_is_tty:
        import termios
        import tty
        saved = termios.tcgetattr(0)
        if interactive:
            tty.setraw(0)
        copy_window_size(0, master)
        _signal.signal(_signal.SIGWINCH, lambda _n, _f: copy_window_size(0, master))
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(master, select.POLLIN)
    poller.register(pidfd, select.POLLIN)
    if interactive:
        poller.register(0, select.POLLIN)
    status = None
    master_open = True
    pending: dict[bytes, bytes] = {}
    from nsbox.engine.attach_server import DetachWatch
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
        if status == DETACHED:
            if log_fd is not None:
                from nsbox.engine.monitor_loop import flush_pending
                flush_pending(log_fd, pending)
            return status
        if master_open:
            from nsbox.engine.monitor_loop import drain
            os.set_blocking(master, False)
            drain(master, lambda: _pump(master, 1, log_fd, pending))
        if log_fd is not None:
            from nsbox.engine.monitor_loop import flush_pending
            flush_pending(log_fd, pending)
    finally:
        if saved is not None:
            import termios
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
            _signal.signal(_signal.SIGWINCH, _signal.SIG_DFL)
        os.close(pidfd)
        if status != DETACHED:
            os.close(master)
    return status


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
