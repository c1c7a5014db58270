"""nsbox restart: stop (signal, then SIGKILL after -t) and start again."""
from __future__ import annotations


def main(argv: list[str], root: str) -> int:
    from nsbox.cli.each_container import TIME, for_each_container, stop_timeout
    from nsbox.flags import Command, flag
    command = Command("nsbox restart [OPTIONS] CONTAINER [CONTAINER...]", "Stop containers and start them again.",
                      flag(*TIME))
    return for_each_container(argv, root, command, "restart", arguments=stop_timeout)
