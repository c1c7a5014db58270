""".dockerignore with Docker's rules: one pattern a line, # comments, Go's filepath.Match
syntax (*, ?, [...]) where * stays within one path element, ** for any number of
elements, ! for an exception; the last pattern that matches a path decides, and a path
is also excluded when one of its parent directories is."""
from __future__ import annotations

import os
import re


class IgnoreRules:
    __slots__ = ("rules",)

    def __init__(self, lines: list[str]) -> None:
        self.rules: list[tuple[re.Pattern, bool]] = []
        for line in lines:
            pattern = line.strip()
            if not pattern or pattern.startswith("#"):
                continue
            exception = pattern.startswith("!")
            pattern = os.path.normpath(pattern.lstrip("!").strip()).lstrip("/")
            if pattern in ("", "."):
                continue
            self.rules.append((re.compile(_regex(pattern)), exception))

    @classmethod
    def from_context(cls, context: str) -> IgnoreRules:
        try:
            with open(os.path.join(context, ".dockerignore")) as f:
                return cls(f.read().splitlines())
        except FileNotFoundError:
            return cls([])

    def excluded(self, path: str) -> bool:
        """`path` relative to the context, with / separators."""
        parts = path.split("/")
        prefixes = ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]
        excluded = False
        for pattern, exception in self.rules:
            if any(pattern.fullmatch(prefix) for prefix in prefixes):
                excluded = not exception
        return excluded


def _regex(pattern: str) -> str:
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**", index):
            index += 2
            if pattern.startswith("/", index):  # **/ : zero or more directories
                out.append("(?:.*/)?")
                index += 1
            else:
                out.append(".*")
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[index + 1:end]
                out.append("[" + ("^" + body[1:] if body.startswith("^") else body).replace("\\", "\\\\") + "]")
                index = end
        elif char == "\\" and index + 1 < len(pattern):
            index += 1
            out.append(re.escape(pattern[index]))
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)
