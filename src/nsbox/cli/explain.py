"""nsbox explain: the kernel's view of a running container beside the host's, with the
commands that would do the same by hand; --host for what this host offers."""
from __future__ import annotations

import sys

USAGE = """usage: nsbox explain [--format json] CONTAINER
       nsbox explain --host [--format json]"""
FLAGS = {"--format=": "format", "--host": "host"}


def main(argv: list[str], root: str) -> int:
    from nsbox.errors import ConfigError
    from nsbox.flags import parse
    values, names = parse(argv, FLAGS, USAGE, stop_at_positional=False)
    output = values.get("format") or "text"
    if output not in ("text", "json"):
        raise ConfigError("--format", f"{output!r}: use json, or leave it out for text")
    if values.get("host"):
        if names:
            raise ConfigError("--host", f"takes no container\n{USAGE}")
        from nsbox.explain.host import host_report
        report = host_report(root)
    else:
        if len(names) != 1:
            raise ConfigError("CONTAINER", f"name one running container\n{USAGE}")
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
