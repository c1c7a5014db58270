"""nsbox.containers and Container: the docker-py-shaped objects, against real containers."""
from __future__ import annotations

import io
import os
import tarfile
import time

import pytest

import nsbox


def cgroup_file(client, controller: str, container_id: str, name: str) -> str:
    """A file of the container's cgroup, found as the engine finds it."""
    cgroup = client.engine.cgroup(client.engine.get(container_id))
    directory = cgroup.v1[controller] if controller in cgroup.v1 else cgroup.unified
    with open(os.path.join(directory, name)) as f:
        return f.read().strip()


def test_create_start_wait_and_attributes(client):
    container = client.containers.create("busybox", ["sh", "-c", "echo started; sleep 0.3; exit 5"], name="life",
                                         labels={"team": "a"})
    assert (container.status, container.name, container.image, container.labels) == ("created", "life", "busybox",
                                                                                     {"team": "a"})
    container.start()
    assert container.status == "running" and os.path.exists(f"/proc/{container.pid}")
    assert container.wait(timeout=30) == {"StatusCode": 5, "OOMKilled": False, "Error": None}
    assert container.status == "exited" and container.pid == 0
    assert list(container.logs()) == [b"started\n"]
    assert container.attrs["State"]["ExitCode"] == 5
    container.remove()
    with pytest.raises(nsbox.ContainerNotFound):
        client.containers.get("life")


def test_attrs_is_what_nsbox_inspect_prints(client, root):
    import json
    import subprocess

    from tests.engine.conftest import NSBOX
    with client.containers.create("busybox", ["true"], name="shown", network="none") as container:
        printed = subprocess.run([NSBOX, "--root", root, "inspect", "shown"], capture_output=True, text=True,
                                 check=True).stdout
        assert container.attrs == json.loads(printed)[0]
        assert container.attrs["Name"] == "/shown" and container.attrs["Config"]["NetworkDisabled"] is True
        assert container.attrs["State"]["StartedAt"] == "0001-01-01T00:00:00Z"  # Docker's zero time


def test_wait_timeout_leaves_it_running(client):
    with client.containers.run("busybox", ["sleep", "30"], detach=True) as container:
        with pytest.raises(nsbox.WaitTimeout) as caught:
            container.wait(timeout=0.2)
        assert isinstance(caught.value, TimeoutError)
        container.reload()
        assert container.status == "running"


def test_context_manager_removes_on_exception(client):
    with pytest.raises(RuntimeError, match="inside"):
        with client.containers.run("busybox", ["sleep", "30"], detach=True, name="doomed") as container:
            pid = container.pid
            raise RuntimeError("inside the block")
    with pytest.raises(nsbox.ContainerNotFound):
        client.containers.get("doomed")
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def test_stop_kill_restart(client):
    with client.containers.run("busybox", ["sleep", "30"], detach=True, stop_signal="SIGKILL") as container:
        first = container.pid
        container.restart(timeout=1)
        assert container.status == "running" and container.pid != first
        container.kill("SIGTERM")  # PID 1 ignores SIGTERM it has no handler for
        time.sleep(0.2)
        container.reload()
        assert container.status == "running"
        container.stop(timeout=1)
        assert container.status == "exited" and container.attrs["State"]["ExitCode"] == 137


def test_pause_and_unpause_freeze_the_processes(client):
    with client.containers.run("busybox", ["sleep", "30"], detach=True) as container:
        container.pause()
        assert container.status == "paused"
        assert cgroup_file(client, "freezer", container.id, "freezer.state") == "FROZEN"
        container.unpause()
        assert container.status == "running"
        assert cgroup_file(client, "freezer", container.id, "freezer.state") == "THAWED"


def test_update_changes_the_cgroup_at_once(client):
    with client.containers.run("busybox", ["sleep", "30"], detach=True, memory="64m") as container:
        assert cgroup_file(client, "memory", container.id, "memory.limit_in_bytes") == str(64 << 20)
        container.update(memory="96m", cpus=0.25)
        assert cgroup_file(client, "memory", container.id, "memory.limit_in_bytes") == str(96 << 20)
        assert cgroup_file(client, "cpu", container.id, "cpu.cfs_quota_us") == "25000"
        assert container.attrs["HostConfig"]["Memory"] == 96 << 20


def test_exec_collects_output_env_user_workdir_stdin(client):
    with client.containers.run("busybox", ["sleep", "30"], detach=True) as container:
        result = container.exec(["sh", "-c", "echo $X; id -u; pwd; cat; exit 2"], env={"X": "y"}, user="1000",
                                workdir="/tmp", stdin=b"typed", text=True)
        assert result.stdout == "y\n1000\n/tmp\ntyped" and result.exit_code == 2
        assert container.exec_run("hostname").output == container.id[:12].encode() + b"\n"
        slow = container.exec(["sleep", "30"], timeout=0.3)
        assert slow.timed_out and slow.exit_code == 137
        with pytest.raises(nsbox.RuntimeFailed):
            container.exec(["false"], check=True)


def test_exec_with_a_terminal(client):
    with client.containers.run("busybox", ["sleep", "30"], detach=True) as container:
        fds = len(os.listdir("/proc/self/fd"))
        result = container.exec(["sh", "-c", "tty; stty size; echo $TERM; echo oops >&2; exit 3"], tty=True)
        assert (result.exit_code, result.stdout, result.stderr) == (3, b"/dev/pts/0\r\n24 80\r\nxterm\r\noops\r\n", b"")
        assert len(os.listdir("/proc/self/fd")) == fds, "a tty exec left a descriptor open"
        assert container.exec(["sh", "-c", "tty"]).stdout == b"not a tty\n"
        slow = container.exec(["sleep", "30"], tty=True, timeout=0.3)
        assert slow.timed_out and slow.exit_code == 137
        with pytest.raises(nsbox.InvalidOption, match="stdin"):
            container.exec(["cat"], tty=True, stdin=b"x")


