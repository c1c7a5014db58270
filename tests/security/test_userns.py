"""--userns remap: root inside is an unprivileged range outside, taken from /etc/subuid."""
from __future__ import annotations

import os

import pytest


@pytest.fixture
def private_subid_files(tmp_path, monkeypatch):
    """Private /etc/subuid and /etc/subgid (the host's are never written by tests), holding
    another user's range so that nsbox must pick the next free one."""
    uid, gid = tmp_path / "subuid", tmp_path / "subgid"
    uid.write_text("someone:100000:65536\n")
    gid.write_text("someone:100000:65536")  # no final newline: the entry must still go on its own line
    monkeypatch.setenv("NSBOX_SUBUID_FILE", str(uid))
    monkeypatch.setenv("NSBOX_SUBGID_FILE", str(gid))
    return uid, gid


def test_unreachable_root_is_refused_by_flag(nsbox, private_subid_files):
    """pytest's directories are 0700: the remapped root could not reach its root filesystem."""
    refused = nsbox("run", "--rm", "--userns", "remap", "busybox", "true", check=False)
    assert refused.returncode == 125
    assert "--userns: the container's root" in refused.stderr and "chmod o+x" in refused.stderr


@pytest.fixture
def subid_files(tmp_path, private_subid_files):
    uid, gid = private_subid_files
    with open("/proc/self/mountinfo") as info:  # the filesystem holding tmp_path (the longest mount point)
        mounts = [(line.split()[4], line.split(" - ")[1].split()[0]) for line in info]
    fstype = max((m for m in mounts if str(tmp_path).startswith(m[0].rstrip("/") + "/") or m[0] == "/"),
                 key=lambda m: len(m[0]))[1]
    if fstype == "overlay":
        pytest.skip("the test's directory is on overlayfs, which has no id-mapped mounts (the VM lane's /tmp)")
    # the remapped root must be able to reach its root filesystem under the test's directory
    path = str(tmp_path)
    while path not in ("/", "/tmp"):
        os.chmod(path, os.stat(path).st_mode | 0o111)
        path = os.path.dirname(path)
    return uid, gid


def test_remap_root_inside_is_an_unprivileged_uid_outside(nsbox, subid_files):
    uid_file, gid_file = subid_files
    nsbox("run", "-d", "--name", "remapped", "--userns", "remap", "-v", "fresh:/data", "busybox", "sh", "-c",
          "id -u > /data/id; echo written > /data/file; touch /rootfs-write; sleep 100")
    assert uid_file.read_text() == "someone:100000:65536\nnsbox:165536:65536\n"
    assert gid_file.read_text() == "someone:100000:65536\nnsbox:165536:65536\n"
    state = nsbox.state("remapped")
    nsbox.wait_for(lambda: os.path.exists(nsbox.root + "/volumes/fresh/_data/file"), what="the volume write")
    with open(f"/proc/{state['Pid']}/status") as status:
        ids = {line.split(":")[0]: line.split()[1:] for line in status if line.startswith(("Uid:", "Gid:"))}
    assert ids["Uid"][0] == "165536" and ids["Gid"][0] == "165536"  # the host sees the mapped uid
    data = os.path.join(nsbox.root, "volumes", "fresh", "_data")
    assert open(os.path.join(data, "id")).read() == "0\n"  # root inside
    assert os.stat(os.path.join(data, "file")).st_uid == 165536  # the volume file is the mapped uid's
    inside = nsbox("exec", "remapped", "sh", "-c", "stat -c %u /bin/busybox /etc; ls /rootfs-write").stdout.split()
    assert inside == ["0", "0", "/rootfs-write"]  # the image's root-owned files are root's inside
    security = nsbox.inspect("remapped")["Security"]
    assert security["UidMap"] == ["0 165536 65536"]


def test_image_layers_are_shared_not_copied(nsbox, subid_files):
    """Two remapped containers and a plain one read the same layer files, still owned by 0."""
    for name, options in (("ra", ["--userns", "remap"]), ("rb", ["--userns", "remap"]), ("plain", [])):
        nsbox("run", "-d", "--name", name, *options, "busybox", "sleep", "100")
    inodes = set()
    for name in ("ra", "rb", "plain"):
        inodes.add(nsbox("exec", name, "stat", "-c", "%i", "/bin/busybox").stdout.strip())
    assert len(inodes) == 1, inodes  # one file on disk behind every container
    layers = os.path.join(nsbox.root, "image", "layers")
    owners = {os.stat(os.path.join(d, "bin", "busybox")).st_uid for d in
              (os.path.join(layers, name) for name in os.listdir(layers)) if os.path.exists(os.path.join(d, "bin", "busybox"))}
    assert owners == {0}


