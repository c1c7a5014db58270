"""Fixtures for the cgroups layer: real cgroups on this host (v1/hybrid, or v2 in the VM lane),
a fake v2 file tree, and processes started inside a cgroup before they run their workload."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import CGROUP_PARENT

BUSYBOX = "/bin/busybox"


def host_mode() -> str:
    from nsbox.cgroups import open_cgroup
    return open_cgroup(f"{CGROUP_PARENT}/probe", "probe").mode


def v2_unusable_reason() -> str | None:
    """Why this host cannot run the real cgroup v2 tests, or None when it can.

    cgroup v2 lets only a cgroup without processes hand controllers to its children, and
    the tests' cgroups sit below the test runner's own cgroup: so the runner must be in the
    root cgroup (as in the v2 VM lane), whose subtree_control enables memory, cpu and pids.
    """
    from nsbox.cgroups import open_cgroup
    cg = open_cgroup(f"{CGROUP_PARENT}/probe", "probe")
    if cg.mode != "v2":
        return f"this host's cgroups are {cg.mode}, not cgroup v2 (the v2 VM lane runs these: -m cgroup_v2)"
    own = os.path.dirname(os.path.dirname(cg.unified))
    if own != cg.unified_mount:
        return (f"pytest runs in {own}, which holds processes and so cannot delegate controllers to the tests' "
                "cgroups (no-internal-processes rule); run pytest from the root cgroup, as the v2 VM lane does")
    with open(os.path.join(own, "cgroup.subtree_control")) as enabled:
        missing = {"memory", "cpu", "pids", "io"} - set(enabled.read().split())
    if missing:
        return f"the root cgroup does not enable {', '.join(sorted(missing))} for its children"
    return None


class Member:
    """A process started outside the cgroup, moved in, and only then released to run `args`."""

    def __init__(self, cg, args: list[str], **kwargs) -> None:
        self.process = subprocess.Popen([BUSYBOX, "sh", "-c", 'read _ && exec "$@"', "sh", *args],
                                        stdin=subprocess.PIPE, **kwargs)
        try:
            cg.add_process(self.process.pid)
        except BaseException:
            self.process.kill()
            self.process.wait()
            raise
        self.process.stdin.write(b"go\n")
        self.process.stdin.close()

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait(self, timeout: float = 60) -> int:
        return self.process.wait(timeout)


@pytest.fixture
def make_cgroup(request):
    """make_cgroup(name=None) -> a created Cgroup below the tests' relative parent; removed afterwards
    (its processes killed first)."""
    from nsbox.cgroups import open_cgroup
    made = []

    def make(name: str | None = None):
        name = name or f"{request.node.name[:40]}-{len(made)}".replace("[", "-").replace("]", "")
        cg = open_cgroup(f"{CGROUP_PARENT}/{name}", name)
        cg.create()
        made.append(cg)
        return cg

    yield make
    for cg in made:
        cg.kill(9)
        cg.remove()


@pytest.fixture(params=["v1", pytest.param("v2", marks=pytest.mark.cgroup_v2)])
def live(request, make_cgroup):
    """A real cgroup on this host's v1/hybrid hierarchies, or (marked cgroup_v2) on a real v2 host."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    if request.param == "v1" and host_mode() == "v2":
        pytest.skip("this host has only cgroup v2; the v1 runs happen on a v1/hybrid host")
    if request.param == "v2":
        reason = v2_unusable_reason()
        if reason:
            pytest.skip(reason)
    return make_cgroup()


SPIN = [BUSYBOX, "sh", "-c", "while :; do :; done"]
PYTHON = sys.executable


@pytest.fixture
def loop_device(tmp_path):
    if not os.path.exists("/dev/loop-control"):
        pytest.skip("no loop device support (/dev/loop-control is missing)")
    backing = tmp_path / "disk.img"
    with open(backing, "wb") as disk:
        disk.truncate(16 << 20)
    device = subprocess.run(["losetup", "--find", "--show", str(backing)], check=True, capture_output=True,
                            text=True).stdout.strip()
    try:
        yield device
    finally:
        subprocess.run(["losetup", "-d", device], check=True)
