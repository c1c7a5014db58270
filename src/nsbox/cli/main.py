"""The `nsbox` command: a thin edge that finds the command's module and runs it.

Each command lives in its own module under nsbox.cli and is imported only when named,
so that `nsbox run` pays for nothing that `nsbox pull` needs.
Every command module has `main(argv: list[str], root: str) -> int`.
"""
from __future__ import annotations

import os
import sys

DEFAULT_ROOT = "/var/lib/nsbox"

# command name -> module under nsbox.cli
COMMANDS: dict[str, str] = {
    # images
    "image": "image", "images": "images", "pull": "pull", "push": "push", "rmi": "rmi", "tag": "tag",
    "load": "load", "save": "save", "import": "import_", "login": "login", "logout": "logout",
    # containers
    "run": "run", "create": "create", "start": "start", "ps": "ps", "logs": "logs", "stop": "stop",
    "kill": "kill", "rm": "rm", "wait": "wait", "restart": "restart", "pause": "pause", "unpause": "unpause",
    "rename": "rename", "inspect": "inspect", "exec": "exec_", "top": "top", "stats": "stats",
    "update": "update", "cp": "cp", "export": "export", "info": "info", "version": "version",
    "system": "system",
}

USAGE = "usage: nsbox [--root DIR] [--debug] COMMAND [ARGS...]\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = os.environ.get("NSBOX_ROOT", DEFAULT_ROOT)
    debug = False
    while args and args[0].startswith("-"):
        flag = args.pop(0)
        if flag == "--root" and args:
            root = args.pop(0)
        elif flag.startswith("--root="):
            root = flag.split("=", 1)[1]
        elif flag == "--debug":
            debug = True
        elif flag in ("-h", "--help"):
            sys.stdout.write(USAGE + "commands: " + ", ".join(sorted(COMMANDS)) + "\n")
            return 0
        else:
            sys.stderr.write(f"nsbox: unknown global flag {flag}\n{USAGE}")
            return 125
    if not args:
        sys.stderr.write(USAGE + "commands: " + ", ".join(sorted(COMMANDS)) + "\n")
        return 125
    name = args[0]
    if name not in COMMANDS:
        sys.stderr.write(f"nsbox: unknown command {name!r}; commands: {', '.join(sorted(COMMANDS))}\n")
        return 125
    module = __import__(f"nsbox.cli.{COMMANDS[name]}", fromlist=["main"])
    from nsbox.errors import NsboxError
    try:
        return module.main(args[1:], root)
    except NsboxError as error:
        if debug:
            raise
        sys.stderr.write(f"nsbox: {error}\n")
        return error.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
