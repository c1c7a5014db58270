"""The filesystem work of one `nsbox-runtime run` (create, start, wait, delete), checked
structurally from strace, not by timing (benchmarks/ measure the time): each state write
and each directory operation under /run and in the cgroup hierarchies costs a journal or
cgroup lock round, so the runtime does none it does not need.

- create writes state.json three times: the first state (which already names the cgroup
  about to be made), the init's PID, and "created" once the init is ready;
- delete removes each cgroup directory with one rmdir, without walking it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")


def traced_run(runtime, bundle: str, container_id: str, log) -> list[str]:
    """The trace of `nsbox-runtime run` (every process), of file opens, renames and rmdirs."""
    result = subprocess.run(["strace", "-f", "-qq", "-o", str(log), "-e", "trace=openat,rename,rmdir",
                             runtime.binary, "--root", runtime.root, "run", "--bundle", bundle, container_id],
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert runtime("list", "-q", check=True).stdout == ""
    return log.read_text().splitlines()


def test_create_writes_its_state_three_times(make_bundle, runtime, tmp_path):
    container_id = f"writes-{os.getpid()}"
    lines = traced_run(runtime, make_bundle(["true"]), container_id, tmp_path / "trace")
    state = os.path.join(runtime.root, container_id, "state.json")
    writes = [line for line in lines if "rename(" in line and f'"{state}.tmp-' in line]
    assert len(writes) == 3, writes


def test_delete_removes_each_cgroup_directory_without_walking_it(make_bundle, runtime, tmp_path):
    container_id = f"rmdirs-{os.getpid()}"
    bundle = make_bundle(["true"])
    lines = traced_run(runtime, bundle, container_id, tmp_path / "trace")
    with open(os.path.join(bundle, "config.json")) as config:
        cgroups_path = json.load(config)["linux"]["cgroupsPath"]
    from nsbox.cgroups import open_cgroup
    directories = open_cgroup(cgroups_path, container_id).directories()
    cgroup = "/" + cgroups_path
    removed = [line for line in lines if "rmdir(" in line and cgroup in line]
    assert len(removed) == len(directories), removed
    # one directory is read for its processes (is the container empty?); none is listed to find sub-cgroups
    listed = [line for line in lines if "O_DIRECTORY" in line and "O_PATH" not in line and f'{cgroup}"' in line]
    assert len(listed) <= 1, listed


def test_the_runtime_runs_a_container_without_collecting_garbage(make_bundle, runtime, tmp_path):
    """What the runtime's command allocates lives until it exits: it runs no collection
    (linux.collector; `events`, which lives on, collects again)."""
    from tests.collections_probe import noted_collections
    noted = noted_collections([runtime.binary, "--root", runtime.root, "run", "--bundle", make_bundle(["true"]),
                               f"collect-{os.getpid()}"], tmp_path)
    assert noted == [], noted
    assert runtime("list", "-q", check=True).stdout == ""
