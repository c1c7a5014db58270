"""nsbox wait: block until containers stop; print their exit codes."""
from __future__ import annotations


def main(argv: list[str], root: str) -> int:
    from nsbox.cli.each_container import for_each_container
    from nsbox.flags import Command
    return for_each_container(argv, root, Command("nsbox wait CONTAINER [CONTAINER...]", "Wait until containers stop; print their exit codes."), "wait", show_result=True)
