"""A full disk (issue 11, cases 2, 3 and 4): the nsbox root is a small tmpfs that the test
fills for real. Nothing that stops or removes a container needs free space; a failed
`run` or `start` leaves nothing half made (a kept container stays, created, with only its
root filesystem); the monitor survives ENOSPC on its log and records the exit once there
is room."""
from __future__ import annotations

import errno
import os
import subprocess

import pytest

from tests.engine.conftest import Nsbox, engine_leftovers

PYTHON_NAMES = ("Traceback", "OSError", "Errno", "Error:")
TMPFS_SIZE = "24m"


class Disk:
    """A tmpfs of TMPFS_SIZE mounted at `path`, and a filler file that takes its free space."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.filler = os.path.join(path, "filler")

    def fill(self, leave: int = 0) -> None:
        """Write until the disk is full (then give back `leave` bytes)."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            chunk = 1 << 20
            while chunk:
                try:
                    if os.write(fd, b"\0" * chunk) < chunk:
                        chunk //= 2
                except OSError as error:
                    assert error.errno == errno.ENOSPC
                    chunk //= 2
        finally:
            os.close(fd)
        if leave:
            os.truncate(self.filler, max(0, os.path.getsize(self.filler) - leave))

    def free(self) -> None:
        if os.path.exists(self.filler):
            os.unlink(self.filler)

    def is_full(self) -> bool:
        info = os.statvfs(self.path)
        return info.f_bavail * info.f_frsize < 64 << 10


