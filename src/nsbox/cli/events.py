"""nsbox events: the containers' lifecycle events from the engine's journal, as Docker shows
them; past ones with --since, and new ones as they happen until --until (or ^C)."""
from __future__ import annotations

import os
import sys
import time

from nsbox.flags import Command, flag, parse

COMMAND = Command("nsbox events [OPTIONS]", "The containers' lifecycle events, past (--since) and as they happen.",
                  flag("--since TIME", "events from TIME on"),
                  flag("--until TIME", "events up to TIME (then stop)"),
                  flag("-f --filter KEY=VALUE...", "only the matching events"),
                  flag("--format FORMAT", "json, or a Go template"),
                  notes="TIME: 10m, 1h30m (ago), a Unix time, or 2026-01-02T15:04:05\n"
                        "filters: container=NAME|ID, event=ACTION, type=container, image=NAME, label=KEY[=VALUE]")


def _matches(event: dict, filters: dict[str, list[str]]) -> bool:
    actor = event["Actor"]
    attributes = actor["Attributes"]
    checks = {"container": lambda v: actor["ID"].startswith(v) or attributes.get("name") == v,
              "event": lambda v: event["Action"] == v, "type": lambda v: event["Type"] == v,
              "image": lambda v: attributes.get("image") == v,
              "label": lambda v: attributes.get(v.partition("=")[0]) is not None and
              (not v.partition("=")[1] or attributes.get(v.partition("=")[0]) == v.partition("=")[2])}
    return all(any(checks[key](value) for value in values) for key, values in filters.items())


def _parse_filters(items: list[str]) -> dict[str, list[str]]:
    from nsbox.errors import ConfigError
    filters: dict[str, list[str]] = {}
    for item in items:
        key, has_value, value = item.partition("=")
        if key not in ("container", "event", "type", "image", "label") or not has_value:
            raise ConfigError("--filter", f"unknown filter {item!r}: use container=, event=, type=, image= or label=")
        filters.setdefault(key, []).append(value)
    return filters


def _line(event: dict) -> str:
    """Docker's default: `2026-12-01T21:16:17.764767306Z container die ID (exitCode=0, image=busybox, name=x)`."""
    from nsbox.oci.timestamps import rfc3339
    attributes = ", ".join(f"{key}={value}" for key, value in sorted(event["Actor"]["Attributes"].items()))
    return f"{rfc3339(event['timeNano'])} {event['Type']} {event['Action']} {event['Actor']['ID']} ({attributes})\n"


def _context(event: dict):
    """An event as templates see Docker's events.Message (Go field names; {{json .}} its JSON)."""
    from nsbox.cli.gotemplate import Struct
    row = Struct("events.Message", Status=event["status"], ID=event["id"], From=event["from"], Type=event["Type"],
                 Action=event["Action"], Actor=Struct("events.Actor", ID=event["Actor"]["ID"],
                                                      Attributes=event["Actor"]["Attributes"]),
                 Scope=event["scope"], Time=event["time"], TimeNano=event["timeNano"])
    row.json_value = event
    return row


def main(argv: list[str], root: str) -> int:
    from nsbox.engine.events import journal_path
    from nsbox.engine.logs import parse_since
    from nsbox.engine.paths import Paths
    from nsbox.oci.timestamps import rfc3339
    options, _ = parse(argv, COMMAND, stop_at_positional=False)
    filters = _parse_filters(options.get("filter") or [])
    since = parse_since(options["since"]) if options.get("since") else None
    until = parse_since(options["until"]) if options.get("until") else None
    form = options.get("format")
    template = None
    if form:
        from nsbox.cli.gotemplate import Template, backslash_escapes
        template = Template(backslash_escapes("{{json .}}" if form == "json" else form))
    path = journal_path(Paths(root).root)
    for event in _follow(path, from_start=since is not None, until=until):
        stamp = rfc3339(event["timeNano"])
        if since is not None and stamp < since:
            continue
        if until is not None and stamp > until:
            break
        if _matches(event, filters):
            sys.stdout.write(template.execute(_context(event)) + "\n" if template else _line(event))
            sys.stdout.flush()
    return 0


def _follow(path: str, from_start: bool, until: str | None):
    """The journal's events, from its start or from now, then each new one as it is written;
    ends once `until` has passed."""
    import json

    from nsbox.oci.timestamps import rfc3339
    journal = None
    pending = b""
    while True:
        if journal is None and os.path.exists(path):
            journal = open(path, "rb")
            if not from_start:
                journal.seek(0, os.SEEK_END)
            from_start = True  # a journal that appears or is rotated later is read from its start
        chunk = journal.read() if journal is not None else b""
        if chunk:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                try:
                    yield json.loads(line)
                except ValueError:
                    continue  # a torn line (a crash mid-write) is skipped
            continue
        if until is not None and rfc3339(time.time_ns()) > until:
            return
        if journal is not None and _rotated(journal, path):
            journal.close()
            journal, pending = None, b""
            continue
        time.sleep(0.1)


def _rotated(journal, path: str) -> bool:
    try:
        return os.stat(path).st_ino != os.fstat(journal.fileno()).st_ino
    except FileNotFoundError:
        return False
