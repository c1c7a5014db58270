"""nsbox builder prune: forget the build cache (its layers go with `nsbox image prune`)."""
from __future__ import annotations

from nsbox.flags import Command, flag, parse

COMMAND = Command("nsbox builder prune [OPTIONS]", "Remove the build cache.",
                  flag("-f --force", "do not ask (nsbox never asks)"),
                  flag("-a --all", "all of the cache (nsbox's is one)"))


def main(argv: list[str], root: str) -> int:
    from nsbox.build.cache import BuildCache
    from nsbox.errors import ConfigError
    values, positional = parse(argv, COMMAND, stop_at_positional=False)
    if positional != ["prune"]:
        raise ConfigError("builder", f"the only builder command is prune\n{COMMAND.usage}")
    count = BuildCache(root).prune()
    print(f"Deleted build cache objects: {count}")
    return 0
