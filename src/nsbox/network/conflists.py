"""The networks of one nsbox root, each a CNI config list (`<name>.conflist`) that a user
can read, edit and extend with plugins of their own.

nsbox's own facts about a network (its ID, driver, labels, --internal) sit under the
top-level key "nsbox", which CNI readers ignore. The default network `bridge` is
written on first use: Linux bridge nsbox0 (NSBOX_BRIDGE names another, as the tests
do), with the subnet the host-wide claim gives that bridge.
"""
from __future__ import annotations

import os

from nsbox.errors import AlreadyExists, ConfigError, NetworkNotFound
from nsbox.network import subnets
from nsbox.oci import jsonio

DEFAULT_NETWORK = "bridge"
DEFAULT_BRIDGE = "nsbox0"
PREDEFINED = ("bridge", "host", "none")
DRIVERS = ("bridge", "macvlan", "ipvlan")


def config_dir(root: str) -> str:
    """Where the root's conflists live (NSBOX_CNI_CONFIG_DIR, else <root>/networks)."""
    return os.environ.get("NSBOX_CNI_CONFIG_DIR") or os.path.join(root, "networks")


def _path(root: str, name: str) -> str:
    return os.path.join(config_dir(root), name + ".conflist")


def load(root: str, name: str) -> dict:
    """The named network's conflist (the default network is made on first use)."""
    try:
        with open(_path(root, name), "rb") as conflist:
            return jsonio.loads(conflist.read())
    except FileNotFoundError:
        if name == DEFAULT_NETWORK:
            return _create_default(root)
        raise NetworkNotFound(f"no such network: {name!r} (see `nsbox network ls`)") from None
    except ValueError as error:
        raise ConfigError(_path(root, name), f"not a valid CNI config list: {error}") from None


def load_claimed(root: str, name: str) -> dict:
    """load() for a container about to use the network: its subnet is claimed host-wide (again,
    if the claim is gone), so that no other network can take it meanwhile."""
    conflist = load(root, name)
    key = bridge_name(conflist) or meta(conflist).get("claim", "")
    if key and not os.path.exists(subnets.claim_path(key)):
        _claim_again(root, conflist, key)
    return conflist


def _claim_again(root: str, conflist: dict, key: str) -> None:
    """The host-wide claim of a network's subnet is gone (/run was emptied by a reboot, or the
    file was removed) while its conflist stays: claim the same subnet again, and for a bridge
    its firewall chains, before a container uses it; refused if another network took it."""
    from nsbox.errors import NetworkError
    name, subnet, bridged = conflist["name"], ipam_range(conflist).get("subnet", ""), bool(bridge_name(conflist))
    if not subnet:  # a user's own IPAM (not host-local's ranges): nothing nsbox handed out
        return
    owner = f"default network of {key}" if name == DEFAULT_NETWORK else f"network {name} of {os.path.abspath(root)}"
    try:
        claim = subnets.claim(key, subnet, owner, host_routes_too=bridged, subnet6=ipv6_range(conflist).get("subnet", ""))
    except ConfigError as error:
        raise NetworkError(f"network {name}: its subnet {subnet} is no longer claimed on this host and cannot be "
                           f"claimed again ({error.rule}): remove the "
                           f"network (nsbox network rm {name}) and create it again") from None
    from nsbox.network import isolation
    if claim.get("new") and bridged and key.startswith(isolation.PREFIX):
        isolation.add(key, bool(meta(conflist).get("internal")), claim["subnet"])


def names(root: str) -> list[str]:
    directory = config_dir(root)
    found = sorted(entry[:-9] for entry in os.listdir(directory) if entry.endswith(".conflist")) \
        if os.path.isdir(directory) else []
    return found if DEFAULT_NETWORK in found else [DEFAULT_NETWORK] + found


def save(root: str, conflist: dict, exclusive: bool = False) -> None:
    from nsbox.linux.store_files import write_atomic
    os.makedirs(config_dir(root), exist_ok=True)
    path = _path(root, conflist["name"])
    data = (_pretty(conflist) + "\n").encode()
    if not exclusive:
        write_atomic(path, data)
        return
    import _thread
    temporary = f"{path}.new-{os.getpid()}-{_thread.get_ident():x}"  # threads of one process too (the API)
    write_atomic(temporary, data)
    try:
        os.link(temporary, path)  # fails if the name is taken: never half a file under it
    except FileExistsError:
        raise AlreadyExists(f"network {conflist['name']!r} exists already") from None
    finally:
        os.unlink(temporary)


def remove(root: str, name: str) -> None:
    os.unlink(_path(root, name))


def meta(conflist: dict) -> dict:
    return conflist.get("nsbox") or {}


def main_plugin(conflist: dict) -> dict:
    """The plugin that makes the interface (bridge, macvlan, ipvlan): the list's first."""
    return conflist["plugins"][0]


def bridge_name(conflist: dict) -> str:
    return main_plugin(conflist).get("bridge", "")


def ipam_range(conflist: dict) -> dict:
    """{subnet, gateway, rangeStart?, rangeEnd?} of the network's first IPv4 range."""
    ranges = (main_plugin(conflist).get("ipam") or {}).get("ranges") or [[{}]]
    return ranges[0][0]


