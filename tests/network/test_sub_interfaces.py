"""macvlan and ipvlan networks (`network create --driver macvlan -o parent=IF`): each
container gets an interface of its own on the parent. The parent is a veth pair this test
makes and removes (this kernel has no dummy driver), never one of the host's interfaces."""
from __future__ import annotations

import glob
import json
import os
import re
import subprocess

import pytest

from tests import leaks


@pytest.fixture
def parent():
    """A veth pair, up, whose first end is the parent; removed (with anything on it) after."""
    name, peer = leaks.TEST_LINK_PREFIX + "p", leaks.TEST_LINK_PREFIX + "q"
    subprocess.run(["ip", "link", "add", name, "type", "veth", "peer", "name", peer], check=True)
    try:
        for end in (name, peer):
            subprocess.run(["ip", "link", "set", end, "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "link", "delete", name], capture_output=True)


def _kernel_has(kind: str, parent: str) -> bool:
    probe = leaks.TEST_LINK_PREFIX + "k"
    made = subprocess.run(["ip", "link", "add", "link", parent, "name", probe, "type", kind],
                          capture_output=True).returncode == 0
    subprocess.run(["ip", "link", "delete", probe], capture_output=True)
    return made


@pytest.mark.parametrize("driver", ["macvlan", pytest.param("ipvlan", marks=pytest.mark.v2_lane)])
def test_two_containers_on_a_sub_interface_network_reach_each_other(nsbox, parent, driver):
    if not _kernel_has(driver, parent):
        pytest.skip(f"this kernel has no {driver} driver (ip link add type {driver} fails)")
    nsbox("network", "create", "--driver", driver, "-o", f"parent={parent}", "--subnet", "10.90.246.0/24", "lan")
    shown = json.loads(nsbox.out("network", "inspect", "lan"))[0]
    assert shown["Driver"] == driver and shown["Options"] == {"parent": parent}
    nsbox("run", "-d", "--name", "peer", "--network", "lan", "busybox", "sh", "-c",
          "echo over-the-lan > /tmp/i.html && httpd -p 80 -h /tmp && exec sleep 300")
    out = nsbox.out("run", "--rm", "--network", "lan", "busybox", "sh", "-c",
                    "ip -o -4 addr show eth0; wget -qO- http://peer/i.html")
    assert "inet 10.90.246." in out and out.rstrip().endswith("over-the-lan")
    settings = nsbox.inspect("peer")["NetworkSettings"]
    assert settings["Networks"]["lan"]["IPAddress"].startswith("10.90.246.")
    link = subprocess.run(["nsenter", f"--net={settings['SandboxKey']}", "ip", "-d", "link", "show", "eth0"],
                          capture_output=True, text=True, check=True).stdout
    assert re.search(rf"\n\s+{driver}\s+mode ", link), link  # the container's eth0 is the driver's, on the parent
    nsbox("rm", "-f", "peer")
    assert not glob.glob(f"/sys/class/net/{parent}/upper_*"), "a sub-interface stayed on the parent"
    nsbox("network", "rm", "lan")
    assert not leaks.network_claims(nsbox.root)


def test_a_sub_interface_network_needs_an_existing_parent(nsbox, parent):
    for options, words in ((["-o", "parent=nsbox-no-such"], "naming one of this host's interfaces"),
                           ([], "needs -o parent="),
                           (["-o", f"parent={parent}", "-o", "macvlan_mode=wrong"], "macvlan_mode must be"),
                           (["-o", f"parent={parent}", "-o", "colour=red"], "unknown option")):
        result = nsbox("network", "create", "--driver", "macvlan", *options, "bad", check=False)
        assert result.returncode == 125 and words in result.stderr, result.stderr
    assert "bad" not in nsbox.out("network", "ls")
    assert not leaks.network_claims(nsbox.root)
    assert not os.path.exists(os.path.join(nsbox.root, "networks", "bad.conflist"))
