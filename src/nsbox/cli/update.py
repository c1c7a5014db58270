"""nsbox update: change the resource limits of containers (running ones at once), --network-rate too."""
from __future__ import annotations

from nsbox.cli.run_flags import RUN_FLAGS
from nsbox.flags import Command, flag, parse

UPDATED = ("memory", "memory_swap", "memory_reservation", "cpus", "cpu_shares", "cpuset_cpus", "cpuset_mems",
           "pids_limit", "blkio_weight", "restart")
COMMAND = Command("nsbox update [OPTIONS] CONTAINER [CONTAINER...]", "Change containers' resource limits "
                  "(running ones at once).", *(declared for declared in RUN_FLAGS if declared.key in UPDATED),
                  flag("--network-rate RATE", "bandwidth limit, both ways (e.g. 10mbit; 0 removes the cap)"))


def main(argv: list[str], root: str) -> int:
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError
    options, names = parse(argv, COMMAND, stop_at_positional=False)
    if not names:
        raise ConfigError("CONTAINER", f"name at least one container\n{COMMAND.usage}")
    if not options:
        raise ConfigError("OPTIONS", f"give at least one limit to change\n{COMMAND.usage}")
    engine = Engine(root)
    for name in names:
        engine.update(name, options)
        print(name)
    return 0
