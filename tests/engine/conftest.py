"""Fixtures of the engine tests: a per-test nsbox root holding a busybox image, and the
installed `nsbox` command run against it."""
from __future__ import annotations

import os
import subprocess
import tarfile
import time

import pytest

from tests.conftest import VENV_BIN

NSBOX = os.path.join(VENV_BIN, "nsbox")


@pytest.fixture(scope="session")
def busybox_tar(workdir, busybox_rootfs):
    """The busybox root filesystem as a tarball, for `nsbox import`."""
    path = os.path.join(workdir, "busybox-rootfs.tar")
    with tarfile.open(path, "w") as archive:
        for name in sorted(os.listdir(busybox_rootfs)):
            archive.add(os.path.join(busybox_rootfs, name), arcname=name)
    return path


class Nsbox:
    """The `nsbox` command with this test's --root; call it like nsbox("ps", "-a")."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.binary = NSBOX

    def command(self, *args: str) -> list[str]:
        return [self.binary, "--root", self.root, *args]

    def __call__(self, *args: str, check: bool = True, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        result = subprocess.run(self.command(*args), timeout=timeout, **kwargs)
        if check and result.returncode != 0:
            raise AssertionError(f"nsbox {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    def out(self, *args: str, **kwargs) -> str:
        return self(*args, **kwargs).stdout

    def inspect(self, name: str) -> dict:
        import json
        return json.loads(self.out("inspect", name))[0]

    def state(self, name: str) -> dict:
        return self.inspect(name)["State"]

    def wait_for(self, condition, timeout: float = 60, what: str = "condition") -> None:
        """Poll `condition()` (a test of an outcome, not of speed) until it holds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.05)


@pytest.fixture
def nsbox(tmp_path, busybox_tar):
    """An nsbox root with the image "busybox"; every container left is removed after the test
    (with the CLI, so the leak check then sees what `rm -f` failed to clean)."""
    runner = Nsbox(str(tmp_path / "nsbox-root"))
    runner("import", busybox_tar, "busybox")
    yield runner
    ids = runner("ps", "-a", "-q", "--no-trunc", check=False).stdout.split()
    if ids:
        runner("rm", "-f", *ids, check=False)
    runner("network", "prune", check=False)
    left = engine_leftovers(runner.root)
    if left:
        pytest.fail(f"rm -f left engine state behind: {left}", pytrace=False)


def engine_leftovers(root: str) -> list[str]:
    """What removing every container must have removed: records, names, runtime state, root filesystems
    (not the runtime's cache of compiled seccomp filters, kept on purpose)."""
    left = []
    for part in ("containers", "names", "run/runtime", "run/runc", "image/rootfs"):
        directory = os.path.join(root, part)
        if os.path.isdir(directory):
            left += [os.path.join(part, name) for name in os.listdir(directory) if name != "@seccomp"]
    return left


def runtimes_holding(nsbox: Nsbox, container: str) -> set[str]:
    """Which OCI runtimes hold the running container, each asked through its own CLI about
    its own state directory (nsbox keeps one per runtime below its run directory): proof of
    which runtime ran it, whatever the container prints."""
    import shutil
    from nsbox.engine.paths import Paths
    container_id = nsbox.inspect(container)["Id"]
    run_dir = Paths(nsbox.root).run
    asked = {"nsbox": [os.path.join(VENV_BIN, "nsbox-runtime"), "--root", os.path.join(run_dir, "runtime")]}
    if shutil.which("runc"):
        asked["runc"] = ["runc", "--root", os.path.join(run_dir, "runc")]
    holding = set()
    for name, command in asked.items():
        result = subprocess.run([*command, "state", container_id], capture_output=True, text=True)
        if result.returncode == 0 and '"running"' in result.stdout:
            holding.add(name)
    return holding
