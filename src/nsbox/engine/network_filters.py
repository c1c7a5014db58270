"""Which networks a filter keeps (networks.list(filters=...); Docker's `network ls --filter`
keys). As for containers (nsbox.engine.filters): the values of one key are alternatives,
and every key must hold. A network here is its `network inspect` shape
(nsbox.engine.networking.docker_network)."""
from __future__ import annotations

from nsbox.errors import InvalidOption

KEYS = ("name", "id", "driver", "label", "type", "dangling")
BUILTIN = ("bridge", "host", "none")  # the networks Docker calls builtin: not made by a user


def matches(network: dict, filters: dict[str, list[str]]) -> bool:
    """True if `network` passes, for every key of `filters`, one of its values."""
    for key in filters:
        if key not in KEYS:
            raise InvalidOption("filters", f"unknown network filter {key!r}: use {', '.join(KEYS)}")
    return all(any(_holds(network, key, str(value)) for value in values) for key, values in filters.items())


def _holds(network: dict, key: str, value: str) -> bool:
    if key == "name":  # all or part of the name, as Docker
        return value in network["Name"]
    if key == "id":
        return value in network["Id"]
    if key == "driver":
        return bool(network["Driver"] == value)
    if key == "label":
        name, has_value, expected = value.partition("=")
        labels = network.get("Labels") or {}
        return name in labels and (not has_value or labels[name] == expected)
    if key == "type":
        if value not in ("custom", "builtin"):
            raise InvalidOption("filters", f"type={value}: use type=custom or type=builtin")
        return (network["Name"] in BUILTIN) == (value == "builtin")
    if value.lower() not in ("true", "false", "1", "0"):  # dangling
        raise InvalidOption("filters", f"dangling={value}: use dangling=true or dangling=false")
    unused = network["Name"] not in BUILTIN and not network.get("Containers")
    return unused == (value.lower() in ("true", "1"))
