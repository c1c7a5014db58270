"""nsbox-runtime under containerd: ctr's runc shim drives it through runc's command line."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import pytest

from tests.conftest import CGROUP_PARENT, VENV_BIN

pytestmark = pytest.mark.skipif(shutil.which("containerd") is None or shutil.which("ctr") is None,
                                reason="containerd is not installed (apt-get install containerd)")

CONFIG = """version = 2
root = "{root}"
state = "{state}"
[grpc]
  address = "{socket}"
"""


@pytest.fixture
def ctr(tmp_path, busybox_archive):
    """A containerd of the test's own (root, state, socket), and `ctr` talking to it."""
    state = f"/run/nsbox-test-containerd-{os.getpid()}-{tmp_path.name[-10:]}"
    socket = f"{state}/containerd.sock"
    config = tmp_path / "containerd.toml"
    config.write_text(CONFIG.format(root=tmp_path / "containerd-root", state=state, socket=socket))
    daemon = subprocess.Popen(["containerd", "--config", str(config)], cwd="/", stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=open(tmp_path / "containerd.log", "w"))

    def run(*args, check=True, timeout=60):
        result = subprocess.run(["ctr", "-a", socket, *args], capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            raise AssertionError(f"ctr {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    deadline = time.monotonic() + 20
    while run("version", check=False).returncode != 0:
        assert time.monotonic() < deadline, (tmp_path / "containerd.log").read_text()
        time.sleep(0.1)
    run("image", "import", str(busybox_archive))
    yield run
    for task in run("task", "ls", "-q", check=False).stdout.split():
        run("task", "kill", "-s", "SIGKILL", task, check=False)
        run("task", "rm", "-f", task, check=False)
    for container in run("containers", "ls", "-q", check=False).stdout.split():
        run("containers", "rm", container, check=False)
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=30)
    for path in (str(tmp_path / "containerd-root"), state):
        subprocess.run(["umount", "-R", path], capture_output=True)
        shutil.rmtree(path, ignore_errors=True)


def run_args(name):
    return ["--runc-binary", os.path.join(VENV_BIN, "nsbox-runtime"), "--cgroup", f"{CGROUP_PARENT}/{name}",
            "docker.io/library/busybox:latest", name]


def test_ctr_run_uses_nsbox_runtime(ctr):
    result = ctr("run", "--rm", *run_args("once"), "sh", "-c", "echo pid $$; ls /sys/class/net")
    assert result.stdout.split() == ["pid", "1", "lo"]


def test_ctr_task_lifecycle(ctr):
    ctr("run", "-d", *run_args("svc"), "sleep", "1000")
    tasks = ctr("task", "ls").stdout.splitlines()
    pid = int(tasks[1].split()[1])
    assert tasks[1].split()[2] == "RUNNING"
    assert open(f"/proc/{pid}/cmdline", "rb").read() == b"sleep\x001000\x00"
    inside = ctr("task", "exec", "--exec-id", "probe", "svc", "ps", "-o", "pid,comm").stdout.split()
    assert inside[2:4] == ["1", "sleep"]
    ctr("task", "pause", "svc")
    assert ctr("task", "ls").stdout.splitlines()[1].split()[2] == "PAUSED"
    ctr("task", "resume", "svc")
    ctr("task", "kill", "-s", "SIGKILL", "svc")
    deadline = time.monotonic() + 10
    while ctr("task", "ls").stdout.splitlines()[1].split()[2] != "STOPPED":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    ctr("task", "rm", "svc")
    ctr("containers", "rm", "svc")
