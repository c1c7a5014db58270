"""nsbox pause: freeze every process of containers (the cgroup freezer)."""
from __future__ import annotations


def main(argv: list[str], root: str) -> int:
    from nsbox.cli.each_container import for_each_container
    from nsbox.flags import Command
    return for_each_container(argv, root, Command("nsbox pause CONTAINER [CONTAINER...]", "Freeze every process of containers."), "pause")
