"""`nsbox-runtime ps`: its flags and usage (COMMAND: its --help too) and the call it makes."""
from __future__ import annotations

import sys

from nsbox.flags import Command, flag
from nsbox.runtime.cli import Context, UsageError

COMMAND = Command("nsbox-runtime ps [OPTIONS] ID [ps options]", "The processes in a container.",
                  flag("-f --format table|json", "json: the host PIDs of every process in the container's cgroup; "
                                                 "table (the default): `ps` (default options -ef) limited to them"))


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    if not positionals:
        raise UsageError("ps takes a container id")
    record = ctx.load(positionals[0])
    cgroup = record.cgroup
    pids = sorted(cgroup.pids()) if cgroup is not None else ([record.pid] if record.alive() else [])
    output_format = options.get("format", "table")
    if output_format == "json":
        import json
        sys.stdout.write(json.dumps(pids) + "\n")
        return 0
    if output_format != "table":
        raise UsageError(f"--format must be table or json, not {output_format!r}")
    import subprocess
    ps_args = positionals[1:] or ["-ef"]
    lines = subprocess.run(["ps", *ps_args], capture_output=True, text=True, check=True).stdout.splitlines()
    header = lines[0].split()
    if "PID" not in header:
        raise UsageError(f"the ps options {' '.join(ps_args)} do not show a PID column")
    column = header.index("PID")
    wanted = {str(pid) for pid in pids}
    sys.stdout.write(lines[0] + "\n")
    for line in lines[1:]:
        fields = line.split()
        if len(fields) > column and fields[column] in wanted:
            sys.stdout.write(line + "\n")
    return 0