def test_exec_needs_a_running_container(client):
    container = client.containers.create("busybox", ["true"])
    with pytest.raises(nsbox.StateError, match="not running"):
        container.exec(["true"])
    container.remove()


def test_logs_tail_since_timestamps_and_follow(client):
    with client.containers.run("busybox", ["sh", "-c", "for i in 1 2 3; do echo $i; done; echo e >&2; sleep 0.5; "
                                           "echo late"], detach=True) as container:
        followed = list(container.logs(follow=True))
        assert followed == [b"1\n", b"2\n", b"3\n", b"e\n", b"late\n"]
        assert list(container.logs(tail=2)) == [b"e\n", b"late\n"]
        assert list(container.logs(stdout=False)) == [b"e\n"]
        stamped = list(container.logs(timestamps=True, tail=1))[0]
        assert stamped.endswith(b" late\n") and stamped[:4].isdigit()
        assert list(container.logs(since="1h")) == followed
        assert list(container.logs(since=str(int(time.time()) + 60))) == []


def test_stats_and_top(client, monkeypatch):
    with client.containers.run("busybox", ["sh", "-c", "while :; do :; done"], detach=True, memory="64m",
                               pids_limit=10) as container:
        time.sleep(0.5)
        with monkeypatch.context() as patched:  # one reading, at once: its CPU % is since the start
            patched.setattr("time.sleep", lambda seconds: pytest.fail(f"stats() slept {seconds} s"))
            reading = container.stats()
        assert reading["PIDs"] == 1 and reading["MemLimit"] == 64 << 20 and reading["ID"] == container.id
        assert reading["CPUPerc"] > 1, reading  # it spins (on a busy machine, on a fraction of a core)
        assert "memory" in reading["cgroup"]
        stream = container.stats(stream=True, interval=0.05)
        assert next(stream)["PIDs"] == 1
        processes = container.top()
        assert [(p["PID"], p["NSPID"], p["Command"]) for p in processes] == [
            (container.pid, 1, "sh -c while :; do :; done")]


def test_explain_reads_the_kernels_view(client):
    with client.containers.run("busybox", ["sleep", "30"], detach=True) as container:
        report = container.explain()
        assert report["container"]["host_pid"] == container.pid and report["container"]["container_pid"] == 1
        isolated = {entry["proc_name"] for entry in report["namespaces"] if entry["isolated"]}
        assert {"pid", "mnt", "uts", "ipc", "net"} <= isolated
        assert report["commands"]


def test_archives_in_and_out(client):
    with client.containers.run("busybox", ["sleep", "30"], detach=True) as container:
        data = io.BytesIO()
        with tarfile.open(fileobj=data, mode="w") as archive:
            content = b"put there\n"
            info = tarfile.TarInfo("dir/note.txt")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
        container.put_archive("/tmp", data.getvalue())
        assert container.exec(["cat", "/tmp/dir/note.txt"]).stdout == b"put there\n"
        got = tarfile.open(fileobj=io.BytesIO(container.get_archive("/tmp/dir")))
        assert got.extractfile("dir/note.txt").read() == b"put there\n"
        hostile = io.BytesIO()
        with tarfile.open(fileobj=hostile, mode="w") as archive:
            info = tarfile.TarInfo("../../escape")
            archive.addfile(info, io.BytesIO(b""))
        with pytest.raises(nsbox.NsboxError, match="climbs above"):
            container.put_archive("/tmp", hostile.getvalue())


def test_get_list_filters_rename_prune(client):
    first = client.containers.create("busybox", ["true"], name="one", labels={"team": "a"})
    with client.containers.run("busybox", ["sleep", "30"], detach=True, name="two", labels={"team": "b"}) as second:
        assert client.containers.get("one").id == first.id
        assert client.containers.get(second.id[:10]).name == "two"
        assert [c.name for c in client.containers.list()] == ["two"]
        assert sorted(c.name for c in client.containers.list(all=True)) == ["one", "two"]
        assert [c.name for c in client.containers.list(filters={"label": "team=a"})] == ["one"]
        assert [c.name for c in client.containers.list(filters={"status": "running"})] == ["two"]
        first.rename("uno")
        assert first.name == "uno" and client.containers.get("uno").id == first.id
        assert client.containers.prune() == [first.id]
        assert [c.name for c in client.containers.list(all=True)] == ["two"]
    with pytest.raises(nsbox.InvalidOption):
        client.containers.list(filters={"colour": "red"})


def test_run_without_detach_returns_stdout_or_raises(client):
    assert client.containers.run("busybox", ["echo", "docker-py"], remove=True) == b"docker-py\n"
    with pytest.raises(nsbox.RuntimeFailed) as caught:
        client.containers.run("busybox", ["sh", "-c", "exit 9"], remove=True)
    assert caught.value.exit_code == 9


def test_remove_running_needs_force(client):
    container = client.containers.run("busybox", ["sleep", "30"], detach=True)
    with pytest.raises(nsbox.StateError, match="stop it first"):
        container.remove()
    container.remove(force=True)
    assert client.containers.list(all=True) == []
