"""The hand-made flag parser of both command lines, nsbox and nsbox-runtime.

argparse would cost ~15 ms of every start.

A command declares its flags as {"-d": "detach", "--detach": "detach", "--name=": "name",
"-e=": "env*"}: a trailing "=" means the flag takes a value, a trailing "*" on the key
that it may repeat (values are collected in a list). Docker's spellings all work:
`--name web`, `--name=web`, `-e A=1`, `-eA=1`, combined short flags `-dit`, and
`--rm=false`. Parsing stops at the first positional argument when `stop_at_positional`
(so `run IMAGE CMD -x` leaves `-x` to the command). -h/--help prints the usage and exits 0.
"""
from __future__ import annotations

from nsbox.errors import ConfigError, UsageError

TYPE_CHECKING = False  # typing costs ~12 ms to import: only the type checker reads this
if TYPE_CHECKING:
    from typing import Any

_FALSE = ("false", "0", "no")
_TRUE = ("true", "1", "yes")


def parse(argv: list[str], spec: dict[str, str], usage: str, stop_at_positional: bool = True
          ) -> tuple[dict[str, Any], list[str]]:
    """-> (values by key, positional arguments). An unknown flag or a missing value raises
    UsageError (one line: the CLI edge adds a hint to --help, as Docker does)."""
    values: dict[str, Any] = {}
    positional: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        index += 1
        if arg == "--":
            positional.extend(argv[index:])
            break
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            if stop_at_positional:
                positional.extend(argv[index:])
                break
            continue
        if arg == "--help" or (arg == "-h" and "-h" not in spec and "-h=" not in spec):  # run's -h is --hostname
            import sys
            sys.stdout.write(usage + "\n")
            raise SystemExit(0)
        if arg.startswith("--"):
            name, has_inline, inline = arg.partition("=")
            shorts = [(name, inline if has_inline else None)]
        else:  # -dit, -e A=1, -eA=1, -m256m
            shorts = []
            letters = arg[1:]
            for position, letter in enumerate(letters):
                flag = "-" + letter
                if flag + "=" in spec and position + 1 < len(letters):
                    rest = letters[position + 1:]
                    shorts.append((flag, rest[1:] if rest.startswith("=") else rest))
                    break
                shorts.append((flag, None))
        for flag, inline_value in shorts:
            if flag + "=" in spec:
                key = spec[flag + "="]
                if inline_value is None:
                    if index >= len(argv):
                        raise UsageError(f"flag needs an argument: {flag}")
                    inline_value = argv[index]
                    index += 1
                _store(values, key, inline_value)
            elif flag in spec:
                key = spec[flag]
                if inline_value is None or inline_value.lower() in _TRUE:
                    _store(values, key, True)
                elif inline_value.lower() in _FALSE:
                    _store(values, key, False)
                else:
                    raise ConfigError(flag, f"takes true or false, got {inline_value!r}")
            else:
                raise UsageError(f"unknown flag: {flag}")
    return {key.rstrip("*"): value for key, value in values.items()}, positional


def _store(values: dict[str, Any], key: str, value: object) -> None:
    if key.endswith("*"):
        values.setdefault(key, []).append(value)
    else:
        values[key] = value