def test_uidmap_gives_an_explicit_mapping(nsbox, tmp_path):
    path = str(tmp_path)
    while path not in ("/", "/tmp"):
        os.chmod(path, os.stat(path).st_mode | 0o111)
        path = os.path.dirname(path)
    out = nsbox("run", "--rm", "--uidmap", "0:300000:1000", "--gidmap", "0:400000:1000", "busybox", "sh", "-c",
                "cat /proc/self/uid_map /proc/self/gid_map").stdout.split()
    assert out == ["0", "300000", "1000", "0", "400000", "1000"]


@pytest.mark.parametrize("options, message", [
    (["--userns", "private"], "unsupported mode 'private'"),
    (["--uidmap", "0:100000"], "must be CONTAINER_ID:HOST_ID:SIZE"),
    (["--userns", "host", "--uidmap", "0:100000:10"], "host conflicts with --uidmap"),
    (["--gidmap", "0:100000:10"], "needs --uidmap"),
])
def test_bad_userns_options(nsbox, options, message):
    result = nsbox("run", "--rm", *options, "busybox", "true", check=False)
    assert result.returncode == 125 and message in result.stderr, result.stderr


def test_store_on_overlayfs_is_refused_clearly(busybox_tar, tmp_path, private_subid_files):
    """Layers on a filesystem without id-mapped mounts: a clear refusal, nothing copied or left."""
    import subprocess
    from tests.engine.conftest import Nsbox
    parts = {name: tmp_path / name for name in ("lower", "upper", "work", "merged")}
    for path in parts.values():
        path.mkdir()
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={parts['lower']},upperdir={parts['upper']},"
                    f"workdir={parts['work']}", str(parts["merged"])], check=True)
    try:
        path = str(tmp_path)
        while path not in ("/", "/tmp"):
            os.chmod(path, os.stat(path).st_mode | 0o111)
            path = os.path.dirname(path)
        nsbox = Nsbox(str(parts["merged"] / "root"))
        nsbox("import", busybox_tar, "busybox")
        result = nsbox("run", "--rm", "--userns", "remap", "busybox", "true", check=False)
        assert result.returncode == 125
        assert "filesystem must support id-mapped mounts" in result.stderr, result.stderr
        assert nsbox("ps", "-aq").stdout == ""
        assert os.listdir(parts["merged"] / "root" / "image" / "rootfs") == []
    finally:
        subprocess.run(["umount", "-l", str(parts["merged"])], check=True)


def test_a_remapped_container_starts_again_after_a_reboot(nsbox, subid_files):
    """Its root filesystem is mounted again through id-mapped layers: root inside still owns
    the image's files and what it wrote before."""
    from tests.engine.test_crash import reboot
    # (a file no other test makes: runtime tests add mount points such as /data to the shared busybox tree)
    script = ("cat /kept-file 2>/dev/null || echo first run; echo written before > /kept-file; "
              "stat -c %u /bin/busybox /kept-file")
    assert nsbox.out("run", "--name", "kept", "--userns", "remap", "--network", "none", "busybox", "sh", "-c",
                     script).split() == ["first", "run", "0", "0"]
    first_start = nsbox.state("kept")["StartedAt"]
    reboot(nsbox)
    nsbox("start", "kept")
    nsbox.wait_for(lambda: nsbox.state("kept")["Status"] == "exited", what="the second run's exit")
    state = nsbox.state("kept")
    # the second run's exit, and both runs' output: a failure tells a second run that saw no /kept-file
    # ('first run' twice in the log) from one whose output never reached the log (its exit lost)
    assert state["StartedAt"] != first_start
    assert (state["ExitCode"], state["Error"], nsbox.out("logs", "kept").split()) == \
        (0, "", ["first", "run", "0", "0", "written", "before", "0", "0"])
    nsbox("rm", "kept")
