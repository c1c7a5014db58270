"""nsbox exec: run a command in a running container (all its namespaces and its cgroup)."""
from __future__ import annotations

from nsbox.cli.attach import DETACH_KEYS
from nsbox.flags import Command, flag, parse

COMMAND = Command("nsbox exec [OPTIONS] CONTAINER COMMAND [ARG...]", "Run a command in a running container.",
                  flag("-i --interactive", "keep stdin open"),
                  flag("-t --tty", "allocate a pseudo-terminal"),
                  flag("-d --detach", "run it in the background"),
                  DETACH_KEYS,
                  flag("-e --env NAME=VALUE...", "set an environment variable"),
                  flag("-u --user UID[:GID]|NAME[:GROUP]", "the user (and group) to run as"),
                  flag("-w --workdir DIR", "the working directory inside"))


def main(argv: list[str], root: str) -> int:
    from nsbox.engine.containers import Engine
    from nsbox.engine.execs import run_exec
    from nsbox.errors import ConfigError
    options, positional = parse(argv, COMMAND)
    if len(positional) < 2:
        raise ConfigError("COMMAND", f"name the container and the command to run in it\n{COMMAND.usage}")
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
