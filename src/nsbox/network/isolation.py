"""nsbox's own firewall chains per bridge (iptables): in the filter table, containers on
one nsbox network cannot reach another nsbox network's containers, and an --internal
network has no way out; in the nat table, one MASQUERADE for the network's outbound
traffic (the bridge plugin's ipMasq makes a chain per container instead: ~8 iptables
execs on every ADD and DEL, most of a bridged start's cost on this machine). Every nsbox bridge is named nsbox*, so one wildcard rule
covers them all. The chain and its FORWARD jumps go with the network; nothing else of
the host's firewall is touched (no policy, no other chain).
"""
from __future__ import annotations

from nsbox.errors import NetworkError

PREFIX = "nsbox"


def chain(bridge: str) -> str:
    return "NSBOX-" + bridge  # a bridge name has at most 15 characters: 21 < iptables' 28


def _iptables(*args: str, check: bool = True) -> bool:
    import subprocess
    completed = subprocess.run(["iptables", "-w", *args], capture_output=True, text=True)
    if check and completed.returncode != 0:
        raise NetworkError(f"iptables {' '.join(args)}: {completed.stderr.strip()}")
    return completed.returncode == 0


def _jumps(bridge: str, internal: bool) -> list[list[str]]:
    jumps = [["-i", bridge, "-j", chain(bridge)]]
    if internal:
        jumps.append(["-o", bridge, "!", "-i", bridge, "-j", "DROP"])
    return jumps


def add(bridge: str, internal: bool, subnet: str) -> None:
    if not bridge.startswith(PREFIX):
        raise NetworkError(f"bridge {bridge}: nsbox's bridges are named {PREFIX}* (its isolation rules match that)")
    name = chain(bridge)
    if not _iptables("-N", name, check=False):
        _iptables("-F", name)
    _iptables("-A", name, "-o", bridge, "-j", "RETURN")
    _iptables("-A", name, "-o", PREFIX + "+", "-j", "DROP")
    if internal:
        _iptables("-A", name, "-j", "DROP")
    for jump in _jumps(bridge, internal):
        if not _iptables("-C", "FORWARD", *jump, check=False):
            _iptables("-I", "FORWARD", *jump)
    if not internal:
        if not _iptables("-t", "nat", "-N", name, check=False):
            _iptables("-t", "nat", "-F", name)
        _iptables("-t", "nat", "-A", name, "-d", subnet, "-j", "RETURN")
        _iptables("-t", "nat", "-A", name, "-d", "224.0.0.0/4", "-j", "RETURN")
        _iptables("-t", "nat", "-A", name, "-j", "MASQUERADE")
        if not _iptables("-t", "nat", "-C", "POSTROUTING", "-s", subnet, "-j", name, check=False):
            _iptables("-t", "nat", "-A", "POSTROUTING", "-s", subnet, "-j", name)


def remove(bridge: str, subnet: str) -> None:
    while _iptables("-t", "nat", "-D", "POSTROUTING", "-s", subnet, "-j", chain(bridge), check=False):
        pass
    if _iptables("-t", "nat", "-F", chain(bridge), check=False):
        _iptables("-t", "nat", "-X", chain(bridge), check=False)
    for internal in (True, False):
        for jump in _jumps(bridge, internal):
            while _iptables("-D", "FORWARD", *jump, check=False):
                pass
    if _iptables("-F", chain(bridge), check=False):
        _iptables("-X", chain(bridge), check=False)
