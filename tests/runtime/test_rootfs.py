"""The root filesystem: mounts, /dev, devices, masked and read-only paths, pivot_root."""
from __future__ import annotations

import os

import pytest


def test_masked_and_readonly_paths(run_container):
    # /sys/firmware is a directory masked with an empty read-only tmpfs, /proc/keys a file
    # masked with /dev/null; /proc/sys is bound read-only (its files stay writable for root
    # elsewhere, e.g. /proc/sys/kernel/domainname, so a write there tells them apart).
    script = ("ls /sys/firmware | wc -l; grep -c ' /proc/keys ' /proc/self/mountinfo; "
              "grep ' /proc/sys ' /proc/self/mountinfo | cut -d' ' -f6; "
              "echo x > /proc/sys/kernel/domainname && echo writable || echo refused")
    result = run_container(["sh", "-c", script])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split()
    assert lines[0] == "0" and len(os.listdir("/sys/firmware")) > 0
    assert lines[1] == "1"
    assert lines[2].split(",")[0] == "ro"
    assert lines[3] == "refused"


def test_without_readonly_paths_proc_sys_is_writable(run_container):
    """The counterpart: the same write succeeds when linux.readonlyPaths is empty."""
    def edit(spec):
        spec["linux"]["readonlyPaths"] = []
    result = run_container(["sh", "-c", "echo x > /proc/sys/kernel/domainname && echo writable"], edit)
    assert result.stdout.strip() == "writable", result.stderr


def test_read_only_root_and_writable_root(run_container):
    result = run_container(["sh", "-c", "touch /newfile && echo wrote || echo refused"])
    assert result.stdout.strip() == "refused"

    def writable(spec):
        spec["root"]["readonly"] = False
    result = run_container(["sh", "-c", "touch /newfile && echo wrote"], writable, copy_rootfs=True)
    assert result.stdout.strip() == "wrote", result.stderr


def test_default_dev(run_container):
    script = ("for d in null zero full random urandom tty; do stat -c '%n %t:%T %F' /dev/$d; done; "
              "for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done; head -c 4 /dev/zero | wc -c")
    result = run_container(["sh", "-c", script])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:6] == ["/dev/null 1:3 character special file", "/dev/zero 1:5 character special file",
                         "/dev/full 1:7 character special file", "/dev/random 1:8 character special file",
                         "/dev/urandom 1:9 character special file", "/dev/tty 5:0 character special file"]
    assert lines[6:11] == ["pts/ptmx", "/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2"]
    assert lines[11] == "4"


def test_linux_devices_are_created(run_container):
    def edit(spec):
        spec["linux"]["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
                                     "fileMode": 0o640, "uid": 0, "gid": 0},
                                    {"path": "/dev/pipe-here", "type": "p"}]
    result = run_container(["stat", "-c", "%n %t:%T %a %F", "/dev/fuse", "/dev/pipe-here"], edit)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["/dev/fuse a:e5 640 character special file",
                                          "/dev/pipe-here 0:0 666 fifo"]


def test_bind_mount_read_only_and_tmpfs(run_container, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "hello").write_text("from the host\n")

    def edit(spec):
        spec["mounts"].append({"destination": "/data", "type": "bind", "source": str(shared),
                               "options": ["rbind", "ro", "nosuid", "nodev"]})
        spec["mounts"].append({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
                               "options": ["size=1m", "mode=1777"]})
    script = ("cat /data/hello; touch /data/x 2>/dev/null && echo rw || echo ro; "
              "grep ' /data ' /proc/self/mountinfo | cut -d' ' -f6; "
              "touch /scratch/y && echo scratch-ok; grep ' /scratch ' /proc/mounts | cut -d' ' -f3")
    result = run_container(["sh", "-c", script], edit)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "from the host" and lines[1] == "ro"
    assert set(lines[2].split(",")) >= {"ro", "nosuid", "nodev"}
    assert lines[3:] == ["scratch-ok", "tmpfs"]
    assert not (shared / "x").exists()


def test_relative_bind_source_is_inside_the_bundle(run_container):
    def edit(spec):
        spec["mounts"].append({"destination": "/etc/motd", "type": "bind", "source": "config.json",
                               "options": ["bind", "ro"]})
    result = run_container(["head", "-c", "1", "/etc/motd"], edit)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "{"


