"""podman (Debian's 4.3) with the runtime under test as --runtime, through conmon.

Podman passes its default seccomp profile, which nsbox-runtime compiles and loads. It
gives the runtime no --root of its own, so `--runtime-flag root=...` puts the runtime's
state where the test reads it (podman 4.3's clean-up after an exit does not pass the
flag on, so that `delete` looks in the default root and the test's root keeps the state
of an exited container: podman's doing, with runc alike). Podman asks for RLIMIT_NOFILE 1048576, which root here
cannot grant without CAP_SYS_RESOURCE: the test's --ulimit says so. No network (no CNI
bridge or firewall rules on this shared machine).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from tests.interop.conftest import cgroup_parent
from tests.interop.runtimes import replay
from tests.leaks import DAEMON_STATE_PREFIX

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("podman") is None, reason="podman is not installed (apt-get install podman)"),
]


class Podman:
    def __init__(self, base: str, oci_runtime) -> None:
        self.storage = os.path.join(base, "podman-root")
        self.run_root = tempfile.mkdtemp(prefix=f"{DAEMON_STATE_PREFIX}podman-", dir="/run")
        self.parent = cgroup_parent(f"podman-{os.path.basename(base)[-12:]}")
        self.base = ["podman", "--root", self.storage, "--runroot", self.run_root,
                     "--tmpdir", os.path.join(self.run_root, "tmp"), "--cgroup-manager", "cgroupfs",
                     "--runtime", oci_runtime.binary, "--runtime-flag", f"root={oci_runtime.root}",
                     "--events-backend", "file"]
        # --cgroups=no-conmon: podman would put conmon in <parent>/conmon at the root of every
        # hierarchy (it reads a cgroupfs parent as absolute); the container's own stays relative.
        self.limits = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "none",
                       "--cgroup-parent", self.parent, "--cgroups=no-conmon"]

    def __call__(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        result = subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    def run_args(self, *args: str) -> list[str]:
        """`podman run` with this test's limits, then `args` (options, image, command)."""
        return ["run", *self.limits, *args]

    def stop(self) -> None:
        self("rm", "-fa", check=False)
        self("system", "reset", "--force", check=False)
        for path in (self.storage, self.run_root):
            subprocess.run(["umount", "-R", path], capture_output=True)
            shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def podman(tmp_path, oci_runtime, images_archive):
    from tests.leaks import remove_cgroup_tree
    engine = Podman(str(tmp_path), oci_runtime)
    try:
        engine("load", "-i", images_archive)
        yield engine
    finally:
        engine.stop()
        remove_cgroup_tree(engine.parent)


def container_id(podman, name: str) -> str:
    return podman("inspect", "--format", "{{.Id}}", name).stdout.strip()


def test_podman_run_rm_with_memory_and_cpus(podman, oci_runtime):
    podman(*podman.run_args("-d", "--name", "lim", "-m", "64m", "--cpus", "0.5", "busybox", "sh", "-c",
                            "echo pid $$; cat /sys/fs/cgroup/memory/memory.limit_in_bytes "
                            "/sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us; "
                            "grep Seccomp: /proc/self/status; sleep 2"))
    pid = int(podman("inspect", "--format", "{{.State.Pid}}", "lim").stdout)
    oci_runtime.assert_runs(container_id(podman, "lim"), pid)
    assert podman("wait", "lim").stdout.strip() == "0"
    lines = podman("logs", "lim").stdout.split("\n")
    assert lines[:4] == ["pid 1", str(64 << 20), "50000", "100000"]
    assert lines[4].split() == ["Seccomp:", "2"]  # podman's default profile, loaded
    podman("rm", "lim")


def test_podman_run_interactive_terminal(podman, oci_runtime):
    import pty
    command = [*podman.base, *podman.run_args("--rm", "-it", "--name", "tty", "busybox", "sh")]
    pid, master = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    output, typed = b"", False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if not typed and b"# " in output:
            oci_runtime.assert_runs(container_id(podman, "tty"))
            os.write(master, b"echo on $(tty) pid $$; exit 4\n")
            typed = True
    os.close(master)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 4, output
    assert b"on /dev/pts/0 pid 1" in output


def test_podman_detached_exec_logs_stop(podman, oci_runtime, tmp_path):
    """... and the config.json podman wrote for it runs again with nsbox-runtime."""
    podman(*podman.run_args("-d", "--name", "pw", "busybox", "sh", "-c", "echo started; exec sleep 1000"))
    pid = int(podman("inspect", "--format", "{{.State.Pid}}", "pw").stdout)
    oci_runtime.assert_runs(container_id(podman, "pw"), pid)
    replayed = replay(oci_runtime, container_id(podman, "pw"), str(tmp_path), cgroup_parent(f"replay-{tmp_path.name[-12:]}"))
    assert (replayed.returncode, replayed.stdout) == (0, "replayed as pid 1\n"), replayed.stderr
    inside = podman("exec", "pw", "ps", "-o", "pid,comm").stdout.split()
    assert inside[2:4] == ["1", "sleep"]
    assert podman("exec", "-t", "pw", "tty").stdout.strip().startswith("/dev/pts/")
    assert podman("logs", "pw").stdout == "started\n"
    podman("stop", "-t", "1", "pw")
    state = json.loads(podman("inspect", "--format", "{{json .State}}", "pw").stdout)
    assert (state["Status"], state["ExitCode"]) == ("exited", 137)  # sleep as PID 1 ignores SIGTERM
    podman("rm", "pw")


def test_podman_exit_codes_for_a_program_that_cannot_run(podman, oci_runtime):
    """podman reads the runtime's error text to give 127 (not found) and 126 (not executable)."""
    missing = podman(*podman.run_args("--rm", "busybox", "/no/such/program"), check=False)
    assert missing.returncode == 127, missing.stderr
    assert f"{oci_runtime.binary}: " in missing.stderr  # the runtime's own error, passed on
    not_executable = podman(*podman.run_args("--rm", "busybox", "/etc/passwd"), check=False)
    assert not_executable.returncode == 126, not_executable.stderr
