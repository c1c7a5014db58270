"""`nsbox-runtime exec`: its flags and usage (COMMAND: its --help too) and the call it makes."""
from __future__ import annotations

from nsbox.flags import Command, flag
from nsbox.runtime.cli import Context, UsageError

COMMAND = Command("nsbox-runtime exec [OPTIONS] ID [COMMAND ARGS...]\nnsbox-runtime exec --process FILE ID",
                  "Run a new process inside a running container.",
                  flag("-p --process FILE", "the process, as OCI process JSON"),
                  flag("-t --tty", "a pseudo-terminal (its master goes to --console-socket)"),
                  flag("--console-socket SOCKET", "where to send the pty master"),
                  flag("-d --detach", "do not wait for the process"),
                  flag("--pid-file FILE", "write the process's host PID to FILE"),
                  flag("--cwd DIR", "its working directory"),
                  flag("-e --env NAME=VALUE...", "an environment variable"),
                  flag("-u --user UID[:GID]", "the user (and group) it runs as"),
                  flag("-g --additional-gids GID...", "a supplementary group", key="gids"),
                  flag("-c --cap CAP...", "a capability"),
                  flag("--no-new-privs", "set no_new_privs"),
                  flag("--preserve-fds N", "pass N descriptors beyond stdio (3 onwards)"),
                  notes="Without --process the container's own process (env, user, capabilities) is the base.")


def build_process(options: dict, args: list[str], base: dict) -> dict:
    process = dict(base)
    process["args"] = args
    process["terminal"] = bool(options.get("tty"))
    if "cwd" in options:
        process["cwd"] = options["cwd"]
    process["env"] = list(process.get("env", [])) + list(options.get("env", []))
    user = dict(process.get("user", {}))
    if "user" in options:
        uid, _, gid = str(options["user"]).partition(":")
        try:
            user["uid"] = int(uid)
            user["gid"] = int(gid) if gid else user.get("gid", 0)
        except ValueError:
            raise UsageError(f"--user must be UID[:GID] as numbers, not {options['user']!r}") from None
    if "gids" in options:
        user["additionalGids"] = [int(g) for g in options["gids"]]
    process["user"] = user
    if "cap" in options:
        caps = {name: list(values) for name, values in (process.get("capabilities") or {}).items()}
        for cap in options["cap"]:
            for name in ("bounding", "effective", "permitted", "inheritable", "ambient"):
                if cap not in caps.setdefault(name, []):
                    caps[name].append(cap)
        process["capabilities"] = caps
    if options.get("no_new_privs"):
        process["noNewPrivileges"] = True
    return process


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    from nsbox.runtime.wait import wait_exit
    from nsbox.runtime.exec_process import base_process, exec_process
    if not positionals:
        raise UsageError("exec takes a container id, then the command (or --process FILE)")
    container_id, args = positionals[0], positionals[1:]
    if "process" in options:
        from nsbox.oci import jsonio
        with open(str(options["process"]), "rb") as f:
            process = jsonio.loads(f.read())
        if not isinstance(process, dict):
            raise UsageError(f"--process {options['process']}: must hold an OCI process object")
    elif args:
        process = build_process(options, args, base_process(ctx.root, container_id))
    else:
        raise UsageError("exec needs a command to run (or --process FILE)")
    receiver = None
    if process.get("terminal") and "console_socket" not in options and not options.get("detach"):
        import os

        from nsbox.runtime.terminal import ConsoleReceiver
        receiver = ConsoleReceiver(os.path.join(ctx.root, container_id))
        options["console_socket"] = receiver.path
    forwarder = None
    if not options.get("detach") and receiver is None:
        from nsbox.runtime.commands.run import SignalForwarder
        forwarder = SignalForwarder()
    try:
        pid = exec_process(ctx.root, container_id, process, console_socket=options.get("console_socket"),
                           pid_file=options.get("pid_file"), preserve_fds=int(options.get("preserve_fds", 0)))
        master = receiver.master() if receiver is not None else None
    finally:
        if receiver is not None:
            receiver.close()
    if options.get("detach"):
        return 0
    if master is not None:
        from nsbox.runtime.terminal import proxy
        return proxy(master, pid)
    forwarder.target(pid)  # type: ignore[union-attr]
    return wait_exit(pid)
