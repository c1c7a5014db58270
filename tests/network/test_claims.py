"""A network whose host-wide subnet claim is gone while its conflist stays (a reboot empties
/run, not <root>/networks): the claim is made again before a container uses the network, or
the use is refused when another network took the subnet meanwhile."""
from __future__ import annotations

import json
import os
import subprocess

from nsbox.network import isolation, subnets


def _bridge(nsbox, name: str) -> str:
    return json.loads(nsbox.out("network", "inspect", name))[0]["Options"]["com.docker.network.bridge.name"]


def _chain_exists(bridge: str) -> bool:
    return subprocess.run(["iptables", "-w", "-S", isolation.chain(bridge)], capture_output=True).returncode == 0


def test_a_network_whose_claim_is_gone_claims_its_subnet_again_before_use(nsbox):
    nsbox("network", "create", "--subnet", "10.90.246.0/24", "kept")
    bridge = _bridge(nsbox, "kept")
    os.unlink(subnets.claim_path(bridge))
    isolation.remove(bridge, "10.90.246.0/24")  # a reboot takes the firewall chains too
    assert not _chain_exists(bridge)
    out = nsbox.out("run", "--rm", "--network", "kept", "busybox", "ip", "-o", "-4", "addr", "show", "eth0")
    assert "10.90.246." in out
    claim = json.load(open(subnets.claim_path(bridge)))
    assert claim["subnet"] == "10.90.246.0/24" and nsbox.root in claim["owner"]
    assert _chain_exists(bridge)
    taken = nsbox("network", "create", "--subnet", "10.90.246.0/25", "clash", check=False)
    assert taken.returncode == 125 and "overlaps" in taken.stderr
    nsbox("network", "rm", "kept")
    assert not os.path.exists(subnets.claim_path(bridge)) and not _chain_exists(bridge)


def test_a_network_whose_subnet_was_taken_meanwhile_is_refused_and_can_be_removed(nsbox):
    nsbox("network", "create", "--subnet", "10.90.245.0/24", "lost")
    bridge = _bridge(nsbox, "lost")
    os.unlink(subnets.claim_path(bridge))
    other = f"nsboxc{os.getpid():x}"  # another network's claim of the same subnet
    subnets.claim(other, "10.90.245.0/24", f"a stand-in network of {nsbox.root}")
    try:
        refused = nsbox("run", "--rm", "--network", "lost", "busybox", "true", check=False)
        assert refused.returncode == 125
        assert "10.90.245.0/24" in refused.stderr and "nsbox network rm lost" in refused.stderr
        assert not os.path.exists(subnets.claim_path(bridge))
        assert nsbox.out("ps", "-aq") == ""
    finally:
        subnets.release(other)
    nsbox("network", "rm", "lost")
    assert "lost" not in nsbox.out("network", "ls")
