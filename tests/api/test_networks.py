"""nsbox.networks: user-defined networks as objects, and `network=` taking one (real
bridges, veths and CNI plugins; the suite's leak check sees any left)."""
from __future__ import annotations

import pytest

import nsbox
from tests.network.test_sub_interfaces import _kernel_has, parent  # noqa: F401 - a veth pair's end as parent
from tests.network.conftest import fetched


def test_two_containers_on_a_user_network_reach_each_other_by_name(client):
    net = client.networks.create("apinet", labels={"team": "api"})
    try:
        with client.containers.run("busybox", ["sh", "-c", "echo from-db > /tmp/index.html && httpd -p 80 -h /tmp "
                                              "&& sleep 100"], detach=True, name="db", network=net):
            result = client.run("busybox", ["sh", "-c", "ping -c1 -W2 db >/dev/null && echo ping-db; "
                                                        f"{fetched('http://db/index.html')}"],
                                network="apinet", name="app", timeout=30, text=True)
            assert result.stdout.split() == ["ping-db", "from-db"], result
            assert [c.name for c in client.networks.get("apinet").containers] == ["db"]
            # a container on the default network cannot resolve the name
            outside = client.run("busybox", ["ping", "-c1", "-W1", "db"], timeout=30, text=True)
            assert outside.exit_code != 0
    finally:
        net.remove()
    with pytest.raises(nsbox.NetworkNotFound):
        client.networks.get("apinet")


def test_create_get_list_and_attributes(client):
    net = client.networks.create("attrs", ipam={"Config": [{"Subnet": "10.91.77.0/24"}]}, internal=True,
                                 labels={"k": "v"})
    try:
        assert net.name == "attrs" and len(net.id) == 64 and net.short_id == net.id[:12]
        assert net.attrs["Internal"] is True and net.attrs["Labels"] == {"k": "v"}
        assert net.attrs["IPAM"]["Config"][0]["Subnet"] == "10.91.77.0/24"
        assert client.networks.get(net.id[:5]).name == "attrs"
        assert [n.name for n in client.networks.list(names=["attrs"])] == ["attrs"]
        assert [n.name for n in client.networks.list(ids=[net.id])] == ["attrs"]
        assert "attrs" in [n.name for n in client.networks.list()]
        out = client.run("busybox", ["ip", "-o", "-4", "addr", "show", "eth0"], network=net, text=True).stdout
        assert "10.91.77." in out
        with pytest.raises(nsbox.NsboxError, match="exists"):
            client.networks.create("attrs")
    finally:
        net.remove()


def test_connect_and_disconnect_a_stopped_container(client):
    net = client.networks.create("joinme")
    try:
        with client.containers.create("busybox", ["sh", "-c", "ip -o -4 addr show eth1 && cat /etc/hosts"],
                                      name="joiner") as container:
            net.connect(container, aliases=["buddy"])
            assert [c.name for c in net.containers] == ["joiner"]
            container.start()
            assert container.wait(timeout=30)["StatusCode"] == 0
            logs = b"".join(container.logs()).decode()
            assert net.attrs["IPAM"]["Config"][0]["Subnet"].rpartition(".")[0] in logs
            container.reload()
            assert container.attrs["NetworkSettings"]["Networks"]["joinme"]["Aliases"] == ["buddy"]
            with pytest.raises(nsbox.NsboxError, match="in use by container"):
                net.remove()
            net.disconnect("joiner")
            assert net.containers == []
            with pytest.raises(nsbox.StateError, match="not connected"):
                net.disconnect(container)
            net.disconnect(container, force=True)  # not connected: no error with force
        with pytest.raises(nsbox.ContainerNotFound):
            net.disconnect("joiner")
        net.disconnect("joiner", force=True)  # gone: no error with force
    finally:
        net.remove()


def test_connect_and_disconnect_a_running_container_at_once(client):
    net = client.networks.create("livenet")
    try:
        with client.containers.run("busybox", ["sleep", "100"], detach=True, name="late", network="none") as late:
            with pytest.raises(nsbox.StateError, match="cannot join"):
                net.connect(late)  # --network none has no interfaces to add
        with client.containers.run("busybox", ["sleep", "100"], detach=True, name="joiner") as joiner:
            net.connect(joiner, aliases=["buddy"])
            subnet_prefix = net.attrs["IPAM"]["Config"][0]["Subnet"].rpartition(".")[0] + "."
            assert subnet_prefix in joiner.exec(["ip", "-o", "-4", "addr"], text=True).stdout
            reach = client.run("busybox", ["ping", "-c1", "-W2", "buddy"], network=net, timeout=30)
            assert reach.exit_code == 0, reach
            net.disconnect(joiner)
            assert subnet_prefix not in joiner.exec(["ip", "-o", "-4", "addr"], text=True).stdout
            assert client.run("busybox", ["ping", "-c1", "-W1", "buddy"], network=net, timeout=30).exit_code != 0
    finally:
        net.remove()


