"""A container's networking as the engine sees it: run options to HostConfig and
NetworkSettings, CNI ADD at launch and DEL on every end (nsbox.network does the work),
/etc/hosts, /etc/resolv.conf and /etc/hostname written and bind-mounted, and the hosts
files of a user network's containers kept listing each other (name resolution with no
DNS server: measured, a rewrite of a few small files costs far less than a resolver
process per network).
"""
from __future__ import annotations

import os

from nsbox.errors import ConfigError, NetworkError, NsboxError

MODES = ("none", "host", "bridge")


def network_config(options: dict, root: str, exposed: dict) -> tuple[dict, dict]:
    """HostConfig's network fields and the NetworkSettings a new container starts with."""
    from nsbox.network import etc_files, modes
    given = options.get("network") or "bridge"
    mode, *more = [given] if isinstance(given, str) else list(given) or ["bridge"]
    user_network = mode not in MODES and not mode.startswith("container:")
    if mode.startswith("container:") and len(mode) <= 10:
        raise ConfigError("--network", "container: needs a container name, as in container:web")
    if more and any(name in MODES or name.startswith("container:") for name in [mode, *more]):
        raise ConfigError("--network", "only user-defined networks can be joined together, got "
                                       + ", ".join([mode, *more]))
    if user_network:
        from nsbox.network import conflists
        for name in [mode, *more]:
            conflists.load(root, name)  # NotFound names the network
    own = modes.own_networks({"NetworkMode": mode})
    bindings: dict = {}
    if options.get("publish") or options.get("publish_all"):
        from nsbox.network import ports
        bindings = ports.parse_publish(options.get("publish") or [])
        if options.get("publish_all"):
            bindings = ports.publish_all(exposed, bindings)
    for flag in ("publish", "ip", "ip6", "mac_address", "network_alias", "network_rate"):
        if options.get(flag) and not own:
            raise ConfigError("--" + flag.replace("_", "-"), f"needs a bridge or user network, not --network {mode}")
    if options.get("network_alias") and not user_network:
        raise ConfigError("--network-alias", "works on user-defined networks only (nsbox network create)")
    host = {"NetworkMode": mode, "PortBindings": bindings, "PublishAllPorts": bool(options.get("publish_all")),
            "Dns": etc_files.check_dns(options.get("dns") or []), "DnsSearch": list(options.get("dns_search") or []),
            "DnsOptions": list(options.get("dns_option") or []),
            "ExtraHosts": etc_files.parse_extra_hosts(options.get("add_host") or []),
            "NetworkRate": modes.parse_rate(options["network_rate"]) if options.get("network_rate") else 0}
    networks = {}
    if own:
        from nsbox.network.attach import ipam_config
        networks[mode] = {"Aliases": list(options.get("network_alias") or []),
                          "IPAMConfig": ipam_config(options.get("ip") or "", options.get("ip6") or ""),
                          "MacAddress": options.get("mac_address") or ""}
        given_endpoints = options.get("network_endpoints") or {}  # the Engine API's, for the other networks
        networks.update((name, {"Aliases": [], "IPAMConfig": None, **given_endpoints.get(name, {}), "MacAddress": ""})
                        for name in more)
    return host, {"Networks": networks, "Ports": {}, "SandboxKey": ""}


class Connecting:
    """connect() in two halves, so that the runtime creates the container while the CNI
    plugins run (nothing of the container looks at its interfaces before its program starts,
    and start() comes after finish()). Made: the namespace, the ports claimed, the first
    plugin started, the /etc files written (hosts without the address yet); `record` has
    their paths, for the bundle's mounts."""

    def __init__(self, engine, record: dict) -> None:
        from nsbox.network.modes import own_networks, sandbox_path
        container_id = record["Id"]
        self.engine, self.container_id, self.attaching = engine, container_id, None
        if own_networks(record["HostConfig"]):
            from nsbox.network import attach
            if record["NetworkSettings"].get("SandboxKey"):  # left attached by a kill -9: release it first
                disconnect(engine, container_id)
                record = engine.store.load(container_id)
            sandbox = sandbox_path(engine.paths.run, container_id)
            # the intent recorded first, so that a crash half way is released by rm -f
            record = engine.store.update(container_id, lambda r: r["NetworkSettings"].update(SandboxKey=sandbox))
            try:
                self.attaching = attach.Attaching(engine.root, engine.paths.run, container_id, record["HostConfig"],
                                                  record["NetworkSettings"])
            except BaseException:
                self._forget_sandbox()
                raise
        try:
            self.record = write_etc_files(engine, record, refresh=False)
        except BaseException:
            self.cancel()
            raise

    def finish(self) -> dict:
        """Wait for the plugins; the record with the container's addresses (its hosts file
        and its peers' rewritten)."""
        if self.attaching is None:
            return self.record
        try:
            settings = self.attaching.finish()
        except BaseException:
            self._forget_sandbox()
            raise
        finally:
            self.attaching = None
        record = self.engine.store.update(self.container_id, lambda r: r.update(NetworkSettings=settings))
        return write_etc_files(self.engine, record)

    def cancel(self) -> None:
        """Release what was made (after a failed create): safe to repeat."""
        if self.attaching is not None:
            attaching, self.attaching = self.attaching, None
            try:
                attaching.cancel()
            finally:
                self._forget_sandbox()

    def _forget_sandbox(self) -> None:
        self.engine.store.update(self.container_id, lambda r: r["NetworkSettings"].update(SandboxKey=""))


