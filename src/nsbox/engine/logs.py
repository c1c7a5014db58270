"""A container's log: CRI lines ("TIME STREAM F|P text") written by its monitor.

F ends a line, P is a piece of a longer one. stdout and stderr are kept apart.
"""
from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO


def parse_line(line: bytes) -> tuple[str, str, bool, bytes] | None:
    """(time, stream, complete, text) or None for a damaged line."""
    parts = line.rstrip(b"\n").split(b" ", 3)
    if len(parts) < 3 or parts[1] not in (b"stdout", b"stderr"):
        return None
    text = parts[3] if len(parts) == 4 else b""
    return parts[0].decode(), parts[1].decode(), parts[2] == b"F", text


def entries(data: bytes):
    """(time, stream, text with newline) for each whole line in `data`."""
    pieces: dict[str, bytes] = {}
    for raw in data.splitlines(keepends=True):
        if not raw.endswith(b"\n"):
            break  # the monitor is writing this line right now
        parsed = parse_line(raw)
        if parsed is None:
            continue
        stamp, stream, complete, text = parsed
        text = pieces.pop(stream, b"") + text
        if complete:
            yield stamp, stream, text + b"\n"
        else:
            pieces[stream] = text
    for stream, text in pieces.items():
        yield "", stream, text


def parse_since(text: str) -> str:
    """--since as an RFC 3339 prefix for comparison: "10m", "1h30m", "90s" ago, or a timestamp."""
    from nsbox.errors import InvalidOption
    units = {"s": 1, "m": 60, "h": 3600}
    if text and text[-1] in units:
        total, number = 0.0, ""
        for char in text:
            if char.isdigit() or char == ".":
                number += char
            elif char in units and number:
                total += float(number) * units[char]
                number = ""
            else:
                raise InvalidOption("--since", f"invalid duration {text!r}: use e.g. 10m, 1h or 2026-01-02T15:04:05")
        from nsbox.oci.timestamps import rfc3339
        return rfc3339(time.time_ns() - int(total * 1e9))
    if text.isdigit():
        from nsbox.oci.timestamps import rfc3339
        return rfc3339(int(text) * 1_000_000_000)
    if len(text) < 10 or text[4] != "-":
        raise InvalidOption("--since", f"invalid time {text!r}: use e.g. 10m, 1h or 2026-01-02T15:04:05")
    return text


def read_log(path: str | BinaryIO, tail: int | None, since: str | None, follow=None, until: str | None = None,
             offset: int = 0):
    """(time, stream, text with newline) for each line of the log (a path, or the log kept
    open) from byte `offset` on (stamped from `since` to `until`); with `follow()` returning
    True, keep yielding new lines as they come (checked every 0.1 s)."""
    lines, offset = _entries_from(path, offset)
    if since:
        lines = [entry for entry in lines if entry[0] >= since]
    if until:
        lines = [entry for entry in lines if entry[0] <= until]
    if tail is not None:
        lines = lines[-tail:] if tail > 0 else []
    yield from lines
    while follow is not None and follow():
        time.sleep(0.1)
        lines, offset = _entries_from(path, offset)
        yield from lines
    if follow is not None:
        yield from _entries_from(path, offset)[0]


def _entries_from(path: str | BinaryIO, offset: int) -> tuple[list, int]:
    """The whole lines written from `offset` on, and the offset after them."""
    from nsbox.linux.store_files import read_whole_lines
    complete, offset = read_whole_lines(path, offset)
    return list(entries(complete)), offset


def write_logs(path: str | BinaryIO, tail: int | None, since: str | None, timestamps: bool, follow, out: int,
               err: int, until: str | None = None, offset: int = 0) -> None:
    """Print the log (from byte `offset`) to the out/err fds (the lines stamped from `since`
    to `until`); with `follow()` returning True, keep printing new lines."""
    for stamp, stream, text in read_log(path, tail, since, follow, until, offset):
        data = (stamp.encode() + b" " + text) if timestamps and stamp else text
        target = err if stream == "stderr" else out
        view = memoryview(data)
        while view:
            view = view[os.write(target, view):]
