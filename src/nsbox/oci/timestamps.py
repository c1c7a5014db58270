"""RFC 3339 UTC timestamps with nanoseconds, as OCI state, image configs and Docker write them."""
from __future__ import annotations

import time


def rfc3339_now() -> str:
    """The current time, e.g. "2024-05-01T12:00:00.123456789Z"."""
    return rfc3339(time.time_ns())


def rfc3339(nanoseconds: int) -> str:
    seconds, fraction = divmod(nanoseconds, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"


def go_rfc3339nano(stamp: str) -> str:
    """`stamp` as Go's time.RFC3339Nano renders it (Docker's inspect): the fraction's trailing
    zeros trimmed, no fraction at all when it is zero. (Not for stamps compared as strings.)"""
    head, dot, fraction = stamp.partition(".")
    if not dot or not fraction.endswith("Z"):
        return stamp
    digits = fraction[:-1].rstrip("0")
    return f"{head}.{digits}Z" if digits else head + "Z"


def parse_rfc3339(stamp: str) -> float:
    """Seconds since the epoch from a UTC stamp as written above ("" is 0.0)."""
    import calendar
    if not stamp:
        return 0.0
    whole = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
    fraction = stamp[19:].rstrip("Z")
    return whole + (float(fraction) if fraction.startswith(".") else 0.0)