def connect(engine, container_id: str) -> dict:
    """ADD the container's networks and write its /etc files; the updated record."""
    return Connecting(engine, engine.store.load(container_id)).finish()


class Disconnecting:
    """disconnect() in two halves: the plugins of the container's (last) network start DEL
    at once, and run while the caller goes on (the runtime's delete); finish() does the rest.
    Nothing, if the container holds no network."""

    def __init__(self, engine, container_id: str, record: dict | None = None) -> None:
        """`record`: the container's, when the caller has just loaded it."""
        self.engine, self.container_id, self.detaching, self.networks = engine, container_id, None, []
        if record is None:
            try:
                record = engine.store.load(container_id)
            except NsboxError:
                return
        settings = record.get("NetworkSettings") or {}
        if settings.get("SandboxKey"):
            from nsbox.network import attach
            self.networks = list(settings.get("Networks") or {})
            self.detaching = attach.Detaching(engine.root, engine.paths.run, container_id, settings,
                                              record["HostConfig"].get("NetworkRate") or 0)

    def finish(self) -> None:
        """Wait for the DEL; NetworkError if a plugin could not release its part. Then the
        record keeps the network (SandboxKey and all), so that `rm -f` or the next start
        calls DEL again instead of forgetting an address, a veth or a port rule."""
        if self.detaching is None:
            return
        detaching, self.detaching = self.detaching, None
        failures = detaching.finish()
        if failures:
            raise NetworkError(f"could not release the network of container {self.container_id[:12]}: "
                               + "; ".join(failures))

        def detached(r: dict) -> None:
            kept = {name: {"Aliases": endpoint.get("Aliases") or [], "IPAMConfig": endpoint.get("IPAMConfig"),
                           "MacAddress": r["Config"].get("MacAddress") or ""}
                    for name, endpoint in (r["NetworkSettings"].get("Networks") or {}).items()}
            r["NetworkSettings"] = {"Networks": kept, "Ports": {}, "SandboxKey": ""}
        try:  # (best effort: the DEL is done; a full disk must not keep `rm -f` from finishing)
            self.engine.store.update(self.container_id, detached)
        except (NsboxError, OSError):
            pass
        try:
            refresh_peers(self.engine, self.networks)
        except OSError:
            pass  # the peers' /etc/hosts keep a stale line until the next change: better than no rm


def disconnect(engine, container_id: str) -> None:
    """DEL every network the container is attached to; nothing if it is not."""
    Disconnecting(engine, container_id).finish()


def write_etc_files(engine, record: dict, refresh: bool = True) -> dict:
    """hosts, resolv.conf and hostname in the container's directory (or the host's two with
    --network host, another container's with container:NAME); their paths in the record.
    `refresh`: the other containers of its user networks learn its address too."""
    from nsbox.network import etc_files
    host, settings = record["HostConfig"], record.get("NetworkSettings") or {}
    mode = host.get("NetworkMode") or "none"
    hostname = record["Config"].get("Hostname") or record["Id"][:12]
    paths = etc_paths(engine.paths.container(record["Id"]), mode)
    if mode.startswith("container:"):
        other = engine.get(mode.partition(":")[2])
        paths.update(HostsPath=other.get("HostsPath") or "", ResolvConfPath=other.get("ResolvConfPath") or "")
    elif mode != "host":
        networks = settings.get("Networks") or {}
        addresses = [n["IPAddress"] for n in networks.values() if n.get("IPAddress")]
        gateway = next((n["Gateway"] for n in networks.values() if n.get("Gateway")), "")
        etc_files.rewrite(paths["HostsPath"], etc_files.hosts(hostname, addresses, host.get("ExtraHosts") or [],
                                                              gateway, peers_of(engine, record)))
        etc_files.rewrite(paths["ResolvConfPath"], etc_files.resolv_conf(
            host.get("Dns") or [], host.get("DnsSearch") or [], host.get("DnsOptions") or [], own_netns=True))
    etc_files.rewrite(paths["HostnamePath"], hostname + "\n")
    if any(record.get(key) != value for key, value in paths.items()):  # container:NAME's, or an older record's
        record = engine.store.update(record["Id"], lambda r: r.update(paths))
    if refresh and any(name not in ("bridge",) for name in settings.get("Networks") or {}):
        refresh_peers(engine, list(settings["Networks"]), skip=record["Id"])
    return record


