"""nsbox explain: what it shows must be what the kernel says, and its manual commands must work."""
from __future__ import annotations

import json
import os
import shlex
import subprocess

import pytest

pytestmark = pytest.mark.v2_lane


def explain(nsbox, name: str) -> dict:
    return json.loads(nsbox.out("explain", "--format", "json", name))


def test_namespaces_marked_isolated_are_exactly_those_the_kernel_separates(nsbox):
    nsbox("run", "-d", "--name", "own", "busybox", "sleep", "1000")
    nsbox("run", "-d", "--name", "hostuts", "--uts", "host", "busybox", "sleep", "1000")
    # on cgroup v2 a container gets a cgroup namespace of its own by default (as Docker's)
    v2 = {"cgroup"} if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else set()
    for name, expected in (("own", {"pid", "network", "mount", "uts", "ipc"} | v2),
                           ("hostuts", {"pid", "network", "mount", "ipc"} | v2)):
        report = explain(nsbox, name)
        pid = report["container"]["host_pid"]
        assert pid == nsbox.state(name)["Pid"]
        for row in report["namespaces"]:
            assert row["container"] == os.readlink(f"/proc/{pid}/ns/{row['proc_name']}")
            assert row["host"] == os.readlink(f"/proc/self/ns/{row['proc_name']}")
            assert row["isolated"] == (row["container"] != row["host"])
        assert {row["type"] for row in report["namespaces"] if row["isolated"]} == expected


def test_process_map_matches_nspid_and_the_cgroup(nsbox):
    nsbox("run", "-d", "--name", "two", "busybox", "sh", "-c", "sleep 1001 & exec sleep 1000")
    nsbox.wait_for(lambda: len(explain(nsbox, "two")["processes"]) == 2, what="both sleeps")
    report = explain(nsbox, "two")
    rows = {row["host_pid"]: row for row in report["processes"]}
    for host_pid, row in rows.items():
        with open(f"/proc/{host_pid}/status") as status:
            nspid = next(line.split()[1:] for line in status if line.startswith("NSpid:"))
        assert [str(host_pid), str(row["container_pid"])] == nspid
        assert (row["uid_inside"], row["uid_host"]) == (0, 0)
    assert sorted(row["container_pid"] for row in rows.values())[0] == 1
    assert {row["command"] for row in rows.values()} == {"sleep 1000", "sleep 1001"}


def test_each_cgroup_file_shown_exists_and_holds_the_value_shown(nsbox):
    nsbox("run", "-d", "--name", "limited", "-m", "64m", "--cpus", "0.5", "--pids-limit", "50",
          "busybox", "sleep", "1000")
    report = explain(nsbox, "limited")
    cgroup = report["cgroups"]
    by_name = {}
    for limit in cgroup["limits"]:
        with open(limit["file"]) as f:
            assert f.read().strip() == limit["current"], limit
        by_name[os.path.basename(limit["file"])] = limit["current"]
    if cgroup["layout"] == "v2":
        assert by_name["memory.max"] == "67108864" and by_name["cpu.max"] == "50000 100000"
    else:
        assert by_name["memory.limit_in_bytes"] == "67108864" and by_name["cpu.cfs_quota_us"] == "50000"
    assert by_name["pids.max"] == "50"
    pid = report["container"]["host_pid"]
    for directory in cgroup["directories"]:
        with open(os.path.join(directory["directory"], "cgroup.procs")) as procs:
            assert str(pid) in procs.read().split()
    with open(f"/proc/{pid}/cgroup") as lines:  # one row per hierarchy the kernel lists and mounts
        listed = [line.rstrip("\n").split(":", 2)[1] for line in lines]
    assert sorted(d["hierarchy"] for d in cgroup["directories"]) == \
        sorted(controllers.replace("name=", "") or "unified" for controllers in listed if _mounted(controllers))


def _mounted(controllers: str) -> bool:
    """True if a cgroup hierarchy with these controllers ("" for cgroup2) is mounted here."""
    with open("/proc/self/mountinfo") as lines:
        for line in lines:
            fields = line.split()
            kind, options = fields[fields.index("-") + 1], fields[fields.index("-") + 3].split(",")
            if (kind == "cgroup2" and not controllers) or (kind == "cgroup" and controllers and
                                                           set(controllers.split(",")) <= set(options)):
                return True
    return False


