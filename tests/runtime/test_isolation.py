"""What the container sees: namespaces, hostname, network, ids, time, cgroups."""
from __future__ import annotations

import os
import subprocess
import socket
import time

import pytest

from tests.runtime.conftest import state_of

needs_time_namespace = pytest.mark.skipif(not os.path.exists("/proc/self/ns/time"),
                                          reason="this kernel has no time namespaces (Linux 5.6 or newer has)")


def test_pid_1_inside_and_new_hostname(run_container):
    def edit(spec):
        spec["hostname"] = "boxed"
    result = run_container(["sh", "-c", "echo $$; hostname; cat /proc/sys/kernel/hostname"], edit)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "boxed", "boxed"]
    assert socket.gethostname() != "boxed"


def test_new_network_namespace_has_only_loopback(run_container):
    result = run_container(["ls", "/sys/class/net"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["lo"]


@needs_time_namespace
def test_every_namespace_differs_from_the_host(make_bundle, runtime):
    def edit(spec):
        spec["linux"]["namespaces"].append({"type": "time"})
    bundle = make_bundle(["sleep", "100"], edit)
    runtime("run", "-d", "--bundle", bundle, "nsdiff", check=True)
    pid = state_of(runtime, "nsdiff")["pid"]
    for name in ("pid", "net", "ipc", "uts", "mnt", "cgroup", "time_for_children"):
        assert os.readlink(f"/proc/{pid}/ns/{name}") != os.readlink(f"/proc/self/ns/{name}"), name
    assert os.readlink(f"/proc/{pid}/ns/user") == os.readlink("/proc/self/ns/user")
    runtime("delete", "-f", "nsdiff", check=True)


def test_joining_another_containers_namespaces_by_path(make_bundle, runtime):
    def first(spec):
        spec["hostname"] = "shared-uts"
    runtime("run", "-d", "--bundle", make_bundle(["sleep", "100"], first), "owner", check=True)
    pid = state_of(runtime, "owner")["pid"]

    def joiner(spec):
        spec.pop("hostname", None)
        for ns in spec["linux"]["namespaces"]:
            if ns["type"] in ("uts", "network", "pid"):
                ns["path"] = f"/proc/{pid}/ns/{'net' if ns['type'] == 'network' else ns['type']}"
    result = runtime("run", "--bundle", make_bundle(["sh", "-c", "hostname; ps -o pid,comm | grep -c sleep"], joiner),
                     "joiner")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["shared-uts", "1"]
    runtime("delete", "-f", "owner", check=True)


def test_hostname_in_a_uts_namespace_joined_by_path(make_bundle, runtime):
    """As runc: the joiner's hostname is set in the namespace it joined, which the owner sees."""
    def first(spec):
        spec["hostname"] = "before"
    runtime("run", "-d", "--bundle", make_bundle(["sleep", "100"], first), "uts-owner", check=True)
    pid = state_of(runtime, "uts-owner")["pid"]

    def joiner(spec):
        spec["hostname"] = "after"
        for ns in spec["linux"]["namespaces"]:
            if ns["type"] == "uts":
                ns["path"] = f"/proc/{pid}/ns/uts"
    result = runtime("run", "--bundle", make_bundle(["hostname"], joiner), "uts-joiner")
    assert (result.returncode, result.stdout.strip()) == (0, "after"), result.stderr
    owner_sees = subprocess.run(["nsenter", "--uts", "-t", str(pid), "hostname"], capture_output=True, text=True)
    assert owner_sees.stdout.strip() == "after"
    runtime("delete", "-f", "uts-owner", check=True)


def test_joining_a_network_namespace_bind_mounted_at_a_path(make_bundle, runtime, tmp_path):
    """As `ip netns` and CNI keep them (podman, containerd's CRI): the path is a bind mount
    of the namespace file, which /proc/self/fd shows by its path, not as net:[inode]."""
    netns = tmp_path / "netns"
    netns.touch()
    subprocess.run(["unshare", f"--net={netns}", "true"], check=True)
    try:
        expected = os.stat(netns).st_ino

        def edit(spec):
            for ns in spec["linux"]["namespaces"]:
                if ns["type"] == "network":
                    ns["path"] = str(netns)
        result = runtime("run", "--bundle", make_bundle(["readlink", "/proc/self/ns/net"], edit), "in-netns")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"net:[{expected}]"

        def wrong_kind(spec):
            spec.pop("hostname", None)
            for ns in spec["linux"]["namespaces"]:
                if ns["type"] == "uts":
                    ns["path"] = str(netns)
        result = runtime("run", "--bundle", make_bundle(["true"], wrong_kind), "wrong-kind")
        assert result.returncode == 125
        assert f"{netns} is not a uts namespace (it is a network namespace)" in result.stderr
    finally:
        subprocess.run(["umount", str(netns)], check=True)


@pytest.mark.v2_lane  # touches cgroups: run again on real cgroup v2
def test_user_namespace_maps_ids(run_container):
    def edit(spec):
        spec["linux"]["namespaces"].append({"type": "user"})
        spec["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        spec["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
        spec["process"]["user"] = {"uid": 1000, "gid": 1000}
    result = run_container(["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g"], edit)
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert lines[0] == ["0", "100000", "65536"]
    assert lines[1] == ["0", "200000", "65536"]
    assert lines[2:] == [["1000"], ["1000"]]


def test_user_namespace_process_is_unprivileged_on_the_host(make_bundle, runtime):
    def edit(spec):
        spec["linux"]["namespaces"].append({"type": "user"})
        spec["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        spec["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    runtime("run", "-d", "--bundle", make_bundle(["sleep", "100"], edit), "mapped", check=True)
    pid = state_of(runtime, "mapped")["pid"]
    uids = [line for line in open(f"/proc/{pid}/status") if line.startswith("Uid:")][0].split()[1:]
    assert uids == ["100000"] * 4
    runtime("delete", "-f", "mapped", check=True)


@needs_time_namespace
def test_time_namespace_offsets_shift_the_boot_clock(run_container):
    def edit(spec):
        spec["linux"]["namespaces"].append({"type": "time"})
        spec["linux"]["timeOffsets"] = {"boottime": {"secs": 86400 * 365, "nanosecs": 0},
                                        "monotonic": {"secs": 3600, "nanosecs": 0}}
    result = run_container(["cat", "/proc/uptime"], edit)
    assert result.returncode == 0, result.stderr
    inside = float(result.stdout.split()[0])
    host = float(open("/proc/uptime").read().split()[0])
    assert 86400 * 365 - 60 < inside - host < 86400 * 365 + 60


@pytest.mark.v2_lane  # touches cgroups: run again on real cgroup v2
def test_cgroup_namespace_shows_its_own_cgroup_as_root(run_container):
    result = run_container(["cat", "/proc/self/cgroup"])
    assert result.returncode == 0, result.stderr
    paths = {line.split(":", 2)[2] for line in result.stdout.splitlines()}
    assert paths == {"/"}, result.stdout


@pytest.mark.v2_lane  # touches cgroups: run again on real cgroup v2
def test_without_cgroup_namespace_the_host_path_shows(run_container):
    def edit(spec):
        spec["linux"]["namespaces"] = [ns for ns in spec["linux"]["namespaces"] if ns["type"] != "cgroup"]
    result = run_container(["cat", "/proc/self/cgroup"], edit)
    assert result.returncode == 0, result.stderr
    checked = [line.split(":", 2)[2] for line in result.stdout.splitlines()
               if line.split(":")[1] in ("pids", "")]  # v1 pids, or the v2 hierarchy
    assert checked, f"no pids or cgroup2 line to check in {result.stdout!r}"
    assert all("nsbox-test-" in path for path in checked), result.stdout


def test_domainname_and_sysctl(run_container):
    def edit(spec):
        spec["domainname"] = "example.test"
        spec["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    result = run_container(["sh", "-c", "cat /proc/sys/kernel/domainname /proc/sys/net/ipv4/ip_forward"], edit)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["example.test", "1"]
    assert open("/proc/sys/kernel/domainname").read().strip() != "example.test"


@pytest.mark.v2_lane  # touches cgroups: run again on real cgroup v2
def test_container_process_is_in_its_cgroup(make_bundle, runtime):
    runtime("run", "-d", "--bundle", make_bundle(["sleep", "100"]), "incg", check=True)
    pid = state_of(runtime, "incg")["pid"]
    lines = open(f"/proc/{pid}/cgroup").read().splitlines()
    v1_pids = [line for line in lines if ":pids:" in line]
    path = (v1_pids[0] if v1_pids else [line for line in lines if line.startswith("0::")][0]).split(":", 2)[2]
    assert "nsbox-test-" in path
    cgroup_dir = ("/sys/fs/cgroup/pids" if v1_pids else "/sys/fs/cgroup") + path
    assert str(pid) in open(os.path.join(cgroup_dir, "cgroup.procs")).read().split()
    runtime("delete", "-f", "incg", check=True)
    deadline = time.monotonic() + 2
    while os.path.exists(cgroup_dir) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not os.path.exists(cgroup_dir)