def etc_paths(directory: str, mode: str) -> dict[str, str]:
    """Where a container in `directory` on network `mode` finds its hosts, resolv.conf and
    hostname files (container:NAME shares the other's first two, known only at its start).
    Recorded at creation, so that a start writes no configuration (and waits for no fsync)."""
    from nsbox.network.etc_files import HOST_RESOLV_CONF
    paths = {"HostsPath": os.path.join(directory, "hosts"), "ResolvConfPath": os.path.join(directory, "resolv.conf"),
             "HostnamePath": os.path.join(directory, "hostname")}
    if mode == "host":
        paths.update(HostsPath="/etc/hosts", ResolvConfPath=HOST_RESOLV_CONF)
    return paths


def _user_networks(names) -> list[str]:
    return [name for name in names if name != "bridge"]


def peers_of(engine, record: dict, network_records: list[dict] | None = None) -> list[tuple[str, list[str]]]:
    """(address, names) of the other containers on `record`'s user networks."""
    wanted = _user_networks((record.get("NetworkSettings") or {}).get("Networks") or {})
    if not wanted:
        return []
    entries = []
    for other in network_records if network_records is not None else attached_records(engine, wanted):
        if other["Id"] == record["Id"]:
            continue
        for name in wanted:
            endpoint = ((other.get("NetworkSettings") or {}).get("Networks") or {}).get(name) or {}
            if endpoint.get("IPAddress"):
                names = [other["Name"]] + list(endpoint.get("Aliases") or []) + [other["Id"][:12]]
                entries.append((endpoint["IPAddress"], list(dict.fromkeys(names))))
    return entries


def attached_records(engine, networks: list[str]) -> list[dict]:
    found = []
    for container_id in engine.store.ids():
        try:
            other = engine.store.load(container_id)
        except NsboxError:
            continue
        if any((((other.get("NetworkSettings") or {}).get("Networks") or {}).get(n) or {}).get("IPAddress")
               for n in networks):
            found.append(other)
    return found


def refresh_peers(engine, networks: list[str], skip: str = "") -> None:
    """Rewrite the hosts file of every container attached to these user networks."""
    from nsbox.linux.store_files import locked
    from nsbox.network import etc_files
    wanted = _user_networks(networks)
    if not wanted:
        return
    with locked(os.path.join(engine.paths.run, "hosts.lock")):
        records = attached_records(engine, wanted)
        for other in records:
            if other["Id"] == skip or not other.get("HostsPath", "").startswith(engine.paths.containers):
                continue
            host = other["HostConfig"]
            networks_of = other["NetworkSettings"]["Networks"]
            addresses = [n["IPAddress"] for n in networks_of.values() if n.get("IPAddress")]
            gateway = next((n["Gateway"] for n in networks_of.values() if n.get("Gateway")), "")
            hostname = other["Config"].get("Hostname") or other["Id"][:12]
            etc_files.rewrite(other["HostsPath"], etc_files.hosts(hostname, addresses, host.get("ExtraHosts") or [],
                                                                  gateway, peers_of(engine, other, records)))


def etc_mounts(record: dict) -> list[dict]:
    """OCI bind mounts of the container's hosts, resolv.conf and hostname files."""
    mounts = []
    shared = (record.get("HostConfig") or {}).get("NetworkMode") == "host"
    for key, destination in (("HostsPath", "/etc/hosts"), ("ResolvConfPath", "/etc/resolv.conf"),
                             ("HostnamePath", "/etc/hostname")):
        source = record.get(key)
        if source and os.path.exists(source):
            access = "ro" if shared and destination != "/etc/hostname" else "rw"
            mounts.append({"destination": destination, "type": "bind", "source": source,
                           "options": ["rbind", access, "rprivate"]})
    return mounts


