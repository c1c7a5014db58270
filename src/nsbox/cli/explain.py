"""nsbox explain: the kernel's view of a running container beside the host's, with the
commands that would do the same by hand; --host for what this host offers."""
from __future__ import annotations

import sys

from nsbox.flags import Command, flag, parse

COMMAND = Command("nsbox explain [--format json] CONTAINER\nnsbox explain --host [--format json]",
                  "The kernel's view of a running container beside the host's, with the commands that do the same.",
                  flag("--format json", "JSON instead of text"),
                  flag("--host", "what this host offers (namespaces, cgroups, runtimes), not a container"))


def main(argv: list[str], root: str) -> int:
    from nsbox.errors import ConfigError
    values, names = parse(argv, COMMAND, stop_at_positional=False)
    output = values.get("format") or "text"
    if output not in ("text", "json"):
        raise ConfigError("--format", f"{output!r}: use json, or leave it out for text")
    if values.get("host"):
        if names:
            raise ConfigError("--host", f"takes no container\n{COMMAND.usage}")
        from nsbox.explain.host import host_report
        report = host_report(root)
    else:
        if len(names) != 1:
            raise ConfigError("CONTAINER", f"name one running container\n{COMMAND.usage}")
        from nsbox.engine.containers import Engine
        from nsbox.explain.container import explain_container
        report = explain_container(Engine(root), names[0])
    show(report, output)
    return 0


def show(report: dict, output: str) -> None:
    """Print a container, plan or host report as JSON or as text (colour on a terminal)."""
    if output == "json":
        from nsbox.cli.formatting import print_json
        print_json(report)
        return
    if "checks" in report:
        from nsbox.cli.explain_text import render_host
        sys.stdout.write(render_host(report, sys.stdout.isatty()))
    else:
        from nsbox.cli.explain_text import render
        sys.stdout.write(render(report, sys.stdout.isatty()))


def show_plan(engine, options: dict) -> int:
    """`run --explain` / `create --explain`: the plan as text; nothing is created."""
    from nsbox.explain.plan import plan_run
    show(plan_run(engine, options), "text")
    return 0
