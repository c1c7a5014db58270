"""The escape probe under nsbox's, Docker's and podman's defaults, on this machine.

dockerd is Debian's docker.io with a private data root (no bridge, no iptables), its
containers run by runc with Docker's own default profile; podman runs with runc and its
own default profile. The table is printed (pytest -s) and written to the test's directory;
the test holds nsbox to "blocks everything docker blocks".
"""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.conftest import CGROUP_PARENT
from tests.security.conftest import parse_probe
from tests.security.test_escapes import EVERY_PROBE, run_probe

pytestmark = pytest.mark.slow


def docker_results(tmp_path, busybox_tar, probe) -> dict | None:
    if shutil.which("dockerd") is None or shutil.which("docker") is None:
        return None
    from tests.interop.daemons import Dockerd
    daemon = Dockerd(str(tmp_path / "dockerd"), [], f"{CGROUP_PARENT}/docker")
    try:
        daemon.docker("import", busybox_tar, "busybox:probe")
        result = daemon.docker("run", "--rm", "--network", "none", "-v", f"{probe}:/probe:ro", "busybox:probe",
                               "/probe", timeout=120)
        return parse_probe(result.stdout)
    finally:
        daemon.stop()
        from tests.leaks import remove_cgroup_tree
        remove_cgroup_tree(f"{CGROUP_PARENT}/docker")


def podman_results(tmp_path, busybox_tar, probe) -> dict | None:
    if shutil.which("podman") is None or shutil.which("runc") is None:
        return None
    storage, run_root = tmp_path / "podman-root", f"/run/nsbox-test-podman-{os.getpid()}-compare"
    base = ["podman", "--root", str(storage), "--runroot", run_root, "--cgroup-manager", "cgroupfs",
            "--runtime", shutil.which("runc"), "--events-backend", "file"]
    try:
        subprocess.run([*base, "import", busybox_tar, "localhost/busybox:probe"], check=True, capture_output=True)
        result = subprocess.run([*base, "run", "--rm", "--network", "none", "--cgroup-parent", CGROUP_PARENT,
                                 "--cgroups=no-conmon", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "-v", f"{probe}:/probe:ro",
                                 "localhost/busybox:probe", "/probe"], capture_output=True, text=True, timeout=120,
                                stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr
        return parse_probe(result.stdout)
    finally:
        subprocess.run([*base, "rm", "-fa"], capture_output=True)
        subprocess.run([*base, "system", "reset", "--force"], capture_output=True)
        for path in (str(storage), run_root):
            subprocess.run(["umount", "-R", path], capture_output=True)
            shutil.rmtree(path, ignore_errors=True)


def test_nsbox_blocks_everything_docker_blocks(nsbox, busybox_tar, probe, tmp_path):
    columns = {"nsbox": run_probe(nsbox, probe)}
    for name, results in (("docker", docker_results(tmp_path, busybox_tar, probe)),
                          ("podman", podman_results(tmp_path, busybox_tar, probe))):
        if results is not None:
            columns[name] = results
    if "docker" not in columns:
        pytest.skip("dockerd is not installed (apt-get install docker.io)")
    lines = ["| attempt | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for name in EVERY_PROBE:
        cells = [f"{r[name][0]} ({r[name][1]})" if name in r else "-" for r in columns.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    (tmp_path / "comparison.md").write_text(table + "\n")
    print("\n" + table)
    docker_blocks = {name for name, (verdict, _) in columns["docker"].items() if verdict == "blocked"}
    nsbox_open = {name for name, (verdict, _) in columns["nsbox"].items() if verdict != "blocked"}
    assert not docker_blocks & nsbox_open, {name: columns["nsbox"][name] for name in docker_blocks & nsbox_open}
