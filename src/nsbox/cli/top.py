"""nsbox top: a container's processes with their host PID and their PID inside it."""
from __future__ import annotations

import sys

USAGE = "usage: nsbox top CONTAINER"


def main(argv: list[str], root: str) -> int:
    from nsbox.flags import parse
    from nsbox.cli.formatting import table
    from nsbox.engine.containers import Engine
    from nsbox.engine.checked_state import running_record
    from nsbox.engine.top import processes
    from nsbox.errors import ConfigError
    _, names = parse(argv, {}, USAGE, stop_at_positional=False)
    if len(names) != 1:
        raise ConfigError("CONTAINER", f"name one container\n{USAGE}")
    engine = Engine(root)
    rows = [[p["User"], str(p["PID"]), str(p["NSPID"]), str(p["PPID"]), p["Command"]]
            for p in processes(engine, running_record(engine, names[0]))]
    sys.stdout.write(table(["UID", "PID", "CONTAINER PID", "PPID", "CMD"], rows))
    return 0
