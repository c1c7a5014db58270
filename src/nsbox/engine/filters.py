"""`ps --filter` (and containers.list(filters=...), GET /containers/json?filters=): which
container records a filter keeps. As Docker: values of one key are alternatives, keys must all
hold."""
from __future__ import annotations

from nsbox.errors import InvalidOption


KEYS = ("name", "id", "status", "exited", "label", "ancestor")


def check(filters: list[str]) -> None:
    """Refuse a filter with an unknown key, before any record is looked at."""
    for item in filters:
        key = item.partition("=")[0]
        if key not in KEYS:
            raise InvalidOption("--filter", f"unknown filter {key!r}: use {', '.join(KEYS)}")


def from_api(filters: dict) -> list[str]:
    """The Engine API's filters ({"status": ["exited"]} or {"status": {"exited": true}}) as "KEY=VALUE"s."""
    return [f"{key}={value}" for key, values in filters.items()
            for value in (values if isinstance(values, (list, dict)) else [values])]


def matches(record: dict, filters: list[str]) -> bool:
    """True if the record passes, for every key, one of its "KEY=VALUE" filters."""
    wanted: dict[str, list[str]] = {}
    for item in filters:
        key, _, value = item.partition("=")
        wanted.setdefault(key, []).append(value)
    return all(any(_holds(record, key, value) for value in values) for key, values in wanted.items())


def _holds(record: dict, key: str, value: str) -> bool:
    state = record["State"]
    if key == "name":
        return value in (record.get("Name") or "")
    if key == "id":
        return bool(record["Id"].startswith(value))
    if key == "status":
        return bool(state.get("Status") == value)
    if key == "exited":
        return state.get("Status") == "exited" and str(state.get("ExitCode")) == value
    if key == "label":
        name, has_value, expected = value.partition("=")
        labels = (record.get("Config") or {}).get("Labels") or {}
        return name in labels and (not has_value or labels[name] == expected)
    if key == "ancestor":
        return value in ((record.get("Config") or {}).get("Image"), record.get("Image"))
    check([f"{key}={value}"])
    return False
