"""`nsbox-runtime`: the OCI runtime command line, with runc's commands and flags.

Global flags, then a command; each command is a module in nsbox.runtime.commands with
COMMAND (its usage and flags, an nsbox.flags.Command: flags end at the first positional argument,
as in runc) and `run(options, positionals, ctx) -> int`, imported only when named.
"""
from __future__ import annotations

import os
import sys

from nsbox.errors import NsboxError, UsageError
from nsbox.flags import Command, flag, parse

COMMANDS = ("create", "start", "run", "state", "kill", "delete", "list", "ps", "exec", "pause", "resume",
            "update", "events", "features", "spec")

GLOBAL = Command(
    "nsbox-runtime [OPTIONS] COMMAND [ARGS...]", "The OCI runtime: runc's commands and flags.",
    flag("--root DIR", "where containers' state lives (default /run/nsbox-runtime)"),
    flag("--log FILE", "write errors (and warnings) there too (containerd reads it)"),
    flag("--log-format text|json", "the log's format (default text)"),
    flag("--debug", "a traceback with each error"),
    flag("--systemd-cgroup", "refused: no systemd cgroup driver yet"),
    flag("--rootless VALUE", "accepted for runc compatibility"),
    flag("--criu PATH", "accepted for runc compatibility"),
    flag("-v --version", "print the version"),
    notes="""commands:
  create    create a container from an OCI bundle (it waits for start)
  start     run the program of a created container
  run       create and start a container (waits for it unless --detach)
  state     print a container's state as JSON
  kill      send a signal to a container's init (or --all its processes)
  delete    delete a container (--force: even a running one)
  list      list containers
  ps        list the host PIDs of a container's processes
  exec      run a new process inside a running container
  pause     freeze every process of a container
  resume    thaw a paused container
  update    change a running container's resource limits
  events    print a container's stats and OOM events
  features  print what this runtime supports, as JSON
  spec      write a default config.json
(nsbox-runtime COMMAND --help for a command's flags)""")


class Context:
    """What every command gets: the state root and the logging choices."""

    __slots__ = ("root", "log", "log_format", "debug", "command")

    def __init__(self, root: str, log: str | None, log_format: str, debug: bool) -> None:
        self.root = root
        self.log = log
        self.log_format = log_format
        self.debug = debug
        self.command = ""

    def load(self, container_id: str):  # -> ContainerRecord
        from nsbox.runtime.state import load
        return load(self.root, container_id)

    def report(self, level: str, message: str) -> None:
        """Write a message to stderr and, with --log, to the log file (containerd reads it)."""
        if level == "error" or not self.log:  # with --log, warnings go there only (see runtime.notices)
            sys.stderr.write(f"nsbox-runtime: {message}\n" if level == "error" else f"nsbox-runtime: {level}: {message}\n")
        if not self.log:
            return
        if level == "error" and self.command:
            # runc's shape ("runc create failed: ..."): containerd's shim passes the last
            # error line of the log on to its caller, so it names the runtime and the step.
            message = f"nsbox-runtime {self.command} failed: {message}"
        from nsbox.oci import jsonio
        from nsbox.oci.timestamps import rfc3339_now
        if self.log_format == "json":
            line = jsonio.dumps({"level": level, "msg": message, "time": rfc3339_now()})
        else:  # logrus's text format, as runc writes it: a quoted value escapes its quotes
            line = f'time="{rfc3339_now()}" level={level} msg={jsonio.dumps(message)}'
        try:
            with open(self.log, "a") as log:
                log.write(line + "\n")
        except OSError:
            pass


def one_id(positionals: list[str], command: str) -> str:
    if len(positionals) != 1:
        raise UsageError(f"{command} takes exactly one container id (got {len(positionals)} arguments)")
    return positionals[0]


def main(argv: list[str] | None = None) -> int:
    """The command line's entry: run the command, then, as a process of its own (no argv
    given), end without the interpreter's teardown (linux.quick_exit)."""
    if argv is None:
        from nsbox.linux import collector
        collector.pause()  # (events, the one command that lives on allocating, resumes it)
    code = run_command(sys.argv[1:] if argv is None else argv)
    if argv is None:
        from nsbox.linux.quick_exit import exit_now
        exit_now(code)
    return code


def run_command(args: list[str]) -> int:
    ctx = Context(os.environ.get("NSBOX_RUNTIME_ROOT", "/run/nsbox-runtime"), None, "text", False)
    rest: list[str] = []
    try:
        options, rest = parse(args, GLOBAL)
        ctx.root = str(options.get("root", ctx.root))
        ctx.log = options.get("log")
        ctx.log_format = str(options.get("log_format", "text"))
        ctx.debug = bool(options.get("debug"))
        if ctx.log_format not in ("text", "json"):
            raise UsageError(f"--log-format must be text or json, not {ctx.log_format!r}")
        if ctx.log:
            from nsbox.runtime import notices
            notices.send_to(lambda message: ctx.report("warning", message))
        if options.get("version"):
            from nsbox.runtime.commands.features import version_text
            sys.stdout.write(version_text())
            return 0
        if not rest:
            sys.stderr.write(GLOBAL.help() + "\n")
            return 1
        if options.get("systemd_cgroup"):
            raise UsageError("--systemd-cgroup: nsbox-runtime has no systemd cgroup driver yet; "
                             "use cgroupfs paths (drop the flag)")
        command = ctx.command = rest[0]
        if command not in COMMANDS:
            raise UsageError(f"unknown command {command!r}; commands: {', '.join(COMMANDS)}")
        module = __import__(f"nsbox.runtime.commands.{command}", fromlist=["run"])
        command_options, positionals = parse(rest[1:], module.COMMAND)
        return module.run(command_options, positionals, ctx)
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        return report_error(error, ctx, rest[0] if rest else "")


def report_error(error: BaseException, ctx: Context, command: str) -> int:
    """One line on stderr and in --log (the traceback first with --debug); 125 unless the
    error carries its own code."""
    from nsbox.errors import user_message
    if ctx.debug:
        import traceback
        traceback.print_exception(error)
    message = user_message(error)
    if isinstance(error, UsageError):
        message += f" (see 'nsbox-runtime {command} --help')" if command in COMMANDS else " (see 'nsbox-runtime --help')"
    ctx.report("error", message)
    return error.exit_code if isinstance(error, NsboxError) else 125


if __name__ == "__main__":
    sys.exit(main())
