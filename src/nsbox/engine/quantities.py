"""Docker's spellings of sizes ("256m", "1.5g") and CPU counts ("1.5")."""
from __future__ import annotations

from nsbox.errors import InvalidOption

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
INT64_MAX = (1 << 63) - 1  # Docker's (and the kernel's) largest byte count or count
SECONDS_MAX = (1 << 31) - 1  # the longest timeout a user may give (Docker's int; select's is larger)


def parse_size(text: str, field: str, maximum: int = INT64_MAX) -> int:
    """Bytes from "256m", "1.5G", "512kb", "1024" (binary units, as Docker reads them);
    refused, naming `field`, beyond `maximum` (nothing wraps modulo 2^64)."""
    value = text.strip().lower()
    if value.endswith("b") and len(value) > 1 and value[-2] in "kmgtp":
        value = value[:-1]
    unit = value[-1:] if value[-1:] in "bkmgtp" else ""
    number = value[:-1] if unit else value
    try:
        amount: float = int(number) if number.isdigit() else float(number)  # exact when whole
    except ValueError:
        amount = float("nan")
    if amount != amount or amount in (float("inf"), float("-inf")) or "_" in number:
        raise InvalidOption(field, f"invalid size {text!r}: use a number with an optional unit b, k, m or g "
                                 "(e.g. 256m)")
    if amount < 0:
        raise InvalidOption(field, f"must not be negative, got {text!r}")
    if amount * _UNITS[unit] > maximum:
        raise InvalidOption(field, f"{text!r} is too large: the most is {maximum} bytes")
    return int(amount * _UNITS[unit])


def parse_int(text: str, field: str, minimum: int | None = None, maximum: int | None = INT64_MAX) -> int:
    """An integer from a user, refused (naming `field`) outside minimum..maximum."""
    try:
        value = int(text)
    except ValueError:
        raise InvalidOption(field, f"must be an integer, got {text!r}") from None
    if minimum is not None and value < minimum or maximum is not None and value > maximum:
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        if minimum is None:
            bounds = f"at most {maximum}"
        raise InvalidOption(field, f"must be {bounds}, got {value}")
    return value


def format_size(amount: float) -> str:
    """1.5GiB, 256MiB, 12.3kB ... as `docker stats` shows them."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if amount >= size:
            return f"{amount / size:.4g}{unit}"
    return f"{amount:.0f}B"
