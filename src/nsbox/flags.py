"""The flag parser of both command lines, nsbox and nsbox-runtime, and their --help.

argparse would cost ~15 ms of every start.

A command declares its usage line and its flags once, and both parsing and --help come from
that declaration:

    EXPORT = Command("nsbox export [OPTIONS] CONTAINER", "Write a container's filesystem as a tar archive",
                     flag("-o --output FILE", "write to FILE instead of stdout"))

A flag's first words are its spellings; a word after them names its value (none: a switch,
true unless given `=false`); "..." after it means the flag may repeat (its values are
collected in a list). The option's key is the first long spelling, without dashes
(--cpu-shares sets "cpu_shares"), unless `key` says otherwise. Docker's spellings all work:
`--name web`, `--name=web`, `-e A=1`, `-eA=1`, combined short flags `-dit`, and
`--rm=false`. Parsing stops at the first positional argument when `stop_at_positional`
(so `run IMAGE CMD -x` leaves `-x` to the command). -h/--help prints the help and exits 0.
"""
from __future__ import annotations

from nsbox.errors import ConfigError, UsageError

TYPE_CHECKING = False  # typing costs ~12 ms to import: only the type checker reads this
if TYPE_CHECKING:
    from typing import Any

_FALSE = ("false", "0", "no")
_TRUE = ("true", "1", "yes")
HELP_COLUMN = 28  # where the flags' descriptions start in --help


class Flag:
    """One flag, declared as flag("-e --env NAME=VALUE...", help): its spellings, then the
    value's name as one word (if it takes one), then "..." if it may repeat. The declaration
    is read only when the flag is used or shown: `nsbox run` declares ~70 flags at every
    start, and a command line names a few."""

    __slots__ = ("spelled", "help", "declared_key", "_read")

    def __init__(self, declaration: str, help: str, key: str = "") -> None:
        self.spelled = f" {declaration} "  # (padded: Command.find looks for " NAME ")
        self.help = help
        self.declared_key = key
        self._read: tuple[tuple[str, ...], str, bool, str] | None = None

    def read(self) -> tuple[tuple[str, ...], str, bool, str]:
        """(spellings, the value's name ("" for a switch), whether it repeats, the option key)."""
        if self._read is None:
            names = self.spelled.split()
            value = names.pop() if names[-1][0] != "-" else ""
            many = value.endswith("...")
            key = self.declared_key or next((name for name in names if name.startswith("--")), names[0])
            self._read = (tuple(names), value.removesuffix("..."), many, key.lstrip("-").replace("-", "_"))
        return self._read

    names = property(lambda self: self.read()[0])
    value = property(lambda self: self.read()[1])
    many = property(lambda self: self.read()[2])
    key = property(lambda self: self.read()[3])


flag = Flag  # the declaring spelling: flag("--name NAME", "name the container")


class Command:
    """A command's usage line(s), what it does, and its flags: what `parse` reads and what
    --help prints."""

    __slots__ = ("usage", "summary", "flags", "notes")

    def __init__(self, usage: str, summary: str, *flags: Flag, notes: str = "") -> None:
        self.usage = "usage: " + usage.replace("\n", "\n       ")
        self.summary, self.flags, self.notes = summary, flags, notes

    def find(self, name: str) -> Flag | None:
        """The flag spelled `name` ("-e", "--env"), if the command has one."""
        padded = f" {name} "
        for declared in self.flags:
            if padded in declared.spelled:
                return declared
        return None

    def help(self) -> str:
        """The --help text, made from the declarations."""
        lines = [self.usage, "", self.summary]
        if self.flags:
            lines += ["", "Options:"]
        for declared in self.flags:
            shorts = [name for name in declared.names if not name.startswith("--")]
            longs = [name for name in declared.names if name.startswith("--")]
            spelled = ", ".join(shorts + longs) if shorts else "    " + ", ".join(longs)
            left = f"  {spelled}{' ' + declared.value if declared.value else ''}"
            text = declared.help + (" (may repeat)" if declared.many else "")
            lines.append(f"{left:<{HELP_COLUMN}}{text}" if len(left) < HELP_COLUMN - 1
                         else f"{left}\n{'':<{HELP_COLUMN}}{text}")
        if self.notes:
            lines += ["", self.notes]
        return "\n".join(lines)


def parse(argv: list[str], command: Command, stop_at_positional: bool = True
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
        if arg == "--help" or (arg == "-h" and command.find("-h") is None):  # run's -h is --hostname
            import sys
            sys.stdout.write(command.help() + "\n")
            raise SystemExit(0)
        if arg.startswith("--"):
            name, has_inline, inline = arg.partition("=")
            shorts = [(name, inline if has_inline else None)]
        else:  # -dit, -e A=1, -eA=1, -m256m
            shorts = []
            letters = arg[1:]
            for position, letter in enumerate(letters):
                short = "-" + letter
                found = command.find(short)
                if found is not None and found.value and position + 1 < len(letters):
                    rest = letters[position + 1:]
                    shorts.append((short, rest[1:] if rest.startswith("=") else rest))
                    break
                shorts.append((short, None))
        for name, inline_value in shorts:
            declared = command.find(name)
            if declared is None:
                raise UsageError(f"unknown flag: {name}")
            if declared.value:
                if inline_value is None:
                    if index >= len(argv):
                        raise UsageError(f"flag needs an argument: {name}")
                    inline_value = argv[index]
                    index += 1
                _store(values, declared, inline_value)
            elif inline_value is None or inline_value.lower() in _TRUE:
                _store(values, declared, True)
            elif inline_value.lower() in _FALSE:
                _store(values, declared, False)
            else:
                raise ConfigError(name, f"takes true or false, got {inline_value!r}")
    return values, positional


def _store(values: dict[str, Any], declared: Flag, value: object) -> None:
    if declared.many:
        values.setdefault(declared.key, []).append(value)
    else:
        values[declared.key] = value
