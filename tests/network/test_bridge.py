"""The default bridge network: an address of its own, published ports reachable from the
host, CNI DEL on every end (a kill -9 included), distinct addresses under concurrency."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request

import pytest

from tests import leaks
from tests.conftest import SESSION_BRIDGE


def free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.v2_lane
def test_bridge_is_the_default_and_gives_eth0_an_address(nsbox):
    out = nsbox.out("run", "--rm", "busybox", "sh", "-c", "ls /sys/class/net; ip -o -4 addr show eth0; ip route")
    assert out.split()[:2] == ["eth0", "lo"]
    subnet = leaks.bridge_subnet(SESSION_BRIDGE)
    assert subnet and f"inet {subnet.rpartition('.')[0]}." in out
    assert "default via" in out


@pytest.mark.v2_lane
def test_published_port_answers_the_host_with_a_file_written_inside(nsbox):
    port = free_port()
    nsbox("run", "-d", "--name", "web", "-p", f"127.0.0.1:{port}:80", "busybox", "sh", "-c",
          "mkdir /www && echo written-in-the-container > /www/index.html && exec httpd -f -p 80 -h /www")
    assert fetch(f"http://127.0.0.1:{port}/index.html").strip() == "written-in-the-container"
    assert nsbox.out("port", "web", "80").strip() == f"127.0.0.1:{port}"
    assert f"127.0.0.1:{port}->80/tcp" in nsbox.out("ps")
    settings = nsbox.inspect("web")["NetworkSettings"]
    assert settings["Ports"]["80/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]
    address = settings["Networks"]["bridge"]["IPAddress"]
    assert address and settings["IPAddress"] == address and settings["Networks"]["bridge"]["Gateway"]
    assert fetch(f"http://{address}:80/index.html").strip() == "written-in-the-container"
    assert ":CNI-HOSTPORT-DNAT" in nat_rules()  # the portmap plugin made its chain
    nsbox("rm", "-f", "web")
    if not others_portmap_mappings():
        # the portmap plugin's shared chains go with nsbox's last published port
        assert "CNI-HOSTPORT" not in nat_rules()


def nat_rules() -> str:
    return subprocess.run(["iptables-save", "-t", "nat"], capture_output=True, text=True, check=True).stdout


def others_portmap_mappings() -> bool:
    """A mapping of another CNI user on this shared host (podman's, another suite's) keeps the chains."""
    return bool(os.listdir("/run/nsbox-network/ports")) or any(
        line.startswith("-A CNI-HOSTPORT-DNAT") for line in nat_rules().splitlines())


def test_port_on_all_host_addresses_and_a_random_one(nsbox):
    nsbox("run", "-d", "--name", "web", "-p", "80", "busybox", "sh", "-c",
          "echo any-address > /tmp/i.html && exec httpd -f -p 80 -h /tmp")
    host_port = nsbox.inspect("web")["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]
    assert int(host_port) > 0
    # one of the host's own addresses other than loopback: the one that faces out where there is
    # one, else (the VM lane's guest has loopback only) the address the bridge gave the host
    addresses = [line.split()[3].split("/")[0] for line in subprocess.run(
        ["ip", "-o", "-4", "address", "show", "scope", "global"], capture_output=True, text=True).stdout.splitlines()]
    assert addresses, "the host has no address but loopback, not even the bridge's"
    host_address = addresses[0]
    assert fetch(f"http://{host_address}:{host_port}/i.html").strip() == "any-address"
    assert fetch(f"http://127.0.0.1:{host_port}/i.html").strip() == "any-address"


def test_a_host_port_in_use_is_refused_before_the_container_starts(nsbox):
    import socket
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = nsbox("run", "--rm", "--name", "late", "-p", f"127.0.0.1:{port}:80", "busybox", "true", check=False)
    assert result.returncode == 125
    assert f"host port {port}/tcp is already in use" in result.stderr
    assert nsbox.out("ps", "-a", "-q") == ""


def test_two_containers_cannot_publish_one_port(nsbox):
    port = free_port()
    nsbox("run", "-d", "--name", "first", "-p", f"{port}:80", "busybox", "sleep", "100")
    result = nsbox("run", "-d", "--name", "second", "-p", f"{port}:80", "busybox", "sleep", "100", check=False)
    assert result.returncode == 125 and "already in use" in result.stderr


def test_bad_publish_specs_are_refused_by_name(nsbox):
    for spec, words in (("80/sctp", "unknown protocol"), ("1:2:3:80", "must be"), ("8000-8002:80-81", "differ"),
                        ("x:80", "not a port")):
        result = nsbox("run", "--rm", "-p", spec, "busybox", "true", check=False)
        assert result.returncode == 125 and "--publish" in result.stderr and words in result.stderr, result.stderr


@pytest.mark.v2_lane
def test_net_io_grows_after_traffic(nsbox):
    nsbox("run", "-d", "--name", "talker", "busybox", "sleep", "100")
    gateway = nsbox.inspect("talker")["NetworkSettings"]["Gateway"]
    before = json.loads(nsbox.out("stats", "--no-stream", "--format", "json", "talker").splitlines()[0])
    nsbox("exec", "talker", "ping", "-c", "20", "-i", "0.01", "-s", "1000", "-q", gateway)
    after = json.loads(nsbox.out("stats", "--no-stream", "--format", "json", "talker").splitlines()[0])
    assert after["NetInput"] >= before["NetInput"] + 20000 and after["NetOutput"] >= before["NetOutput"] + 20000, (before, after)


def test_fifty_concurrent_runs_get_fifty_distinct_addresses(nsbox):
    processes = [subprocess.Popen(nsbox.command("run", "--rm", "busybox", "sh", "-c",
                                                "ip -o -4 addr show eth0 | awk '{print $4}'"),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(50)]
    addresses = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        addresses.append(out.strip())
    assert len(set(addresses)) == 50, sorted(addresses)


@pytest.mark.v2_lane
def test_kill_9_of_the_cli_during_a_bridged_run_then_rm_f_leaves_nothing(nsbox):
    port = free_port()
    cli = subprocess.Popen(nsbox.command("run", "--name", "victim", "-p", f"127.0.0.1:{port}:80", "busybox",
                                         "httpd", "-f", "-p", "80"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    nsbox.wait_for(lambda: leaks.bridge_ports(SESSION_BRIDGE) and nsbox("port", "victim", check=False).stdout,
                   what="the container's veth and port")
    os.kill(cli.pid, signal.SIGKILL)
    cli.wait()
    nsbox("rm", "-f", "victim")
    assert not leaks.settled_bridge_ports(SESSION_BRIDGE)
    assert not leaks.ipam_reservations(SESSION_BRIDGE)
    assert not leaks.netns_files(nsbox.root)
    assert not leaks.firewall_rules({f"dport {port} "})


def test_publish_all_maps_the_image_s_exposed_port(nsbox, busybox_tar):
    nsbox("import", "-c", "EXPOSE 80", busybox_tar, "exposing")
    nsbox("run", "-d", "--name", "web", "-P", "exposing", "sh", "-c",
          "echo exposed > /tmp/i.html && exec httpd -f -p 80 -h /tmp")
    port = nsbox.inspect("web")["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]
    assert fetch(f"http://127.0.0.1:{port}/i.html").strip() == "exposed"
    assert nsbox.out("port", "web").strip() == f"80/tcp -> 0.0.0.0:{port}"


def test_expose_adds_ports_that_publish_all_maps(nsbox):
    nsbox("run", "-d", "--name", "web", "--expose", "80", "--expose", "7000-7001/udp", "-P", "busybox", "sh", "-c",
          "echo exposed-here > /tmp/i.html && exec httpd -f -p 80 -h /tmp")
    record = nsbox.inspect("web")
    assert set(record["Config"]["ExposedPorts"]) == {"80/tcp", "7000/udp", "7001/udp"}
    port = record["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]
    assert fetch(f"http://127.0.0.1:{port}/i.html").strip() == "exposed-here"
    assert set(record["NetworkSettings"]["Ports"]) == {"80/tcp", "7000/udp", "7001/udp"}
    for bad, words in (("80/sctp", "unknown protocol 'sctp'"), ("http", "is not a port")):
        refused = nsbox("run", "--rm", "--expose", bad, "busybox", "true", check=False)
        assert refused.returncode == 125 and "--expose" in refused.stderr and words in refused.stderr


@pytest.mark.v2_lane
def test_the_monitor_releases_the_network_when_the_container_ends(nsbox):
    nsbox("run", "-d", "--name", "short", "busybox", "sleep", "0.5")
    nsbox.wait_for(lambda: nsbox.state("short")["Status"] == "exited", what="the exit")
    assert not leaks.settled_bridge_ports(SESSION_BRIDGE)
    assert not leaks.ipam_reservations(SESSION_BRIDGE)
    assert not leaks.netns_files(nsbox.root)
    nsbox("start", "short")  # and a new start attaches again
    nsbox.wait_for(lambda: nsbox.state("short")["Status"] == "exited", what="the second exit")
    assert not leaks.settled_bridge_ports(SESSION_BRIDGE)


def test_two_roots_on_one_bridge_never_share_an_address(nsbox, tmp_path, busybox_tar):
    """Two nsbox roots (as two engineers' suites, or two users) on the same Linux bridge: one
    host-wide IPAM store per bridge hands each container its own address, and one subnet."""
    from tests.engine.conftest import Nsbox
    other = Nsbox(str(tmp_path / "second-root"))
    other("import", busybox_tar, "busybox")
    try:
        nsbox("run", "-d", "--name", "first", "busybox", "sleep", "100")
        other("run", "-d", "--name", "second", "busybox", "sleep", "100")
        first = nsbox.inspect("first")["NetworkSettings"]
        second = other.inspect("second")["NetworkSettings"]
        assert first["IPAddress"] != second["IPAddress"]
        assert first["Gateway"] == second["Gateway"]
        assert other.out("exec", "second", "ping", "-c1", "-W2", first["IPAddress"]).count("1 packets received") == 1
    finally:
        other("rm", "-f", "second", check=False)
