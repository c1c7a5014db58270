"""Docker's human units (its go-units package): "17 seconds", "About an hour", "1.99MB"."""
from __future__ import annotations


def human_duration(seconds: float) -> str:
    """units.HumanDuration: how `docker ps` and `docker images` say how long ago."""
    if seconds < 1:
        return "Less than a second"
    if seconds < 2:
        return "1 second"
    if seconds < 60:
        return f"{int(seconds)} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def human_size(size: float, precision: int = 3) -> str:
    """units.HumanSizeWithPrecision: decimal units, `precision` significant digits ("1.99MB")."""
    units = ("B", "kB", "MB", "GB", "TB", "PB", "EB")
    index = 0
    while size >= 1000 and index < len(units) - 1:
        size /= 1000
        index += 1
    return f"{size:.{precision}g}{units[index]}"


def go_time(stamp: str) -> str:
    """An RFC 3339 UTC stamp as Go prints a time.Time: "2026-12-01 21:16:17 +0000 UTC"."""
    return f"{stamp[:10]} {stamp[11:19]} +0000 UTC" if stamp else ""
