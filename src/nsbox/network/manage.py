"""Networks made and removed: `nsbox network create/rm/prune` below the CLI.

A user-defined bridge network gets its own Linux bridge (nsbox-<id>), a subnet claimed
host-wide, its firewall chains, and its conflist; a macvlan or ipvlan network only a
subnet claim and its conflist (the plugin makes each container's interface on the
parent); removing a network takes all of them away.
"""
from __future__ import annotations

import os

from nsbox.errors import ConfigError, NetworkError, StateError
from nsbox.network import conflists, isolation, subnets


def _check_name(name: str) -> None:
    import re
    if name in conflists.PREDEFINED:
        raise ConfigError("NAME", f"{name} is a pre-defined network: choose another name")
    if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}", name):
        raise ConfigError("NAME", f"invalid network name {name!r}: letters, digits, _ . - (up to 64)")


def create_bridge(root: str, name: str, subnet: str = "", gateway: str = "", ip_range: str = "",
                  internal: bool = False, labels: dict[str, str] | None = None) -> dict:
    """A new bridge network; its conflist."""
    _check_name(name)
    if os.path.exists(os.path.join(conflists.config_dir(root), name + ".conflist")):
        raise ConfigError("NAME", f"network {name} exists already")
    network_id = os.urandom(32).hex()
    bridge = "nsbox-" + network_id[:9]
    claim = subnets.claim(bridge, subnet or None, f"network {name} of {os.path.abspath(root)}")
    try:
        conflist = conflists.make_bridge(name, bridge, claim["subnet"], gateway, ip_range, internal,
                                         labels or {}, network_id)
        isolation.add(bridge, internal, claim["subnet"])
        conflists.save(root, conflist, exclusive=True)
    except BaseException:
        remove_bridge(bridge, claim["subnet"])
        raise
    return conflist


SUB_INTERFACE_MODES = {"macvlan": ("macvlan_mode", ("bridge", "vepa", "private", "passthru"), "bridge"),
                       "ipvlan": ("ipvlan_mode", ("l2", "l3", "l3s"), "l2")}


# Why a bridge network has no IPv6 here: the bridge plugin, as the gateway, turns on
# net.ipv6.conf.all.forwarding at the first container, a host-wide switch that every interface
# follows (the host becomes an IPv6 router, and an interface with accept_ra=1 stops taking its
# default route from router advertisements). IPv4 forwarding has no such side effect.
BRIDGE_IPV6 = ("a bridge network has no IPv6 in nsbox: its gateway would turn on IPv6 forwarding for the "
               "whole host (net.ipv6.conf.all.forwarding, which makes every interface a router's and stops "
               "interfaces with accept_ra=1 taking routes from router advertisements); use --driver macvlan or "
               "ipvlan for IPv6 addresses")


def given_subnets(driver: str, given: list[str], ipv6: bool) -> tuple[str, str]:
    """Subnets given up to twice (--subnet, IPAM Config): (the IPv4 one, the IPv6 one), as Docker
    takes them; an IPv6 one needs IPv6 enabled, which needs a macvlan or ipvlan network here."""
    if ipv6 and driver == "bridge":
        raise ConfigError("--ipv6", BRIDGE_IPV6)
    v4 = [subnet for subnet in given if ":" not in subnet]
    v6 = [subnet for subnet in given if ":" in subnet]
    if len(v4) > 1 or len(v6) > 1:
        raise ConfigError("--subnet", f"give at most one IPv4 and one IPv6 subnet, got {', '.join(given)}")
    if v6 and not ipv6:
        raise ConfigError("--subnet", f"{v6[0]} is an IPv6 subnet: enable IPv6 as well (--ipv6, EnableIPv6)")
    if ipv6 and not v6:
        raise ConfigError("--ipv6", "needs an IPv6 --subnet as well (a unique local one, like fd42:1::/64)")
    return (v4[0] if v4 else ""), (v6[0] if v6 else "")


def ipam_configs(subnets: list[str], gateways: list[str], ip_ranges: list[str]) -> list[dict]:
    """`network create`'s --subnet, --gateway and --ip-range (each up to once per address family)
    as the Engine API's IPAM Config: each gateway and range goes with the subnet of its family, as
    the docker CLI pairs them."""
    configs = [{"Subnet": subnet} for subnet in subnets]
    for flag, key, values in (("--gateway", "Gateway", gateways), ("--ip-range", "IPRange", ip_ranges)):
        for value in values:
            family = [config for config in configs if (":" in config["Subnet"]) == (":" in value)]
            if not family and ":" not in value and not subnets:  # no subnet given: nsbox chooses one
                configs.append({"Subnet": ""})
                family = configs[-1:]
            if not family:
                raise ConfigError(flag, f"{value} has no --subnet of its address family")
            if key in family[0]:
                raise ConfigError(flag, f"give at most one per address family, got {family[0][key]} and {value}")
            family[0][key] = value
    return configs


