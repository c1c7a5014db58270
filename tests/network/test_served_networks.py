"""Networks through `nsbox serve`'s Docker API, driven by the real docker CLI and docker-py and
checked in nsbox's own store: `network ls --filter`, prune's filters, disconnect -f, and IPv6 networks (EnableIPv6 with an IPv6
subnet in IPAM Config: macvlan and ipvlan; a bridge refused with the CLI's reason)."""
from __future__ import annotations

import json

import pytest

from tests import leaks
from tests.engine.test_serve import DOCKER, served  # noqa: F401 - the served fixture
from tests.network.test_sub_interfaces import _ipv6_forwarding, _kernel_has, parent  # noqa: F401 - fixture

pytestmark = pytest.mark.skipif(DOCKER is None, reason="the docker CLI is not installed")


def test_docker_network_ls_filters_reach_nsbox(served):
    served.docker("network", "create", "--label", "team=a", "alpha")
    served.docker("network", "create", "--label", "team=b", "beta")
    try:
        def names(*filters: str) -> list[str]:
            return served.docker("network", "ls", "--format", "{{.Name}}",
                                 *(arg for f in filters for arg in ("--filter", f))).stdout.split()
        assert names("label=team=b") == ["beta"] and names("name=alp") == ["alpha"]
        assert names("label=team", "type=custom") == ["alpha", "beta"] and names("driver=null") == ["none"]
        beta = json.loads(served.nsbox.out("network", "inspect", "beta"))[0]["Id"]  # nsbox's own record
        assert served.docker("network", "ls", "-q", "--no-trunc", "--filter", "name=beta").stdout == beta + "\n"
        refused = served.docker("network", "ls", "--filter", "colour=red", check=False)
        assert refused.returncode != 0 and "unknown network filter" in refused.stderr
        docker = pytest.importorskip("docker")
        client = docker.DockerClient(base_url=f"unix://{served.socket}", version="auto")
        assert [n.name for n in client.networks.list(filters={"label": "team=a"})] == ["alpha"]
        client.close()
        served.docker("network", "disconnect", "-f", "alpha", "nosuch")  # Force: no error for a gone container
        assert "nosuch" in served.docker("network", "disconnect", "alpha", "nosuch", check=False).stderr
        served.docker("network", "prune", "-f", "--filter", "label=team=b")
        assert served.nsbox.out("network", "ls", "--filter", "type=custom", "--format", "{{.Name}}") == "alpha\n"
    finally:
        served.docker("network", "rm", "-f", "alpha", "beta")


def test_docker_creates_ipv6_sub_interface_networks_and_no_ipv6_bridge(parent, served):
    if not _kernel_has("macvlan", parent):
        pytest.skip("this kernel has no macvlan driver")
    forwarding = _ipv6_forwarding()
    served.docker("network", "create", "-d", "macvlan", "-o", f"parent={parent}", "--ipv6",
                  "--subnet", "10.90.241.0/24", "--subnet", "fd6e:7362:7802::/64", "dual6")
    try:
        shown = json.loads(served.nsbox.out("network", "inspect", "dual6"))[0]  # in nsbox's own store
        assert shown["EnableIPv6"] is True
        assert [c["Subnet"] for c in shown["IPAM"]["Config"]] == ["10.90.241.0/24", "fd6e:7362:7802::/64"]
        assert served.docker("network", "inspect", "-f", "{{.EnableIPv6}}", "dual6").stdout == "true\n"
        out = served.docker("run", "--rm", "--network", "dual6", "--dns", "127.0.0.1", "busybox",
                            "ip", "-o", "-6", "addr", "show", "eth0", "scope", "global", timeout=120).stdout
        assert "inet6 fd6e:7362:7802::" in out
        docker = pytest.importorskip("docker")
        client = docker.DockerClient(base_url=f"unix://{served.socket}", version="auto")
        pools = [docker.types.IPAMPool(subnet="fd6e:7362:7803::/64", gateway="fd6e:7362:7803::1")]
        made = client.networks.create("py6", driver="macvlan", options={"parent": parent}, enable_ipv6=True,
                                      ipam=docker.types.IPAMConfig(pool_configs=pools))
        assert json.loads(served.nsbox.out("network", "inspect", "py6"))[0]["IPAM"]["Config"][1]["Subnet"] == \
            "fd6e:7362:7803::/64"
        made.remove()
        client.close()
        refused = served.docker("network", "create", "--ipv6", "--subnet", "fd6e:7362:7804::/64", "bridge6",
                                check=False)
        assert refused.returncode != 0 and "IPv6 forwarding for the whole host" in refused.stderr
        assert "bridge6" not in served.nsbox.out("network", "ls")
        assert _ipv6_forwarding() == forwarding
    finally:
        served.docker("network", "rm", "dual6", check=False)
    assert not leaks.network_claims(served.nsbox.root)


