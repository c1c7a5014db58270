"""nsbox.run: one call runs a container in this process and says how it went."""
from __future__ import annotations

import os
import threading

import pytest

import nsbox


def test_exit_code_and_separate_output(client):
    result = client.run("busybox", ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (result.exit_code, result.returncode) == (3, 3)
    assert (result.stdout, result.stderr) == (b"out\n", b"err\n")
    assert not result.timed_out and not result.oom_killed
    assert result.wall_time > 0 and result.container_id and result.name


def test_text_and_stdin(client):
    result = client.run("busybox", ["sh", "-c", "tr a-z A-Z"], stdin="fed in\n", text=True)
    assert result.stdout == "FED IN\n"


def test_large_stdin_and_output_do_not_deadlock(client):
    data = os.urandom(1 << 20).hex().encode()  # 2 MiB: far more than a pipe holds
    result = client.run("busybox", ["cat"], stdin=data)
    assert result.stdout == data


def test_the_container_is_isolated(client):
    result = client.run("busybox", ["sh", "-c", "echo $$; hostname; cat /proc/net/dev | wc -l"], network="none",
                        text=True)
    pid, hostname, interfaces = result.stdout.split()
    assert pid == "1" and hostname == result.container_id[:12]
    assert interfaces == "3"  # two header lines and lo: no network but its own loopback


def test_timeout_kills_and_says_so(client):
    result = client.run("busybox", ["sleep", "30"], timeout=0.5)
    assert result.timed_out and result.exit_code == 137
    assert result.wall_time < 10


def test_memory_limit_oom_kill_is_reported(client):
    result = client.run("busybox", ["sh", "-c", "x=aaaaaaaa; while true; do x=$x$x; done"], memory="16m")
    assert result.oom_killed and result.exit_code == 137
    assert not result.timed_out


def test_peak_memory_and_cpu_time_come_from_the_cgroup(client):
    """30 MiB written to /dev/shm (shmem) count against the container's memory."""
    result = client.run("busybox", ["sh", "-c", "dd if=/dev/zero of=/dev/shm/f bs=1M count=30 2>/dev/null; "
                                    "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"], memory="128m")
    assert result.exit_code == 0
    assert 30 << 20 <= result.peak_memory <= 128 << 20
    assert 0.005 < result.cpu_time < result.wall_time * 2 + 1


def test_check_raises_runtime_failed_with_the_exit_code_and_stderr(client):
    with pytest.raises(nsbox.RuntimeFailed) as caught:
        client.run("busybox", ["sh", "-c", "echo broken >&2; exit 4"], check=True)
    assert caught.value.exit_code == 4 and caught.value.stderr == b"broken\n"


def test_options_reach_the_container(client, tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "in.txt").write_text("from host")
    result = client.run("busybox", ["sh", "-c", "pwd; id -u; echo $GREETING; cat /data/in.txt; echo made > /data/out"],
                        env={"GREETING": "hello"}, workdir="/tmp", user="1000",
                        volumes={str(tmp_path / "shared"): {"bind": "/data", "mode": "rw"}}, text=True)
    assert result.stdout.split("\n")[:4] == ["/tmp", "1000", "hello", "from host"]
    assert result.exit_code == 1  # uid 1000 may not write the root-owned directory
    read_only = client.run("busybox", ["sh", "-c", "echo x > /data/y"], volumes=[f"{tmp_path / 'shared'}:/data:ro"])
    assert read_only.exit_code != 0 and b"Read-only" in read_only.stderr


def test_limits_reach_the_cgroup(client):
    """The limits as the container's own cgroup files show them, read from inside."""
    result = client.run("busybox", ["sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes "
                                    "/sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/pids/pids.max"],
                        memory="128m", cpus=0.5, pids_limit=42, cgroupns="private", text=True)
    assert result.stdout.split() == [str(128 << 20), "50000", "42"]


def test_remove_false_keeps_the_container_and_its_log(client):
    result = client.run("busybox", ["sh", "-c", "echo kept; echo also >&2"], name="keeper", remove=False)
    container = client.containers.get("keeper")
    assert container.id == result.container_id and container.status == "exited"
    assert list(container.logs()) == [b"kept\n", b"also\n"]
    assert list(container.logs(stderr=False)) == [b"kept\n"]
    container.remove()


def test_removed_when_done(client, root):
    client.run("busybox", ["true"], name="gone")
    with pytest.raises(nsbox.ContainerNotFound):
        client.containers.get("gone")


def test_a_removed_containers_root_filesystem_is_volatile(client):
    """A container removed when it ends (remove=True, --rm) keeps no change past a crash of
    the machine: its overlay is mounted `volatile`, so unmounting it syncs no disk; a kept
    container's is not."""
    def root_mount(**options: object) -> str:
        return client.run("busybox", ["grep", " / / ", "/proc/self/mountinfo"], text=True, **options).stdout

    removed, kept = root_mount(), root_mount(remove=False, name="kept")
    assert "overlay" in removed and "volatile" in removed
    assert "overlay" in kept and "volatile" not in kept
    client.containers.get("kept").remove()


def test_missing_image(client):
    with pytest.raises(nsbox.ImageNotFound, match="nosuch"):
        client.run("nosuch", ["true"])


def test_taken_name(client):
    with client.containers.run("busybox", ["sleep", "30"], name="taken", detach=True):
        with pytest.raises(nsbox.NameInUse, match="taken"):
            client.run("busybox", ["true"], name="taken")


def test_invalid_options_name_the_option(client):
    with pytest.raises(nsbox.InvalidOption) as caught:
        client.run("busybox", ["true"], memory="lots")
    assert caught.value.option == "--memory" and "invalid size 'lots'" in caught.value.reason
    with pytest.raises(nsbox.InvalidOption) as caught:
        client.run("busybox", ["true"], memroy="1g")
    assert caught.value.option == "memroy"
    with pytest.raises(nsbox.InvalidOption) as caught:
        client.run("busybox", ["cat"], tty=True, stdin=b"x")
    assert caught.value.option == "stdin"


def test_tty_gives_the_program_a_terminal_and_collects_its_output(client):
    probe = "[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo on-a-tty; tty; stty size; echo to-stderr >&2; echo $TERM"
    fds = len(os.listdir("/proc/self/fd"))
    result = client.run("busybox", ["sh", "-c", probe], tty=True, remove=False, name="tty-kept")
    assert result.exit_code == 0
    # one stream, as a terminal gives it (with its \r\n line ends), stderr in it
    assert result.stdout == b"on-a-tty\r\n/dev/pts/0\r\n24 80\r\nto-stderr\r\nxterm\r\n"
    assert result.stderr == b""
    assert b"".join(client.containers.get("tty-kept").logs()).startswith(b"on-a-tty")
    client.containers.get("tty-kept").remove()
    assert len(os.listdir("/proc/self/fd")) == fds, "a tty run left a descriptor open"
    plain = client.run("busybox", ["sh", "-c", probe])
    assert plain.stdout.startswith(b"not a tty\n") and b"to-stderr" in plain.stderr
    assert client.containers.run("busybox", ["echo", "hi"], tty=True, remove=True) == b"hi\r\n"
    slow = client.run("busybox", ["sleep", "30"], tty=True, timeout=0.5)
    assert slow.timed_out and slow.exit_code == 137
    with client.containers.run("busybox", ["sh", "-c", "tty"], tty=True, detach=True) as detached:
        assert detached.wait(timeout=30)["StatusCode"] == 0
        assert list(detached.logs()) == [b"/dev/pts/0\n"]  # a terminal line in the log, as nsbox logs shows it


def test_program_not_found_is_127(client):
    with pytest.raises(nsbox.RuntimeFailed, match="no-such-program") as caught:
        client.run("busybox", ["no-such-program"])
    assert caught.value.exit_code == 127
    with pytest.raises(nsbox.RuntimeFailed) as caught:
        client.run("busybox", ["/etc/passwd"])
    assert caught.value.exit_code == 126


def test_twenty_runs_from_twenty_threads(client):
    results: dict[int, object] = {}

    def one(number: int) -> None:
        try:
            results[number] = client.run("busybox", ["sh", "-c", f"echo {number}; exit {number}"])
        except Exception as error:  # reported below, with the others
            results[number] = error

    threads = [threading.Thread(target=one, args=(number,)) for number in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == list(range(20))
    assert not [error for error in results.values() if isinstance(error, Exception)]
    for number, result in results.items():
        assert (result.exit_code, result.stdout) == (number, f"{number}\n".encode())
    assert len({result.container_id for result in results.values()}) == 20


def test_default_client_uses_nsbox_root(root, monkeypatch):
    from nsbox.api import client as client_module
    monkeypatch.setenv("NSBOX_ROOT", root)
    monkeypatch.setattr(client_module, "_default", None)
    assert nsbox.run("busybox", ["echo", "default"]).stdout == b"default\n"
    assert nsbox.containers.list(all=True) == [] and nsbox.images.get("busybox").tags == ["busybox:latest"]
