"""benchmarks/run reports what the compared tools left on the host: a bridge and a firewall
chain of the kinds they make, not other users' interfaces (a real empty bridge and chain,
made and removed here)."""
from __future__ import annotations

import os
import subprocess

from benchmarks import machine


def test_a_tool_s_bridge_and_chain_left_behind_are_reported(tmp_path):
    before = machine.snapshot()
    link, other, chain = f"nsboxb{os.getpid() % 0xffff:x}t", f"bt{os.getpid() % 0xffff:x}", f"CNI-bt{os.getpid()}"
    try:
        subprocess.run(["ip", "link", "add", link, "type", "bridge"], check=True)
        subprocess.run(["ip", "link", "add", other, "type", "bridge"], check=True)
        subprocess.run(["iptables", "-t", "nat", "-N", chain], check=True)
        found = machine.leftovers(before, str(tmp_path / "work"), "nsbox-bench-test")
        assert f"network interface {link}" in found
        assert any(item.startswith(f"iptables nat {chain} ") for item in found)
        assert not any(other in item for item in found)  # not a kind the tools make: someone else's
    finally:
        subprocess.run(["ip", "link", "delete", link], capture_output=True)
        subprocess.run(["ip", "link", "delete", other], capture_output=True)
        subprocess.run(["iptables", "-t", "nat", "-X", chain], capture_output=True)
    assert machine.leftovers(before, str(tmp_path / "work"), "nsbox-bench-test") == []
