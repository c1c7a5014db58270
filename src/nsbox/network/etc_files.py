"""A container's /etc/hosts, /etc/resolv.conf and /etc/hostname, as Docker writes them.

The files live in the container's directory and are bind-mounted over the image's; the
hosts file of a container on a user-defined network also lists the other containers
there (name, aliases), rewritten in place as they come and go, so that names resolve
with no DNS server at all.
"""
from __future__ import annotations

import os

from nsbox.errors import ConfigError

HOST_RESOLV_CONF = "/etc/resolv.conf"
FALLBACK_NAMESERVERS = ("8.8.8.8", "8.8.4.4")  # Docker's, when the host has only loopback ones
LOCALHOST_LINES = ("127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
                   "fe00::0\tip6-localnet", "ff00::0\tip6-mcastprefix", "ff02::1\tip6-allnodes",
                   "ff02::2\tip6-allrouters")
HOSTNAME_RULE = r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$"


def parse_extra_hosts(items: list[str]) -> list[str]:
    """--add-host NAME:IP (or NAME=IP; IP may be host-gateway) checked, as Docker keeps them."""
    if not items:
        return []
    import ipaddress
    import re
    checked = []
    for item in items:
        separator = "=" if "=" in item else ":"
        name, _, address = item.partition(separator)
        if not re.match(HOSTNAME_RULE, name) or not address:
            raise ConfigError("--add-host", f"must be NAME:IP (or NAME:host-gateway), got {item!r}")
        if address != "host-gateway":
            try:
                ipaddress.ip_address(address.strip("[]"))
            except ValueError:
                raise ConfigError("--add-host", f"{address!r} is not an IP address (in {item!r})") from None
        checked.append(f"{name}:{address}")
    return checked


def check_dns(servers: list[str]) -> list[str]:
    if not servers:
        return []
    import ipaddress
    for server in servers:
        try:
            ipaddress.ip_address(server)
        except ValueError:
            raise ConfigError("--dns", f"{server!r} is not an IP address") from None
    return list(servers)


def hosts(hostname: str, addresses: list[str], extra_hosts: list[str], gateway: str,
          peers: list[tuple[str, list[str]]]) -> str:
    """The hosts file: localhost, --add-host entries, the container's own names, its peers."""
    lines = list(LOCALHOST_LINES)
    for entry in extra_hosts:
        name, _, address = entry.partition(":")
        lines.append(f"{gateway if address == 'host-gateway' else address}\t{name}")
    short = hostname.split(".")[0]
    own = " ".join(dict.fromkeys([hostname, short]))
    for address in addresses:
        lines.append(f"{address}\t{own}")
    for address, names in peers:
        lines.append(f"{address}\t{' '.join(names)}")
    return "\n".join(lines) + "\n"


def resolv_conf(dns: list[str], search: list[str], options: list[str], own_netns: bool) -> str:
    """From the host's resolv.conf (its loopback nameservers dropped when the container has
    a network namespace of its own: they cannot answer there), --dns* replacing its parts."""
    servers, domains, host_options = [], [], []
    try:
        with open(HOST_RESOLV_CONF) as conf:
            for line in conf:
                fields = line.split()
                if len(fields) >= 2 and fields[0] == "nameserver":
                    servers.append(fields[1])
                elif fields and fields[0] in ("search", "domain"):
                    domains = fields[1:]
                elif fields and fields[0] == "options":
                    host_options += fields[1:]
    except FileNotFoundError:
        pass
    if own_netns:
        servers = [s for s in servers if not (s.startswith("127.") or s == "::1")] or list(FALLBACK_NAMESERVERS)
    lines = [f"nameserver {server}" for server in (dns or servers)]
    chosen_search = search or domains
    if chosen_search and chosen_search != ["."]:
        lines.append("search " + " ".join(chosen_search))
    chosen_options = options or host_options
    if chosen_options:
        lines.append("options " + " ".join(chosen_options))
    return "\n".join(lines) + "\n"


def rewrite(path: str, text: str) -> None:
    """Replace a bind-mounted file's content in place (a rename would leave the container
    looking at the old inode). Written over, then cut to its length: ext4 flushes a file
    truncated to zero at its close (auto_da_alloc), ~3 ms each, and a user network's
    hosts files are rewritten on every start and end of a peer. Unchanged: not written."""
    data = text.encode()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        if os.pread(fd, len(data) + 1, 0) == data:
            return
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)
