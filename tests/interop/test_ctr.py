"""`ctr` (containerd's own client) with the runtime under test as --runc-binary.

containerd's runc shim drives the runtime through runc's command line; --runc-root puts
the runtime's state where the test can see it, which proves which runtime ran the task.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from tests.interop.conftest import cgroup_parent, show_log_on_failure
from tests.interop.daemons import Containerd
from tests.interop.runtimes import replay

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("containerd") is None or shutil.which("ctr") is None,
                       reason="containerd is not installed (apt-get install containerd)"),
]

IMAGE = "docker.io/library/busybox:latest"


@pytest.fixture
def ctr(request, tmp_path, oci_runtime, images_archive):
    daemon = Containerd(str(tmp_path), [oci_runtime])
    show_log_on_failure(request, daemon.log)
    try:
        daemon.ctr("images", "import", images_archive)
        yield daemon
    finally:
        daemon.stop()


def run_flags(oci_runtime, name: str) -> list[str]:
    return ["--runc-binary", oci_runtime.binary, "--runc-root", oci_runtime.root,
            "--cgroup", cgroup_parent(name)]


def task_row(ctr, name: str) -> list[str]:
    for line in ctr.ctr("task", "ls").stdout.splitlines()[1:]:
        fields = line.split()
        if fields[0] == name:
            return fields
    raise AssertionError(f"no task {name}")


def wait_stopped(ctr, name: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while task_row(ctr, name)[2] != "STOPPED":
        assert time.monotonic() < deadline, f"task {name} did not stop"
        time.sleep(0.05)


def test_ctr_run_rm_is_pid_1_in_namespaces_of_its_own(ctr, oci_runtime):
    # ctr 1.6 sets no hostname (it has no flag for one): the container's own UTS namespace
    # starts with a copy of the host's name, so the namespace itself is what is compared.
    command = ["ctr", "-a", ctr.socket, "run", "--rm", *run_flags(oci_runtime, "once"), IMAGE, "once",
               "sh", "-c", "echo $$; readlink /proc/self/ns/uts; readlink /proc/self/ns/net; sleep 1"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          text=True) as run:
        oci_runtime.assert_runs("once", timeout=20)
        out, err = run.communicate(timeout=30)
    assert run.returncode == 0, err
    pid, uts, net = out.split()
    assert pid == "1"
    assert uts.startswith("uts:[") and uts != os.readlink("/proc/self/ns/uts")
    assert net.startswith("net:[") and net != os.readlink("/proc/self/ns/net")
    oci_runtime.assert_deleted()  # --rm: the runtime deleted its state


def test_ctr_detached_task_exec_kill_delete(ctr, oci_runtime, tmp_path):
    """... and the config.json containerd wrote for it runs again with nsbox-runtime."""
    ctr.ctr("run", "-d", *run_flags(oci_runtime, "svc"), IMAGE, "svc", "sleep", "1000")
    _, pid, status = task_row(ctr, "svc")
    assert status == "RUNNING"
    oci_runtime.assert_runs("svc", int(pid))
    assert open(f"/proc/{pid}/cmdline", "rb").read() == b"sleep\x001000\x00"
    replayed = replay(oci_runtime, "svc", str(tmp_path), cgroup_parent("replay-svc"))
    assert (replayed.returncode, replayed.stdout) == (0, "replayed as pid 1\n"), replayed.stderr
    inside = ctr.ctr("task", "exec", "--exec-id", "probe", "svc", "ps", "-o", "pid,comm").stdout.split()
    assert inside[2:4] == ["1", "sleep"]
    ctr.ctr("task", "pause", "svc")
    assert task_row(ctr, "svc")[2] == "PAUSED"
    ctr.ctr("task", "resume", "svc")
    assert task_row(ctr, "svc")[2] == "RUNNING"
    ctr.ctr("task", "exec", "-d", "--exec-id", "second", "svc", "sleep", "999")
    rows = [line.split()[0] for line in ctr.ctr("task", "ps", "svc").stdout.splitlines()[1:]]
    assert pid in rows and len(rows) == 2, rows  # the shim asked `ps --format json`: the init and the exec
    ctr.ctr("task", "kill", "--all", "-s", "SIGKILL", "svc")
    wait_stopped(ctr, "svc")
    ctr.ctr("task", "delete", "svc")
    oci_runtime.assert_deleted()
    ctr.ctr("containers", "rm", "svc")


def test_ctr_task_metrics_show_cgroup_figures(ctr, oci_runtime):
    ctr.ctr("run", "-d", "--memory-limit", str(48 << 20), *run_flags(oci_runtime, "metered"), IMAGE, "metered",
            "sleep", "1000")
    oci_runtime.assert_runs("metered")
    metrics = dict(line.split(None, 1) for line in ctr.ctr("task", "metrics", "metered").stdout.splitlines()[1:]
                   if len(line.split(None, 1)) == 2)
    assert int(metrics["memory.limit_in_bytes"]) == 48 << 20
    assert int(metrics["memory.usage_in_bytes"]) > 0
    assert int(metrics["pids.current"]) == 1
    ctr.ctr("task", "kill", "-s", "SIGKILL", "metered")
    wait_stopped(ctr, "metered")
    ctr.ctr("task", "delete", "metered")


def test_ctr_memory_limit_and_oom_reported(ctr, oci_runtime):
    events = subprocess.Popen(["ctr", "-a", ctr.socket, "events"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              stdin=subprocess.DEVNULL, bufsize=0)
    # tail reads /dev/zero looking for a newline that never comes: its buffer grows without end
    command = ["ctr", "-a", ctr.socket, "run", "--rm", "--memory-limit", str(16 << 20), *run_flags(oci_runtime, "hog"),
               IMAGE, "hog", "sh", "-c", "sleep 1; exec tail /dev/zero"]
    try:
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              text=True) as run:
            oci_runtime.assert_runs("hog", timeout=20)
            _, err = run.communicate(timeout=60)
        assert run.returncode == 137, err
        seen = output_until(events, b"/tasks/oom")
    finally:
        events.terminate()
        events.communicate(timeout=10)
    assert b"/tasks/oom" in seen, seen


def output_until(process: subprocess.Popen, word: bytes, timeout: float = 30) -> bytes:
    """What `process` writes until `word` appears (or `timeout` s pass). The shim publishes
    the OOM event from its own watcher, possibly after the exit (later still under load)."""
    import select
    seen = b""
    deadline = time.monotonic() + timeout
    while word not in seen and (left := deadline - time.monotonic()) > 0:
        if select.select([process.stdout], [], [], left)[0]:
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            seen += chunk
    return seen
