"""User-defined networks, the other modes, names and the bandwidth cap."""
from __future__ import annotations

import os
import time

import pytest

from tests import leaks
from tests.conftest import SESSION_BRIDGE
from tests.network.conftest import fetched


@pytest.mark.v2_lane
def test_containers_reach_each_other_by_name_and_alias(nsbox):
    nsbox("network", "create", "appnet")
    nsbox("run", "-d", "--name", "db", "--network", "appnet", "--network-alias", "database", "busybox", "sh", "-c",
          "echo from-db > /tmp/index.html && httpd -p 80 -h /tmp && sleep 100")
    out = nsbox.out("run", "--rm", "--name", "app", "--network", "appnet", "busybox", "sh", "-c",
                    f"ping -c1 -W2 db >/dev/null && echo ping-db; {fetched('http://database/index.html')};"
                    "(echo pong | nc -l -p 7000 &) ; sleep 0.2; echo hello | nc -w1 db 80 >/dev/null && echo nc-db")
    assert out.split() == ["ping-db", "from-db", "nc-db"]
    # the first container's hosts file now lists the second while it runs, and not after
    hosts = nsbox.out("exec", "db", "cat", "/etc/hosts")
    assert "\tapp" not in hosts


def test_a_running_container_learns_names_of_later_ones(nsbox):
    nsbox("network", "create", "late")
    nsbox("run", "-d", "--name", "first", "--network", "late", "busybox", "sleep", "100")
    nsbox("run", "-d", "--name", "second", "--network", "late", "--network-alias", "two", "busybox", "sleep", "100")
    second = nsbox.inspect("second")["NetworkSettings"]["Networks"]["late"]["IPAddress"]
    hosts = nsbox.out("exec", "first", "cat", "/etc/hosts")
    assert any(line.startswith(second + "\t") and "second" in line and "two" in line for line in hosts.splitlines())
    assert nsbox.out("exec", "first", "ping", "-c1", "-W2", "two").count("1 packets received") == 1


def test_different_user_networks_cannot_reach_each_other(nsbox):
    nsbox("network", "create", "red")
    nsbox("network", "create", "blue")
    nsbox("run", "-d", "--name", "target", "--network", "red", "busybox", "sleep", "100")
    address = nsbox.inspect("target")["NetworkSettings"]["Networks"]["red"]["IPAddress"]
    same = nsbox("run", "--rm", "--network", "red", "busybox", "ping", "-c1", "-W2", address, check=False)
    other = nsbox("run", "--rm", "--network", "blue", "busybox", "ping", "-c1", "-W2", address, check=False)
    assert same.returncode == 0
    assert other.returncode != 0


def test_internal_network_has_no_route_out(nsbox):
    nsbox("network", "create", "--internal", "--subnet", "10.90.250.0/24", "closed")
    out = nsbox.out("run", "--rm", "--network", "closed", "busybox", "sh", "-c", "ip route; ip -o -4 addr show eth0")
    assert "default" not in out and "10.90.250." in out
    inspected = __import__("json").loads(nsbox.out("network", "inspect", "closed"))[0]
    assert inspected["Internal"] is True and inspected["IPAM"]["Config"][0]["Subnet"] == "10.90.250.0/24"


def test_network_rm_in_use_is_refused_with_the_names(nsbox):
    nsbox("network", "create", "busy")
    nsbox("create", "--name", "holder", "--network", "busy", "busybox", "true")
    result = nsbox("network", "rm", "busy", check=False)
    assert result.returncode == 125 and "holder" in result.stderr
    nsbox("rm", "holder")
    nsbox("network", "rm", "busy")
    assert "busy" not in nsbox.out("network", "ls")


def test_network_is_a_conflist_the_user_can_read(nsbox):
    nsbox("network", "create", "--subnet", "10.90.251.0/24", "--label", "team=a", "readable")
    path = os.path.join(nsbox.root, "networks", "readable.conflist")
    conflist = __import__("json").load(open(path))
    assert [p["type"] for p in conflist["plugins"]][:2] == ["bridge", "portmap"]
    assert conflist["plugins"][0]["ipam"]["ranges"][0][0]["subnet"] == "10.90.251.0/24"
    overlapping = nsbox("network", "create", "--subnet", "10.90.251.128/25", "clash", check=False)
    assert overlapping.returncode == 125 and "overlaps" in overlapping.stderr


def test_ip_and_mac_address_are_given(nsbox):
    nsbox("network", "create", "--subnet", "10.90.252.0/24", "fixed")
    out = nsbox.out("run", "--rm", "--network", "fixed", "--ip", "10.90.252.77", "--mac-address", "02:42:0a:5a:fc:4d",
                    "busybox", "sh", "-c", "ip -o -4 addr show eth0; cat /sys/class/net/eth0/address")
    assert "10.90.252.77/24" in out and "02:42:0a:5a:fc:4d" in out


