"""nsbox container SUBCOMMAND: Docker's management-command form (`container ls`, `container rm`,
...), the same code as the top-level commands; and `container prune`."""
from __future__ import annotations

import sys

# subcommand -> the top-level command it is
SUBCOMMANDS = {"ls": "ps", "list": "ps", "ps": "ps", "rm": "rm", "remove": "rm", "run": "run", "create": "create",
               "start": "start", "stop": "stop", "restart": "restart", "kill": "kill", "inspect": "inspect",
               "logs": "logs", "exec": "exec", "top": "top", "stats": "stats", "cp": "cp", "export": "export",
               "wait": "wait", "pause": "pause", "unpause": "unpause", "rename": "rename", "update": "update",
               "attach": "attach", "diff": "diff", "commit": "commit", "port": "port"}
USAGE = "usage: nsbox container COMMAND [ARGS...]\n  commands: " + ", ".join(sorted(SUBCOMMANDS) + ["prune"])
PRUNE = ("nsbox container prune [OPTIONS]", "Remove every stopped container.")


def main(argv: list[str], root: str) -> int:
    from nsbox.cli.main import COMMANDS
    from nsbox.errors import ConfigError
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if not argv or argv[0] not in SUBCOMMANDS and argv[0] != "prune":
        raise ConfigError("COMMAND", f"unknown container command {argv[0] if argv else ''!r}\n{USAGE}")
    if argv[0] == "prune":
        from nsbox.engine.containers import Engine
        from nsbox.flags import Command, flag, parse
        parse(argv[1:], Command(*PRUNE, flag("-f --force", "do not ask (nsbox never asks)")), stop_at_positional=False)
        from nsbox.engine.disk_usage import prune_containers
        removed = prune_containers(Engine(root))
        sys.stdout.write("Deleted Containers:\n" + "".join(cid + "\n" for cid in removed) + "\n" if removed else "")
        sys.stdout.write("Total reclaimed space: 0B\n")
        return 0
    command = SUBCOMMANDS[argv[0]]
    rest = (["--type", "container"] if command == "inspect" else []) + argv[1:]
    if command not in COMMANDS:
        raise ConfigError("COMMAND", f"nsbox has no {command!r} command yet")
    module = __import__(f"nsbox.cli.{COMMANDS[command]}", fromlist=["main"])
    return module.main(rest, root)
