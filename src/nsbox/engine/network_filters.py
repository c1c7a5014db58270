"""The networks `network ls` lists (the CLI, networks.list(filters=...), GET /networks), and
which of them a filter keeps (Docker's `network ls --filter` keys). As for containers
(nsbox.engine.filters): the values of one key are alternatives, except label's, which must all
hold (Docker's MatchKVList), and every key must hold. A
network here is its `network inspect` shape (nsbox.engine.networking.docker_network)."""
from __future__ import annotations

from nsbox.errors import InvalidOption

KEYS = ("name", "id", "driver", "label", "type", "dangling")
BUILTIN = ("bridge", "host", "none")  # the networks Docker calls builtin: not made by a user
MODES = (("host", "host"), ("none", "null"))  # (name, driver): listed as Docker lists them, no conflist
GO_ZERO_TIME = "0001-01-01T00:00:00Z"  # the modes' Created: made by no one, never (clients parse the time)


def listing(engine, filters: dict[str, list[str]], modes: bool = True) -> list[dict]:
    """Every network's shape (its conflists', then host and none if `modes`) that `filters` keep."""
    from nsbox.engine.networking import docker_network, network_users
    from nsbox.network import conflists
    check(filters)
    shown = [docker_network(conflists.load(engine.root, name), network_users(engine, name))
             for name in conflists.names(engine.root)]
    if modes:
        shown += [mode_shape(name) for name, _ in MODES]
    return [network for network in shown if matches(network, filters)]


def mode_shape(name: str) -> dict:
    """host's or none's `network inspect` shape (modes, not conflists)."""
    driver = dict(MODES)[name]
    return {"Name": name, "Id": name, "Created": GO_ZERO_TIME, "Driver": driver, "EnableIPv6": False,
            "Internal": False, "IPAM": {"Driver": "default", "Config": []}, "Options": {}, "Labels": {},
            "Containers": []}


def from_flags(items: list[str]) -> dict[str, list[str]]:
    """`--filter KEY=VALUE` given any number of times, as {KEY: [VALUE, ...]}."""
    filters: dict[str, list[str]] = {}
    for item in items:
        key, separator, value = item.partition("=")
        if not separator:
            raise InvalidOption("--filter", f"must be KEY=VALUE (as driver=bridge), got {item!r}")
        filters.setdefault(key, []).append(value)
    return filters


def from_api(filters: dict[str, object]) -> dict[str, list[str]]:
    """The Engine API's and docker-py's filters (a value, a list, or {value: true}) as lists of strings."""
    lists = {}
    for key, values in filters.items():
        if isinstance(values, dict):
            values = [value for value, wanted in values.items() if wanted]
        elif not isinstance(values, (list, tuple)):
            values = [values]
        lists[key] = [str(value).lower() if isinstance(value, bool) else str(value) for value in values]
    return lists


def check(filters: dict[str, list[str]]) -> None:
    """Refuse an unknown key, before any network is looked at."""
    for key in filters:
        if key not in KEYS:
            raise InvalidOption("filters", f"unknown network filter {key!r}: use {', '.join(KEYS)}")


def matches(network: dict, filters: dict[str, list[str]]) -> bool:
    """True if `network` passes, for every key of `filters`, one of its values."""
    check(filters)
    return all((all if key == "label" else any)(_holds(network, key, str(value)) for value in values)
               for key, values in filters.items())


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


PRUNE_KEYS = ("until", "label", "label!")  # Docker's `network prune --filter` keys


def check_prune(filters: dict[str, list[str]]) -> None:
    """Refuse an unknown prune key or a bad time, before anything is removed."""
    for key, values in filters.items():
        if key not in PRUNE_KEYS:
            raise InvalidOption("--filter", f"unknown prune filter {key!r}: use {', '.join(PRUNE_KEYS)}")
        for value in values if key == "until" else ():
            _before(value)


def prunable(network: dict, filters: dict[str, list[str]]) -> bool:
    """True if `network` passes every prune key: until (made before), label, label! (not labelled so)."""
    check_prune(filters)
    for key, values in filters.items():
        if key == "until":
            if not all(network["Created"] < _before(value) for value in values):
                return False
        elif key == "label":
            if not all(_holds(network, "label", value) for value in values):
                return False
        elif all(_holds(network, "label", value) for value in values):  # label!: all of them hold
            return False
    return True


def _before(value: str) -> str:
    """until=: a duration ago ("24h", "10m"), a Unix time or an RFC 3339 time, as an RFC 3339 prefix."""
    from nsbox.engine.logs import parse_since
    try:
        return parse_since(value)
    except InvalidOption:
        raise InvalidOption("--filter", f"until={value}: use a duration (24h, 10m), a Unix time or a time "
                                        "like 2026-01-02T15:04:05") from None
