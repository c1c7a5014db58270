"""nsbox wait: block until containers stop; print their exit codes."""
from __future__ import annotations


def main(argv: list[str], root: str) -> int:
    from nsbox.cli.each_container import for_each_container
    return for_each_container(argv, root, "wait", "wait", show_result=True)
