"""`nsbox-runtime delete`: its flags and usage (COMMAND: its --help too) and the call it makes."""
from __future__ import annotations

from nsbox.flags import Command, flag
from nsbox.runtime.cli import Context, one_id

COMMAND = Command("nsbox-runtime delete [OPTIONS] ID", "Delete a container.",
                  flag("-f --force", "even a running one (killed first)"))


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    from nsbox.errors import NotFound
    from nsbox.runtime.delete import delete
    container_id = one_id(positionals, "delete")
    try:
        delete(ctx.root, container_id, bool(options.get("force")))
    except NotFound:
        if not options.get("force"):
            raise
    return 0
