"""`nsbox-runtime create`: its flags (FLAGS), its --help (USAGE) and the call it makes."""
from __future__ import annotations

from nsbox.runtime.cli import Context, one_id

USAGE = """nsbox-runtime create [--bundle DIR] [--pid-file F] [--console-socket S] [--no-pivot] [--preserve-fds N] ID"""

FLAGS = {
    "--bundle=": "bundle", "-b=": "bundle", "--pid-file=": "pid_file", "--console-socket=": "console_socket",
    "--no-pivot": "no_pivot", "--preserve-fds=": "preserve_fds", "--no-new-keyring": "no_new_keyring",
}


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