def test_mount_destination_symlink_cannot_escape_the_rootfs(make_bundle, runtime, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()

    def edit(spec):
        spec["mounts"].append({"destination": "/escape/inner", "type": "tmpfs", "source": "tmpfs"})
    bundle = make_bundle(["sh", "-c", "readlink /escape; grep -c ' /tmp/.*/outside/inner ' /proc/self/mountinfo"],
                         edit, copy_rootfs=True)
    os.symlink(str(outside), os.path.join(bundle, "rootfs", "escape"))
    result = runtime("run", "--bundle", bundle, "escape")
    assert result.returncode == 0, result.stderr
    # The symlink was followed inside the rootfs: the mount landed on rootfs/<outside path>/inner.
    assert result.stdout.split()[0] == str(outside)
    assert os.listdir(outside) == []
    assert os.path.isdir(os.path.join(bundle, "rootfs", str(outside).lstrip("/"), "inner"))


def test_no_pivot_runs_in_the_rootfs(run_container, busybox_rootfs):
    # Moved onto / and chrooted instead of pivot_root: from inside the two look alike, so
    # this checks only that the program runs in the bundle's rootfs, not the host's /.
    result = run_container(["cat", "/etc/passwd"], extra=("--no-pivot",))
    assert result.returncode == 0, result.stderr
    assert result.stdout == open(os.path.join(busybox_rootfs, "etc/passwd")).read() != open("/etc/passwd").read()


ROOT_MOUNT_TAGS = ["sh", "-c", "awk '$5 == \"/\" {for (i = 7; $i != \"-\"; i++) print $i}' /proc/self/mountinfo"]


def root_mount_tags(make_bundle, runtime, edit=None) -> list[str]:
    """The propagation tags of the container's / when its rootfs is a shared mount on the host
    (this machine's own / is private, which would make every setting look alike)."""
    import subprocess
    bundle = make_bundle(ROOT_MOUNT_TAGS, edit, copy_rootfs=True)
    rootfs = os.path.join(bundle, "rootfs")
    subprocess.run(["mount", "--bind", rootfs, rootfs], check=True)
    try:
        subprocess.run(["mount", "--make-shared", rootfs], check=True)
        result = runtime("run", "--bundle", bundle, "propagation")
    finally:
        subprocess.run(["umount", rootfs], check=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.parametrize("propagation", [None, "rslave"])
def test_rootfs_propagation_slave_receives_from_the_host(make_bundle, runtime, propagation):
    def edit(spec):
        if propagation:
            spec["linux"]["rootfsPropagation"] = propagation
    tags = root_mount_tags(make_bundle, runtime, edit)
    assert [tag for tag in tags if tag.startswith("master:")] and not [t for t in tags if t.startswith("shared:")], tags


def test_rootfs_propagation_private(make_bundle, runtime):
    def edit(spec):
        spec["linux"]["rootfsPropagation"] = "rprivate"
    tags = root_mount_tags(make_bundle, runtime, edit)
    assert not [tag for tag in tags if tag.startswith(("master:", "shared:"))], tags


@pytest.mark.parametrize("propagation", ["shared", "rshared"])
def test_rootfs_propagation_shared(make_bundle, runtime, propagation):
    """As runc: the mount holding the rootfs goes private for pivot_root, and the new root
    is made shared after it (a peer group of the container's own)."""
    def edit(spec):
        spec["linux"]["rootfsPropagation"] = propagation
    tags = root_mount_tags(make_bundle, runtime, edit)
    assert [tag for tag in tags if tag.startswith("shared:")], tags


@pytest.mark.v2_lane  # touches cgroups: run again on real cgroup v2
def test_sysfs_and_cgroup_mounts_are_read_only(run_container):
    result = run_container(["sh", "-c", "cut -d' ' -f2,3,4 /proc/mounts | grep -E '^/sys( |/fs/cgroup)'"])
    assert result.returncode == 0, result.stderr
    mounts = [line.split() for line in result.stdout.splitlines()]
    assert [point for point, _, _ in mounts][:2] == ["/sys", "/sys/fs/cgroup"], mounts
    assert any(kind in ("cgroup", "cgroup2") for _, kind, _ in mounts)  # v1 hierarchies under a tmpfs, or cgroup2
    for point, _, options in mounts:
        assert options.split(",")[0] == "ro", point


@pytest.mark.v2_lane  # touches cgroups: run again on real cgroup v2
def test_cgroup_mount_without_cgroup_namespace_shows_the_containers_own_cgroup(run_container):
    """As runc does, and dockerd's containers on cgroup v1 expect: the limit read at the
    top of /sys/fs/cgroup is the container's, not the host root's."""
    def edit(spec):
        spec["linux"]["namespaces"] = [ns for ns in spec["linux"]["namespaces"] if ns["type"] != "cgroup"]
        spec["linux"]["resources"] = {"pids": {"limit": 42}}
    v1_pids = os.path.isdir("/sys/fs/cgroup/pids")
    limit_file = "/sys/fs/cgroup/pids/pids.max" if v1_pids else "/sys/fs/cgroup/pids.max"
    result = run_container(["cat", limit_file], edit)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "42"
