"""nsbox stop: send the stop signal, then SIGKILL after -t seconds."""
from __future__ import annotations


def main(argv: list[str], root: str) -> int:
    from nsbox.cli.each_container import for_each_container, stop_timeout
    flags = {"-t=": "time", "--time=": "time", "--timeout=": "time"}
    return for_each_container(argv, root, "stop", "stop", flags=flags, flag_usage="[-t SECONDS] ",
                              arguments=stop_timeout)
