"""Values in nsbox's Go-template subset: how Go prints them (%v, printf), what is true,
and the functions a template can call (Go's builtins and Docker's additions)."""
from __future__ import annotations

import json
import re
from typing import Any

from nsbox.errors import NsboxError


class TemplateError(NsboxError):
    """A --format template that does not parse or does not execute on the data given (Docker exits 1)."""

    exit_code = 1


def go_float(value: float) -> str:
    """Go's %v of a float64 (strconv 'g', shortest): exponent form below 1e-4 and from 1e+06."""
    if value != value or value in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}[repr(value)]
    if value == 0:
        return "0"
    from decimal import Decimal
    sign, digit_tuple, power = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    exponent = len("".join(map(str, digit_tuple))) + int(power) - 1
    minus = "-" if sign else ""
    if exponent < -4 or exponent >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{minus}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    return minus + format(abs(Decimal(repr(value))).normalize(), "f")


def go_str(value: Any, top: bool = False) -> str:
    """Go's %v: [a b] for lists, map[k:v] with sorted keys, <no value> for a missing top value."""
    if value is None:
        return "<no value>" if top else "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(go_str(item) for item in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{go_str(key)}:{go_str(value[key])}" for key in sorted(value)) + "]"
    return str(value)


def truth(value: Any) -> bool:
    """Go's template truth: false, 0, nil and empty strings, lists and maps are false."""
    return bool(value) if isinstance(value, (bool, int, float, str, list, tuple, dict)) or value is None else True


def _and(first: Any, *rest: Any) -> Any:
    for value in (first,) + rest:
        if not truth(value):
            return value
    return value


def _or(first: Any, *rest: Any) -> Any:
    for value in (first,) + rest:
        if truth(value):
            return value
    return value


def _len(value: Any) -> int:
    if value is None:
        raise TemplateError("len of nil pointer")
    if not isinstance(value, (str, list, tuple, dict)):
        raise TemplateError(f"len of type {type(value).__name__}")
    return len(value.encode() if isinstance(value, str) else value)


def _index(item: Any, *keys: Any) -> Any:
    for key in keys:
        if item is None:
            raise TemplateError("index of untyped nil")
        if isinstance(item, dict):
            item = item.get(key)
        elif isinstance(item, (list, tuple, str)):
            if not isinstance(key, int) or not 0 <= key < len(item):
                raise TemplateError(f"index out of range: {key}")
            item = item[key]
        else:
            raise TemplateError(f"can't index item of type {type(item).__name__}")
    return item


def _slice(item: Any, *bounds: int) -> Any:
    if not isinstance(item, (str, list, tuple)):
        raise TemplateError(f"can't slice item of type {type(item).__name__}")
    return item[slice(*bounds)] if len(bounds) > 1 else item[bounds[0]:] if bounds else item


def _comparable(a: Any, b: Any) -> None:
    numbers = (int, float)
    if (isinstance(a, numbers) and not isinstance(a, bool)) != (isinstance(b, numbers) and not isinstance(b, bool)) \
            or isinstance(a, str) != isinstance(b, str) or isinstance(a, bool) != isinstance(b, bool):
        if a is not None and b is not None:
            raise TemplateError("incompatible types for comparison")


def _eq(first: Any, *others: Any) -> bool:
    for other in others:
        _comparable(first, other)
        if first == other:
            return True
    return False


def _ordered(name: str):
    import operator
    compare = getattr(operator, name)

    def check(a: Any, b: Any) -> bool:
        _comparable(a, b)
        if a is None or isinstance(a, (list, dict)):
            raise TemplateError("invalid type for comparison")
        return compare(a, b)
    return check


def go_print(*values: Any) -> str:
    """fmt.Sprint: a space between two operands when neither is a string."""
    out = ""
    for index, value in enumerate(values):
        if index and not isinstance(value, str) and not isinstance(values[index - 1], str):
            out += " "
        out += go_str(value)
    return out


_VERB = re.compile(r"%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*))?([a-zA-Z%])")


