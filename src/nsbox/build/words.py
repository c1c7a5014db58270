"""Docker's variable substitution in Dockerfile arguments: $NAME, ${NAME}, ${NAME:-default},
${NAME:+alternative}, and the escape character before $ for a literal dollar; plus the
quoting of ENV/LABEL/ARG's NAME=VALUE words."""
from __future__ import annotations

import re

from nsbox.errors import ConfigError

_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:[-+])?(?P<word>[^}]*)\}"
                       r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


def substitute(text: str, variables: dict[str, str], escape: str = "\\") -> str:
    """Replace the variables in `text` (unset ones become empty, as in Docker)."""
    out: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == escape and text[position + 1:position + 2] == "$":
            out.append("$")
            position += 2
            continue
        if char == "$":
            match = _VARIABLE.match(text, position)
            if match:
                out.append(_value(match, variables, escape))
                position = match.end()
                continue
        out.append(char)
        position += 1
    return "".join(out)


def _value(match: re.Match, variables: dict[str, str], escape: str) -> str:
    name = match.group("braced") or match.group("plain")
    value = variables.get(name)
    op = match.group("op")
    if op == ":-":
        return value if value else substitute(match.group("word"), variables, escape)
    if op == ":+":
        return substitute(match.group("word"), variables, escape) if value else ""
    if match.group("braced") and match.group("word"):
        raise ConfigError(f"${{{name}{match.group('word')}}}", "unsupported modifier: use ${NAME:-default} "
                          "or ${NAME:+alternative}")
    return value or ""


def pairs(text: str, where: str, keyword: str) -> list[tuple[str, str]]:
    """NAME=VALUE words of ENV, LABEL and ARG (values may be quoted), or ENV's old `NAME VALUE` form."""
    import shlex
    try:
        words = shlex.split(text, posix=True)
    except ValueError as error:
        raise ConfigError(where, f"{keyword}: {error}") from None
    if words and "=" not in words[0]:
        if keyword == "ENV" and len(words) >= 2:
            return [(words[0], text.split(None, 1)[1])]
        if keyword == "ARG" and len(words) == 1:
            return [(words[0], "")]
        raise ConfigError(where, f"{keyword} needs NAME=VALUE")
    result = []
    for word in words:
        name, has_value, value = word.partition("=")
        if not name or (not has_value and keyword != "ARG"):
            raise ConfigError(where, f"{keyword}: {word!r} is not NAME=VALUE")
        result.append((name, value))
    return result
