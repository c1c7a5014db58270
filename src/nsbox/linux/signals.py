"""Signal names and numbers without the signal module (its enum import costs ~6 ms)."""
from __future__ import annotations

import _signal

from nsbox.errors import InvalidOption

SIGKILL: int = _signal.SIGKILL
SIGSTOP: int = _signal.SIGSTOP

NUMBERS: dict[str, int] = {name: getattr(_signal, name) for name in dir(_signal)
                           if name.startswith("SIG") and not name.startswith("SIG_")}


def parse_signal(text: str | int, field: str = "--signal") -> int:
    """A signal number from 9, "9", "KILL", "SIGKILL" or "sigkill"."""
    if isinstance(text, int) or text.isdigit():
        number = int(text)
        if not 0 < number < 65:
            raise InvalidOption(field, f"invalid signal number {number}")
        return number
    name = text.upper()
    name = name if name.startswith("SIG") else "SIG" + name
    if name not in NUMBERS:
        raise InvalidOption(field, f"unknown signal {text!r}: use a name like SIGTERM or a number")
    return NUMBERS[name]