def go_printf(form: str, *values: Any) -> str:
    """fmt.Sprintf for the verbs templates use: v s d q t x X o b c e f g %."""
    remaining = list(values)

    def verb(match: re.Match) -> str:
        flags, width, precision, letter = match.groups()
        if letter == "%":
            return "%"
        if not remaining:
            return f"%!{letter}(MISSING)"
        value = remaining.pop(0)
        spec = "%" + flags + (width or "") + (f".{precision}" if precision else "")
        try:
            if letter in "vs":
                return (spec + "s") % go_str(value)
            if letter == "q":
                return (spec + "s") % json.dumps(value if isinstance(value, str) else go_str(value), ensure_ascii=False)
            if letter == "t":
                return (spec + "s") % go_str(value)
            if letter in "xX" and isinstance(value, str):
                hexed = value.encode().hex()
                return (spec + "s") % (hexed.upper() if letter == "X" else hexed)
            if letter == "b":
                return (spec + "s") % format(value, "b")
            if letter in "dxXoc" and isinstance(value, int):
                return (spec + ("d" if letter == "d" else letter)) % value
            if letter in "efgEG" and isinstance(value, (int, float)) and not isinstance(value, bool):
                return (spec + letter) % value
        except (TypeError, ValueError):
            pass
        return f"%!{letter}({type(value).__name__}={go_str(value)})"

    text = _VERB.sub(verb, form)
    if remaining:
        text += "%!(EXTRA " + ", ".join(f"{type(v).__name__}={go_str(v)}" for v in remaining) + ")"
    return text


def go_json(value: Any) -> str:
    """Docker's json function: compact JSON, no HTML escaping; a row's methods (callables) left out
    and its fields in sorted order, as Go marshals the map Docker makes of a row."""
    return json.dumps(_plain(value), separators=(",", ":"), ensure_ascii=False)


def _plain(value: Any) -> Any:
    shown = getattr(value, "json_value", None)  # a row that stands for a Go value with JSON of its own
    if shown is not None:
        return shown
    if isinstance(value, dict):
        keys = sorted(value) if type(value) is not dict else list(value)
        return {key: _plain(value[key]) for key in keys if not callable(value[key])}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _title(text: str) -> str:
    """strings.Title: an upper-case first letter in each word."""
    return re.sub(r"(^|[^\w])(\w)", lambda m: m.group(1) + m.group(2).upper(), text)


def _join(elements: Any, separator: str) -> str:
    if not isinstance(elements, (list, tuple)):
        raise TemplateError(f"wrong type for value; expected []string; got {type(elements).__name__}")
    return separator.join(go_str(element) for element in elements)


def _pad(text: str, prefix: int, suffix: int) -> str:
    return " " * prefix + text + " " * suffix if text else text


def _truncate(text: str, length: int) -> str:
    return text if len(text) < length else text[:length]


FUNCTIONS: dict[str, Any] = {
    "and": _and, "or": _or, "not": lambda value: not truth(value), "len": _len, "index": _index,
    "slice": _slice, "eq": _eq, "ne": lambda a, b: not _eq(a, b), "lt": _ordered("lt"), "le": _ordered("le"),
    "gt": _ordered("gt"), "ge": _ordered("ge"), "print": go_print, "printf": go_printf,
    "println": lambda *values: " ".join(go_str(value) for value in values) + "\n",
    "json": go_json, "join": _join, "split": lambda text, separator: text.split(separator),
    "title": _title, "lower": lambda text: text.lower(), "upper": lambda text: text.upper(),
    "pad": _pad, "truncate": _truncate,
}

# In a table's heading line Docker runs the same template on the column names, with its
# functions reduced to passing the name through.
HEADER_FUNCTIONS: dict[str, Any] = {
    "json": lambda value: value, "join": lambda value, _: value, "split": lambda value, _: value,
    "title": lambda value: value, "lower": lambda value: value, "upper": lambda value: value,
    "pad": lambda value, *_: value, "truncate": lambda value, _: value,
}
