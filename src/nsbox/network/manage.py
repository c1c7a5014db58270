"""Networks made and removed: `nsbox network create/rm/prune` below the CLI.

A user-defined bridge network gets its own Linux bridge (nsbox-<id>), a subnet claimed
host-wide, its firewall chains, and its conflist; removing it takes all of them away.
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


def remove_bridge(bridge: str, subnet: str) -> None:
    """The Linux bridge, its firewall chains and its host-wide claim and IPAM store."""
    import subprocess
    if os.path.exists(f"/sys/class/net/{bridge}"):
        completed = subprocess.run(["ip", "link", "delete", bridge, "type", "bridge"], capture_output=True, text=True)
        if completed.returncode != 0 and os.path.exists(f"/sys/class/net/{bridge}"):
            raise NetworkError(f"ip link delete {bridge}: {completed.stderr.strip()}")
    isolation.remove(bridge, subnet)
    subnets.release(bridge)
