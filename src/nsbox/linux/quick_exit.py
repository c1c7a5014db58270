"""Ending a command's process without the interpreter's teardown."""
from __future__ import annotations

import os
import sys


def exit_now(code: int) -> None:
    """End the process without the interpreter's teardown, which frees every object of the
    modules a command imported: ~5 ms of CPU for `nsbox run --rm`, ~6 ms (15%) for an
    `nsbox-runtime` process with the start path's modules. Safe where nothing needs that
    teardown: nsbox registers no atexit handler and keeps no file open unwritten; Python's
    output buffers are flushed first. Returns (and the exit is the ordinary one) when a
    flush fails or another thread still runs."""
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code)
