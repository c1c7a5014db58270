"""nsbox top: a container's processes with their host PID and their PID inside it; with ps
options after the container (`top web -o pid,comm`, `top web aux`), the host's ps output for
the container's processes only, as `docker top` gives it."""
from __future__ import annotations

import sys

from nsbox.flags import Command, parse

COMMAND = Command("nsbox top CONTAINER [ps OPTIONS]", "A container's processes (with ps options: the host's ps "
                  "output for them only).")


def main(argv: list[str], root: str) -> int:
    from nsbox.cli.formatting import table
    from nsbox.engine.containers import Engine
    from nsbox.engine.checked_state import running_record
    from nsbox.engine.top import processes
    from nsbox.errors import ConfigError
    _, names = parse(argv, COMMAND)
    if not names:
        raise ConfigError("CONTAINER", f"name one container\n{COMMAND.usage}")
    engine = Engine(root)
    found = processes(engine, running_record(engine, names[0]))
    if len(names) > 1:
        sys.stdout.write(ps_output(names[1:], {p["PID"] for p in found}))
        return 0
    rows = [[p["User"], str(p["PID"]), str(p["NSPID"]), str(p["PPID"]), p["Command"]] for p in found]
    sys.stdout.write(table(["UID", "PID", "CONTAINER PID", "PPID", "CMD"], rows))
    return 0


def ps_output(options: list[str], pids: set[int]) -> str:
    """The host's `ps OPTIONS`, its heading and the lines of `pids` (found by its PID column)."""
    import subprocess

    from nsbox.errors import ConfigError
    result = subprocess.run(["ps", *options], capture_output=True, text=True)
    if result.returncode != 0:
        raise ConfigError("ps OPTIONS", f"ps {' '.join(options)} failed: {result.stderr.strip()}")
    lines = result.stdout.splitlines()
    heading = lines[0].split() if lines else []
    if "PID" not in heading:
        raise ConfigError("ps OPTIONS", "Couldn't find PID field in ps output: give ps options that show it "
                                        "(e.g. -o pid,comm)")
    column = heading.index("PID")
    kept = [line for line in lines[1:] if len(line.split()) > column and line.split()[column].isdigit()
            and int(line.split()[column]) in pids]
    return "\n".join([lines[0]] + kept) + "\n"
