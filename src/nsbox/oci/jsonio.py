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
        text = text.decode()  # (the utf-8 codec is built in; utf-8-sig costs an import per process)
        if text.startswith("\ufeff"):  # a byte order mark, as utf-8-sig would drop
            text = text[1:]
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


def _refuse(value: object) -> object:
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


# json.encoder's C encoder (markers, default, string encoder, indent, key separator, item
# separator, sort_keys, skipkeys, allow_nan): compact, ASCII, no cycle check
_encoder = _json.make_encoder(None, _refuse, _json.encode_basestring_ascii, None, ":", ",",
                              False, False, True)


def dumps(value: object) -> str:
    """Encode plain data (dict, list, str, int, float, bool, None) compactly."""
    return "".join(_encoder(value, 0))


def quote(text: str) -> str:
    """A JSON string literal that keeps non-ASCII characters (json.dumps(text, ensure_ascii=False))."""
    return _json.encode_basestring(text)
