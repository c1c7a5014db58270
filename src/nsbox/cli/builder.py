"""nsbox builder prune: forget the build cache (its layers go with `nsbox image prune`)."""
from __future__ import annotations

USAGE = """usage: nsbox builder prune [-f]"""
FLAGS = {"-f": "force", "--force": "force", "-a": "all", "--all": "all"}


def main(argv: list[str], root: str) -> int:
    from nsbox.build.cache import BuildCache
    from nsbox.errors import ConfigError
    from nsbox.flags import parse
    values, positional = parse(argv, FLAGS, USAGE, stop_at_positional=False)
    if positional != ["prune"]:
        raise ConfigError("builder", f"the only builder command is prune\n{USAGE}")
    count = BuildCache(root).prune()
    print(f"Deleted build cache objects: {count}")
    return 0
