"""Published ports: -p/--publish and -P parsed into Docker's PortBindings, host ports
chosen and checked free, and claimed host-wide until the container's network is torn
down (a DNAT rule holds no socket, so two containers could otherwise take one port).
"""
from __future__ import annotations

import os

from nsbox.errors import ConfigError, NetworkError

PROTOCOLS = ("tcp", "udp")


def _port_range(text: str, item: str, flag: str = "--publish") -> list[int]:
    low, _, high = text.partition("-")
    try:
        first, last = int(low), int(high or low)
    except ValueError:
        raise ConfigError(flag, f"{text!r} is not a port or a port range in {item!r}") from None
    if not 0 < first <= last <= 65535:
        raise ConfigError(flag, f"ports must be 1-65535 (low-high), got {text!r} in {item!r}")
    return list(range(first, last + 1))


def _with_protocol(item: str, flag: str) -> tuple[str, str]:
    """("80", "tcp") from "80" or "80/tcp"; a protocol other than tcp or udp refused."""
    spec, _, protocol = item.partition("/")
    protocol = protocol or "tcp"
    if protocol not in PROTOCOLS:
        raise ConfigError(flag, f"unknown protocol {protocol!r} in {item!r}: use tcp or udp")
    return spec, protocol


def parse_expose(items: list[str]) -> dict[str, dict]:
    """--expose PORT[-PORT][/tcp|udp] as Config.ExposedPorts ({"80/tcp": {}}): what -P publishes."""
    exposed: dict[str, dict] = {}
    for item in items:
        spec, protocol = _with_protocol(item, "--expose")
        exposed.update((f"{port}/{protocol}", {}) for port in _port_range(spec, item, "--expose"))
    return exposed


def parse_publish(items: list[str]) -> dict[str, list[dict]]:
    """[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp] (ports or equal-length ranges) as
    {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]} ("" host port: a free one at start)."""
    bindings: dict[str, list[dict]] = {}
    for item in items:
        spec, protocol = _with_protocol(item, "--publish")
        parts = spec.split(":")
        if len(parts) > 3:
            raise ConfigError("--publish", f"must be [HOST_IP:][HOST_PORT:]CONTAINER_PORT, got {item!r}")
        host_ip = parts[0] if len(parts) == 3 else ""
        host_text = parts[-2] if len(parts) >= 2 else ""
        if host_ip:
            _check_ip(host_ip, item)
        container_ports = _port_range(parts[-1], item)
        host_ports: list[int | None] = list(_port_range(host_text, item)) if host_text else [None] * len(container_ports)
        if len(host_ports) != len(container_ports):
            raise ConfigError("--publish", f"the host and container port ranges differ in length in {item!r}")
        for host_port, container_port in zip(host_ports, container_ports):
            bindings.setdefault(f"{container_port}/{protocol}", []).append(
                {"HostIp": host_ip, "HostPort": str(host_port) if host_port else ""})
    return bindings


def _check_ip(text: str, item: str) -> None:
    import ipaddress
    try:
        if ipaddress.ip_address(text).version != 4:
            raise ValueError
    except ValueError:
        raise ConfigError("--publish", f"{text!r} is not an IPv4 address of this host in {item!r}") from None


