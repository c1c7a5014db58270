"""JSON in and out without importing the json package.

`import json` costs ~11 ms here (json.decoder pulls in re); the C scanner and string
encoder it wraps cost almost nothing. The runtime's start path (config.json, state.json)
uses these; everything else may use json freely.
"""
from __future__ import annotations

import _json

TYPE_CHECKING = False  # typing costs ~12 ms to import: only the type checker reads this
if TYPE_CHECKING:
    from typing import Any


class _ScannerContext:
    """The attributes _json.make_scanner reads from a json.JSONDecoder."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict = {}

    @staticmethod
    def parse_constant(name: str) -> float:
        return float(name.replace("Infinity", "inf"))


_scan = _json.make_scanner(_ScannerContext())  # type: ignore[arg-type]  # duck-typed context, as json.decoder passes
_WHITESPACE = " \t\n\r"


def loads(text: str | bytes) -> Any:
    """Decode a JSON document; raises ValueError (json.JSONDecodeError) saying where it broke."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8-sig")
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = _scan(text, start)
    except StopIteration as stop:
        raise ValueError(f"expecting a value at character {stop.value}") from None
    except RecursionError:
        raise ValueError("arrays or objects nested too deeply (more than the interpreter's recursion "
                         "limit allows)") from None
    except Exception:
        # The C scanner reports errors through json.decoder; let json say what is wrong.
        import json
        json.loads(text)
        raise
    finally:
        _ScannerContext.memo.clear()
    if text[end:].strip(_WHITESPACE):
        raise ValueError(f"extra data after the document at character {end}")
    return value


def dumps(value: object) -> str:
    """Encode plain data (dict, list, str, int, float, bool, None) compactly."""
    parts: list[str] = []
    _encode(value, parts)
    return "".join(parts)


def _encode(value: object, parts: list[str]) -> None:
    if isinstance(value, str):
        parts.append(_json.encode_basestring_ascii(value))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, (int, float)):
        parts.append(repr(value))
    elif isinstance(value, dict):
        parts.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                parts.append(",")
            parts.append(_json.encode_basestring_ascii(str(key)))
            parts.append(":")
            _encode(item, parts)
        parts.append("}")
    elif isinstance(value, (list, tuple)):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _encode(item, parts)
        parts.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def quote(text: str) -> str:
    """A JSON string literal that keeps non-ASCII characters (json.dumps(text, ensure_ascii=False))."""
    return _json.encode_basestring(text)