def test_docker_run_sysctl_reaches_the_containers_namespace(served):
    out = served.docker("run", "--rm", "--dns", "127.0.0.1", "--sysctl", "net.core.somaxconn=777", "busybox",
                        "cat", "/proc/sys/net/core/somaxconn", timeout=120).stdout
    assert out == "777\n"
    docker = pytest.importorskip("docker")  # the docker CLI refuses host-wide keys itself; the API must too
    client = docker.DockerClient(base_url=f"unix://{served.socket}", version="auto")
    with pytest.raises(docker.errors.APIError, match="not namespaced"):
        client.containers.run("busybox", ["true"], sysctls={"vm.swappiness": "1"}, remove=True)
    client.close()
    assert served.nsbox.out("ps", "-aq") == ""


def test_docker_run_with_two_networks_gets_both(served):
    served.docker("network", "create", "--subnet", "10.90.236.0/24", "one")
    served.docker("network", "create", "--subnet", "10.90.237.0/24", "two")
    try:
        out = served.docker("run", "--rm", "--network", "one", "--network", "two", "--dns", "127.0.0.1", "busybox",
                            "sh", "-c", "ip -o -4 addr show eth0; ip -o -4 addr show eth1", timeout=120).stdout
        assert "inet 10.90.236." in out and "inet 10.90.237." in out
        docker = pytest.importorskip("docker")
        client = docker.DockerClient(base_url=f"unix://{served.socket}", version="auto")
        endpoints = {"one": client.api.create_endpoint_config(aliases=["first"]),
                     "two": client.api.create_endpoint_config(aliases=["second"], ipv4_address="10.90.237.40")}
        made = client.api.create_container("busybox", ["sleep", "300"], name="both",
                                           host_config=client.api.create_host_config(network_mode="one"),
                                           networking_config=client.api.create_networking_config(endpoints))
        client.api.start(made["Id"])
        networks = served.nsbox.inspect("both")["NetworkSettings"]["Networks"]  # nsbox's own record
        assert networks["one"]["Aliases"] == ["first"] and networks["two"]["Aliases"] == ["second"]
        assert networks["two"]["IPAddress"] == "10.90.237.40"
        client.api.remove_container(made["Id"], force=True)
        client.close()
    finally:
        served.docker("network", "rm", "one", "two")


def test_docker_run_expose_and_publish_all(served):
    served.docker("run", "-d", "--name", "exposed", "--expose", "80", "-P", "--dns", "127.0.0.1", "busybox", "sh",
                  "-c", "echo via-docker > /tmp/i.html && exec httpd -f -p 80 -h /tmp", timeout=120)
    port = served.nsbox.inspect("exposed")["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]  # nsbox's record
    assert served.docker("port", "exposed").stdout.startswith(f"80/tcp -> 0.0.0.0:{port}")
    from tests.network.test_bridge import fetch
    assert fetch(f"http://127.0.0.1:{port}/i.html").strip() == "via-docker"
    served.docker("rm", "-f", "exposed")
