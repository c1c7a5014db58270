"""nsbox stop: send the stop signal, then SIGKILL after -t seconds."""
from __future__ import annotations


def main(argv: list[str], root: str) -> int:
    from nsbox.cli.each_container import TIME, for_each_container, stop_timeout
    from nsbox.flags import Command, flag
    command = Command("nsbox stop [OPTIONS] CONTAINER [CONTAINER...]", "Stop containers: the stop signal, then SIGKILL.",
                      flag(TIME[0].replace("--time", "--time --timeout"), TIME[1]))
    return for_each_container(argv, root, command, "stop", arguments=stop_timeout)
