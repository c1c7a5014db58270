"""The lane's own proof that its guest is a real cgroup v2 machine, using the kernel directly.

These run in the guest (python -m tests.vm); on a v1 or hybrid host they are skipped.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import CGROUP_PARENT

pytestmark = pytest.mark.cgroup_v2
ROOT = "/sys/fs/cgroup"


def read(path: str) -> str:
    with open(path) as file:
        return file.read()


def write(path: str, text: str) -> None:
    with open(path, "w") as file:
        file.write(text)


def flat_keyed(path: str) -> dict[str, int]:
    """A cgroup file of "key value" lines (memory.events, cpu.stat, ...)."""
    return {key: int(value) for key, value in (line.split() for line in read(path).splitlines())}


@pytest.fixture
def cgroup(request):
    """A fresh leaf cgroup below the tests' cgroup parent, with memory and pids given to it."""
    parent = os.path.join(ROOT, CGROUP_PARENT)
    os.makedirs(parent, exist_ok=True)
    write(os.path.join(parent, "cgroup.subtree_control"), "+memory +pids")
    path = os.path.join(parent, request.node.name)
    os.mkdir(path)
    yield path
    # A test that failed half-way may have left processes: kill them, then wait (at most
    # a minute) until the cgroup is empty and can be removed.
    write(os.path.join(path, "cgroup.kill"), "1")
    deadline = time.monotonic() + 60
    while flat_keyed(os.path.join(path, "cgroup.events"))["populated"] and time.monotonic() < deadline:
        time.sleep(0.05)
    os.rmdir(path)


def start_in(cgroup: str, code: str) -> subprocess.Popen:
    """A Python child that joins `cgroup` before it runs `code`."""
    def join():
        write(os.path.join(cgroup, "cgroup.procs"), "0")
    return subprocess.Popen([sys.executable, "-c", code], preexec_fn=join)


def test_the_unified_hierarchy_holds_every_controller():
    with open("/proc/self/mountinfo") as mountinfo:
        types = {fields[4]: line.split(" - ")[1].split()[0] for line in mountinfo if (fields := line.split())}
    assert types[ROOT] == "cgroup2"
    assert read("/proc/self/cgroup") == "0::/\n"
    controllers = read(os.path.join(ROOT, "cgroup.controllers")).split()
    assert {"cpu", "io", "memory", "pids"} <= set(controllers)


def test_memory_max_oom_kills_and_memory_events_counts_it(cgroup):
    write(os.path.join(cgroup, "memory.max"), str(32 << 20))
    assert read(os.path.join(cgroup, "memory.max")) == f"{32 << 20}\n"
    # 64 MiB of written (not just reserved) memory cannot fit under a 32 MiB limit.
    child = start_in(cgroup, "data = b'x' * (64 << 20)")
    assert child.wait(timeout=300) == -signal.SIGKILL
    assert flat_keyed(os.path.join(cgroup, "memory.events"))["oom_kill"] == 1


def test_cgroup_kill_ends_every_process_in_it(cgroup):
    children = [start_in(cgroup, "import time; time.sleep(600)") for _ in range(3)]
    # Popen returns once the child has exec'd, so each has joined the cgroup by now.
    assert set(read(os.path.join(cgroup, "cgroup.procs")).split()) == {str(child.pid) for child in children}
    write(os.path.join(cgroup, "cgroup.kill"), "1")
    assert [child.wait(timeout=60) for child in children] == [-signal.SIGKILL] * 3
    assert flat_keyed(os.path.join(cgroup, "cgroup.events"))["populated"] == 0
