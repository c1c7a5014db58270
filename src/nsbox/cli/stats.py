"""nsbox stats: CPU %, memory usage / limit, network and block I/O and PIDs of running
containers, as a live table refreshed each second (--no-stream: once; --format json). The
first CPU % is the average since the container started, as podman's; then each second's."""
from __future__ import annotations

import sys
import time

from nsbox.flags import Command, flag, parse

COMMAND = Command("nsbox stats [OPTIONS] [CONTAINER...]", "Containers' CPU, memory, network and block I/O, PIDs.",
                  flag("-a --all", "stopped containers too"),
                  flag("--no-stream", "one sample (CPU %: the average since the container started), not a live table"),
                  flag("--format table|json|TEMPLATE", "the output's form"))
HEADERS = ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]


def _row(entry: dict) -> list[str]:
    from nsbox.engine.quantities import format_size
    return [entry["ID"][:12], entry["Name"], f"{entry['CPUPerc']:.2f}%",
            f"{format_size(entry['MemUsage'])} / {format_size(entry['MemLimit'])}", f"{entry['MemPerc']:.2f}%",
            f"{format_size(entry['NetInput'])} / {format_size(entry['NetOutput'])}",
            f"{format_size(entry['BlockInput'])} / {format_size(entry['BlockOutput'])}", str(entry["PIDs"])]


def main(argv: list[str], root: str) -> int:
    from nsbox.engine.containers import Engine
    from nsbox.engine.checked_state import running_record
    from nsbox.engine.stats import sample, since_start, summarize
    from nsbox.errors import ConfigError, NsboxError
    options, names = parse(argv, COMMAND, stop_at_positional=False)
    fmt = options.get("format") or "table"
    engine = Engine(root)

    def records() -> list[dict]:
        if names:
            return [running_record(engine, name) for name in names]
        return [r for r in engine.list() if r["State"]["Status"] in ("running", "paused")]

    def readings(previous: dict) -> tuple[list[dict], dict]:
        current, entries = {}, []
        for record in records():
            try:
                reading = sample(engine, record)
            except (NsboxError, OSError):
                continue  # it stopped meanwhile
            current[record["Id"]] = reading
            entries.append(summarize(record, previous.get(record["Id"]) or since_start(record, reading), reading))
        return entries, current

    entries, previous = readings({})
    if fmt not in ("table", "json"):  # a Go template: printed each second, or once with --no-stream
        while True:
            _print(entries, fmt)
            if options.get("no_stream"):
                return 0
            sys.stdout.flush()
            time.sleep(1)
            entries, previous = readings(previous)
    if options.get("no_stream") or fmt == "json" and not sys.stdout.isatty():
        _print(entries, fmt)
        return 0
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table

    def render(entries: list[dict]) -> Table:
        shown = Table(box=None, header_style="bold")
        for header in HEADERS:
            shown.add_column(header, no_wrap=True)
        for entry in entries:
            shown.add_row(*_row(entry))
        return shown

    # No refresh thread (auto_refresh off): ^C arriving while that thread holds rich's lock
    # could leave `nsbox stats` hung on exit; the table is redrawn here, once a second.
    with Live(render(entries), console=Console(), auto_refresh=False) as live:
        while True:
            time.sleep(1)
            entries, previous = readings(previous)
            live.update(render(entries), refresh=True)


TEMPLATE_HEADINGS = {"Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %",
                     "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O",
                     "PIDs": "PIDS"}


def _context(entry: dict):
    """An entry as Docker's stats templates see it (its statsContext: text fields)."""
    from nsbox.cli.gotemplate import Struct
    row = _row(entry)
    return Struct("*formatter.statsContext", Container=entry["Name"], ID=row[0], Name=row[1], CPUPerc=row[2],
                  MemUsage=row[3], MemPerc=row[4], NetIO=row[5], BlockIO=row[6], PIDs=row[7])


def _print(entries: list[dict], fmt: str) -> None:
    from nsbox.cli.formatting import render, table
    if fmt == "json":
        import json
        for entry in entries:
            sys.stdout.write(json.dumps(entry) + "\n")
    elif fmt == "table":
        sys.stdout.write(table(HEADERS, [_row(entry) for entry in entries]))
    else:
        sys.stdout.write(render(fmt, [_context(entry) for entry in entries], TEMPLATE_HEADINGS, ""))
