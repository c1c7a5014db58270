"""nsbox exec: run a command in a running container (all its namespaces and its cgroup)."""
from __future__ import annotations

USAGE = """usage: nsbox exec [-i] [-t] [-d] [--detach-keys KEYS] [-e NAME=VALUE] [-u USER] [-w DIR] CONTAINER COMMAND [ARG...]"""
FLAGS = {"-i": "interactive", "--interactive": "interactive", "-t": "tty", "--tty": "tty", "-d": "detach",
         "--detach": "detach", "-e=": "env*", "--env=": "env*", "-u=": "user", "--user=": "user",
         "-w=": "workdir", "--workdir=": "workdir", "--detach-keys=": "detach_keys"}


def main(argv: list[str], root: str) -> int:
    from nsbox.flags import parse
    from nsbox.engine.containers import Engine
    from nsbox.engine.execs import run_exec
    from nsbox.errors import ConfigError
    options, positional = parse(argv, FLAGS, USAGE)
    if len(positional) < 2:
        raise ConfigError("COMMAND", f"name the container and the command to run in it\n{USAGE}")
    workdir = options.get("workdir") or ""
    if workdir and not workdir.startswith("/"):
        raise ConfigError("--workdir", f"must be an absolute path inside the container, got {workdir!r}")
    keys = b""
    if options.get("tty") and options.get("interactive"):
        from nsbox.engine.attach_server import DEFAULT_DETACH_KEYS, parse_detach_keys
        given = options.get("detach_keys")
        keys = parse_detach_keys(DEFAULT_DETACH_KEYS if given is None else given)
    return run_exec(Engine(root), positional[0], positional[1:], options.get("env") or [],
                    options.get("user") or "", workdir, bool(options.get("interactive")),
                    bool(options.get("tty")), bool(options.get("detach")), keys)
