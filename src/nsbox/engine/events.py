"""The event journal: one JSON line per container lifecycle event (create, start, kill, oom,
die, stop, pause, unpause, restart, rename, destroy), appended to ROOT/events.jsonl by
whichever process made the change (the CLI, a monitor), in the shape of Docker's event
messages; `nsbox events` reads and follows it.

Each event is one write(2) with O_APPEND of a line shorter than a page, so that writers
never interleave. The journal is best effort: a full disk must not fail a container's
lifecycle. Past 8 MiB the file is renamed to events.jsonl.1 (the one before is dropped).
"""
from __future__ import annotations

import os
import time

JOURNAL = "events.jsonl"
ROTATE_AT = 8 << 20


def journal_path(root: str) -> str:
    return os.path.join(root, JOURNAL)


def emit(root: str, action: str, record: dict, **attributes: object) -> None:
    from nsbox.oci.jsonio import dumps  # not json: on the path of nsbox run, its import costs ~11 ms
    config = record.get("Config") or {}
    image = config.get("Image") or record.get("Rootfs") or ""
    shown = {str(key): str(value) for key, value in (config.get("Labels") or {}).items()}
    shown.update(image=image, name=record.get("Name") or "")
    shown.update((key, str(value)) for key, value in attributes.items())
    stamp = time.time_ns()
    line = dumps({"status": action, "id": record["Id"], "from": image, "Type": "container", "Action": action,
                  "Actor": {"ID": record["Id"], "Attributes": shown}, "scope": "local",
                  "time": stamp // 1_000_000_000, "timeNano": stamp}) + "\n"
    path = journal_path(root)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            os.write(descriptor, line.encode())
            if os.fstat(descriptor).st_size > ROTATE_AT:
                os.replace(path, path + ".1")
        finally:
            os.close(descriptor)
    except OSError:
        pass
