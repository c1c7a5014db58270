"""The `nsbox` command: a thin edge that finds the command's module and runs it.

Each command lives in its own module under nsbox.cli and is imported only when named,
so that `nsbox run` pays for nothing that `nsbox pull` needs.
Every command module has `main(argv: list[str], root: str) -> int`.
"""
from __future__ import annotations

import os
import sys

from nsbox.engine.paths import default_root
from nsbox.errors import NsboxError
from nsbox.flags import Command, flag, parse
from nsbox.linux.quick_exit import exit_now

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
    "explain": "explain", "build": "build", "builder": "builder", "serve": "serve",
    "system": "system", "network": "network", "port": "port", "container": "container", "volume": "volume", "history": "history",
    "events": "events", "attach": "attach", "diff": "diff", "commit": "commit",
}

GLOBAL = Command("nsbox [OPTIONS] COMMAND [ARGS...]", "Linux containers, with no daemon.",
                 flag("--root DIR", "where images, containers and their state live (default /var/lib/nsbox; "
                                    "NSBOX_ROOT)"),
                 flag("--debug", "a traceback with each error"),
                 flag("-v --version", "print the version"),
                 notes="commands: " + ", ".join(sorted(COMMANDS)) + "\n(nsbox COMMAND --help for a command's flags)")

# commands whose every failure is nsbox's own around starting a container: Docker exits
# 125 for them (126/127 when the program cannot run), whatever the error
STARTING = ("run", "create")
# commands on the start-up path that end with exit_now (as the program; not when called with argv)
QUICK_EXIT = ("run", "create", "start", "rm", "ps")


def main(argv: list[str] | None = None) -> int:
    try:
        options, args = parse(sys.argv[1:] if argv is None else argv, GLOBAL)
    except NsboxError as error:  # an unknown flag, --debug=maybe
        sys.stderr.write(f"nsbox: {error}\nSee 'nsbox --help'.\n")
        return 125
    if options.get("version"):
        from nsbox.cli.version import one_line
        sys.stdout.write(one_line() + "\n")
        return 0
    root, debug = options.get("root") or default_root(), bool(options.get("debug"))
    if not args:
        sys.stderr.write(GLOBAL.help() + "\n")
        return 125
    name = args[0]
    if name not in COMMANDS:
        sys.stderr.write(f"nsbox: unknown command {name!r}\nSee 'nsbox --help'.\n")
        return 125
    if argv is None and name in QUICK_EXIT:
        from nsbox.linux import collector
        collector.pause()  # (a foreground run, an attach or a pull resumes it)
    try:
        module = __import__(f"nsbox.cli.{COMMANDS[name]}", fromlist=["main"])
        code = module.main(args[1:], root)
    except KeyboardInterrupt:
        code = 130
    except Exception as error:
        code = report_error(error, name, debug)
    if argv is None and name in QUICK_EXIT:
        exit_now(code)
    return code


def report_error(error: BaseException, command: str, debug: bool) -> int:
    """Print one line for `error` (the traceback first with --debug); the exit code, as Docker's."""
    from nsbox.errors import ContainerStartError, NsboxError, UsageError, user_message
    if debug:
        import traceback
        traceback.print_exception(error)
    if isinstance(error, BrokenPipeError):  # `nsbox ps | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # (so that the exit's flush does not fail again)
        return 141
    lines = user_message(error).split("\n")
    message = lines[0]
    if isinstance(error, UsageError) or any(line.startswith("usage:") for line in lines[1:]):
        message += f"\nSee 'nsbox {command} --help'."
    else:
        message = "\n".join(lines)
    sys.stderr.write(f"nsbox: {message}\n")
    if command in STARTING and not isinstance(error, ContainerStartError):
        return 125
    return error.exit_code if isinstance(error, NsboxError) else 125


if __name__ == "__main__":
    sys.exit(main())
