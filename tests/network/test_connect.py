"""`network connect/disconnect` of running containers: a new interface in the running
namespace (CNI ADD), names in both sides' /etc/hosts, and all of it gone again (CNI DEL)."""
from __future__ import annotations

import json

from tests import leaks
from tests.conftest import SESSION_BRIDGE
from tests.network.conftest import fetched


SERVE = "echo from-server > /tmp/i.html && httpd -p 80 -h /tmp && exec sleep 300"


def _reaches(nsbox, container: str, target: str) -> bool:
    return nsbox("exec", container, "ping", "-c1", "-W1", target, check=False).returncode == 0


def test_a_running_container_joins_and_leaves_a_network(nsbox):
    nsbox("network", "create", "front")
    nsbox("network", "create", "back")
    nsbox("run", "-d", "--name", "server", "--network", "back", "busybox", "sh", "-c", SERVE)
    nsbox("run", "-d", "--name", "client", "--network", "front", "busybox", "sleep", "300")
    server_ip = nsbox.inspect("server")["NetworkSettings"]["Networks"]["back"]["IPAddress"]
    assert not _reaches(nsbox, "client", server_ip)  # different networks

    nsbox("network", "connect", "--alias", "cli", "back", "client")
    networks = nsbox.inspect("client")["NetworkSettings"]["Networks"]
    assert set(networks) == {"front", "back"} and networks["back"]["IPAddress"]
    assert networks["back"]["Aliases"] == ["cli"]
    inside = nsbox.out("exec", "client", "ip", "-o", "-4", "addr", "show", "eth1")
    assert f"inet {networks['back']['IPAddress']}/" in inside
    assert nsbox.out("exec", "client", "sh", "-c", fetched("http://server/i.html")).strip() == "from-server"
    server_hosts = nsbox.out("exec", "server", "cat", "/etc/hosts")
    assert any(line.startswith(networks["back"]["IPAddress"] + "\t") and "client" in line.split()
               and "cli" in line.split() for line in server_hosts.splitlines()), server_hosts
    assert _reaches(nsbox, "server", "cli")
    assert "client" in nsbox.out("network", "inspect", "-f", "{{.Containers}}", "back")

    nsbox("network", "disconnect", "back", "client")
    assert set(nsbox.inspect("client")["NetworkSettings"]["Networks"]) == {"front"}
    assert "eth1" not in nsbox.out("exec", "client", "ls", "/sys/class/net").split()
    assert not _reaches(nsbox, "client", server_ip)
    assert "client" not in nsbox.out("exec", "server", "cat", "/etc/hosts")
    assert "server" not in nsbox.out("exec", "client", "cat", "/etc/hosts")
    bridge = json.loads(nsbox.out("network", "inspect", "back"))[0]["Options"]["com.docker.network.bridge.name"]
    assert len(leaks.bridge_ports(bridge)) == 1, "the client's veth stayed on the back network's bridge"


def test_connect_with_a_fixed_address_and_the_default_bridge(nsbox):
    nsbox("network", "create", "--subnet", "10.90.249.0/24", "fixed")
    nsbox("run", "-d", "--name", "box", "busybox", "sleep", "300")  # on the default bridge
    nsbox("network", "connect", "--ip", "10.90.249.50", "fixed", "box")
    assert "inet 10.90.249.50/24" in nsbox.out("exec", "box", "ip", "-o", "-4", "addr", "show", "eth1")
    again = nsbox("network", "connect", "fixed", "box", check=False)
    assert again.returncode == 125 and "already connected" in again.stderr
    nsbox("network", "disconnect", "bridge", "box")  # leaves eth0 (and the session bridge)
    assert nsbox.out("exec", "box", "ls", "/sys/class/net").split() == ["eth1", "lo"]
    assert not leaks.settled_bridge_ports(SESSION_BRIDGE)
    assert not leaks.ipam_reservations(SESSION_BRIDGE)
    nsbox("rm", "-f", "box")  # DEL of what is left: the fixed network's eth1
    nsbox("network", "rm", "fixed")


def test_a_stopped_container_connected_live_keeps_the_network_at_its_next_start(nsbox):
    nsbox("network", "create", "later")
    nsbox("run", "-d", "--name", "box", "busybox", "sleep", "300")
    nsbox("network", "connect", "later", "box")
    nsbox("stop", "-t", "0", "box")
    nsbox("start", "box")
    addresses = nsbox.out("exec", "box", "ip", "-o", "-4", "addr")
    assert "eth0" in addresses and "eth1" in addresses
