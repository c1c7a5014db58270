"""`run --sysctl`: settings of the container's own network (and IPC) namespace, written inside
it; the host's values never change; host-wide keys and host namespaces are refused."""
from __future__ import annotations


def _host(key: str) -> str:
    with open("/proc/sys/" + key.replace(".", "/")) as value:
        return value.read()


def test_sysctls_are_set_in_the_containers_namespaces_only(nsbox):
    before = [_host("net.ipv4.ip_unprivileged_port_start"), _host("net.core.somaxconn"), _host("kernel.shmmni")]
    out = nsbox.out("run", "--rm", "--dns", "127.0.0.1", "--sysctl", "net.ipv4.ip_unprivileged_port_start=0",
                    "--sysctl", "net/core/somaxconn=777", "--sysctl", "kernel.shmmni=1234", "busybox", "cat",
                    "/proc/sys/net/ipv4/ip_unprivileged_port_start", "/proc/sys/net/core/somaxconn",
                    "/proc/sys/kernel/shmmni")
    assert out.split() == ["0", "777", "1234"]
    assert [_host("net.ipv4.ip_unprivileged_port_start"), _host("net.core.somaxconn"), _host("kernel.shmmni")] == before
    nsbox("create", "--name", "tuned", "--network", "none", "--sysctl", "net.core.somaxconn=555", "busybox", "true")
    assert nsbox.inspect("tuned")["HostConfig"]["Sysctls"] == {"net.core.somaxconn": "555"}
    nsbox("rm", "tuned")


def test_host_wide_sysctls_and_host_namespaces_are_refused(nsbox):
    for args, words in ((["--sysctl", "vm.swappiness=1"], "vm.swappiness is not namespaced"),
                        (["--network", "host", "--sysctl", "net.core.somaxconn=1"], "the host's network namespace"),
                        (["--ipc", "host", "--sysctl", "kernel.shmmni=1"], "the host's IPC namespace"),
                        (["--sysctl", "net.core.somaxconn"], "must be KEY=VALUE")):
        result = nsbox("run", "--rm", *args, "busybox", "true", check=False)
        assert result.returncode == 125 and words in result.stderr, result.stderr
    assert nsbox.out("ps", "-aq") == ""