@pytest.fixture
def disk(tmp_path, busybox_tar):
    """(nsbox on a small tmpfs root holding busybox, its Disk); unmounted afterwards."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(mount_point)], check=True)
    runner = Nsbox(str(mount_point / "root"))
    small = Disk(str(mount_point))
    try:
        runner("import", busybox_tar, "busybox")
        yield runner, small
        small.free()
        ids = runner("ps", "-a", "-q", "--no-trunc", check=False).stdout.split()
        if ids:
            runner("rm", "-f", *ids, check=False)
        left = engine_leftovers(runner.root)
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
    assert not left, f"rm -f left engine state behind: {left}"


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def one_clean_line(stderr: str) -> None:
    assert not any(name in stderr for name in PYTHON_NAMES), stderr
    assert len(stderr.splitlines()) <= 1, stderr


@pytest.mark.parametrize("command", [["stop", "-t", "1"], ["kill"], ["rm", "-f"]])
def test_stop_kill_rm_work_on_a_full_disk(disk, command):
    nsbox, small = disk
    nsbox("run", "-d", "--name", "busy", "busybox", "sleep", "300")
    state = nsbox.state("busy")
    small.fill()
    assert small.is_full()
    result = nsbox(*command, "busy", check=False, timeout=90)
    one_clean_line(result.stderr)
    assert result.returncode == 0, result.stderr
    if command[0] == "kill":  # like docker kill, it returns once the signal is sent
        nsbox.wait_for(lambda: not alive(state["Pid"]), what="the killed process gone")
    assert not alive(state["Pid"])
    if command[0] == "rm":
        assert nsbox.out("ps", "-a", "-q") == ""
        assert not alive(state["MonitorPid"])
    else:  # the monitor keeps the exit code until it can write it
        assert alive(state["MonitorPid"]) or nsbox.state("busy")["Status"] == "exited"
        small.free()
        nsbox.wait_for(lambda: nsbox.state("busy")["Status"] == "exited", what="the exit recorded")
        assert nsbox.state("busy")["ExitCode"] in (137, 143)


@pytest.mark.parametrize("leave", [0, 4 << 10, 8 << 10, 64 << 10])
@pytest.mark.parametrize("rm", [["--rm"], []])
def test_run_on_a_full_disk_leaves_nothing_half_made(disk, leave, rm):
    nsbox, small = disk
    small.fill(leave)
    result = nsbox("run", *rm, "busybox", "true", check=False)
    if result.returncode == 0:  # it fitted: then it must be a whole container
        assert rm or nsbox.state(nsbox.out("ps", "-a", "-q").split()[0])["Status"] == "exited"
        return
    assert result.returncode == 125
    one_clean_line(result.stderr)
    listed = nsbox.out("ps", "-a", "-q", "--no-trunc").split()
    with open("/proc/self/mountinfo") as mountinfo:  # only the root filesystem of a container ps -a lists
        mounted = [line.split()[4] for line in mountinfo if line.split()[4].startswith(nsbox.root + "/")]
    assert mounted == [os.path.join(nsbox.root, "image", "rootfs", cid, "merged") for cid in listed], mounted
    made = os.listdir(os.path.join(nsbox.root, "image", "rootfs")) if os.path.isdir(
        os.path.join(nsbox.root, "image", "rootfs")) else []
    assert set(made) <= set(listed), (made, listed)  # no root filesystem that ps -a does not list
    small.free()
    nsbox("system", "prune", "-f")
    nsbox("rmi", "busybox")  # nothing holds the image any more


@pytest.mark.parametrize("loop", ["c", "python"])
def test_monitor_survives_enospc_on_its_log(disk, loop, monkeypatch):
    """Both monitor loops: the C one (built by setup.sh) and the Python one (NSBOX_MONITOR=python)."""
    if loop == "python":
        monkeypatch.setenv("NSBOX_MONITOR", "python")
    nsbox, small = disk
    script = "i=0; while [ $i -lt 400 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); sleep 0.01; done; exit 7"
    nsbox("run", "-d", "--name", "chatty", "busybox", "sh", "-c", script)
    monitor = nsbox.state("chatty")["MonitorPid"]
    small.fill()
    nsbox.wait_for(lambda: not alive(nsbox.state("chatty")["Pid"]) or nsbox.state("chatty")["Status"] != "running",
                   what="the container's end")
    assert alive(monitor) or nsbox.state("chatty")["Status"] == "exited"
    small.free()
    nsbox.wait_for(lambda: nsbox.state("chatty")["Status"] == "exited", what="the exit recorded")
    assert nsbox.state("chatty")["ExitCode"] == 7
    nsbox.wait_for(lambda: "dropped" in nsbox("logs", "chatty").stderr, what="the note of dropped lines")
    with open(os.path.join(nsbox.root, "containers", nsbox.inspect("chatty")["Id"], "container.log"), "rb") as log:
        lines = log.read().split(b"\n")
    assert lines[-1] == b""  # no torn last line
    for line in lines[:-1]:
        stamp, stream, tag, text = line.split(b" ", 3)
        assert stream in (b"stdout", b"stderr") and tag in (b"F", b"P")
        assert text.startswith(b"line-") and text.endswith(b"x") or b"dropped" in text, line
    assert any(b"dropped" in line for line in lines)


def test_start_on_a_full_disk_leaves_the_container_created_and_nothing_half_made(disk):
    """A kept container, created while there was room, started on a full disk: with each
    amount left (a page more each time), start fails at another of its writes (the record,
    the /etc files, the bundle, the runtime's state, the "running" record) or fits. A
    failure leaves it created, with the error in State.Error where there was room to write
    it, holding nothing but its root filesystem (no veth, lease, runtime state, cgroup or
    monitor); once there is room, start works."""
    from tests.engine.test_failed_start import held_by
    nsbox, small = disk
    outcomes = []
    for pages in range(16):
        container_id = nsbox.out("create", "--name", "kept", "--dns", "127.0.0.1", "busybox",
                                 "sleep", "300").strip()
        small.fill(pages * 4096)
        result = nsbox("start", "kept", check=False)
        state = nsbox.state("kept")
        if result.returncode == 0:  # it fitted: then it must be a whole running container
            assert state["Running"] and alive(state["Pid"]) and alive(state["MonitorPid"]), state
            outcomes.append("started")
        else:
            assert result.returncode == 125, result.stderr
            one_clean_line(result.stderr)
            assert (state["Status"], state["Pid"]) == ("created", 0), (pages, state)
            # (naming the file it could not write, and so the filesystem that is full)
            assert state["Error"] == "" or state["Error"].startswith(f"No space left on device: {nsbox.root}/"), \
                (pages, state)
            assert held_by(nsbox, container_id) == [], pages
            outcomes.append("recorded" if state["Error"] else "failed")
            small.free()
            nsbox("start", "kept")
            assert nsbox.state("kept")["Running"]
        small.free()
        nsbox("rm", "-f", "kept")
    assert {"failed", "recorded", "started"} <= set(outcomes), outcomes
