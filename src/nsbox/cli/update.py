"""nsbox update: change the resource limits of containers (running ones at once), --network-rate too."""
from __future__ import annotations

USAGE = """usage: nsbox update [OPTIONS] CONTAINER [CONTAINER...]
  -m, --memory SIZE  --memory-swap SIZE|-1  --memory-reservation SIZE  --cpus N  --cpu-shares N
  --cpuset-cpus LIST  --cpuset-mems LIST  --pids-limit N  --blkio-weight N  --restart POLICY
  --network-rate RATE (e.g. 10mbit; 0 removes the cap)"""
FLAGS = {"-m=": "memory", "--memory=": "memory", "--memory-swap=": "memory_swap",
         "--memory-reservation=": "memory_reservation", "--cpus=": "cpus", "-c=": "cpu_shares",
         "--cpu-shares=": "cpu_shares", "--cpuset-cpus=": "cpuset_cpus", "--cpuset-mems=": "cpuset_mems",
         "--pids-limit=": "pids_limit", "--blkio-weight=": "blkio_weight", "--restart=": "restart",
         "--network-rate=": "network_rate"}


def main(argv: list[str], root: str) -> int:
    from nsbox.flags import parse
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError
    options, names = parse(argv, FLAGS, USAGE, stop_at_positional=False)
    if not names:
        raise ConfigError("CONTAINER", f"name at least one container\n{USAGE}")
    if not options:
        raise ConfigError("OPTIONS", f"give at least one limit to change\n{USAGE}")
    engine = Engine(root)
    for name in names:
        engine.update(name, options)
        print(name)
    return 0
