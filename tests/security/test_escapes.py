"""Escape attempts inside a default `nsbox run` container: each must fail, the host unchanged.

The probe (probe.c) only looks — a write is checked with access(W_OK) and the mount's
read-only flag, a capability by reading CapEff, a dangerous system call with arguments
the kernel refuses once it lets the call run — so that even a probe that succeeds (under
--privileged, below) changes nothing on this machine.
"""
from __future__ import annotations

import os
import subprocess
import tarfile
import threading

import pytest

from tests.security.conftest import parse_probe

EVERY_PROBE = ("mount_proc", "mount_tmpfs", "mknod_read_disk", "disk_node_in_dev", "write_sysrq_trigger",
               "write_proc_sys", "write_sys", "write_cgroup_limits", "read_proc_kcore", "read_proc_keys",
               "unshare_user_ns", "unshare_mount_ns", "cap_SYS_ADMIN", "cap_SYS_MODULE", "cap_SYS_TIME",
               "cap_SYS_PTRACE", "cap_DAC_READ_SEARCH", "cap_NET_ADMIN", "host_processes_visible",
               "host_interfaces_visible", "fd_beyond_stdio", "seccomp_not_filtering", "keyctl", "bpf",
               "perf_event_open", "userfaultfd", "kexec_load", "init_module", "open_by_handle_at")

# What --privileged opens on this machine (kexec and modules are not built into this kernel,
# and the machine itself refuses even the host's root a read of its disk).
PRIVILEGED_OPENS = ("mount_proc", "mount_tmpfs", "disk_node_in_dev", "write_proc_sys", "write_sys",
                    "write_cgroup_limits", "read_proc_keys", "unshare_user_ns", "unshare_mount_ns", "cap_SYS_ADMIN",
                    "cap_SYS_MODULE", "cap_SYS_TIME", "cap_SYS_PTRACE", "cap_DAC_READ_SEARCH", "cap_NET_ADMIN",
                    "seccomp_not_filtering", "keyctl", "bpf", "perf_event_open", "userfaultfd", "open_by_handle_at")


# --network none, as docker and podman run it in test_compare: a bridged container's own eth0
# is no host interface, and with none the probe sees any interface that is not the container's.
NO_NETWORK = ("--network", "none")


def run_probe(nsbox, probe, *options):
    result = nsbox("run", "--rm", *NO_NETWORK, *options, "-v", f"{probe}:/probe:ro", "busybox", "/probe")
    results = parse_probe(result.stdout)
    assert set(results) == set(EVERY_PROBE), result.stdout
    return results


def test_default_container_blocks_every_attempt(nsbox, probe):
    results = run_probe(nsbox, probe)
    opened = {name: detail for name, (verdict, detail) in results.items() if verdict != "blocked"}
    assert not opened, opened


def test_exec_process_is_confined_alike(nsbox, probe):
    nsbox("run", "-d", "--name", "target", *NO_NETWORK, "-v", f"{probe}:/probe:ro", "busybox", "sleep", "100")
    results = parse_probe(nsbox("exec", "target", "/probe").stdout)
    opened = {name: detail for name, (verdict, detail) in results.items() if verdict != "blocked"}
    opened.pop("host_processes_visible", None)  # sleep, the probe and its children only
    assert not opened, opened


def test_privileged_opens_what_docker_privileged_opens(nsbox, probe):
    results = run_probe(nsbox, probe, "--privileged")
    still_blocked = [name for name in PRIVILEGED_OPENS if results[name][0] != "OPEN"]
    assert not still_blocked, {name: results[name] for name in still_blocked}
    # never the host's processes, interfaces or the runtime's descriptors, privileged or not
    for name in ("host_processes_visible", "host_interfaces_visible", "fd_beyond_stdio"):
        assert results[name][0] == "blocked", results[name]


@pytest.mark.parametrize("options, opened", [
    (("--cap-add", "SYS_ADMIN"), ("cap_SYS_ADMIN", "mount_tmpfs", "unshare_mount_ns")),
    (("--security-opt", "seccomp=unconfined"), ("seccomp_not_filtering",)),
    (("--cap-add", "ALL", "--security-opt", "seccomp=unconfined"), ("cap_SYS_TIME", "cap_NET_ADMIN", "keyctl")),
])
def test_each_loosening_opens_only_its_own_door(nsbox, probe, options, opened):
    results = run_probe(nsbox, probe, *options)
    assert all(results[name][0] == "OPEN" for name in opened), {n: results[n] for n in opened}
    assert results["write_proc_sys"][0] == "blocked"  # /proc/sys stays read-only without --privileged


def test_runtime_exe_cannot_be_opened_during_exec(nsbox, probe):
    """CVE-2019-5736: a process inside opened /proc/PID/exe of the joining runc and wrote to it."""
    nsbox("run", "-d", "--name", "watched", "-v", f"{probe}:/probe:ro", "busybox", "sleep", "100")
    watcher = threading.Thread(target=lambda: watched.append(nsbox("exec", "watched", "/probe", "watch-exe", "6")))
    watched: list = []
    watcher.start()
    for _ in range(25):
        nsbox("exec", "watched", "true")
    watcher.join(30)
    results = parse_probe(watched[0].stdout)
    assert results["exec_runtime_exe_open"][0] == "blocked", results


def test_symlink_in_image_at_mount_destination_stays_inside(nsbox, busybox_tar, tmp_path):
    """An image whose /data is a symlink to a host path: the volume lands inside the rootfs."""
    host_target = tmp_path / "host-target"
    host_target.mkdir()
    source = tmp_path / "volume"
    source.mkdir()
    image_tar = tmp_path / "hostile.tar"
    with tarfile.open(busybox_tar) as base, tarfile.open(image_tar, "w") as out:
        for member in base.getmembers():
            out.addfile(member, base.extractfile(member) if member.isfile() else None)
        for name, target in (("data", str(host_target)), ("up", "../../../../../../../../.." + str(host_target))):
            link = tarfile.TarInfo(name)
            link.type, link.linkname = tarfile.SYMTYPE, target
            out.addfile(link)
    nsbox("import", str(image_tar), "hostile")
    for destination in ("/data", "/up"):
        result = nsbox("run", "--rm", "-v", f"{source}:{destination}", "--tmpfs", "/tmpdest", "hostile", "sh", "-c",
                       f"echo escaped > {destination}/written")
        assert result.returncode == 0, result.stderr
    assert os.listdir(host_target) == []
    assert (source / "written").read_text() == "escaped\n"  # the volume itself got the write
    mounts = subprocess.run(["findmnt", "-rn", "-o", "TARGET"], capture_output=True, text=True).stdout.split()
    assert str(host_target) not in mounts


def test_cwd_through_a_host_descriptor_is_refused(make_bundle, runtime, tmp_path):
    """CVE-2024-21626: process.cwd /proc/self/fd/N naming a host directory the runtime holds
    put the program's working directory outside the root. Here fd 3 is the host's /etc,
    passed on purpose with --preserve-fds: the start must fail, the program never run."""
    import subprocess

    def edit(spec):
        spec["process"]["cwd"] = "/proc/self/fd/3"
    bundle = make_bundle(["sh", "-c", "ls passwd && echo escaped"], edit)
    result = subprocess.run(["sh", "-c", 'exec 3</etc; exec "$@"', "sh", runtime.binary, "--root", runtime.root,
                             "run", "--preserve-fds", "1", "--bundle", bundle, "cwd-escape"],
                            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert "escaped" not in result.stdout
    assert result.returncode != 0 and "outside the container's root" in result.stderr, result.stderr
    runtime("delete", "-f", "cwd-escape")