def test_list_filters(client):
    front = client.networks.create("front", labels={"tier": "web", "team": "a"})
    back = client.networks.create("back", labels={"tier": "db"}, internal=True)
    try:
        with client.containers.create("busybox", ["true"], network=back):
            def names(**filters: object) -> list[str]:
                return sorted(n.name for n in client.networks.list(filters=filters))
            assert names(label="tier") == ["back", "front"]
            assert names(label="tier=web") == ["front"]
            assert names(label=["tier=web", "tier=db"]) == [] and names(label=["tier", "team=a"]) == ["front"]  # all hold
            assert names(name=["fro", "bac"]) == ["back", "front"]  # alternatives
            assert names(label="tier", name="fro") == ["front"]  # all keys hold
            assert names(id=back.id[:10]) == ["back"]
            assert names(type="custom") == ["back", "front"]
            assert names(type="builtin") == ["bridge"]
            assert names(dangling=True) == ["front"]  # no container uses it
            assert names(dangling={"false": True}, type="custom") == ["back"]
            assert names(driver="macvlan") == []
            assert "front" in names(driver="bridge")
            with pytest.raises(nsbox.InvalidOption, match="unknown network filter 'colour'"):
                names(colour="red")
    finally:
        front.remove()
        back.remove()


def test_prune_removes_only_unused_user_networks(client):
    used, unused = client.networks.create("used"), client.networks.create("unused")
    try:
        with client.containers.create("busybox", ["true"], network=used):
            assert client.networks.prune() == ["unused"]
            assert {n.name for n in client.networks.list()} >= {"used", "bridge"}
            with pytest.raises(nsbox.NetworkNotFound):
                client.networks.get("unused")
    finally:
        used.remove()


def test_a_macvlan_network_on_a_host_interface(parent, client):
    if not _kernel_has("macvlan", parent):
        pytest.skip("this kernel has no macvlan driver")
    lan = client.networks.create("lan", driver="macvlan", options={"parent": parent}, subnet="10.90.247.0/24")
    try:
        assert lan.attrs["Driver"] == "macvlan" and lan.attrs["Options"] == {"parent": parent}
        out = client.run("busybox", ["ip", "-o", "-4", "addr", "show", "eth0"], network=lan, text=True).stdout
        assert "inet 10.90.247." in out
    finally:
        lan.remove()


def test_an_ipv6_macvlan_network_from_docker_pys_ipam(parent, client):
    if not _kernel_has("macvlan", parent):
        pytest.skip("this kernel has no macvlan driver")
    lan = client.networks.create("lan6", driver="macvlan", options={"parent": parent}, enable_ipv6=True,
                                 ipam={"Config": [{"Subnet": "10.90.240.0/24"}, {"Subnet": "fd6e:7362:7805::/64"}]})
    try:
        assert lan.attrs["EnableIPv6"] is True
        assert [c["Subnet"] for c in lan.attrs["IPAM"]["Config"]] == ["10.90.240.0/24", "fd6e:7362:7805::/64"]
        out = client.run("busybox", ["ip", "-o", "addr", "show", "eth0", "scope", "global"], network=lan,
                         text=True).stdout
        assert "inet 10.90.240." in out and "inet6 fd6e:7362:7805::" in out
    finally:
        lan.remove()
    with pytest.raises(nsbox.ConfigError, match="IPv6 forwarding for the whole host"):
        client.networks.create("bridge6", enable_ipv6=True, ipam={"Config": [{"Subnet": "fd6e:7362:7806::/64"}]})
    with pytest.raises(nsbox.ConfigError, match="enable IPv6"):
        client.networks.create("v6", driver="macvlan", options={"parent": parent}, subnet="fd6e:7362:7806::/64")
    assert [n.name for n in client.networks.list(filters={"type": "custom"})] == []


def test_bad_input_is_refused_in_words(client):
    with pytest.raises(nsbox.ConfigError, match="unknown driver 'overlay'"):
        client.networks.create("x", driver="overlay")
    with pytest.raises(nsbox.ConfigError, match="parent=INTERFACE"):
        client.networks.create("x", driver="macvlan")
    with pytest.raises(nsbox.NsboxError, match="pre-defined"):
        client.networks.create("host")
    with pytest.raises(nsbox.NetworkNotFound, match="nosuch"):
        client.networks.get("nosuch")
    with pytest.raises(nsbox.NetworkNotFound):
        client.run("busybox", ["true"], network="nosuch")
    assert client.containers.list(all=True) == []


def test_sysctls_of_the_containers_network_namespace(client):
    result = client.run("busybox", ["cat", "/proc/sys/net/core/somaxconn"], sysctls={"net.core.somaxconn": 600},
                        text=True)
    assert result.stdout == "600\n"
    with pytest.raises(nsbox.InvalidOption, match="not namespaced"):
        client.run("busybox", ["true"], sysctls=["vm.swappiness=1"])
