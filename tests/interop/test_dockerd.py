"""dockerd (Debian's docker.io) with the runtime under test added by `--add-runtime`.

dockerd starts its own containerd; its runc shim drives the runtime through runc's
command line, with the state root dockerd picks (under its exec root), which the test
reads to prove which runtime ran the container.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest

from tests.interop.conftest import cgroup_parent, show_log_on_failure
from tests.interop.daemons import Dockerd, docker_reported_oom
from tests.interop.runtimes import replay
from tests.leaks import remove_cgroup_tree

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("dockerd") is None or shutil.which("docker") is None,
                       reason="dockerd is not installed (apt-get install docker.io)"),
]


@pytest.fixture
def docker(request, tmp_path, oci_runtime, images_archive):
    parent = cgroup_parent(f"docker-{tmp_path.name[-12:]}")
    daemon = Dockerd(str(tmp_path), [oci_runtime], parent)
    show_log_on_failure(request, daemon.log)
    oci_runtime.root = daemon.runtime_root()
    try:
        daemon.docker("load", "-i", images_archive)
        yield daemon
    finally:
        daemon.stop()
        remove_cgroup_tree(parent)


def started_with(docker, oci_runtime, name: str) -> int:
    """The container's init PID, after checking the runtime under test holds it."""
    pid = int(docker.docker("inspect", "--format", "{{.State.Pid}}", name).stdout)
    container_id = docker.docker("inspect", "--format", "{{.Id}}", name).stdout.strip()
    oci_runtime.assert_runs(container_id, pid)
    return pid


def test_docker_run_rm_with_memory_limit(docker, oci_runtime, tmp_path):
    cidfile = tmp_path / "cid"
    command = docker.command("run", "--runtime", oci_runtime.name, "--rm", "--cidfile", str(cidfile), "-m", "64m",
                             "busybox", "sh", "-c", "echo $$; cat /sys/fs/cgroup/memory/memory.limit_in_bytes; sleep 1")
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          text=True, env=docker.env) as run:
        deadline = time.monotonic() + 20
        while not cidfile.exists() or not cidfile.read_text():
            assert run.poll() is None and time.monotonic() < deadline, "docker run never wrote its --cidfile"
            time.sleep(0.02)
        oci_runtime.assert_runs(cidfile.read_text().strip(), timeout=20)
        out, err = run.communicate(timeout=30)
    assert run.returncode == 0, err
    # the container sees its own memory cgroup at /sys/fs/cgroup/memory, as runc shows it
    assert out.split() == ["1", str(64 << 20)]
    oci_runtime.assert_deleted()


def test_docker_detached_exec_stats_stop(docker, oci_runtime, tmp_path):
    """... and the config.json dockerd wrote for it runs again with nsbox-runtime."""
    docker.docker("run", "--runtime", oci_runtime.name, "-d", "--name", "web", "-m", "64m", "busybox",
                  "sleep", "1000")
    pid = started_with(docker, oci_runtime, "web")
    assert open(f"/proc/{pid}/cmdline", "rb").read() == b"sleep\x001000\x00"
    web_id = docker.docker("inspect", "--format", "{{.Id}}", "web").stdout.strip()
    replayed = replay(oci_runtime, web_id, str(tmp_path), cgroup_parent(f"replay-{tmp_path.name[-12:]}"))
    assert (replayed.returncode, replayed.stdout) == (0, "replayed as pid 1\n"), replayed.stderr
    inside = docker.docker("exec", "web", "ps", "-o", "pid,comm").stdout.split()
    assert inside[2:4] == ["1", "sleep"]
    stats = json.loads(docker.docker("stats", "--no-stream", "--format", "{{json .}}", "web").stdout)
    assert stats["Name"] == "web"
    used, limit = (part.strip() for part in stats["MemUsage"].split("/"))
    assert limit == "64MiB" and not used.startswith("0B")
    assert stats["PIDs"] == "1"
    docker.docker("stop", "-t", "1", "web")
    state = json.loads(docker.docker("inspect", "--format", "{{json .State}}", "web").stdout)
    assert (state["Status"], state["ExitCode"]) == ("exited", 137)  # sleep as PID 1 ignores SIGTERM
    oci_runtime.assert_deleted()
    docker.docker("rm", "web")


def test_docker_oom_is_reported(docker, oci_runtime):
    # tail reads /dev/zero looking for a newline that never comes: its buffer grows without end
    docker.docker("run", "--runtime", oci_runtime.name, "-d", "--name", "hog", "-m", "16m", "--memory-swap", "16m",
                  "busybox", "sh", "-c", "sleep 1; exec tail /dev/zero")
    started_with(docker, oci_runtime, "hog")
    assert docker.docker("wait", "hog").stdout.strip() == "137"
    view = json.loads(docker.docker("inspect", "hog").stdout)[0]
    assert view["State"]["ExitCode"] == 137
    # (dockerd 20.10 may lose the flag when the OOM event comes after the exit: its event stream has it)
    assert view["State"]["OOMKilled"] or docker_reported_oom(docker.docker, view)
    docker.docker("rm", "hog")


def test_docker_run_exit_codes_for_a_program_that_cannot_run(docker, oci_runtime):
    """dockerd reads the runtime's error text to give Docker's 127 (not found) and 126 (not
    executable), as it does for runc's."""
    missing = docker.docker("run", "--runtime", oci_runtime.name, "--rm", "busybox", "/no/such/program", check=False)
    assert missing.returncode == 127, missing.stderr
    assert oci_runtime.failed("create") in missing.stderr  # the runtime's own --log line, passed on
    not_executable = docker.docker("run", "--runtime", oci_runtime.name, "--rm", "busybox", "/etc/passwd", check=False)
    assert not_executable.returncode == 126, not_executable.stderr
