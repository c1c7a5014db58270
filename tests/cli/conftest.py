"""Fixtures of the Docker-compatibility tests: the engine tests' nsbox runner and busybox
tarball, and a dockerd (Debian's docker.io) with private state to compare against."""
from __future__ import annotations

import os
import sys

import pytest

from tests.engine.conftest import Nsbox, busybox_tar, nsbox  # noqa: F401 (fixtures used by name)


@pytest.fixture(scope="module")
def side_by_side(tmp_path_factory, busybox_tar):  # noqa: F811
    """(docker, nsbox): dockerd started for these tests (data root, exec root, pid file and
    socket of its own, no bridge, no iptables, cgroups below the suite's relative parent)
    holding the busybox image that nsbox saved, and an nsbox root holding the same image."""
    from tests.interop.conftest import cgroup_parent
    from tests.interop.daemons import Dockerd
    from tests.leaks import remove_cgroup_tree
    base = str(tmp_path_factory.mktemp("side-by-side"))
    runner = Nsbox(os.path.join(base, "nsbox-root"))
    runner("import", busybox_tar, "busybox")
    archive = os.path.join(base, "busybox-image.tar")
    runner("save", "-o", archive, "busybox")
    parent = cgroup_parent("dockerd-side-by-side")
    try:
        daemon = Dockerd(base, [], parent)
    except (AssertionError, OSError) as error:
        message = f"DOCKERD COULD NOT START: the Docker comparisons are NOT RUN ({error})"
        sys.stderr.write(f"\n\n*** {message} ***\n\n")
        pytest.skip(message)
    try:
        daemon.docker("load", "-i", archive)
        # The first container makes dockerd's cgroup parent: made here, it is not a test's leak.
        daemon.docker("run", "--rm", "--network", "none", "busybox", "true")
        yield daemon.docker, runner
    finally:
        daemon.stop()
        remove_cgroup_tree(parent)