def publish_all(exposed: dict, bindings: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """-P: every exposed port of the image (not already published) on a free host port."""
    merged = {key: list(value) for key, value in bindings.items()}
    for key in exposed:
        port = key if "/" in key else key + "/tcp"
        merged.setdefault(port, [{"HostIp": "", "HostPort": ""}])
    return merged


def _registry() -> str:
    from nsbox.network.subnets import HOST_STATE
    return os.path.join(HOST_STATE, "ports")


def _in_use_by_host(protocol: str, host_ip: str, port: int) -> bool:
    import _socket
    kind = _socket.SOCK_STREAM if protocol == "tcp" else _socket.SOCK_DGRAM
    sock = _socket.socket(_socket.AF_INET, kind | _socket.SOCK_CLOEXEC, 0)
    try:
        sock.bind((host_ip or "0.0.0.0", port))
        return False
    except OSError:
        return True
    finally:
        sock.close()


def _free_port(protocol: str, host_ip: str) -> int:
    import _socket
    kind = _socket.SOCK_STREAM if protocol == "tcp" else _socket.SOCK_DGRAM
    sock = _socket.socket(_socket.AF_INET, kind | _socket.SOCK_CLOEXEC, 0)
    try:
        sock.bind((host_ip or "0.0.0.0", 0))
        return sock.getsockname()[1]
    finally:
        sock.close()


def claim(bindings: dict[str, list[dict]], owner: str) -> list[dict]:
    """Host ports for every binding (free ones where none was given), each checked free on
    the host and claimed for `owner`; CNI portMappings. NetworkError names a taken port."""
    from nsbox.network.subnets import host_lock
    mappings: list[dict] = []
    with host_lock():
        os.makedirs(_registry(), exist_ok=True)
        try:
            for key, entries in bindings.items():
                container_port, _, protocol = key.partition("/")
                for entry in entries:
                    host_ip = entry.get("HostIp") or ""
                    for _ in range(20):
                        host_port = int(entry.get("HostPort") or 0) or _free_port(protocol, host_ip)
                        claim_file = os.path.join(_registry(), f"{protocol}-{host_port}")
                        taken = os.path.exists(claim_file) or _in_use_by_host(protocol, host_ip, host_port)
                        if not taken or entry.get("HostPort"):
                            break
                    if taken:
                        raise NetworkError(f"host port {host_port}/{protocol} is already in use (by "
                                           f"{_holder(claim_file)}): publish another port, or stop what holds it")
                    with open(claim_file, "w") as out:
                        out.write(owner)
                    mappings.append({"hostPort": host_port, "containerPort": int(container_port),
                                     "protocol": protocol, "hostIP": host_ip})
        except BaseException:
            _release(mappings)
            raise
    return mappings


def _holder(claim_file: str) -> str:
    try:
        with open(claim_file) as owner:
            return "nsbox container " + owner.read()[:12]
    except FileNotFoundError:
        return "a process of this host"


def _release(mappings: list[dict]) -> None:
    for mapping in mappings:
        try:
            os.unlink(os.path.join(_registry(), f"{mapping['protocol']}-{mapping['hostPort']}"))
        except FileNotFoundError:
            pass


def docker_ports(mappings: list[dict], bindings: dict) -> dict:
    """NetworkSettings.Ports: every published or exposed port and where the host has it."""
    ports: dict = {key: None for key in bindings}
    for mapping in mappings:
        key = f"{mapping['containerPort']}/{mapping['protocol']}"
        ports.setdefault(key, None)
        ports[key] = (ports[key] or []) + [{"HostIp": mapping["hostIP"] or "0.0.0.0",
                                            "HostPort": str(mapping["hostPort"])}]
    return ports


def ports_text(ports: dict) -> str:
    """ps's PORTS column: 127.0.0.1:8080->80/tcp, 443/tcp."""
    shown = []
    for key, entries in sorted((ports or {}).items()):
        if not entries:
            shown.append(key)
        for entry in entries or []:
            shown.append(f"{entry['HostIp']}:{entry['HostPort']}->{key}")
    return ", ".join(shown)


def release_owner(owner: str) -> None:
    """Free every host port `owner` holds (whatever a crash left recorded or not)."""
    from nsbox.network.subnets import host_lock
    directory = _registry()
    if not os.path.isdir(directory):
        return
    with host_lock():
        released = False
        for name in os.listdir(directory):
            path = os.path.join(directory, name)
            try:
                with open(path) as holder:
                    if holder.read() == owner:
                        os.unlink(path)
                        released = True
            except FileNotFoundError:
                pass
        if released and not os.listdir(directory):
            remove_unused_portmap_chains()


# The portmap plugin makes these nat chains (and their jumps) at its first mapping and never
# removes them; they are shared by every CNI user of this host (podman too).
PORTMAP_CHAINS = ("CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-MASQ", "CNI-HOSTPORT-SETMARK")
PORTMAP_JUMPS = (("PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT"),
                 ("OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT"),
                 ("POSTROUTING", "-m", "comment", "--comment", "CNI portfwd requiring masquerade",
                  "-j", "CNI-HOSTPORT-MASQ"))


def remove_unused_portmap_chains() -> None:
    """Once no port of nsbox is published, remove portmap's chains if no one else's mapping
    uses them (CNI-HOSTPORT-DNAT holds a jump per mapped container, of any CNI user)."""
    import subprocess

    def nat(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["iptables", "-w", "-t", "nat", *args], capture_output=True, text=True)

    listed = nat("-S", "CNI-HOSTPORT-DNAT")
    if listed.returncode != 0 or listed.stdout.strip() != "-N CNI-HOSTPORT-DNAT":
        return  # not there, or still in use by a mapping
    for jump in PORTMAP_JUMPS:
        while nat("-D", *jump).returncode == 0:
            pass
    for name in PORTMAP_CHAINS:
        nat("-F", name)
        nat("-X", name)
