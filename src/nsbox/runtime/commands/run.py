"""`nsbox-runtime run`: its flags and usage (COMMAND: its --help too) and the call it makes."""
from __future__ import annotations

from nsbox.flags import Command, flag
from nsbox.runtime.cli import Context
from nsbox.runtime.commands.create import CREATE_FLAGS
from nsbox.runtime.commands.create import create_from

COMMAND = Command("nsbox-runtime run [OPTIONS] ID", "Create and start a container: without --detach, wait for "
                  "it, forward signals to it, delete it afterwards (unless --keep) and exit with its exit code.",
                  *CREATE_FLAGS, flag("-d --detach", "return once it has started"),
                  flag("--keep", "do not delete it when it ends"))


FORWARDED = (1, 2, 3, 10, 12, 14, 15, 20, 21, 22, 28)  # HUP INT QUIT USR1 USR2 ALRM TERM TSTP TTIN TTOU WINCH


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    import os

    from nsbox.runtime.bundle import load_spec
    from nsbox.runtime.delete import delete
    from nsbox.runtime.start import start
    from nsbox.runtime.wait import wait_exit
    spec = load_spec(os.path.abspath(str(options.get("bundle", "."))))
    receiver = None
    terminal = spec.process is not None and spec.process.terminal
    if terminal and not options.get("detach") and "console_socket" not in options:
        from nsbox.runtime.terminal import ConsoleReceiver
        os.makedirs(ctx.root, mode=0o700, exist_ok=True)
        receiver = ConsoleReceiver(ctx.root)
        options["console_socket"] = receiver.path
    forwarder = None if options.get("detach") or receiver is not None else SignalForwarder()
    try:
        container_id, pid = create_from(options, positionals, ctx, "run", spec)
        master = receiver.master() if receiver is not None else None
    finally:
        if receiver is not None:
            receiver.close()
    try:
        start(ctx.root, container_id)
    except BaseException:
        delete(ctx.root, container_id, force=True)
        raise
    if options.get("detach"):
        return 0
    if master is not None:
        from nsbox.runtime.terminal import proxy
        try:
            return proxy(master, pid)
        finally:
            if not options.get("keep"):
                delete(ctx.root, container_id, force=True)
    assert forwarder is not None  # made above for a foreground run without a terminal
    forwarder.target(pid)
    try:
        code = wait_exit(pid)
    finally:
        if not options.get("keep"):
            delete(ctx.root, container_id, force=True)
    return code


class SignalForwarder:
    """Passes the signals a shell user sends (^C, kill, hang-up) on to the container's process.

    Installed before the process exists, so that nothing sent in between is lost: signals
    that arrive before `target()` wait and are delivered then."""

    def __init__(self) -> None:
        import _signal  # the signal module's C core: `signal` itself imports enum (~5 ms here)
        self.pid = 0
        self.pending: list[int] = []
        for number in FORWARDED:
            _signal.signal(number, self._received)

    def _received(self, number: int, _frame: object) -> None:
        if self.pid:
            self._send(number)
        else:
            self.pending.append(number)

    def target(self, pid: int) -> None:
        self.pid = pid
        while self.pending:
            self._send(self.pending.pop(0))

    def _send(self, number: int) -> None:
        import os
        try:
            os.kill(self.pid, number)
        except ProcessLookupError:
            pass
