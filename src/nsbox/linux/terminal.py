"""Terminals: window sizes, and the user's terminal while a container's pty is relayed
to it (raw mode, size changes followed, the settings given back afterwards)."""
from __future__ import annotations

import os
import _signal

TYPE_CHECKING = False  # typing costs ~12 ms to import: only the type checker reads this
if TYPE_CHECKING:
    from collections.abc import Callable

TIOCGWINSZ = 0x5413
TIOCSWINSZ = 0x5414


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


def set_window_size(fd: int, rows: int, columns: int) -> None:
    import fcntl
    import struct
    try:
        fcntl.ioctl(fd, TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    except OSError:
        pass  # not a terminal (any more)


def copy_window_size(source: int, target: int) -> None:
    import fcntl
    try:
        fcntl.ioctl(target, TIOCSWINSZ, fcntl.ioctl(source, TIOCGWINSZ, b"\0" * 8))
    except OSError:
        pass  # not a terminal: the pty keeps its default size


def take_terminal(on_resize: Callable[[], None], raw: bool = True, fd: int = 0) -> list | None:
    """Put the terminal at `fd` in raw mode (with `raw`) and call `on_resize` now and at each
    SIGWINCH; the settings to hand to give_back_terminal, or None when `fd` is no terminal.
    Keys typed ahead are kept (TCSADRAIN: the default TCSAFLUSH would drop them)."""
    if not os.isatty(fd):
        return None
    import termios
    import tty
    saved = termios.tcgetattr(fd)
    if raw:
        tty.setraw(fd, termios.TCSADRAIN)
    on_resize()
    _signal.signal(_signal.SIGWINCH, lambda _number, _frame: on_resize())
    return saved


def give_back_terminal(saved: list | None, fd: int = 0) -> None:
    """The terminal's settings as take_terminal found them."""
    if saved is None:
        return
    import termios
    termios.tcsetattr(fd, termios.TCSADRAIN, saved)
    _signal.signal(_signal.SIGWINCH, _signal.SIG_DFL)
