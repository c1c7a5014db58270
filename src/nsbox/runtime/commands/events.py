"""`nsbox-runtime events`: its flags and usage (COMMAND: its --help too) and the call it makes."""
from __future__ import annotations

import os
import sys

from nsbox.flags import Command, flag
from nsbox.runtime.cli import Context, UsageError, one_id

COMMAND = Command("nsbox-runtime events [OPTIONS] ID", "A container's stats and OOM events as JSON lines.",
                  flag("--stats", 'print one {"type": "stats", "id": ID, "data": {...}} record and exit (runc\'s format)'),
                  flag("--interval DURATION", "how often a stats record comes (default 5s)"),
                  notes='Without --stats, a stats record every --interval and an {"type": "oom", "id": ID}\n'
                        "record whenever the container runs out of memory, until the container stops.")


UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration(text: str) -> float:
    """A Go-style duration ("5s", "250ms", "1m30s") in seconds."""
    total, rest = 0.0, text.strip()
    if not rest:
        raise UsageError("--interval: must be a duration such as 5s or 500ms")
    while rest:
        digits = len(rest) - len(rest.lstrip("0123456789."))
        unit_end = digits + len(rest[digits:]) - len(rest[digits:].lstrip("nuµmsh"))
        value, unit = rest[:digits], rest[digits:unit_end]
        if not value or unit not in UNITS:
            raise UsageError(f"--interval: {text!r} is not a duration such as 5s, 500ms or 1m30s")
        total += float(value) * UNITS[unit]
        rest = rest[unit_end:]
    if total <= 0:
        raise UsageError(f"--interval: must be more than zero, got {text!r}")
    return total


def emit(kind: str, container_id: str, data: dict | None = None) -> None:
    from nsbox.oci import jsonio
    record: dict = {"type": kind, "id": container_id}
    if data is not None:
        record["data"] = data
    sys.stdout.write(jsonio.dumps(record) + "\n")
    sys.stdout.flush()


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    container_id = one_id(positionals, "events")
    interval = duration(str(options.get("interval", "5s")))
    from nsbox.runtime.state import live_cgroup
    record, cgroup = live_cgroup(ctx.root, container_id, "events")
    if options.get("stats"):
        emit("stats", container_id, cgroup.stats())
        return 0
    return stream(record, cgroup, container_id, interval)


def stream(record, cgroup, container_id: str, interval: float) -> int:
    """Stats every `interval` and OOM events as they come, until the container stops."""
    import select
    import time
    from nsbox.linux import collector
    collector.resume()  # (the runtime's command line pauses it)
    from nsbox.cgroups.oom import drain
    watch = cgroup.oom_watch()
    try:
        # The init's pidfd becomes readable when it exits: the stream ends then, not at the
        # next stats tick (which may be an --interval of an hour away).
        init = os.pidfd_open(record.pid)
    except ProcessLookupError:
        os.close(watch)
        return 0
    try:
        kills = cgroup.oom_kills()
        next_stats = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= next_stats:
                if record.status() == "stopped":
                    return 0
                emit("stats", container_id, cgroup.stats())
                next_stats = now + interval
            readable, _, _ = select.select([watch, init], [], [], max(next_stats - time.monotonic(), 0))
            if init in readable and watch not in readable:
                return 0
            if watch in readable:
                drain(watch)
                if not os.path.isdir(cgroup.directories()[0]):
                    return 0  # the cgroup was removed (v1 signals the eventfd then too)
                count = cgroup.oom_kills()
                if count > kills or "memory" in cgroup.v1:  # a v1 wake-up is an OOM even when nothing died yet
                    emit("oom", container_id)
                kills = count
    except KeyboardInterrupt:
        return 0
    finally:
        os.close(watch)
        os.close(init)
