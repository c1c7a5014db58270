"""`nsbox-runtime create`: its flags and usage (COMMAND: its --help too) and the call it makes."""
from __future__ import annotations

from nsbox.flags import Command, flag
from nsbox.runtime.cli import Context, one_id

CREATE_FLAGS = (
    flag("-b --bundle DIR", "the bundle (default: the current directory)"),
    flag("--pid-file FILE", "write the init's host PID to FILE"),
    flag("--console-socket SOCKET", "send the pty master there (process.terminal)"),
    flag("--no-pivot", "chroot into the root filesystem instead of pivot_root"),
    flag("--preserve-fds N", "pass N descriptors beyond stdio (3 onwards) to the container"),
    flag("--no-new-keyring", "keep the caller's session keyring"),
)
COMMAND = Command("nsbox-runtime create [OPTIONS] ID", "Create a container from an OCI bundle; its init waits "
                  "for start.", *CREATE_FLAGS)


def create_from(options: dict, positionals: list[str], ctx: Context, command: str,
                spec: object = None) -> tuple[str, int]:
    from nsbox.runtime.create import create
    from nsbox.runtime.cli import UsageError
    container_id = one_id(positionals, command)
    try:
        preserve = int(options.get("preserve_fds", 0))
    except ValueError:
        raise UsageError(f"--preserve-fds needs a number, not {options.get('preserve_fds')!r}") from None
    pid = create(ctx.root, container_id, str(options.get("bundle", ".")),
                     pid_file=options.get("pid_file"), console_socket=options.get("console_socket"),
                     no_pivot=bool(options.get("no_pivot")), preserve_fds=preserve, spec=spec,  # type: ignore[arg-type]
                     new_keyring=not options.get("no_new_keyring"))
    return container_id, pid


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    create_from(options, positionals, ctx, "create")
    return 0
