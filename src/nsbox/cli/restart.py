"""nsbox restart: stop (signal, then SIGKILL after -t) and start again."""
from __future__ import annotations


def main(argv: list[str], root: str) -> int:
    from nsbox.cli.each_container import for_each_container, stop_timeout
    return for_each_container(argv, root, "restart", "restart", flags={"-t=": "time", "--time=": "time"},
                              flag_usage="[-t SECONDS] ", arguments=stop_timeout)
