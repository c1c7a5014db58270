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
from tests.network.conftest import fetched


@pytest.fixture
def parent():
    """A veth pair, up, whose first end is the parent; removed (with anything on it) after.
    Tests name it before nsbox/client/served, so that it outlives their containers: a macvlan
    DEL fails once the parent is gone."""
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
def test_two_containers_on_a_sub_interface_network_reach_each_other(parent, nsbox, driver):
    if not _kernel_has(driver, parent):
        pytest.skip(f"this kernel has no {driver} driver (ip link add type {driver} fails)")
    nsbox("network", "create", "--driver", driver, "-o", f"parent={parent}", "--subnet", "10.90.246.0/24", "lan")
    shown = json.loads(nsbox.out("network", "inspect", "lan"))[0]
    assert shown["Driver"] == driver and shown["Options"] == {"parent": parent}
    nsbox("run", "-d", "--name", "peer", "--network", "lan", "busybox", "sh", "-c",
          "echo over-the-lan > /tmp/i.html && httpd -p 80 -h /tmp && exec sleep 300")
    out = nsbox.out("run", "--rm", "--network", "lan", "busybox", "sh", "-c",
                    f"ip -o -4 addr show eth0; {fetched('http://peer/i.html')}")
    assert "inet 10.90.246." in out and out.rstrip().endswith("over-the-lan")
    settings = nsbox.inspect("peer")["NetworkSettings"]
    assert settings["Networks"]["lan"]["IPAddress"].startswith("10.90.246.")
    link = subprocess.run(["nsenter", f"--net={settings['SandboxKey']}", "ip", "-d", "link", "show", "eth0"],
                          capture_output=True, text=True, check=True).stdout
    assert re.search(rf"\n\s+{driver}\s+mode ", link), link  # the container's eth0 is the driver's, on the parent
    nsbox("rm", "-f", "peer")
    # (the kernel deletes the container's sub-interface as its namespace ends, in the background)
    nsbox.wait_for(lambda: not glob.glob(f"/sys/class/net/{parent}/upper_*"), timeout=5,
                   what="the sub-interface gone from the parent")
    nsbox("network", "rm", "lan")
    assert not leaks.network_claims(nsbox.root)


def test_a_container_whose_parent_interface_went_can_still_be_removed(parent, nsbox):
    """The macvlan plugin refuses every DEL once its parent is gone ('Link not found'): nsbox
    frees the address itself (the kernel removed the sub-interface with the parent)."""
    if not _kernel_has("macvlan", parent):
        pytest.skip("this kernel has no macvlan driver")
    nsbox("network", "create", "--driver", "macvlan", "-o", f"parent={parent}", "--subnet", "10.90.235.0/24", "gone")
    nsbox("run", "-d", "--name", "orphan", "--network", "gone", "busybox", "sleep", "300")
    key = json.loads(nsbox.out("network", "inspect", "gone"))[0]["ConfList"]["nsbox"]["claim"]
    assert leaks.ipam_reservations(key)  # the container's address
    subprocess.run(["ip", "link", "delete", parent], check=True)
    nsbox("rm", "-f", "orphan")
    assert not leaks.ipam_reservations(key)
    nsbox("network", "rm", "gone")
    assert not leaks.network_claims(nsbox.root)


def test_a_sub_interface_network_needs_an_existing_parent(parent, nsbox):
    for options, words in ((["-o", "parent=nsbox-no-such"], "naming one of this host's interfaces"),
                           ([], "needs -o parent="),
                           (["-o", f"parent={parent}", "-o", "macvlan_mode=wrong"], "macvlan_mode must be"),
                           (["-o", f"parent={parent}", "-o", "colour=red"], "unknown option")):
        result = nsbox("network", "create", "--driver", "macvlan", *options, "bad", check=False)
        assert result.returncode == 125 and words in result.stderr, result.stderr
    assert "bad" not in nsbox.out("network", "ls")
    assert not leaks.network_claims(nsbox.root)
    assert not os.path.exists(os.path.join(nsbox.root, "networks", "bad.conflist"))


def _ipv6_forwarding() -> str:
    with open("/proc/sys/net/ipv6/conf/all/forwarding") as flag:
        return flag.read()


