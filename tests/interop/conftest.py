"""Fixtures for the daemons that drive an OCI runtime: images for them, and the runtimes.

Each test runs with `oci_runtime` = nsbox (the subject) and = runc (the control): the
same case passing with runc shows a failure with nsbox is nsbox's, not the harness's.
"""
from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import CGROUP_PARENT
from tests.interop.runtimes import OciRuntime, make_runtime

PAUSE_IMAGE = "localhost/pause:nsbox"
DAEMON_LOGS = pytest.StashKey[list]()


def show_log_on_failure(request, path: str) -> None:
    """Attach the tail of a daemon's log to the test's report if the test fails."""
    request.node.stash.setdefault(DAEMON_LOGS, []).append(path)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and report.when == "call":
        for path in item.stash.get(DAEMON_LOGS, []):
            try:
                with open(path, errors="replace") as log:
                    report.sections.append((f"daemon log {path} (last 60 lines)", "".join(log.readlines()[-60:])))
            except OSError:
                pass
    return report


@pytest.fixture(autouse=True)
def no_daemon_leaks(tmp_path):
    """Beyond the suite's own check: no daemon, shim or conmon left running, no state
    directory or mount left in /run, no cgroup a daemon made at a hierarchy's root."""
    from tests import leaks
    states_before, roots_before = leaks.daemon_state_dirs(), leaks.root_cgroups()
    yield
    new_states = leaks.daemon_state_dirs() - states_before
    left = []
    pids = leaks.processes_naming(new_states | {str(tmp_path)})
    if pids:
        left.append(f"processes: {sorted(pids)}")
    with open("/proc/self/mountinfo") as info:
        mounts = [line.split()[4] for line in info
                  if line.split()[4].startswith(os.path.join("/run", leaks.DAEMON_STATE_PREFIX))]
    if mounts:
        left.append(f"mounts: {sorted(mounts)}")
    if new_states:
        left.append(f"state directories: {sorted(new_states)}")
    new_roots = leaks.root_cgroups() - roots_before
    if new_roots:
        left.append(f"cgroups at a hierarchy's root: {sorted(new_roots)}")
    if left:
        pytest.fail("a daemon left behind " + "; ".join(left), pytrace=False)


@pytest.fixture(params=["nsbox", "runc"])
def oci_runtime(request, tmp_path) -> OciRuntime:
    runtime = make_runtime(request.param, str(tmp_path))
    if not os.access(runtime.binary, os.X_OK):
        pytest.skip(f"{runtime.binary} is not installed")
    return runtime


@pytest.fixture(scope="session")
def images_archive(tmp_path_factory) -> str:
    """busybox:latest and a pause image (busybox sleeping: the CRI's pod sandbox), as one
    docker-save archive made by nsbox, for the daemons to load (there is no registry here)."""
    from nsbox.image.archive import save
    from nsbox.image.busybox_image import build_busybox_image
    base = tmp_path_factory.mktemp("interop-images")
    nsbox_root = str(base / "nsbox-root")
    build_busybox_image(nsbox_root)
    build_busybox_image(nsbox_root, PAUSE_IMAGE, changes=('CMD ["sleep", "2147483647"]',))
    archive = str(base / "images.tar")
    with open(archive, "wb") as out:
        save(nsbox_root, ["busybox:latest", PAUSE_IMAGE], out)
    shutil.rmtree(nsbox_root, ignore_errors=True)
    return archive


def cgroup_parent(name: str) -> str:
    """A relative cgroup parent below the suite's own (never at a hierarchy's root)."""
    return f"{CGROUP_PARENT}/{name}"
