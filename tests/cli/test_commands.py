"""Docker's day-one commands that need no Docker to check: --version, version --format,
container prune, volume prune, cp streams, -w of a missing directory."""
from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile


def test_version_flag_and_template(nsbox):
    assert nsbox.out("--version").startswith("nsbox version ")
    client, server = nsbox.out("version", "--format", "{{.Client.Version}} {{.Server.KernelVersion}}").split()
    assert client == nsbox.out("--version").split()[2].rstrip(",") and server == os.uname().release
    assert set(json.loads(nsbox.out("version", "--format", "json"))) == {"Client", "Server"}


def test_container_prune_and_volume_prune(nsbox):
    nsbox("run", "--name", "done", "-v", "/anon", "busybox", "true")
    nsbox("run", "-d", "--name", "alive", "busybox", "sleep", "60")
    nsbox("volume", "create", "named")
    pruned = nsbox.out("container", "prune", "-f")
    assert nsbox.inspect("alive")["State"]["Running"] and nsbox("inspect", "done", check=False).returncode == 1
    assert pruned.startswith("Deleted Containers:\n") and "Total reclaimed space" in pruned
    nsbox("run", "--name", "anon-left", "-v", "/anon2", "busybox", "true")
    nsbox("rm", "anon-left")  # without -v: its anonymous volume stays, unused
    anonymous = [name for name in nsbox.out("volume", "ls", "-q").split() if name != "named"]
    assert len(anonymous) == 1 and len(anonymous[0]) == 64
    nsbox("volume", "prune", "-f")  # anonymous ones only
    assert nsbox.out("volume", "ls", "-q").split() == ["named"]
    nsbox("volume", "prune", "-f", "-a")
    assert nsbox.out("volume", "ls", "-q") == ""
    nsbox("rm", "-f", "alive")


def test_cp_tar_streams_and_missing_host_directory(nsbox, tmp_path):
    nsbox("run", "-d", "--name", "files", "busybox", "sleep", "60")
    stream = io.BytesIO()
    with tarfile.open(fileobj=stream, mode="w") as archive:
        data = b"from a tar stream\n"
        member = tarfile.TarInfo("dir/inner.txt")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    result = subprocess.run(nsbox.command("cp", "-", "files:/tmp"), input=stream.getvalue(), capture_output=True)
    assert result.returncode == 0, result.stderr
    assert nsbox.out("exec", "files", "cat", "/tmp/dir/inner.txt") == "from a tar stream\n"
    out = subprocess.run(nsbox.command("cp", "files:/tmp/dir", "-"), capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(out)) as archive:
        assert sorted(archive.getnames()) == ["dir", "dir/inner.txt"]
        assert archive.extractfile("dir/inner.txt").read() == b"from a tar stream\n"
    assert not os.path.exists("-")
    missing = nsbox("cp", "files:/etc/passwd", str(tmp_path / "no" / "dir" / "x"), check=False)
    assert missing.returncode != 0 and f'invalid output path: directory "{tmp_path}/no/dir" does not exist' \
        in missing.stderr and "Traceback" not in missing.stderr
    nsbox("rm", "-f", "files")


def test_workdir_that_does_not_exist_is_made(nsbox):
    assert nsbox.out("run", "--rm", "-w", "/not/yet/here", "busybox", "pwd") == "/not/yet/here\n"


def test_logs_until_top_with_ps_options_and_attach_without_terminal(nsbox):
    import time
    nsbox("run", "-d", "--name", "talker", "busybox", "sh", "-c",
          "echo first; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo second; sleep 0.5; echo third; exit 3")
    nsbox.wait_for(lambda: nsbox.out("logs", "talker") == "first\n", what="the first line")
    time.sleep(1.1)
    before_second = str(int(time.time()))
    time.sleep(1.1)
    top = nsbox.out("top", "talker", "-o", "pid,comm").splitlines()
    assert top[0].split() == ["PID", "COMMAND"] and "sh" in {line.split()[1] for line in top[1:]}
    pid = nsbox.state("talker")["Pid"]
    assert str(pid) in [line.split()[0] for line in top[1:]]  # host PIDs, from the host's ps
    no_pid = nsbox("top", "talker", "-o", "comm", check=False)
    assert no_pid.returncode == 125 and "Couldn't find PID field" in no_pid.stderr
    attached = subprocess.Popen(nsbox.command("attach", "talker"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1)
    nsbox("exec", "talker", "touch", "/tmp/go")
    out, _ = attached.communicate(timeout=30)
    assert attached.returncode == 3 and out == b"second\nthird\n"  # what came after the attach, then its exit code
    assert nsbox.out("logs", "--until", before_second, "talker") == "first\n"
    assert nsbox.out("logs", "talker") == "first\nsecond\nthird\n"


def test_info_and_stats_templates(nsbox):
    nsbox("run", "-d", "--name", "counted", "-m", "64m", "busybox", "sleep", "60")
    assert nsbox.out("info", "--format", "{{.ContainersRunning}} {{.DockerRootDir}}") == f"1 {nsbox.root}\n"
    shown = nsbox.out("stats", "--no-stream", "--format", "table {{.Name}}\t{{.PIDs}}\t{{.MemUsage}}").splitlines()
    assert shown[0].split() == ["NAME", "PIDS", "MEM", "USAGE", "/", "LIMIT"]
    assert shown[1].split()[:2] == ["counted", "1"] and shown[1].endswith("/ 64MiB")
    row = json.loads(nsbox.out("stats", "--no-stream", "--format", "{{json .}}", "counted"))
    assert row["Name"] == "counted" and row["PIDs"] == "1" and row["CPUPerc"].endswith("%")
    nsbox("rm", "-f", "counted")
