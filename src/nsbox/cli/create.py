"""nsbox create: record a container from an image and options without starting it."""
from __future__ import annotations


def main(argv: list[str], root: str) -> int:
    from nsbox.cli.run_flags import RUN_FLAGS, RUN_USAGE, run_options
    from nsbox.engine.containers import Engine
    from nsbox.flags import Command
    create = Command(RUN_USAGE.replace("nsbox run", "nsbox create"), "Create a new container (start it with start).",
                     *RUN_FLAGS)
    options = run_options(argv, create)
    if options.get("explain"):
        from nsbox.cli.explain import show_plan
        return show_plan(Engine(root), options)
    from nsbox.cli.pull import create_pulling
    record = create_pulling(Engine(root), options)
    print(record["Id"])
    return 0
