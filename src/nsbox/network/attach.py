"""A container's networks: ADD when it starts, DEL on every path that ends it.

The namespace is a file (nsbox.network.netns) that outlives the container's processes,
so DEL always finds the interfaces it must remove, even after a kill -9 of everything.
What ADD returned is kept with the container (NetworkSettings, Docker's shape, plus the
raw CNI results) and handed back to DEL.
"""
from __future__ import annotations

import os

from nsbox.errors import NetworkError
from nsbox.network import cni, conflists, netns, ports
from nsbox.network.modes import sandbox_path

def bandwidth(rate: int) -> dict:
    """The bandwidth plugin's runtime config: `rate` both ways, a burst of 1/10 s (at least 16 KiB)."""
    burst = max(rate // 10, 16 * 1024 * 8)
    return {"ingressRate": rate, "ingressBurst": burst, "egressRate": rate, "egressBurst": burst}


def _call(container_id: str, sandbox: str, index: int, endpoint: dict, mappings: list[dict], rate: int) -> cni.Call:
    runtime_config: dict = {}
    if index == 0 and mappings:
        runtime_config["portMappings"] = mappings
    address = (endpoint.get("IPAMConfig") or {}).get("IPv4Address")
    if address:
        runtime_config["ips"] = [address]
    if endpoint.get("MacAddress"):
        runtime_config["mac"] = endpoint["MacAddress"]
    if rate:
        runtime_config["bandwidth"] = bandwidth(rate)
    return cni.Call(container_id, sandbox, f"eth{index}", runtime_config=runtime_config)


def attach(root: str, run_dir: str, container_id: str, host_config: dict, settings: dict) -> dict:
    """Make the namespace, publish the ports, ADD every network; the new NetworkSettings.
    On failure everything made so far is released again."""
    sandbox = sandbox_path(run_dir, container_id)
    bindings = host_config.get("PortBindings") or {}
    rate = host_config.get("NetworkRate") or 0
    mappings = ports.claim(bindings, container_id) if bindings else []
    results: dict[str, dict] = {}
    networks = dict(settings.get("Networks") or {})
    try:
        netns.create(sandbox)
        for index, (name, endpoint) in enumerate(networks.items()):
            conflist = conflists.load(root, name)
            results[name] = cni.add(conflist, _call(container_id, sandbox, index, endpoint, mappings, rate))
            networks[name] = endpoint_settings(conflist, endpoint, results[name], container_id)
    except BaseException:
        detach(root, run_dir, container_id, dict(settings, CNI=results, PortMappings=mappings), rate)
        raise
    return dict(settings, Networks=networks, SandboxKey=sandbox, CNI=results, PortMappings=mappings,
                Ports=ports.docker_ports(mappings, bindings), **_primary(networks))


def detach(root: str, run_dir: str, container_id: str, settings: dict, rate: int = 0) -> list[str]:
    """DEL every network (in reverse), remove the namespace, free the ports; safe to repeat
    and after any crash. Returns what could not be released (for the caller to report)."""
    sandbox = sandbox_path(run_dir, container_id)
    failures: list[str] = []
    mappings = settings.get("PortMappings") or []
    results = settings.get("CNI") or {}
    networks = list((settings.get("Networks") or {}).items())
    for index in reversed(range(len(networks))):
        name, endpoint = networks[index]
        try:
            conflist = conflists.load(root, name)
        except NetworkError as error:
            failures.append(str(error))
            continue
        except Exception as error:  # noqa: BLE001 - a removed or broken conflist: nothing to call
            failures.append(f"network {name}: {error}")
            continue
        call = _call(container_id, sandbox if os.path.exists(sandbox) else "", index, endpoint, mappings, rate)
        failures += cni.delete(conflist, call, results.get(name))
    netns.remove(sandbox)
    ports.release_owner(container_id)
    return failures


def endpoint_settings(conflist: dict, endpoint: dict, result: dict, container_id: str) -> dict:
    """One entry of NetworkSettings.Networks, from the CNI result."""
    interfaces = result.get("interfaces") or []
    inside = [i for i, interface in enumerate(interfaces) if interface.get("sandbox")]
    ip: dict = next((entry for entry in result.get("ips") or []
               if not inside or entry.get("interface") in inside), {})
    address, _, prefix = (ip.get("address") or "").partition("/")
    mac = interfaces[inside[0]].get("mac", "") if inside else ""
    meta = conflists.meta(conflist)
    return {"IPAMConfig": endpoint.get("IPAMConfig"), "Links": None, "Aliases": endpoint.get("Aliases") or [],
            "MacAddress": mac, "NetworkID": meta.get("id", ""), "EndpointID": container_id[:32] + conflist["name"],
            "Gateway": ip.get("gateway", ""), "IPAddress": address, "IPPrefixLen": int(prefix or 0),
            "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DriverOpts": None,
            "DNSNames": endpoint.get("DNSNames") or []}


def _primary(networks: dict) -> dict:
    first: dict = next(iter(networks.values()), {})
    return {"IPAddress": first.get("IPAddress", ""), "IPPrefixLen": first.get("IPPrefixLen", 0),
            "Gateway": first.get("Gateway", ""), "MacAddress": first.get("MacAddress", "")}


def set_rate(root: str, run_dir: str, container_id: str, settings: dict, rate: int) -> None:
    """--network-rate on a running container: the bandwidth plugin's DEL, then its ADD with
    the new rate (CNI has no update), on every network."""
    sandbox = sandbox_path(run_dir, container_id)
    for index, (name, endpoint) in enumerate((settings.get("Networks") or {}).items()):
        conflist = conflists.load(root, name)
        for plugin in conflist["plugins"]:
            if plugin.get("type") != "bandwidth":
                continue
            previous = (settings.get("CNI") or {}).get(name)
            old = _call(container_id, sandbox, index, endpoint, [], 0)
            cni.run_plugin("DEL", cni.plugin_config(conflist, plugin, old, previous), old)
            _remove_shaping(previous or {})
            if rate:
                new = _call(container_id, sandbox, index, endpoint, [], rate)
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
