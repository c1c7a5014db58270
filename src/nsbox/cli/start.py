"""nsbox start: start created or stopped containers, each under a new monitor."""
from __future__ import annotations


def main(argv: list[str], root: str) -> int:
    from nsbox.cli.each_container import for_each_container
    return for_each_container(argv, root, "start", "start")
