"""Where the runtime's warnings go: stderr, or only the --log file when there is one.

runc's way, and for the same reason: a shim hands `create` the container's own stdio, so
a warning written to stderr would end up in the container's log (`docker logs`,
`kubectl logs`). `nsbox-runtime --log FILE` points warnings at the file.
"""
from __future__ import annotations

import sys


def _to_stderr(message: str) -> None:
    sys.stderr.write(f"nsbox-runtime: warning: {message}\n")


_sink = _to_stderr


def warn(message: str) -> None:
    _sink(message)


def send_to(sink) -> None:  # sink: (message: str) -> None
    global _sink
    _sink = sink
