"""State under --root: locked, atomic, truthful after a crash; concurrent commands never clash."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest


@pytest.mark.v2_lane  # touches cgroups: run again on real cgroup v2
def test_create_killed_in_the_middle_leaves_a_record_delete_cleans(make_bundle, runtime, tmp_path):
    marker = tmp_path / "hook-running"
    hook = tmp_path / "slow-hook.sh"
    hook.write_text(f"#!/bin/sh\necho $$ > {marker}\nexec sleep 30\n")
    hook.chmod(0o755)

    def edit(spec):
        spec["hooks"] = {"createRuntime": [{"path": str(hook)}]}
    bundle = make_bundle(["sleep", "100"], edit)
    create = subprocess.Popen([runtime.binary, "--root", runtime.root, "create", "--bundle", bundle, "crashed"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not (marker.exists() and marker.read_text().strip()):
        assert time.monotonic() < deadline, "the hook never ran"
        time.sleep(0.01)
    os.kill(create.pid, signal.SIGKILL)
    create.wait()
    os.kill(int(marker.read_text()), signal.SIGKILL)
    rows = json.loads(runtime("list", "--format", "json", check=True).stdout)
    assert [row["id"] for row in rows] == ["crashed"]
    assert rows[0]["status"] in ("creating", "stopped")
    runtime("delete", "--force", "crashed", check=True)
    assert runtime("list", "-q", check=True).stdout == ""


def test_concurrent_creates_of_one_id_only_one_wins(make_bundle, runtime):
    bundle = make_bundle(["sleep", "100"])
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: runtime("create", "--bundle", bundle, "contested"), range(8)))
    assert sorted(r.returncode for r in results).count(0) == 1
    assert all("already exists" in r.stderr for r in results if r.returncode != 0)
    assert json.loads(runtime("state", "contested", check=True).stdout)["status"] == "created"
    runtime("delete", "contested", check=True)


def test_concurrent_deletes_and_kills_of_one_container(make_bundle, runtime):
    bundle = make_bundle(["sleep", "100"])
    runtime("run", "-d", "--bundle", bundle, "raced", check=True)
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda i: runtime("delete", "--force", "raced") if i % 2 else
                                runtime("kill", "raced", "KILL"), range(6)))
    assert any(r.returncode == 0 for r in results)
    for result in results:
        assert "Traceback" not in result.stderr
    assert runtime("list", "-q", check=True).stdout == ""


WRITER = """
import sys
from nsbox.runtime.state import ContainerRecord
record = ContainerRecord.load(sys.argv[1], "atomic", lock=False)
round = 0
while True:  # rewrite the state (4 MiB: each write takes a while) until killed
    round += 1
    record.data["annotations"] = {"padding": str(round) + "x" * (4 << 20)}
    record.save()
"""


def test_state_file_is_never_half_written(make_bundle, runtime):
    """Writers killed (SIGKILL) at random moments of rewriting state.json, and readers
    meanwhile: every read is a whole state, the old one or the new one."""
    import random
    import sys
    runtime("create", "--bundle", make_bundle(["sleep", "100"]), "atomic", check=True)
    directory = os.path.join(runtime.root, "atomic")
    assert sorted(os.listdir(directory)) == ["exec.fifo", "state.json"]
    path = os.path.join(directory, "state.json")
    chance = random.Random(os.getpid())
    for _ in range(25):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, runtime.root])
        deadline = time.monotonic() + chance.uniform(0.1, 0.4)
        while time.monotonic() < deadline:
            with open(path, "rb") as state:
                assert json.loads(state.read())["id"] == "atomic"
        writer.kill()
        writer.wait()
        with open(path, "rb") as state:
            assert json.loads(state.read())["id"] == "atomic"
    assert json.loads(runtime("state", "atomic", check=True).stdout)["status"] == "created"
    runtime("delete", "atomic", check=True)