def test_a_macvlan_network_with_ipv6_gives_each_container_both_addresses(parent, nsbox):
    if not _kernel_has("macvlan", parent):
        pytest.skip("this kernel has no macvlan driver")
    forwarding_before = _ipv6_forwarding()
    nsbox("network", "create", "--driver", "macvlan", "-o", f"parent={parent}", "--ipv6",
          "--subnet", "10.90.242.0/24", "--subnet", "fd6e:7362:7800::/64", "--gateway", "fd6e:7362:7800::1",
          "--gateway", "10.90.242.254", "--ip-range", "10.90.242.128/25", "dual")
    shown = json.loads(nsbox.out("network", "inspect", "dual"))[0]
    assert shown["EnableIPv6"] is True
    assert [c["Subnet"] for c in shown["IPAM"]["Config"]] == ["10.90.242.0/24", "fd6e:7362:7800::/64"]
    nsbox("run", "-d", "--name", "six", "--network", "dual", "--ip6", "fd6e:7362:7800::99", "busybox", "sleep", "300")
    endpoint = nsbox.inspect("six")["NetworkSettings"]["Networks"]["dual"]
    assert endpoint["GlobalIPv6Address"] == "fd6e:7362:7800::99"  # --ip6: the address asked for
    assert endpoint["IPAddress"].startswith("10.90.242.") and endpoint["GlobalIPv6Address"].startswith("fd6e:7362:7800::")
    assert endpoint["GlobalIPv6PrefixLen"] == 64 and endpoint["IPv6Gateway"] == "fd6e:7362:7800::1"
    assert endpoint["Gateway"] == "10.90.242.254" and int(endpoint["IPAddress"].rpartition(".")[2]) > 128
    out = nsbox.out("run", "--rm", "--network", "dual", "busybox", "sh", "-c",
                    f"ip -o -6 addr show eth0 scope global; ping -c1 -W5 {endpoint['GlobalIPv6Address']}")
    assert "inet6 fd6e:7362:7800::" in out and "1 packets received" in out
    assert _ipv6_forwarding() == forwarding_before  # no host-wide change
    nsbox("run", "-d", "--name", "joiner", "--dns", "127.0.0.1", "busybox", "sleep", "300")
    nsbox("network", "connect", "--ip6", "fd6e:7362:7800::77", "dual", "joiner")  # running: joins at once
    assert "inet6 fd6e:7362:7800::77/64" in nsbox.out("exec", "joiner", "ip", "-o", "-6", "addr", "show", "eth1")
    for args, words in ((["--ip6", "fd6e:7362:7800::5"], "network bridge has no IPv6 subnet"),
                        (["--network", "dual", "--ip6", "fd6e:7362:7899::5"], "is not in network dual's subnet"),
                        (["--network", "none", "--ip6", "fd6e:7362:7800::5"], "needs a bridge or user network")):
        refused = nsbox("run", "--rm", "--dns", "127.0.0.1", *args, "busybox", "true", check=False)
        assert refused.returncode == 125 and words in refused.stderr, refused.stderr
    nsbox("rm", "-f", "six", "joiner")
    nsbox("network", "rm", "dual")
    assert not leaks.network_claims(nsbox.root)


def test_ipv6_on_a_bridge_network_is_refused_with_the_reason(nsbox):
    for args, words in ((["--ipv6", "--subnet", "fd6e:7362:7801::/64"], "IPv6 forwarding for the whole host"),
                        (["--subnet", "fd6e:7362:7801::/64"], "enable IPv6 as well"),
                        (["--driver", "macvlan", "-o", "parent=lo", "--ipv6"], "needs an IPv6 --subnet"),
                        (["--driver", "macvlan", "-o", "parent=lo", "--ipv6", "--subnet", "fd6e:7362:7801::/64",
                          "--gateway", "fd6e:7362:7801::5"], "gateway is its subnet's first address"),
                        (["--gateway", "fd6e:7362:7801::1"], "has no --subnet of its address family"),
                        (["--ipam-driver", "dhcp"], "host-local only")):
        result = nsbox("network", "create", *args, "v6", check=False)
        assert result.returncode == 125 and words in result.stderr, result.stderr
    assert "v6" not in nsbox.out("network", "ls") and not leaks.network_claims(nsbox.root)
    assert "IPv6 Forwarding: " in nsbox.out("info")
