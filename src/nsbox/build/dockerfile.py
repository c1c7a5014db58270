"""The Dockerfile as plain data: parser directives, logical lines, instructions with their
flags, exec (JSON) or shell form, and the line they start on."""
from __future__ import annotations

import json
import re

from nsbox.errors import ConfigError

INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
                "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}
# instructions whose arguments may be a JSON array (the exec form)
JSON_FORMS = {"RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"}
# flags each instruction accepts (--name=value)
FLAGS = {"FROM": {"platform"}, "COPY": {"from", "chown", "chmod", "link"}, "ADD": {"chown", "chmod", "link"},
         "RUN": set(), "HEALTHCHECK": {"interval", "timeout", "start-period", "start-interval", "retries"}}
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")


class Instruction:
    """One instruction: KEYWORD, its flags, its argument text, the JSON array when in exec form."""

    __slots__ = ("keyword", "flags", "text", "json", "line", "source")

    def __init__(self, keyword: str, flags: dict[str, str], text: str, exec_form: list[str] | None,
                 line: int, source: str) -> None:
        self.keyword = keyword
        self.flags = flags
        self.text = text
        self.json = exec_form
        self.line = line
        self.source = source

    def __repr__(self) -> str:
        return f"Instruction({self.keyword} {self.text!r} @{self.line})"


def parse(text: str, name: str = "Dockerfile") -> list[Instruction]:
    """Every instruction of the file, in order; a malformed one is a ConfigError naming file:line."""
    lines = text.splitlines()
    escape = "\\"
    for line in lines:  # parser directives: only at the very top, before any other line
        match = _DIRECTIVE.match(line)
        if not match:
            break
        if match.group(1).lower() == "escape":
            escape = match.group(2)
            if escape not in ("\\", "`"):
                raise ConfigError(f"{name}:1", f"escape directive {escape!r}: must be \\ or `")
    instructions = []
    for number, logical in _logical_lines(lines, escape):
        instructions.append(_instruction(logical, number, name, escape))
    if not instructions:
        raise ConfigError(name, "the file has no instructions")
    if instructions[0].keyword not in ("FROM", "ARG"):
        raise ConfigError(f"{name}:{instructions[0].line}", "the first instruction must be FROM (or ARG before FROM)")
    return instructions


def _logical_lines(lines: list[str], escape: str):
    """(first line number, text) of each instruction, continuation lines joined, comments dropped."""
    current: list[str] = []
    start = 0
    for number, raw in enumerate(lines, 1):
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # a comment inside a continued instruction is dropped
        if not current:
            start = number
        if raw.rstrip().endswith(escape) and not raw.rstrip().endswith(escape * 2):
            current.append(raw.rstrip()[:-1])
            continue
        current.append(raw)
        yield start, " ".join(part.strip() for part in current if part.strip())
        current = []
    if current:
        yield start, " ".join(part.strip() for part in current if part.strip())


def _instruction(logical: str, number: int, name: str, escape: str) -> Instruction:
    where = f"{name}:{number}"
    keyword, _, rest = logical.partition(" ")
    keyword = keyword.upper()
    if keyword not in INSTRUCTIONS:
        raise ConfigError(where, f"unknown instruction {keyword}")
    rest = rest.strip()
    if "<<" in rest and re.search(r"<<-?\s*[\"']?[A-Za-z_]", rest) and keyword in ("RUN", "COPY", "ADD"):
        raise ConfigError(where, "heredocs (<<EOF) are not supported: write the lines as a RUN with && or "
                          "COPY a file from the context")
    flags: dict[str, str] = {}
    allowed = FLAGS.get(keyword, set())
    while rest.startswith("--") and allowed:
        word, _, rest = rest.partition(" ")
        flag, has_value, flag_value = word[2:].partition("=")
        if flag not in allowed:
            raise ConfigError(where, f"{keyword} has no flag --{flag} (it takes {', '.join(sorted(allowed))})")
        flags[flag] = flag_value if has_value else "true"
        rest = rest.strip()
    if keyword == "RUN" and rest.startswith("--"):
        flag = rest.split()[0]
        raise ConfigError(where, f"RUN {flag}: BuildKit's RUN flags are not supported")
    exec_form = None
    if keyword in JSON_FORMS and rest.startswith("["):
        try:
            value = json.loads(rest)
        except ValueError:
            value = None  # not valid JSON: Docker treats it as the shell form
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            exec_form = value
    if not rest and keyword not in ("RUN",):
        raise ConfigError(where, f"{keyword} needs an argument")
    return Instruction(keyword, flags, rest, exec_form, number, logical)