def network_users(engine, name: str) -> list[str]:
    """Names of the containers (any state) that use network `name`."""
    users = []
    for container_id in engine.store.ids():
        try:
            other = engine.store.load(container_id)
        except NsboxError:
            continue
        if name in ((other.get("NetworkSettings") or {}).get("Networks") or {}):
            users.append(other.get("Name") or container_id[:12])
    return users


def set_networks(engine, reference: str, name: str, connect_it: bool, aliases: list[str], ip: str,
                 ip6: str = "") -> None:
    """`network connect/disconnect`: a running container joins or leaves the network at once
    (nsbox.engine.network_connect), any other at its next start."""
    from nsbox.errors import StateError
    from nsbox.network import conflists
    from nsbox.network.modes import own_networks
    record = engine.get(reference)
    if not own_networks(record["HostConfig"]) and connect_it:
        raise StateError(f"container {record['Name']} uses --network {record['HostConfig']['NetworkMode']}: "
                         "it cannot join other networks")
    status = record["State"]["Status"]
    if status in ("running", "paused") and record["NetworkSettings"].get("SandboxKey"):
        from nsbox.engine import network_connect
        if connect_it:
            network_connect.connect_running(engine, record, name, aliases, ip, ip6)
        else:
            network_connect.disconnect_running(engine, record, name)
        return
    if status in ("running", "paused", "restarting"):
        raise StateError(f"container {record['Name']} is {status}: try again once it runs or has stopped")
    from nsbox.network.attach import check_requested, ipam_config
    requested = ipam_config(ip, ip6)
    check_requested(conflists.load(engine.root, name), {"IPAMConfig": requested})

    def change(r: dict) -> None:
        networks = r["NetworkSettings"].setdefault("Networks", {})
        if connect_it:
            networks[name] = {"Aliases": aliases, "IPAMConfig": requested, "MacAddress": ""}
        elif name not in networks:
            raise StateError(f"container {r['Name']} is not connected to network {name}")
        else:
            del networks[name]
    engine.store.update(record["Id"], change)


def docker_network(conflist: dict, users: list[str]) -> dict:
    """A network as `docker network inspect` shows it (plus the conflist itself)."""
    from nsbox.network import conflists
    meta = conflists.meta(conflist)
    address_range = conflists.ipam_range(conflist)
    config = {"Subnet": address_range.get("subnet", ""), "Gateway": address_range.get("gateway", "")}
    if address_range.get("rangeStart"):
        config["IPRange"] = f"{address_range['rangeStart']}-{address_range.get('rangeEnd', '')}"
    configs = [config]
    ipv6 = conflists.ipv6_range(conflist)
    if ipv6:
        configs.append({"Subnet": ipv6.get("subnet", ""), "Gateway": ipv6.get("gateway", "")})
    return {"Name": conflist["name"], "Id": meta.get("id", ""), "Created": meta.get("created", ""),
            "Driver": meta.get("driver", conflists.main_plugin(conflist).get("type", "")), "EnableIPv6": bool(ipv6),
            "Internal": bool(meta.get("internal")), "IPAM": {"Driver": "host-local", "Config": configs},
            "Options": ({"com.docker.network.bridge.name": conflists.bridge_name(conflist)} if conflists.bridge_name(conflist)
                        else {"parent": meta.get("parent", "")}),
            "Labels": meta.get("labels") or {}, "Containers": users, "ConfList": conflist}


def find_network(engine, reference: str) -> dict:
    """The conflist of the network named `reference`, or whose ID is or starts with it (3+
    characters); NetworkNotFound if none."""
    from nsbox.errors import NetworkNotFound
    from nsbox.network import conflists
    if reference in conflists.names(engine.root):
        return conflists.load(engine.root, reference)
    if len(reference) >= 3:
        for name in conflists.names(engine.root):
            conflist = conflists.load(engine.root, name)
            if conflists.meta(conflist).get("id", "").startswith(reference):
                return conflist
    raise NetworkNotFound(f"no such network: {reference!r} (see `nsbox network ls`)")


def prune_networks(engine, filters: dict[str, list[str]] | None = None) -> list[str]:
    """Remove every user-defined network no container uses (and that `filters` keep: Docker's
    prune keys, nsbox.engine.network_filters.prunable); their names."""
    from nsbox.engine.network_filters import check_prune, prunable
    from nsbox.network import conflists, manage
    filters = filters or {}
    check_prune(filters)
    pruned = []
    for name in conflists.names(engine.root):
        if name not in conflists.PREDEFINED and not network_users(engine, name) and \
                (not filters or prunable(docker_network(conflists.load(engine.root, name), []), filters)):
            manage.remove(engine.root, name, [])
            pruned.append(name)
    return pruned
