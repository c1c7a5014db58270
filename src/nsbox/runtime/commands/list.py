"""`nsbox-runtime list`: its flags and usage (COMMAND: its --help too) and the call it makes."""
from __future__ import annotations

import sys

from nsbox.flags import Command, flag
from nsbox.runtime.cli import Context, UsageError

COMMAND = Command("nsbox-runtime list [OPTIONS]", "List containers.",
                  flag("-f --format table|json", "the output's form (default table)"),
                  flag("-q --quiet", "only their IDs"))


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    from nsbox.errors import DamagedRecord, NotFound
    from nsbox.runtime.state import list_ids, load
    output_format = options.get("format", "table")
    if output_format not in ("table", "json"):
        raise UsageError(f"--format must be table or json, not {output_format!r}")
    rows: list[dict] = []
    for container_id in list_ids(ctx.root):
        try:
            record = load(ctx.root, container_id)
        except NotFound:
            continue
        except DamagedRecord as damage:  # shown as such; the others are listed as usual
            rows.append({"ociVersion": "1.1.0", "id": container_id, "pid": 0, "status": "damaged",
                         "bundle": "", "rootfs": "", "created": "", "owner": "", "annotations": {},
                         "damaged": damage.path})
            continue
        status = record.status()
        rows.append({"ociVersion": "1.1.0", "id": container_id, "pid": record.pid if status != "stopped" else 0,
                     "status": status, "bundle": record.bundle, "rootfs": record.data.get("rootfs", ""),
                     "created": record.data.get("created", ""), "owner": record.data.get("owner", ""),
                     "annotations": record.annotations})
    if options.get("quiet"):
        sys.stdout.write("".join(row["id"] + "\n" for row in rows))
    elif output_format == "json":
        import json
        sys.stdout.write(json.dumps(rows) + "\n")
    else:
        lines = [("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER")]
        lines += [(r["id"], str(r["pid"]), r["status"], r["bundle"], r["created"], r["owner"] or "root") for r in rows]
        widths = [max(len(line[i]) for line in lines) for i in range(6)]
        for line in lines:
            sys.stdout.write("   ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() + "\n")
    return 0
