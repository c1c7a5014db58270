"""The lexer of nsbox's Go-template subset: text, actions ({{ }}, with - trimming), and the
tokens inside an action."""
from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from nsbox.cli.gotemplate_values import TemplateError


class Token(NamedTuple):
    kind: str   # text open close field var dot string number ident pipe lparen rparen comma declare assign eof
    value: Any  # field: [names]; var: [name, *field names]; string/number: the value
    pos: int    # offset in the template's text (Go reports it as the column on line 1)
    end: int
    spaced: bool = False  # whitespace before it (so `(x) .F` is two operands, `(x).F` one)


_NUMBER = re.compile(r"[-+]?(0[xX][0-9a-fA-F_]+|(\d[\d_]*)?\.?\d[\d_]*([eE][-+]?\d+)?)")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CHAIN = re.compile(r"(\.[A-Za-z_][A-Za-z0-9_]*)+")
_SINGLE = {"|": "pipe", "(": "lparen", ")": "rparen", ",": "comma", "=": "assign"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b",
            "f": "\f", "v": "\v", "0": "\0"}


def _line(text: str, pos: int) -> int:
    return 1 + text.count("\n", 0, pos)


def lex(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    trim_next = False
    while True:
        start = text.find("{{", pos)
        chunk = text[pos:] if start < 0 else text[pos:start]
        if trim_next:
            chunk = chunk.lstrip(" \t\r\n")
        if start >= 0 and text[start + 2:start + 3] == "-" and text[start + 3:start + 4] in (" ", "\t", "\r", "\n"):
            chunk = chunk.rstrip(" \t\r\n")
            inside = start + 4
        else:
            inside = start + 2
        if chunk:
            tokens.append(Token("text", chunk, pos, pos + len(chunk)))
        if start < 0:
            tokens.append(Token("eof", None, len(text), len(text)))
            return tokens
        pos, trim_next = _lex_action(text, start, inside, tokens)


def _lex_action(text: str, start: int, pos: int, tokens: list[Token]) -> tuple[int, bool]:
    """Tokens of one action from pos; -> (offset after its }}, whether it trims what follows)."""
    comment = re.compile(r"\s*/\*.*?\*/\s*(-?)\}\}", re.S).match(text, pos)
    if comment:
        return comment.end(), bool(comment.group(1))
    tokens.append(Token("open", "{{", start, pos))
    spaced = False
    while True:
        if pos >= len(text):
            raise TemplateError(f"template: :{_line(text, start)}: unclosed action")
        char = text[pos]
        if char in " \t\r\n":
            if text.startswith("-}}", pos + 1):
                tokens.append(Token("close", "}}", pos, pos + 4))
                return pos + 4, True
            pos += 1
            spaced = True
            continue
        if text.startswith("}}", pos):
            tokens.append(Token("close", "}}", pos, pos + 2))
            return pos + 2, False
        token = _lex_operand(text, pos, spaced)
        tokens.append(token)
        pos = token.end
        spaced = False


def _lex_operand(text: str, pos: int, spaced: bool) -> Token:
    char = text[pos]
    if text.startswith(":=", pos):
        return Token("declare", ":=", pos, pos + 2, spaced)
    if char in _SINGLE:
        return Token(_SINGLE[char], char, pos, pos + 1, spaced)
    if char == ".":
        chain = _CHAIN.match(text, pos)
        if chain:
            return Token("field", chain.group()[1:].split("."), pos, chain.end(), spaced)
        if not (pos + 1 < len(text) and text[pos + 1].isdigit()):
            return Token("dot", None, pos, pos + 1, spaced)
    if char == "$":
        name = _IDENT.match(text, pos + 1)
        end = name.end() if name else pos + 1
        chain = _CHAIN.match(text, end)
        fields = chain.group()[1:].split(".") if chain else []
        return Token("var", ["$" + (name.group() if name else "")] + fields, pos, chain.end() if chain else end, spaced)
    if char == '"':
        return _quoted(text, pos, spaced)
    if char == "`":
        close = text.find("`", pos + 1)
        if close < 0:
            raise TemplateError(f"template: :{_line(text, pos)}: unterminated raw quoted string")
        return Token("string", text[pos + 1:close], pos, close + 1, spaced)
    if char == "'":
        close = text.find("'", pos + 1)
        literal = text[pos + 1:close]
        character = _ESCAPES.get(literal[1:], literal[1:]) if literal.startswith("\\") else literal
        return Token("number", ord(character[:1] or "\0"), pos, close + 1, spaced)
    if char.isdigit() or (char in "+-" and pos + 1 < len(text) and (text[pos + 1].isdigit() or text[pos + 1] == ".")):
        number = _NUMBER.match(text, pos)
        if number:
            literal = number.group().replace("_", "")
            value: int | float = float(literal)
            if re.fullmatch(r"[-+]?0[xX][0-9a-fA-F]+", literal):
                value = int(literal, 16)
            elif re.fullmatch(r"[-+]?\d+", literal):
                value = int(literal, 8 if len(literal.lstrip("+-")) > 1 and literal.lstrip("+-")[0] == "0" else 10)
            return Token("number", value, pos, number.end(), spaced)
    name = _IDENT.match(text, pos)
    if name:
        return Token("ident", name.group(), pos, name.end(), spaced)
    raise TemplateError(f"template: :{_line(text, pos)}: unexpected {char!r} in command")


def _quoted(text: str, pos: int, spaced: bool) -> Token:
    index = pos + 1
    while index < len(text) and text[index] != '"':
        index += 2 if text[index] == "\\" else 1
    if index >= len(text):
        raise TemplateError(f"template: :{_line(text, pos)}: unterminated quoted string")
    try:
        value = json.loads(text[pos:index + 1])
    except ValueError:
        value = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[pos + 1:index])
    return Token("string", value, pos, index + 1, spaced)
