"""nsbox.networks: user-defined networks (bridge, macvlan, ipvlan: CNI config lists) as
objects, over the engine's networking — the networks `nsbox network` makes and lists.

Containers on one user-defined network reach each other by name (and alias); a
container joins with `network=net` (the object or its name) in run/containers.run, or
`net.connect(container)`: a running one at once, any other at its next start.
"""
from __future__ import annotations

from nsbox.engine.containers import Engine

TYPE_CHECKING = False
if TYPE_CHECKING:
    import builtins
    from typing import Any

    from nsbox.api.containers import Container


class Network:
    """One network; attrs is `nsbox network inspect`'s shape (Name, Id, Driver, IPAM,
    Internal, Labels, Containers: the names of the containers using it)."""

    __slots__ = ("_engine", "attrs")

    def __init__(self, engine: Engine, attrs: dict[str, Any]) -> None:
        self._engine = engine
        self.attrs = attrs

    def __repr__(self) -> str:
        return f"<Network {self.short_id} {self.name}>"

    @property
    def id(self) -> str:
        return str(self.attrs["Id"])

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def name(self) -> str:
        return str(self.attrs["Name"])

    @property
    def containers(self) -> builtins.list[Container]:
        """The containers (any state) that use it."""
        from nsbox.api.containers import Container
        return [Container(self._engine, self._engine.get(name)) for name in self.attrs["Containers"]]

    def reload(self) -> None:
        self.attrs = _shape(self._engine, self.name)

    def connect(self, container: Container | str, *, aliases: builtins.list[str] | None = None,
                ipv4_address: str | None = None, ipv6_address: str | None = None) -> None:
        """Attach a container, reachable on the network by its name and `aliases`: a running
        one at once (a new interface), any other at its next start."""
        from nsbox.engine.networking import set_networks
        set_networks(self._engine, _reference(container), self.name, True, list(aliases or []), ipv4_address or "",
                     ipv6_address or "")
        self.reload()

    def disconnect(self, container: Container | str, *, force: bool = False) -> None:
        """Detach a container from the network (a running one at once). `force`: no error
        if the container is gone or not connected, and the container is detached even if
        the network plugin fails to take its interface down (that failure is dropped)."""
        from nsbox.engine.network_connect import disconnect
        disconnect(self._engine, _reference(container), self.name, force)
        self.reload()

    def remove(self) -> None:
        """Remove it: its bridge, firewall chains and subnet (refused while a container uses it)."""
        from nsbox.engine.networking import network_users
        from nsbox.network import manage
        manage.remove(self._engine.root, self.name, network_users(self._engine, self.name))


class Networks:
    """The networks below one root (nsbox.networks, Client.networks)."""

    __slots__ = ("_engine",)

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(self, name: str, *, driver: str = "bridge", options: dict[str, str] | None = None,
               subnet: str | None = None, gateway: str | None = None, ip_range: str | None = None,
               internal: bool = False, labels: dict[str, str] | None = None,
               ipam: dict[str, Any] | None = None, enable_ipv6: bool = False) -> Network:
        """A new network with a subnet of its own (one is chosen when not given): `driver`
        "bridge" (its own Linux bridge), or "macvlan"/"ipvlan" on a host interface
        (options={"parent": "eth1", "macvlan_mode"/"ipvlan_mode": ...}). `ipam`: docker-py's
        {"Config": [{"Subnet", "Gateway", "IPRange"}, ...]} instead of subnet/gateway/ip_range;
        with `enable_ipv6=True` (macvlan and ipvlan only) one of its configs is an IPv6 subnet
        and containers get an address of each family. `internal=True`: no route out of it."""
        from nsbox.network import manage
        configs = (ipam or {}).get("Config") or []
        if subnet or gateway or ip_range:
            configs = [{"Subnet": subnet, "Gateway": gateway, "IPRange": ip_range}]
        subnet, gateway, ip_range, subnet6 = manage.from_ipam(driver, configs, enable_ipv6)
        conflist = manage.create(self._engine.root, name, driver, subnet, gateway, ip_range, internal, labels or {},
                                 options or {}, subnet6)
        return Network(self._engine, _shape(self._engine, conflist["name"]))

    def get(self, name_or_id: str) -> Network:
        """The network with that name or ID (prefix of 3 or more); NetworkNotFound if none."""
        from nsbox.engine.networking import find_network
        return Network(self._engine, _shape(self._engine, find_network(self._engine, name_or_id)["name"]))

    def list(self, names: builtins.list[str] | None = None, ids: builtins.list[str] | None = None,
             filters: dict[str, object] | None = None) -> builtins.list[Network]:
        """The bridge networks (the default "bridge" and the user-defined ones), optionally
        only those with one of `names` or `ids` (host and none are modes, not listed).
        `filters`, as docker-py's: {"name": ..., "id": ..., "driver": "bridge",
        "label": "k" or "k=v", "type": "custom"|"builtin", "dangling": True}, each a value
        or a list of alternatives (labels: all must hold, as Docker's); all keys must hold."""
        from nsbox.engine.network_filters import from_api, listing
        return [Network(self._engine, shape) for shape in listing(self._engine, from_api(filters or {}), modes=False)
                if (names is None or shape["Name"] in names) and (ids is None or shape["Id"] in ids)]

    def prune(self, filters: dict[str, object] | None = None) -> builtins.list[str]:
        """Remove every user-defined network no container uses; their names. `filters`, as
        docker-py's: {"until": "24h" or a time, "label": "k" or "k=v", "label!": ...}."""
        from nsbox.engine.network_filters import from_api
        from nsbox.engine.networking import prune_networks
        return prune_networks(self._engine, from_api(filters or {}))


def _shape(engine: Engine, name: str) -> dict[str, Any]:
    from nsbox.engine.networking import docker_network, network_users
    from nsbox.network import conflists
    return docker_network(conflists.load(engine.root, name), network_users(engine, name))


def _reference(container: Container | str) -> str:
    return container if isinstance(container, str) else container.id
