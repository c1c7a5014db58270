"""`nsbox-runtime delete`: its flags (FLAGS), its --help (USAGE) and the call it makes."""
from __future__ import annotations

from nsbox.runtime.cli import Context, one_id

USAGE = """nsbox-runtime delete [--force] ID"""

FLAGS = {"--force": "force", "-f": "force"}


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
