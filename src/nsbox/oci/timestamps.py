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
    """Seconds since the epoch from a UTC stamp as written above ("" is 0.0). Plain
    arithmetic: time.strptime imports _strptime, calendar, locale and re (~8 ms), once per
    `nsbox stats` or `ps`."""
    if not stamp:
        return 0.0
    if len(stamp) < 19 or stamp[4] + stamp[7] + stamp[13] + stamp[16] != "--::" or stamp[10] not in "Tt ":
        raise ValueError(f"not an RFC 3339 time: {stamp!r}")
    year, month, day = int(stamp[0:4]), int(stamp[5:7]), int(stamp[8:10])
    hour, minute, second = int(stamp[11:13]), int(stamp[14:16]), int(stamp[17:19])
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59 and second <= 61):
        raise ValueError(f"not an RFC 3339 time: {stamp!r}")
    fraction = stamp[19:].rstrip("Z")
    whole = ((_days_since_epoch(year, month, day) * 24 + hour) * 60 + minute) * 60 + second
    return whole + (float(fraction) if fraction.startswith(".") else 0.0)


def _days_since_epoch(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to the given date of the proleptic Gregorian calendar (the
    days-from-civil algorithm: years counted from March, so that February comes last)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468
