"""Go's text/template, the subset Docker users write in --format: a parser and an evaluator.

No maintained PyPI package implements it (go-template wraps a 2019 Go build and renders
files with YAML values), so nsbox has its own. Supported: text and actions with {{- -}}
trimming and comments; field chains on dot, $ and $variables; method-like callables with
arguments; literals; pipelines with |; parenthesized pipelines; `:=` and `=`; if / else if /
else, range (with $i, $e :=, else), with / else, break, continue; Go's builtin functions
(and, or, not, len, index, slice, eq, ne, lt, le, gt, ge, print, printf, println) and
Docker's (json, join, split, title, lower, upper, pad, truncate). Values print as Go's %v
prints them ([a b], map[k:v], <no value>). Errors read as Go's do:
`template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"`.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from nsbox.cli.gostruct import Struct
from nsbox.cli.gotemplate_lex import Token, lex
from nsbox.cli.gotemplate_values import FUNCTIONS, TemplateError, go_str, truth


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


# Nodes are tuples: ("text", str) | ("action", pipe) | ("if"|"with"|"range", pipe, body, else_body)
# | ("break",) | ("continue",); a pipe is (declared variables, is_assignment, commands);
# a command is a list of operands; an operand is a Token or ("pipe", pipe, field chain, token).

class Template:
    """A parsed template; execute(data) -> the text, or TemplateError."""

    def __init__(self, text: str, functions: dict[str, Callable] | None = None) -> None:
        self.source = text
        self.functions = dict(FUNCTIONS, **(functions or {}))
        self.tokens = lex(text)
        self.position = 0
        self.body, end = self._parse_list(())
        if end is not None:
            raise TemplateError(f"template: :{self._line(end)}: unexpected {{{{{end.value}}}}}")

    # ---- parsing -------------------------------------------------------------------------
    def _line(self, token: Token) -> int:
        return 1 + self.source.count("\n", 0, token.pos)

    def _next(self) -> Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _peek(self) -> Token:
        return self.tokens[self.position]

    def _parse_list(self, enders: tuple[str, ...]) -> tuple[list, Token | None]:
        """Nodes up to one of the keywords in enders ({{end}}, {{else}}); returns the ender met."""
        nodes: list = []
        while True:
            token = self._next()
            if token.kind == "eof":
                if enders:
                    raise TemplateError(f"template: :{self._line(token)}: unexpected EOF")
                return nodes, None
            if token.kind == "text":
                nodes.append(("text", token.value))
                continue
            # token.kind == "open": an action begins
            word = self._peek()
            if word.kind == "ident" and word.value in ("end", "else"):
                if word.value not in enders:
                    raise TemplateError(f"template: :{self._line(word)}: unexpected {{{{{word.value}}}}}")
                self._next()
                return nodes, word
            if word.kind == "ident" and word.value in ("if", "with", "range"):
                self._next()
                nodes.append(self._parse_control(word))
            elif word.kind == "ident" and word.value in ("break", "continue"):
                self._next()
                self._expect_close()
                nodes.append((word.value,))
            elif word.kind == "close":
                raise TemplateError(f"template: :{self._line(word)}: missing value for command")
            else:
                nodes.append(("action", self._parse_pipe(word)))

    def _parse_control(self, keyword: Token) -> tuple:
        pipe = self._parse_pipe(keyword)
        body, ender = self._parse_list(("end", "else"))
        else_body: list = []
        if ender is not None and ender.value == "else":
            following = self._peek()
            if following.kind == "ident" and following.value in ("if", "with") and keyword.value != "range":
                self._next()  # {{else if ...}} is an if nested in the else branch, closed by the same {{end}}
                else_body = [self._parse_control(following)]
            else:
                self._expect_close()
                else_body, _ = self._parse_list(("end",))
                self._expect_close()
        else:
            self._expect_close()
        return (keyword.value, pipe, body, else_body)

    def _expect_close(self) -> None:
        token = self._next()
        if token.kind != "close":
            raise TemplateError(f"template: :{self._line(token)}: unexpected {token.value!r} in action")

    def _parse_pipe(self, context: Token) -> tuple:
        declared: list[str] = []
        assign = False
        save = self.position
        if self._peek().kind == "var":
            names = [self._next().value[0]]
            if self._peek().kind == "comma":
                self._next()
                if self._peek().kind == "var":
                    names.append(self._next().value[0])
            if self._peek().kind in ("declare", "assign"):
                assign = self._next().kind == "assign"
                declared = names
            else:
                self.position = save
        commands = []
        while True:
            command = self._parse_command()
            if not command:
                raise TemplateError(f"template: :{self._line(context)}: missing value for command")
            commands.append(command)
            token = self._next()
            if token.kind == "pipe":
                continue
            if token.kind not in ("close", "rparen"):
                raise TemplateError(f"template: :{self._line(token)}: unexpected {token.value!r} in operand")
            if token.kind == "rparen":
                self.position -= 1
            return (declared, assign, commands)

    def _parse_command(self) -> list:
        operands: list = []
        while self._peek().kind not in ("close", "pipe", "rparen", "eof"):
            token = self._next()
            if token.kind == "lparen":
                pipe = self._parse_pipe(token)
                if self._next().kind != "rparen":
                    raise TemplateError(f"template: :{self._line(token)}: unclosed left paren")
                chain = []
                if self._peek().kind == "field" and not self._peek().spaced:
                    chain = self._next().value
                operands.append(("pipe", pipe, chain, token))
            elif token.kind in ("field", "var", "dot", "string", "number", "ident"):
                if token.kind == "ident" and token.value not in self.functions \
                        and token.value not in ("true", "false", "nil"):
                    raise TemplateError(f'template: :{self._line(token)}: function "{token.value}" not defined')
                operands.append(token)
            else:
                raise TemplateError(f"template: :{self._line(token)}: unexpected {token.value!r} in command")
        return operands

    # ---- execution -----------------------------------------------------------------------
    def execute(self, data: Any) -> str:
        out: list[str] = []
        self._run(self.body, data, [{"$": data}], out)
        return "".join(out)

    def _run(self, nodes: list, dot: Any, scopes: list[dict], out: list[str]) -> None:
        for node in nodes:
            kind = node[0]
            if kind == "text":
                out.append(node[1])
            elif kind == "action":
                value = self._pipe(node[1], dot, scopes)
                if not node[1][0]:
                    out.append(go_str(value, top=True))
            elif kind == "break":
                raise _Break()
            elif kind == "continue":
                raise _Continue()
            else:
                self._control(node, dot, scopes, out)

    def _control(self, node: tuple, dot: Any, scopes: list[dict], out: list[str]) -> None:
        kind, pipe, body, else_body = node
        scopes = scopes + [{}]
        value = self._pipe(pipe, dot, scopes, declare_range=(kind == "range"))
        if kind == "range":
            items = self._range_items(value, pipe)
            if not items:
                self._run(else_body, dot, scopes, out)
            for key, element in items:
                names = pipe[0]
                if len(names) == 2:
                    scopes[-1][names[0]], scopes[-1][names[1]] = key, element
                elif names:
                    scopes[-1][names[0]] = element
                try:
                    self._run(body, element, scopes, out)
                except _Break:
                    break
                except _Continue:
                    continue
        elif truth(value):
            self._run(body, value if kind == "with" else dot, scopes, out)
        else:
            self._run(else_body, dot, scopes, out)

    def _range_items(self, value: Any, pipe: tuple) -> list[tuple[Any, Any]]:
        if value is None:
            return []
        if isinstance(value, dict):
            return [(key, value[key]) for key in sorted(value)]
        if isinstance(value, (list, tuple)):
            return list(enumerate(value))
        if isinstance(value, int) and not isinstance(value, bool):
            return [(i, i) for i in range(value)]
        raise TemplateError(f"range can't iterate over {go_str(value)}")

    def _pipe(self, pipe: tuple, dot: Any, scopes: list[dict], declare_range: bool = False) -> Any:
        declared, assign, commands = pipe
        value: Any = _MISSING
        for command in commands:
            value = self._command(command, dot, scopes, value)
        if declared and not declare_range:
            for name in declared:
                if assign:
                    for scope in reversed(scopes):
                        if name in scope:
                            scope[name] = value
                            break
                    else:
                        raise TemplateError(f"undefined variable: {name}")
                else:
                    scopes[-1][name] = value
        return value

    def _command(self, command: list, dot: Any, scopes: list[dict], piped: Any) -> Any:
        first = command[0]
        args = command[1:]
        if isinstance(first, Token) and first.kind == "ident" and first.value in self.functions:
            values = [self._operand(arg, dot, scopes) for arg in args]
            if piped is not _MISSING:
                values.append(piped)
            try:
                return self.functions[first.value](*values)
            except TemplateError as error:
                raise self._error(first, f"error calling {first.value}: {error}") from None
            except TypeError as error:
                import inspect
                try:
                    inspect.signature(self.functions[first.value]).bind(*values)
                except TypeError:
                    raise self._error(first, f"wrong number of args for {first.value}") from None
                raise self._error(first, f"error calling {first.value}: {error}") from None
        if isinstance(first, Token) and first.kind in ("field", "var") and (args or piped is not _MISSING):
            extra = [self._operand(arg, dot, scopes) for arg in args]
            if piped is not _MISSING:
                extra.append(piped)
            return self._operand(first, dot, scopes, extra)
        if args or piped is not _MISSING:
            raise self._error(first, f"can't give argument to non-function {self._text(first)}")
        return self._operand(first, dot, scopes)

    def _operand(self, operand: Any, dot: Any, scopes: list[dict], call_args: list | None = None) -> Any:
        if not isinstance(operand, Token):  # a parenthesized pipeline, maybe with a field chain after it
            _, pipe, chain, token = operand
            return self._fields(self._pipe(pipe, dot, scopes), chain, token, call_args)
        kind, value = operand.kind, operand.value
        if kind == "dot":
            return dot
        if kind == "field":
            return self._fields(dot, value, operand, call_args)
        if kind == "var":
            name, chain = value[0], value[1:]
            for scope in reversed(scopes):
                if name in scope:
                    return self._fields(scope[name], chain, operand, call_args)
            raise TemplateError(f"template: :{self._line(operand)}: undefined variable \"{name}\"")
        if kind == "ident":
            if value in ("true", "false"):
                return value == "true"
            return None if value == "nil" else self.functions[value]()
        return value  # string or number literal

    def _fields(self, receiver: Any, chain: list[str], token: Token, call_args: list | None) -> Any:
        for position, name in enumerate(chain):
            if isinstance(receiver, dict):
                if name not in receiver and not hasattr(receiver, "__missing__"):
                    if not isinstance(receiver, Struct):
                        receiver = None
                        continue
                    if receiver.type_name:
                        raise self._error(token, f"can't evaluate field {name} in type {receiver.type_name}")
                    raise self._error(token, f'map has no entry for key "{name}"')
                receiver = receiver[name]
            elif receiver is None:
                raise self._error(token, f"nil pointer evaluating interface {{}}.{name}")
            else:
                raise self._error(token, f"can't evaluate field {name} in type {_go_type(receiver)}")
            if callable(receiver):
                last = position == len(chain) - 1
                receiver = receiver(*(call_args or [])) if last else receiver()
                if last:
                    call_args = None
        if call_args:
            raise self._error(token, f"can't give argument to non-function {self._text(token)}")
        return receiver

    def _text(self, token: Any) -> str:
        if not isinstance(token, Token):
            return "(...)"
        return self.source[token.pos:token.end]

    def _error(self, token: Any, message: str) -> TemplateError:
        if not isinstance(token, Token):
            token = token[3]
        position = token.pos  # Go places a chain (.A.B, $x.A) at its second link
        if token.kind == "field" and len(token.value) > 1:
            position += 1 + len(token.value[0])
        elif token.kind == "var" and len(token.value) > 1:
            position += len(token.value[0])
        line_start = self.source.rfind("\n", 0, position)
        column = position if line_start < 0 else position - line_start - 1
        return TemplateError(f'template: :{1 + self.source.count(chr(10), 0, position)}:{column}: executing "" at '
                             f"<{self._text(token)}>: {message}")


_MISSING = object()


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    return "interface {}"


def backslash_escapes(text: str) -> str:
    r"""Docker's --format reads a literal \t and \n as tab and newline."""
    return re.sub(r"\\[tn]", lambda match: "\t" if match.group() == "\\t" else "\n", text)
