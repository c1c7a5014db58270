"""A container's networks: ADD when it starts, DEL on every path that ends it.

The namespace is a file (nsbox.network.netns) that outlives the container's processes,
so DEL always finds the interfaces it must remove, even after a kill -9 of everything.
What ADD returned is kept with the container (NetworkSettings, Docker's shape, plus the
raw CNI results) and handed back to DEL.
"""
from __future__ import annotations

import os

from nsbox.errors import ConfigError
from nsbox.network import cni, conflists, netns, ports
from nsbox.network.modes import sandbox_path

def bandwidth(rate: int) -> dict:
    """The bandwidth plugin's runtime config: `rate` both ways, a burst of 1/10 s (at least 16 KiB)."""
    burst = max(rate // 10, 16 * 1024 * 8)
    return {"ingressRate": rate, "ingressBurst": burst, "egressRate": rate, "egressBurst": burst}


def _call(container_id: str, sandbox: str, ifname: str, endpoint: dict, mappings: list[dict], rate: int) -> cni.Call:
    runtime_config: dict = {}
    if mappings:
        runtime_config["portMappings"] = mappings
    requested = endpoint.get("IPAMConfig") or {}
    addresses = [address for address in (requested.get("IPv4Address"), requested.get("IPv6Address")) if address]
    if addresses:
        runtime_config["ips"] = addresses
    if endpoint.get("MacAddress"):
        runtime_config["mac"] = endpoint["MacAddress"]
    if rate:
        runtime_config["bandwidth"] = bandwidth(rate)
    return cni.Call(container_id, sandbox, ifname, runtime_config=runtime_config)


def ipam_config(ip: str, ip6: str = "") -> dict | None:
    """An endpoint's IPAMConfig (--ip, --ip6: the addresses asked for), None if none is."""
    requested = {key: address for key, address in (("IPv4Address", ip), ("IPv6Address", ip6)) if address}
    return requested or None


def check_requested(conflist: dict, endpoint: dict) -> None:
    """Refuse an address asked for (--ip, --ip6) that the network cannot give, before any plugin runs."""
    import ipaddress
    requested = endpoint.get("IPAMConfig") or {}
    for flag, key, address_range in (("--ip", "IPv4Address", conflists.ipam_range(conflist)),
                                     ("--ip6", "IPv6Address", conflists.ipv6_range(conflist))):
        address = requested.get(key)
        if not address:
            continue
        if not address_range.get("subnet"):
            raise ConfigError(flag, f"network {conflist['name']} has no IPv6 subnet: use one made with --ipv6 "
                                    "(network create --ipv6 --subnet ...)")
        try:
            inside = ipaddress.ip_address(address) in ipaddress.ip_network(address_range["subnet"])
        except ValueError as error:
            raise ConfigError(flag, str(error)) from None
        if not inside:
            raise ConfigError(flag, f"{address} is not in network {conflist['name']}'s subnet "
                                    f"{address_range['subnet']}")


def interfaces(settings: dict) -> dict[str, str]:
    """network name -> the container's interface on it (eth0, eth1 ... in the order of
    Networks where NetworkSettings does not say: a record of an older nsbox)."""
    named = settings.get("Interfaces") or {}
    return {name: named.get(name) or f"eth{index}" for index, name in enumerate(settings.get("Networks") or {})}


def free_interface(settings: dict) -> str:
    """The first ethN that none of the container's networks uses."""
    used = set(interfaces(settings).values())
    return next(f"eth{index}" for index in range(len(used) + 1) if f"eth{index}" not in used)


class Attaching:
    """The container's networks being ADDed: the namespace is made and the ports claimed at
    once, the first network's plugins start and run while the caller goes on (the runtime
    creates the container in the namespace meanwhile); finish() waits, ADDs the rest and
    gives the new NetworkSettings. On any failure everything made so far is released again."""

    def __init__(self, root: str, run_dir: str, container_id: str, host_config: dict, settings: dict) -> None:
        self.root, self.run_dir, self.container_id, self.settings = root, run_dir, container_id, settings
        self.sandbox = sandbox_path(run_dir, container_id)
        self.bindings = host_config.get("PortBindings") or {}
        self.rate = host_config.get("NetworkRate") or 0
        self.networks = dict(settings.get("Networks") or {})
        self.results: dict[str, dict] = {}
        self.mappings: list[dict] = []
        self.first: cni.Chain | None = None
        try:
            self.mappings = ports.claim(self.bindings, container_id) if self.bindings else []
            netns.create(self.sandbox)
            if self.networks:
                self.first = self._chain(0, next(iter(self.networks)))
        except BaseException:
            self.cancel()
            raise

    def _chain(self, index: int, name: str) -> cni.Chain:
        call = _call(self.container_id, self.sandbox, f"eth{index}", self.networks[name],
                     self.mappings if index == 0 else [], self.rate)  # ports: on the first network
        conflist = conflists.load_claimed(self.root, name)
        check_requested(conflist, self.networks[name])
        return cni.Chain("ADD", conflist, call)

    def finish(self) -> dict:
        try:
            for index, name in enumerate(list(self.networks)):
                chain = self.first if index == 0 and self.first else self._chain(index, name)
                self.first = None
                self.results[name] = chain.wait()
                self.networks[name] = endpoint_settings(chain.conflist, self.networks[name], self.results[name],
                                                        self.container_id)
        except BaseException:
            self.cancel()
            raise
        return dict(self.settings, Networks=self.networks, SandboxKey=self.sandbox, CNI=self.results,
                    Interfaces={name: f"eth{index}" for index, name in enumerate(self.networks)},
                    PortMappings=self.mappings, Ports=ports.docker_ports(self.mappings, self.bindings),
                    **primary(self.networks))

    def cancel(self) -> None:
        """Wait for a plugin still running, then release everything (safe to repeat)."""
        if self.first is not None:
            try:
                self.first.wait()
            except Exception:  # noqa: BLE001 - what it made is released below all the same
                pass
            self.first = None
        detach(self.root, self.run_dir, self.container_id,
               dict(self.settings, CNI=self.results, PortMappings=self.mappings, Interfaces={}), self.rate)


def attach(root: str, run_dir: str, container_id: str, host_config: dict, settings: dict) -> dict:
    """Make the namespace, publish the ports, ADD every network; the new NetworkSettings."""
    return Attaching(root, run_dir, container_id, host_config, settings).finish()


# Plugins whose DEL needs no namespace: what they made inside it (the container's end of a
# veth, a macvlan, an ipvlan) the kernel removes with the namespace, and what they made
# outside (the address lease, port rules, an ifb device) they release from their
# prevResult alone. The bridge plugin's own delete of the veth in the namespace takes
# 20-40 ms (the kernel's synchronous unregister); the namespace's end does it in the
# background (`benchmarks/run --case net-plugins`).
NAMESPACE_FREE_DEL = frozenset({"bridge", "macvlan", "ipvlan", "portmap", "bandwidth"})


class Detaching:
    """DEL of every network (in reverse), the last network's plugins started at once so the
    caller can overlap them with other work; finish() DELs the rest, removes the namespace
    and frees the ports, and returns what could not be released. Safe to repeat, and after
    any crash.

    When no process is left in the namespace and every plugin is one of NAMESPACE_FREE_DEL,
    the namespace is unmounted first and the plugins called without it (CNI_NETNS empty, as
    the CNI spec allows for a namespace that is gone): the kernel then deletes the
    container's interfaces, and their host ends, as the namespace ends a few ms later."""

    def __init__(self, root: str, run_dir: str, container_id: str, settings: dict, rate: int = 0) -> None:
        self.root, self.run_dir, self.container_id, self.rate = root, run_dir, container_id, rate
        self.sandbox = sandbox_path(run_dir, container_id)
        self.mappings = settings.get("PortMappings") or []
        self.results = settings.get("CNI") or {}
        self.failures: list[str] = []
        self.interfaces = interfaces(settings)
        networks = reversed(list((settings.get("Networks") or {}).items()))
        loaded = [(name, endpoint, conflist) for name, endpoint in networks
                  if (conflist := self._load(name)) is not None]
        types = {plugin.get("type") for _, _, conflist in loaded for plugin in conflist["plugins"]}
        if types <= NAMESPACE_FREE_DEL:
            netns.release_unused(self.sandbox)
        inside = self.sandbox if netns.bound(self.sandbox) is not None else ""
        self.pending = [self._step(name, endpoint, conflist, inside) for name, endpoint, conflist in loaded]
        self.running = cni.Chain("DEL", *self.pending.pop(0)) if self.pending else None

    def _load(self, name: str) -> dict | None:
        """The network's conflist, or None if there are no plugins to call: the conflist is
        gone or broken, or the parent interface of a macvlan or ipvlan network is gone (its
        plugin then refuses every DEL, and the kernel removed the container's sub-interface
        with the parent). The container's addresses are then freed the way host-local's DEL
        would."""
        try:
            conflist = conflists.load(self.root, name)
            parent = conflists.meta(conflist).get("parent")
            if not parent or os.path.exists(f"/sys/class/net/{parent}"):
                return conflist
        except Exception:  # noqa: BLE001 - a removed or broken conflist: nothing to call
            pass
        from nsbox.network.subnets import release_addresses
        release_addresses(self.container_id)
        return None

    def _step(self, name: str, endpoint: dict, conflist: dict, inside: str) -> tuple[dict, cni.Call, dict | None]:
        """What DEL of one network needs."""
        ifname = self.interfaces[name]
        call = _call(self.container_id, inside, ifname, endpoint, self.mappings if ifname == "eth0" else [], self.rate)
        return (conflist, call, self.results.get(name))

    def finish(self) -> list[str]:
        chain, self.running = self.running, None
        while chain is not None:
            chain.wait()
            self.failures += chain.failures
            chain = cni.Chain("DEL", *self.pending.pop(0)) if self.pending else None
        netns.remove(self.sandbox)
        ports.release_owner(self.container_id)
        return self.failures


def detach(root: str, run_dir: str, container_id: str, settings: dict, rate: int = 0) -> list[str]:
    """DEL every network, remove the namespace, free the ports; what could not be released."""
    return Detaching(root, run_dir, container_id, settings, rate).finish()


def add_network(root: str, container_id: str, sandbox: str, name: str, ifname: str, endpoint: dict,
                rate: int) -> tuple[dict, dict]:
    """ADD one more network to a running container's namespace: (its endpoint settings, the
    CNI result). On failure what the plugins made is released again."""
    conflist = conflists.load_claimed(root, name)
    check_requested(conflist, endpoint)
    call = _call(container_id, sandbox, ifname, endpoint, [], rate)
    try:
        result = cni.add(conflist, call)
    except BaseException:
        cni.delete(conflist, call, None)
        raise
    return endpoint_settings(conflist, endpoint, result, container_id), result


def remove_network(root: str, container_id: str, sandbox: str, name: str, settings: dict, rate: int) -> list[str]:
    """DEL one network of a running container (its ports go with eth0's); the failures."""
    ifname = interfaces(settings)[name]
    endpoint = (settings.get("Networks") or {})[name]
    mappings = (settings.get("PortMappings") or []) if ifname == "eth0" else []
    call = _call(container_id, sandbox if os.path.exists(sandbox) else "", ifname, endpoint, mappings, rate)
    return cni.delete(conflists.load(root, name), call, (settings.get("CNI") or {}).get(name))


def primary(networks: dict) -> dict:
    """NetworkSettings' top-level address fields: the first network's, as Docker's."""
    first: dict = next(iter(networks.values()), {})
    return {"IPAddress": first.get("IPAddress", ""), "IPPrefixLen": first.get("IPPrefixLen", 0),
            "Gateway": first.get("Gateway", ""), "MacAddress": first.get("MacAddress", "")}


def endpoint_settings(conflist: dict, endpoint: dict, result: dict, container_id: str) -> dict:
    """One entry of NetworkSettings.Networks, from the CNI result."""
    interfaces = result.get("interfaces") or []
    inside = [i for i, interface in enumerate(interfaces) if interface.get("sandbox")]
    ours = [entry for entry in result.get("ips") or [] if not inside or entry.get("interface") in inside]
    ip: dict = next((entry for entry in ours if ":" not in entry.get("address", "")), {})
    ip6: dict = next((entry for entry in ours if ":" in entry.get("address", "")), {})
    address, _, prefix = (ip.get("address") or "").partition("/")
    address6, _, prefix6 = (ip6.get("address") or "").partition("/")
    mac = interfaces[inside[0]].get("mac", "") if inside else ""
    meta = conflists.meta(conflist)
    return {"IPAMConfig": endpoint.get("IPAMConfig"), "Links": None, "Aliases": endpoint.get("Aliases") or [],
            "MacAddress": mac, "NetworkID": meta.get("id", ""), "EndpointID": container_id[:32] + conflist["name"],
            "Gateway": ip.get("gateway", ""), "IPAddress": address, "IPPrefixLen": int(prefix or 0),
            "IPv6Gateway": ip6.get("gateway", ""), "GlobalIPv6Address": address6,
            "GlobalIPv6PrefixLen": int(prefix6 or 0), "DriverOpts": None,
            "DNSNames": endpoint.get("DNSNames") or []}


def set_rate(root: str, run_dir: str, container_id: str, settings: dict, rate: int) -> None:
    """--network-rate on a running container: the bandwidth plugin's DEL, then its ADD with
    the new rate (CNI has no update), on every network."""
    sandbox = sandbox_path(run_dir, container_id)
    names = interfaces(settings)
    for name, endpoint in (settings.get("Networks") or {}).items():
        conflist = conflists.load(root, name)
        for plugin in conflist["plugins"]:
            if plugin.get("type") != "bandwidth":
                continue
            previous = (settings.get("CNI") or {}).get(name)
            old = _call(container_id, sandbox, names[name], endpoint, [], 0)
            cni.run_plugin("DEL", cni.plugin_config(conflist, plugin, old, previous), old)
            _remove_shaping(previous or {})
            if rate:
                new = _call(container_id, sandbox, names[name], endpoint, [], rate)
                cni.run_plugin("ADD", cni.plugin_config(conflist, plugin, new, previous), new)


def _remove_shaping(result: dict) -> None:
    """The qdiscs the bandwidth plugin put on the host end of the veth (its DEL removes
    only its ifb device: the veth usually goes with the container)."""
    import subprocess
    for interface in result.get("interfaces") or []:
        name = interface.get("name", "")
        if not interface.get("sandbox") and name.startswith("veth"):
            for kind in ("root", "ingress"):
                subprocess.run(["tc", "qdisc", "del", "dev", name, kind], capture_output=True)