def from_ipam(driver: str, configs: list[dict], ipv6: bool) -> tuple[str, str, str, str]:
    """(subnet, gateway, ip_range, subnet6) from the Engine API's IPAM Config ({Subnet, Gateway,
    IPRange} per address family). An IPv6 network's gateway is its subnet's first address."""
    import ipaddress
    configs = [dict(config, Subnet=config.get("Subnet") or "") for config in configs if config and any(config.values())]
    subnet, subnet6 = given_subnets(driver, [config["Subnet"] for config in configs if config["Subnet"]], ipv6)
    v4 = next((config for config in configs if ":" not in config["Subnet"]), {})
    v6 = next((config for config in configs if ":" in config["Subnet"]), {})
    if v6.get("IPRange"):
        raise ConfigError("IPRange", f"{v6['IPRange']}: an IPv6 range is not supported here; IPv6 addresses "
                                     f"come from the whole subnet {subnet6}")
    if v6.get("Gateway"):
        try:
            first = ipaddress.ip_network(subnet6, strict=False)[1]
            given = ipaddress.ip_address(v6["Gateway"])
        except ValueError as error:
            raise ConfigError("IPAM", f"{subnet6}, gateway {v6['Gateway']}: {error}") from None
        if given != first:
            raise ConfigError("Gateway", f"{given}: an IPv6 network's gateway is its subnet's first address "
                                         f"here ({first})")
    return subnet, v4.get("Gateway") or "", v4.get("IPRange") or "", subnet6


def create(root: str, name: str, driver: str = "bridge", subnet: str = "", gateway: str = "", ip_range: str = "",
           internal: bool = False, labels: dict[str, str] | None = None,
           options: dict[str, str] | None = None, subnet6: str = "") -> dict:
    """A new network of `driver` (bridge, macvlan, ipvlan; -o parent=IF for the last two); its
    conflist. `subnet6`: an IPv6 subnet as well (macvlan and ipvlan only: BRIDGE_IPV6)."""
    options = dict(options or {})
    if subnet6 and driver == "bridge":
        raise ConfigError("--ipv6", BRIDGE_IPV6)
    if driver == "bridge":
        if options:
            raise ConfigError("--opt", f"a bridge network takes no options here, got {sorted(options)}")
        return create_bridge(root, name, subnet, gateway, ip_range, internal, labels)
    if driver not in SUB_INTERFACE_MODES:
        raise ConfigError("--driver", f"unknown driver {driver!r}: use bridge, macvlan or ipvlan")
    _check_name(name)
    if os.path.exists(os.path.join(conflists.config_dir(root), name + ".conflist")):
        raise ConfigError("NAME", f"network {name} exists already")
    mode_key, modes, mode = SUB_INTERFACE_MODES[driver]
    parent = options.pop("parent", "")
    mode = options.pop(mode_key, mode)
    if options:
        raise ConfigError("--opt", f"unknown option(s) for {driver}: {sorted(options)} (parent, {mode_key})")
    if not parent or not os.path.exists(f"/sys/class/net/{parent}"):
        raise ConfigError("--opt", f"{driver} needs -o parent=INTERFACE naming one of this host's interfaces "
                                   f"(got {parent!r}; see `ip link`)")
    if mode not in modes:
        raise ConfigError("--opt", f"{mode_key} must be one of {', '.join(modes)}, got {mode!r}")
    network_id = os.urandom(32).hex()
    key = "nsbox-" + network_id[:9]  # the host-wide claim of its subnet and its address store
    claim = subnets.claim(key, subnet or None, f"network {name} of {os.path.abspath(root)}", host_routes_too=False,
                          subnet6=subnet6)
    try:
        conflist = conflists.make_sub_interface(driver, name, parent, mode, key, claim["subnet"], gateway, ip_range,
                                                internal, labels or {}, network_id, claim.get("subnet6", ""))
        conflists.save(root, conflist, exclusive=True)
    except BaseException:
        subnets.release(key)
        raise
    return conflist


def remove(root: str, name: str, users: list[str]) -> None:
    """Remove a user-defined network that no container uses (`users`: their names)."""
    if name in conflists.PREDEFINED:
        raise StateError(f"{name} is a pre-defined network and cannot be removed")
    conflist = conflists.load(root, name)
    if users:
        raise StateError(f"network {name} is in use by container(s) {', '.join(sorted(users))}: "
                         "remove them or disconnect them first")
    conflists.remove(root, name)
    bridge = conflists.bridge_name(conflist)
    if bridge:
        remove_bridge(bridge, conflists.ipam_range(conflist).get("subnet", ""))
    elif conflists.meta(conflist).get("claim"):  # macvlan, ipvlan: its subnet claim and address store
        subnets.release(conflists.meta(conflist)["claim"])


def remove_bridge(bridge: str, subnet: str) -> None:
    """The Linux bridge, its firewall chains and its host-wide claim and IPAM store."""
    import subprocess
    if os.path.exists(f"/sys/class/net/{bridge}"):
        completed = subprocess.run(["ip", "link", "delete", bridge, "type", "bridge"], capture_output=True, text=True)
        if completed.returncode != 0 and os.path.exists(f"/sys/class/net/{bridge}"):
            raise NetworkError(f"ip link delete {bridge}: {completed.stderr.strip()}")
    isolation.remove(bridge, subnet)
    subnets.release(bridge)
