"""Host-wide network state: which subnet each nsbox bridge uses, and the IPAM store.

Linux bridges and routes belong to the host, not to an nsbox root, so the state that
hands out addresses on them is host-wide too (as Docker's and nerdctl's is): every
root that uses bridge B reads B's subnet from /run/nsbox-network/bridges/B and reserves
addresses in one host-local store, /run/nsbox-network/ipam/B. Two roots can therefore
never hand out one address on one bridge, and a new network never takes a subnet that
another root's bridge (or any route of the host) already covers. It lives under /run:
a reboot ends every container whose address it records.
"""
from __future__ import annotations

import os

from nsbox.errors import ConfigError, NetworkError

HOST_STATE = "/run/nsbox-network"
POOL = "10.90.0.0/16"  # cut into /24s; podman takes 10.88/16, docker 172.17/16
POOL_PREFIX = 24


def host_lock():
    """The host-wide lock every claim and release holds."""
    from nsbox.linux.store_files import locked
    os.makedirs(os.path.join(HOST_STATE, "bridges"), exist_ok=True)
    return locked(os.path.join(HOST_STATE, "lock"))


def ipam_dir(bridge: str) -> str:
    return os.path.join(HOST_STATE, "ipam", bridge)


def claims() -> dict[str, dict]:
    """bridge name -> its claim {"subnet", "owner"}."""
    import json
    found = {}
    directory = os.path.join(HOST_STATE, "bridges")
    for name in os.listdir(directory) if os.path.isdir(directory) else []:
        try:
            with open(os.path.join(directory, name)) as claim:
                found[name] = json.load(claim)
        except (OSError, ValueError):
            continue
    return found


def claim_path(bridge: str) -> str:
    return os.path.join(HOST_STATE, "bridges", bridge)


def host_routes(except_interface: str = "") -> list:
    """The host's IPv4 routes other than the default (from /proc/net/route), but for those
    through `except_interface` (a bridge's route to its own subnet)."""
    import ipaddress
    routes = []
    with open("/proc/net/route") as table:
        next(table)
        for line in table:
            fields = line.split()
            if fields[0] == except_interface:
                continue
            destination = ipaddress.IPv4Address(int(fields[1], 16).to_bytes(4, "little"))
            mask = bin(int(fields[7], 16)).count("1")
            if mask:
                routes.append(ipaddress.ip_network(f"{destination}/{mask}", strict=False))
    return routes


def claim(bridge: str, subnet: str | None, owner: str, host_routes_too: bool = True, subnet6: str = "") -> dict:
    """The subnet of `bridge`: its existing claim, else `subnet` (checked) or the first free
    /24 of the pool, claimed now for `owner`, with the IPv6 `subnet6` if given (checked
    against the other claims' own). `host_routes_too=False` for a macvlan/ipvlan network,
    whose subnets are usually its parent's LAN (the host's routes to them are expected)."""
    import ipaddress
    import json
    with host_lock():
        existing = claims()
        if bridge in existing:
            if subnet and ipaddress.ip_network(subnet, strict=False) != ipaddress.ip_network(existing[bridge]["subnet"]):
                raise ConfigError("--subnet", f"bridge {bridge} already uses {existing[bridge]['subnet']}")
            return existing[bridge]
        taken = [(f"nsbox bridge {name}", ipaddress.ip_network(c["subnet"])) for name, c in existing.items()]
        if host_routes_too:
            taken += [("a route of this host", route) for route in host_routes(except_interface=bridge)]
        if subnet:
            chosen = _checked(subnet, taken)
        else:
            chosen = next((candidate for candidate in ipaddress.ip_network(POOL).subnets(new_prefix=POOL_PREFIX)
                           if not any(candidate.overlaps(net) for _, net in taken)), None)
            if chosen is None:
                raise NetworkError(f"no free /{POOL_PREFIX} left in {POOL}: remove unused networks (nsbox network prune)")
        record = {"subnet": str(chosen), "owner": owner}
        if subnet6:
            record["subnet6"] = str(_checked_ipv6(subnet6, [(f"nsbox network {name}", ipaddress.ip_network(c["subnet6"]))
                                                            for name, c in existing.items() if c.get("subnet6")]))
        path = claim_path(bridge)
        with open(path + ".tmp", "w") as out:
            json.dump(record, out)
        os.rename(path + ".tmp", path)
        return dict(record, new=True)


def _checked(subnet: str, taken: list):
    network = _parsed(subnet, 4, "10.91.0.0/24")
    if network.prefixlen > 30:
        raise ConfigError("--subnet", f"must be an IPv4 subnet of at least 4 addresses (/30), got {subnet}")
    return _free(network, taken)


def _checked_ipv6(subnet: str, taken: list):
    network = _parsed(subnet, 6, "fd42:1::/64")
    if network.prefixlen > 120:
        raise ConfigError("--subnet", f"must be an IPv6 subnet of at least 256 addresses (/120), got {subnet}")
    if network.is_link_local or network.is_multicast or network.is_loopback:
        raise ConfigError("--subnet", f"{network} is a link-local, multicast or loopback range: choose a global "
                                      "or unique local one (fc00::/7)")
    return _free(network, taken)


def _parsed(subnet: str, version: int, example: str):
    import ipaddress
    try:
        network = ipaddress.ip_network(subnet, strict=False)
    except ValueError:
        raise ConfigError("--subnet", f"not a subnet in CIDR form like {example}: {subnet!r}") from None
    if network.version != version:
        raise ConfigError("--subnet", f"must be an IPv{version} subnet like {example}, got {subnet}")
    return network


def _free(network, taken: list):
    for what, other in taken:
        if network.overlaps(other):
            raise ConfigError("--subnet", f"{network} overlaps {other}, used by {what}: choose another subnet")
    return network


def release(bridge: str) -> None:
    """Forget `bridge`'s claim and its IPAM store (its network is gone)."""
    from nsbox.linux.store_files import remove_tree
    with host_lock():
        try:
            os.unlink(claim_path(bridge))
        except FileNotFoundError:
            pass
        remove_tree(ipam_dir(bridge))


def release_addresses(container_id: str) -> None:
    """Free every address host-local holds for `container_id`, on any bridge: what a CNI
    DEL would free, for a container whose record is too damaged to name its networks.
    host-local keeps one file per address holding the container's ID on its first line."""
    from nsbox.linux.store_files import locked
    top = os.path.join(HOST_STATE, "ipam")
    for bridge in os.listdir(top) if os.path.isdir(top) else []:
        for network in os.listdir(os.path.join(top, bridge)):
            directory = os.path.join(top, bridge, network)
            if not os.path.isdir(directory):
                continue
            with locked(os.path.join(directory, "lock")):  # host-local's own lock
                for name in os.listdir(directory):
                    if name[0].isdigit() and _holder(os.path.join(directory, name)) == container_id:
                        os.unlink(os.path.join(directory, name))


def _holder(reservation: str) -> str:
    try:
        with open(reservation) as held:
            return held.readline().strip()
    except OSError:
        return ""