def test_none_host_and_container_modes(nsbox):
    assert nsbox.out("run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net").split() == ["lo"]
    seen = set(nsbox.out("run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net").split())
    # the host's own interfaces that stay (its uplink, where it has one: the VM lane's guest has
    # none) and the session's bridge; other suites' veths come and go meanwhile
    steady = {name for name in os.listdir("/sys/class/net") if name.startswith(("eth", "ens", "enp"))
              or name == SESSION_BRIDGE}
    assert {"lo"} | steady <= seen
    assert nsbox.out("run", "--rm", "--network", "host", "busybox", "cat", "/etc/hosts") == open("/etc/hosts").read()
    nsbox("run", "-d", "--name", "owner", "busybox", "sleep", "100")
    address = nsbox.inspect("owner")["NetworkSettings"]["IPAddress"]
    shared = nsbox.out("run", "--rm", "--network", "container:owner", "busybox", "ip", "-o", "-4", "addr", "show", "eth0")
    assert f"{address}/" in shared


def test_a_container_sharing_the_network_loses_the_interface_when_its_owner_ends(nsbox):
    """The owner's end releases its address, so its interface must go from the namespace the
    sharer still holds (the plugin's DEL inside it), not wait for that namespace's end."""
    nsbox("run", "-d", "--name", "owner", "busybox", "sleep", "300")
    nsbox("run", "-d", "--name", "sharer", "--network", "container:owner", "busybox", "sleep", "300")
    assert "eth0" in nsbox.out("exec", "sharer", "ls", "/sys/class/net").split()
    nsbox("rm", "-f", "owner")
    assert nsbox.out("exec", "sharer", "ls", "/sys/class/net").split() == ["lo"]
    assert not leaks.bridge_ports(SESSION_BRIDGE)
    assert not leaks.ipam_reservations(SESSION_BRIDGE)
    nsbox("rm", "-f", "sharer")


def test_hosts_resolv_conf_and_hostname(nsbox):
    out = nsbox.out("run", "--rm", "--hostname", "box1", "--add-host", "db.local:10.1.2.3",
                    "--add-host", "gw:host-gateway", "--dns", "127.0.0.1", "--dns-search", "example.test",
                    "--dns-option", "ndots:2", "busybox", "sh", "-c", "cat /etc/hosts /etc/resolv.conf /etc/hostname")
    assert "10.1.2.3\tdb.local" in out
    assert "127.0.0.1\tlocalhost" in out
    assert "nameserver 127.0.0.1" in out and "search example.test" in out and "options ndots:2" in out
    assert out.rstrip().endswith("box1")
    assert any(line.endswith("\tgw") and line.split("\t")[0].count(".") == 3 for line in out.splitlines())
    bad = nsbox("run", "--rm", "--add-host", "nocolon", "busybox", "true", check=False)
    assert bad.returncode == 125 and "--add-host" in bad.stderr


def _transfer_seconds(nsbox, name: str) -> float:
    address = nsbox.inspect(name)["NetworkSettings"]["IPAddress"]
    import urllib.request
    started = time.monotonic()
    with urllib.request.urlopen(f"http://{address}:80/blob", timeout=120) as response:
        assert len(response.read()) == 2 << 20
    return time.monotonic() - started


@pytest.mark.v2_lane
def test_network_rate_caps_a_transfer_and_update_changes_it(nsbox):
    serve = "dd if=/dev/zero of=/tmp/blob bs=1024 count=2048 2>/dev/null && exec httpd -f -p 80 -h /tmp"
    nsbox("run", "-d", "--name", "free", "busybox", "sh", "-c", serve)
    nsbox("run", "-d", "--name", "capped", "--network-rate", "1mbit", "busybox", "sh", "-c", serve)
    assert nsbox.inspect("capped")["HostConfig"]["NetworkRate"] == 1_000_000
    time.sleep(0.5)
    free = _transfer_seconds(nsbox, "free")
    capped = _transfer_seconds(nsbox, "capped")  # 16.8 Mbit at 1 Mbit/s: about 17 s
    assert capped > 8 and capped > 3 * free, (free, capped)
    import subprocess
    qdiscs = subprocess.run(["tc", "qdisc", "show"], capture_output=True, text=True).stdout
    assert "tbf" in qdiscs
    nsbox("update", "--network-rate", "0", "capped")
    assert _transfer_seconds(nsbox, "capped") < capped / 2


def test_network_ls_and_inspect_take_go_templates(nsbox):
    nsbox("network", "create", "--label", "team=nsbox", "fmtnet")
    try:
        lines = nsbox.out("network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Label \"team\"}}").splitlines()
        assert "fmtnet bridge nsbox" in lines and "none null " in lines
        table = nsbox.out("network", "ls", "--format", "table {{.Name}}\t{{.Driver}}").splitlines()
        assert table[0].split() == ["NAME", "DRIVER"]
        assert nsbox.out("network", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Internal}}", "fmtnet") == \
            "fmtnet bridge false\n"
    finally:
        nsbox("network", "rm", "fmtnet")


def test_network_prune_removes_only_unused_user_networks(nsbox):
    nsbox("network", "create", "kept-net")
    nsbox("network", "create", "idle-net")
    nsbox("create", "--name", "user", "--network", "kept-net", "busybox", "true")
    assert nsbox.out("network", "prune").splitlines() == ["Deleted network idle-net"]
    assert "idle-net" not in nsbox.out("network", "ls") and "kept-net" in nsbox.out("network", "ls")