def ipv6_range(conflist: dict) -> dict:
    """{subnet, gateway} of the network's IPv6 range ({} if it has none)."""
    ranges = (main_plugin(conflist).get("ipam") or {}).get("ranges") or []
    return next((r[0] for r in ranges[1:] if r and ":" in r[0].get("subnet", "")), {})


def _ipam(subnet: str, gateway: str, ip_range: str, internal: bool, data_dir: str, subnet6: str = "") -> dict:
    """host-local over one IPv4 range (checked), and an IPv6 one if given, with default routes
    unless --internal."""
    import ipaddress
    net = ipaddress.ip_network(subnet, strict=False)
    gateway = gateway or str(net.network_address + 1)
    if ipaddress.ip_address(gateway) not in net:
        raise ConfigError("--gateway", f"{gateway} is not in the subnet {net}")
    address_range: dict = {"subnet": str(net), "gateway": gateway}
    if ip_range:
        try:
            part = ipaddress.ip_network(ip_range, strict=False)
        except ValueError:
            raise ConfigError("--ip-range", f"not a CIDR range: {ip_range!r}") from None
        if not part.subnet_of(net):  # type: ignore[arg-type]
            raise ConfigError("--ip-range", f"{part} is not inside the subnet {net}")
        address_range["rangeStart"] = str(part.network_address + (1 if part.prefixlen < 31 else 0))
        address_range["rangeEnd"] = str(part.broadcast_address - (1 if part.prefixlen < 31 else 0))
    ipam: dict = {"type": "host-local", "ranges": [[address_range]], "dataDir": data_dir}
    if not internal:
        ipam["routes"] = [{"dst": "0.0.0.0/0"}]
    if subnet6:
        net6 = ipaddress.ip_network(subnet6, strict=False)
        ipam["ranges"].append([{"subnet": str(net6), "gateway": str(net6.network_address + 1)}])
        if not internal:
            ipam["routes"].append({"dst": "::/0"})
    return ipam


def make_bridge(name: str, bridge: str, subnet: str, gateway: str, ip_range: str, internal: bool,
                labels: dict[str, str], network_id: str) -> dict:
    """A conflist for a bridge network: bridge + host-local, portmap (-p), bandwidth (--network-rate).
    Outbound NAT is one rule per network (nsbox.network.isolation), not the plugin's ipMasq."""
    ipam = _ipam(subnet, gateway, ip_range, internal, subnets.ipam_dir(bridge))
    return {
        "cniVersion": "1.0.0",
        "name": name,
        "nsbox": {"id": network_id, "driver": "bridge", "internal": internal, "labels": labels,
                  "created": _now()},
        "plugins": [
            {"type": "bridge", "bridge": bridge, "isGateway": True, "ipMasq": False, "hairpinMode": True,
             "capabilities": {"ips": True, "mac": True}, "ipam": ipam},
            {"type": "portmap", "capabilities": {"portMappings": True}},
            {"type": "bandwidth", "capabilities": {"bandwidth": True}},
        ],
    }


def make_sub_interface(driver: str, name: str, parent: str, mode: str, claim_key: str, subnet: str, gateway: str,
                       ip_range: str, internal: bool, labels: dict[str, str], network_id: str,
                       subnet6: str = "") -> dict:
    """A conflist for a macvlan or ipvlan network: each container gets an interface of its
    own on the host's interface `parent` (its LAN), addresses from host-local; no ports
    (the containers are on the LAN themselves), bandwidth (--network-rate)."""
    from nsbox.network import subnets
    main: dict = {"type": driver, "master": parent, "mode": mode,
                  "ipam": _ipam(subnet, gateway, ip_range, internal, subnets.ipam_dir(claim_key), subnet6)}
    main["capabilities"] = {"ips": True, "mac": True} if driver == "macvlan" else {"ips": True}
    return {
        "cniVersion": "1.0.0",
        "name": name,
        "nsbox": {"id": network_id, "driver": driver, "internal": internal, "labels": labels, "created": _now(),
                  "parent": parent, "claim": claim_key, "ipv6": bool(subnet6)},
        "plugins": [main, {"type": "bandwidth", "capabilities": {"bandwidth": True}}],
    }


def _create_default(root: str) -> dict:
    bridge = os.environ.get("NSBOX_BRIDGE") or DEFAULT_BRIDGE
    claim = subnets.claim(bridge, None, f"default network of {bridge}")
    if claim.get("new"):
        from nsbox.network import isolation
        isolation.add(bridge, False, claim["subnet"])
    conflist = make_bridge(DEFAULT_NETWORK, bridge, claim["subnet"], "", "", False, {},
                           "0" * 52 + bridge.encode().hex()[:12].rjust(12, "0"))
    try:
        save(root, conflist, exclusive=True)
    except AlreadyExists:  # another process made it first
        return load(root, DEFAULT_NETWORK)
    return conflist


def _now() -> str:
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _pretty(conflist: dict) -> str:
    """Indented, for the user who reads and edits it (json's encoder: off the run path)."""
    import json
    return json.dumps(conflist, indent=2)