def test_root_filesystem_and_confinement_are_the_kernels(nsbox):
    nsbox("run", "-d", "--name", "fs", "busybox", "sleep", "1000")
    report = explain(nsbox, "fs")
    root = report["rootfs"]["root"]
    assert root["type"] == "overlay" and root["overlay"]["upperdir"].endswith("/upper")
    assert all(os.path.isdir(layer) for layer in root["overlay"]["lowerdir"])
    assert {m["path"] for m in report["rootfs"]["masked_paths"] if m["masked"]} >= {"/proc/keys", "/sys/firmware"}
    pid = report["container"]["host_pid"]
    with open(f"/proc/{pid}/status") as status:
        fields = dict(line.rstrip("\n").split(":\t", 1) for line in status if ":\t" in line)
    from nsbox.linux.capabilities import names
    assert report["confinement"]["capabilities"]["effective"] == names(int(fields["CapEff"], 16))
    assert "CAP_SYS_ADMIN" not in report["confinement"]["capabilities"]["effective"]
    assert report["confinement"]["seccomp"] == {"0": "disabled", "1": "strict", "2": "filter"}[fields["Seccomp"]]
    names_inside = {interface["name"] for interface in report["network"]["interfaces"]}
    assert "lo" in names_inside


def test_the_printed_nsenter_commands_enter_the_container(nsbox):
    nsbox("run", "-d", "--name", "enter", "--hostname", "explained", "busybox", "sleep", "1000")
    text = nsbox.out("explain", "enter")
    enter = [line.strip() for line in text.split("to enter it:")[1].splitlines() if line.strip()]
    hostname_line = next(line for line in enter if line.endswith("-u hostname"))
    assert subprocess.run(hostname_line, shell=True, capture_output=True, text=True).stdout.strip() == "explained"
    ps_line = next(line for line in enter if line.endswith(" ps"))
    ps = subprocess.run(ps_line, shell=True, capture_output=True, text=True).stdout
    assert [line.split()[0] for line in ps.splitlines()[1:] if "sleep 1000" in line] == ["1"]


def test_run_explain_creates_nothing_and_its_recipe_builds_a_container_by_hand(nsbox, tmp_path):
    text = nsbox.out("run", "--explain", "-m", "64m", "busybox", "sh", "-c", "echo pid=$$ host=$(hostname)")
    assert nsbox.out("ps", "-a", "-q") == ""
    assert not os.listdir(os.path.join(nsbox.root, "image", "rootfs"))
    assert "\033[" not in text  # no colour when not on a terminal
    build = text.split("to build the same by hand:\n")[1].split("\n\n")[0].splitlines()
    script = "set -e\n" + "\n".join(line[4:] for line in build) + "\necho ID=$ID\n"
    ran = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    container_id = ran.stdout.rsplit("ID=", 1)[-1].strip()
    assert len(container_id) == 64, ran
    try:
        assert ran.returncode == 0, ran.stderr
        assert f"pid=1 host={container_id[:12]}" in ran.stdout
    finally:
        rootfs = os.path.join(nsbox.root, "image", "rootfs", container_id)
        subprocess.run(["umount", os.path.join(rootfs, "merged")], capture_output=True)
        subprocess.run(["rm", "-rf", rootfs])
        cgroups = next(line for line in build if line.strip().startswith("export CGROUPS="))
        for directory in shlex.split(cgroups.split("=", 1)[1])[0].split():
            directory = directory.replace("$ID", container_id)
            if os.path.isdir(directory):
                os.rmdir(directory)  # its processes (the recipe's) have all exited


def test_explain_host_reports_the_cgroup_layout_and_checks(nsbox):
    report = json.loads(nsbox.out("explain", "--host", "--format", "json"))
    checks = {check["name"]: check for check in report["checks"]}
    assert checks["overlayfs"]["status"] == "ok"
    assert checks["namespace pid"]["status"] == "ok"
    layout = report["cgroup_layout"]
    expected = "v2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else \
        ("hybrid" if os.path.isdir("/sys/fs/cgroup/unified") else "v1")
    assert layout["mode"] == expected
    text = nsbox.out("explain", "--host")
    assert "overlayfs" in text and "cgroups" in text


def test_explain_refuses_a_stopped_container_clearly(nsbox):
    nsbox("create", "--name", "idle", "busybox", "true")
    result = nsbox("explain", "idle", check=False)
    assert result.returncode != 0 and "not running" in result.stderr
    assert "Traceback" not in result.stderr


def test_network_section_shows_the_veth_the_bridge_and_published_ports(nsbox):
    nsbox("run", "-d", "--name", "bridged", "-p", "127.0.0.1::80", "--dns", "127.0.0.1", "busybox", "sleep", "1000")
    report = explain(nsbox, "bridged")
    inspected = nsbox.inspect("bridged")["NetworkSettings"]
    address = next(iter(inspected["Networks"].values()))["IPAddress"]
    eth0 = next(i for i in report["network"]["interfaces"] if i["name"] == "eth0")
    assert any(a.startswith(address + "/") for a in eth0["addresses"])
    host_link = json.loads(subprocess.run(["ip", "-j", "link", "show", eth0["host_peer"]], capture_output=True,
                                          text=True, check=True).stdout)[0]
    assert host_link.get("master") == eth0["host_bridge"]
    assert report["network"]["ports"]["80/tcp"][0]["HostPort"] == inspected["Ports"]["80/tcp"][0]["HostPort"]
    assert f"ip -n NS route add default via {report['network']['gateway']}" in report["commands"]["build"]
