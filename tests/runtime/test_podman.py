"""nsbox-runtime as podman's OCI runtime: podman drives it through runc's command line.

Podman passes its default seccomp profile, which nsbox-runtime compiles and loads. Podman
asks for RLIMIT_NOFILE 1048576, which root here cannot grant without CAP_SYS_RESOURCE;
the test says so on its command line.
"""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.conftest import CGROUP_PARENT, VENV_BIN

pytestmark = pytest.mark.skipif(shutil.which("podman") is None, reason="podman is not installed (apt-get install podman)")

# --cgroups=no-conmon: podman would put conmon in <parent>/conmon at the root of every
# hierarchy (it reads a cgroupfs parent as absolute) and never remove it; the container's
# own cgroupsPath stays relative, and nsbox-runtime puts it below the test's cgroup.
LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--cgroup-parent", CGROUP_PARENT, "--cgroups=no-conmon"]


@pytest.fixture
def podman(tmp_path, busybox_archive):
    storage, run_root = tmp_path / "podman-root", f"/run/nsbox-test-podman-{os.getpid()}-{tmp_path.name[-10:]}"
    base = ["podman", "--root", str(storage), "--runroot", run_root, "--cgroup-manager", "cgroupfs",
            "--runtime", os.path.join(VENV_BIN, "nsbox-runtime"), "--events-backend", "file"]

    def run(*args, check=True, timeout=60):
        result = subprocess.run([*base, *args], capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    run("load", "-i", str(busybox_archive))
    yield run
    run("rm", "-fa", check=False)
    run("system", "reset", "--force", check=False)
    for path in (str(storage), run_root):
        subprocess.run(["umount", "-R", path], capture_output=True)
        shutil.rmtree(path, ignore_errors=True)


def test_podman_runs_a_container_with_nsbox_runtime(podman):
    result = podman("run", "--rm", *LIMITS, "busybox", "sh", "-c", "echo pid $$; cat /proc/self/status | grep NSpid")
    assert result.stdout.splitlines()[0] == "pid 1"


def test_podman_default_seccomp_profile_is_loaded_by_nsbox_runtime(podman):
    """No seccomp=unconfined: podman hands its profile in config.json, nsbox-runtime loads it."""
    result = podman("run", "--rm", *LIMITS, "busybox", "grep", "-E", "^Seccomp(_filters)?:", "/proc/self/status")
    assert "Seccomp:\t2" in result.stdout, result.stdout
    unconfined = podman("run", "--rm", *LIMITS, "--security-opt", "seccomp=unconfined", "busybox", "grep",
                        "^Seccomp:", "/proc/self/status")
    assert "Seccomp:\t0" in unconfined.stdout


def test_podman_detached_exec_stop_rm(podman):
    podman("run", "-d", "--name", "pw", *LIMITS, "busybox", "sleep", "1000")
    inside = podman("exec", "pw", "ps", "-o", "pid,comm").stdout.split()
    assert inside[2:4] == ["1", "sleep"]
    assert "Up" in podman("ps").stdout
    assert podman("exec", "-t", "pw", "tty").stdout.strip().startswith("/dev/pts/")
    pid = int(podman("inspect", "--format", "{{.State.Pid}}", "pw").stdout)
    assert open(f"/proc/{pid}/cmdline", "rb").read() == b"sleep\x001000\x00"
    podman("stop", "-t", "1", "pw")
    assert podman("inspect", "--format", "{{.State.Status}}", "pw").stdout.strip() == "exited"
    podman("rm", "pw")
