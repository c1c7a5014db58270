"""nsbox unpause: let the frozen processes of containers run again."""
from __future__ import annotations


def main(argv: list[str], root: str) -> int:
    from nsbox.cli.each_container import for_each_container
    from nsbox.flags import Command
    return for_each_container(argv, root, Command("nsbox unpause CONTAINER [CONTAINER...]", "Let paused containers run again."), "unpause")
