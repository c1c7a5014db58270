"""`ps --filter` (and containers.list(filters=...)): which container records a filter keeps."""
from __future__ import annotations

from nsbox.errors import InvalidOption


KEYS = ("name", "id", "status", "exited", "label")


def check(filters: list[str]) -> None:
    """Refuse a filter with an unknown key, before any record is looked at."""
    for item in filters:
        key = item.partition("=")[0]
        if key not in KEYS:
            raise InvalidOption("--filter", f"unknown filter {key!r}: use name, id, status, exited or label")


def matches(record: dict, filters: list[str]) -> bool:
    """True if the record passes every "KEY=VALUE" filter."""
    for item in filters:
        key, _, value = item.partition("=")
        state = record["State"]
        if key == "name":
            ok = value in (record.get("Name") or "")
        elif key == "id":
            ok = record["Id"].startswith(value)
        elif key == "status":
            ok = state.get("Status") == value
        elif key == "exited":
            ok = state.get("Status") == "exited" and str(state.get("ExitCode")) == value
        elif key == "label":
            name, has_value, wanted = value.partition("=")
            labels = (record.get("Config") or {}).get("Labels") or {}
            ok = name in labels and (not has_value or labels[name] == wanted)
        else:
            check([item])
        if not ok:
            return False
    return True
