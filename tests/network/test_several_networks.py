"""`run --network A --network B` (Docker 25+): one interface per user-defined network, names
of both networks resolve; --ip and --network-alias are the first network's; builtin modes
cannot be joined together with others."""
from __future__ import annotations

import json
from tests.network.conftest import fetched


def test_a_container_joins_several_user_networks_at_once(nsbox):
    nsbox("network", "create", "--subnet", "10.90.238.0/24", "front")
    nsbox("network", "create", "--subnet", "10.90.239.0/24", "back")
    nsbox("run", "-d", "--name", "db", "--network", "back", "busybox", "sh", "-c",
          "echo from-back > /tmp/index.html && httpd -p 80 -h /tmp && exec sleep 300")
    nsbox("run", "-d", "--name", "app", "--network", "front", "--network", "back", "--ip", "10.90.238.50",
          "--network-alias", "web", "busybox", "sleep", "300")
    networks = nsbox.inspect("app")["NetworkSettings"]["Networks"]
    assert list(networks) == ["front", "back"] and networks["front"]["IPAddress"] == "10.90.238.50"
    assert networks["front"]["Aliases"] == ["web"] and networks["back"]["IPAddress"].startswith("10.90.239.")
    out = nsbox.out("exec", "app", "sh", "-c", "ip -o -4 addr show eth0; ip -o -4 addr show eth1; "
                                               f"{fetched('http://db/index.html')}")
    assert "inet 10.90.238.50/24" in out and "inet 10.90.239." in out and out.rstrip().endswith("from-back")
    members = {name: json.loads(nsbox.out("network", "inspect", name))[0]["Containers"] for name in ("front", "back")}
    assert members == {"front": ["app"], "back": ["app", "db"]} or members == {"front": ["app"], "back": ["db", "app"]}
    pinged = nsbox("run", "--rm", "--network", "front", "busybox", "ping", "-c1", "-W2", "web", check=False)
    assert pinged.returncode == 0  # the alias is on the first network
    nsbox("rm", "-f", "app", "db")
    nsbox("network", "rm", "front", "back")


def test_builtin_modes_are_not_joined_with_others(nsbox):
    nsbox("network", "create", "solo")
    for modes in (["bridge", "solo"], ["solo", "none"], ["solo", "host"]):
        result = nsbox("run", "--rm", *(arg for mode in modes for arg in ("--network", mode)), "busybox", "true",
                       check=False)
        assert result.returncode == 125 and "only user-defined networks can be joined together" in result.stderr
    missing = nsbox("run", "--rm", "--network", "solo", "--network", "nosuch", "busybox", "true", check=False)
    assert missing.returncode == 125 and "nosuch" in missing.stderr
    assert nsbox.out("ps", "-aq") == ""
    nsbox("network", "rm", "solo")
