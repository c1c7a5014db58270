"""nsbox ps: list containers (-a all, -q IDs only, --filter, --format json|table, --no-trunc)."""
from __future__ import annotations

import sys

USAGE = """usage: nsbox ps [-a] [-q] [--no-trunc] [--filter KEY=VALUE]... [--format table|json]
  filters: name=, id=, status=created|running|paused|restarting|exited|dead, label=KEY[=VALUE], exited=CODE"""

FLAGS = {"-a": "all", "--all": "all", "-q": "quiet", "--quiet": "quiet", "--no-trunc": "no_trunc",
         "-f=": "filter*", "--filter=": "filter*", "--format=": "format"}


def matches(record: dict, filters: list[str]) -> bool:
    from nsbox.errors import ConfigError
    for item in filters:
        key, _, value = item.partition("=")
        state = record["State"]
        if key == "name":
            ok = value in (record.get("Name") or "")
        elif key == "id":
            ok = record["Id"].startswith(value)
        elif key == "status":
            ok = state.get("Status") == value
        elif key == "exited":
            ok = state.get("Status") == "exited" and str(state.get("ExitCode")) == value
        elif key == "label":
            name, has_value, wanted = value.partition("=")
            labels = (record.get("Config") or {}).get("Labels") or {}
            ok = name in labels and (not has_value or labels[name] == wanted)
        else:
            raise ConfigError("--filter", f"unknown filter {key!r}: use name, id, status, exited or label")
        if not ok:
            return False
    return True


def main(argv: list[str], root: str) -> int:
    from nsbox.flags import parse
    from nsbox.cli.show import command_text, short, status_text, table
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError
    options, rest = parse(argv, FLAGS, USAGE, stop_at_positional=False)
    if rest:
        raise ConfigError(rest[0], f"ps takes no arguments\n{USAGE}")
    filters = options.get("filter") or []
    records = [r for r in Engine(root).list(include_stopped=bool(options.get("all") or filters))
               if matches(r, filters)]  # type: ignore[arg-type]
    full = bool(options.get("no_trunc"))
    if options.get("quiet"):
        sys.stdout.write("".join(short(r["Id"], full) + "\n" for r in records))
        return 0
    fmt = options.get("format") or "table"
    if fmt == "json":
        import json
        for r in records:
            sys.stdout.write(json.dumps({"ID": short(r["Id"], full), "Names": r.get("Name") or "",
                                         "Image": (r.get("Config") or {}).get("Image") or r.get("Rootfs") or "",
                                         "Command": command_text(r), "CreatedAt": r.get("Created") or "",
                                         "State": r["State"]["Status"], "Status": status_text(r),
                                         "Pid": r["State"].get("Pid") or 0,
                                         "Labels": (r.get("Config") or {}).get("Labels") or {}}) + "\n")
        return 0
    if fmt != "table":
        raise ConfigError("--format", f"must be table or json, got {fmt!r}")
    from nsbox.cli.show import ago
    rows = []
    for r in records:
        command = command_text(r)
        if not full and len(command) > 20:
            command = command[:19] + "…"
        image = (r.get("Config") or {}).get("Image") or r.get("Rootfs") or ""
        rows.append([short(r["Id"], full), image, f'"{command}"',
                     f"{ago(r['Created'])} ago" if r.get("Created") else "", status_text(r), r.get("Name") or ""])
    sys.stdout.write(table(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES"], rows))
    return 0
