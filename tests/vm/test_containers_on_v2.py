"""Whole containers on real cgroup v2, through the OCI runtime CLI as containerd would drive it.

These run in the guest (python -m tests.vm); on a v1 or hybrid host they are skipped.
"""
from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

pytestmark = pytest.mark.cgroup_v2


def with_resources(resources: dict, capabilities: tuple[str, ...] = ()):
    """An edit for make_bundle: set linux.resources (keeping the default device rules) and add capabilities."""
    def edit(spec: dict) -> None:
        spec["linux"]["resources"].update(resources)
        for kind in ("bounding", "effective", "permitted"):
            spec["process"]["capabilities"][kind] += list(capabilities)
    return edit


def cgroup_dir(spec_path: str) -> str:
    """Where a relative cgroupsPath lands on the host: below our own cgroup (the root in the guest)."""
    with open("/proc/self/cgroup") as own:
        base = own.read().strip().removeprefix("0::")
    return os.path.join("/sys/fs/cgroup", base.lstrip("/"), spec_path)


def test_limits_are_v2_files_and_the_container_sees_its_cgroup_as_the_root(make_bundle, runtime):
    bundle = make_bundle(
        ["sh", "-c", "cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max"],
        edit=with_resources({"memory": {"limit": 64 << 20}, "pids": {"limit": 32},
                             "cpu": {"quota": 50000, "period": 100000}}))
    result = runtime("run", "--bundle", bundle, "limits")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == ["0::/", str(64 << 20), "32", "50000 100000"]


def test_an_oom_kill_in_a_container_is_an_oom_event(make_bundle, runtime):
    # tail keeps a growing buffer while it looks for the end of a line that never comes.
    bundle = make_bundle(["tail", "/dev/zero"], edit=with_resources({"memory": {"limit": 32 << 20}}))
    runtime("create", "--bundle", bundle, "oom", check=True)
    with open(os.path.join(bundle, "config.json")) as config:
        cgroup = cgroup_dir(json.load(config)["linux"]["cgroupsPath"])
    # events notices the stop at its next stats tick: a short interval ends it soon after.
    events = subprocess.Popen([runtime.binary, "--root", runtime.root, "events", "--interval", "1s", "oom"],
                              stdout=subprocess.PIPE, text=True)
    try:
        # Its first stats record says it is watching: only then may the container run out of memory.
        first = events.stdout.readline()
        assert json.loads(first)["type"] == "stats", first
        runtime("start", "oom", check=True)
        # events ends when the container has stopped.
        records = [json.loads(line) for line in events.communicate(timeout=300)[0].splitlines()]
    finally:
        if events.poll() is None:
            events.kill()
            events.wait()
    assert {"type": "oom", "id": "oom"} in records
    with open(os.path.join(cgroup, "memory.events")) as memory_events:
        assert "oom_kill 1\n" in memory_events.read()
    runtime("delete", "oom", check=True)
    assert not os.path.exists(cgroup)


def test_pause_freezes_through_cgroup_freeze_and_resume_thaws(make_bundle, runtime):
    bundle = make_bundle(["sleep", "600"])
    runtime("run", "--detach", "--bundle", bundle, "frozen", check=True)
    with open(os.path.join(bundle, "config.json")) as config:
        cgroup = cgroup_dir(json.load(config)["linux"]["cgroupsPath"])
    runtime("pause", "frozen", check=True)
    assert json.loads(runtime("state", "frozen", check=True).stdout)["status"] == "paused"
    with open(os.path.join(cgroup, "cgroup.freeze")) as freeze, open(os.path.join(cgroup, "cgroup.events")) as events:
        assert (freeze.read(), "frozen 1" in events.read()) == ("1\n", True)
    runtime("resume", "frozen", check=True)
    assert json.loads(runtime("state", "frozen", check=True).stdout)["status"] == "running"
    with open(os.path.join(cgroup, "cgroup.events")) as events:
        assert "frozen 0" in events.read()
    runtime("delete", "--force", "frozen", check=True)


def test_the_device_program_denies_opening_a_disk_and_allows_what_the_spec_allows(make_bundle, runtime):
    # CAP_MKNOD is granted so that only the cgroup's eBPF device program can say no. Like
    # runc, nsbox lets any node be made (access "m") and decides at open.
    script = ("mknod /dev/allowed c 1 3 && echo data >/dev/allowed && echo null-opened; "
              "mknod /dev/disk b 7 0 && echo disk-made; head -c 1 /dev/disk || echo disk-open-denied")
    bundle = make_bundle(["sh", "-c", script], edit=with_resources(
        {"devices": [{"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]}, ("CAP_MKNOD",)))
    result = runtime("run", "--bundle", bundle, "devices")
    assert result.stdout.splitlines() == ["null-opened", "disk-made", "disk-open-denied"]
    assert re.search(r"/dev/disk.*Operation not permitted", result.stderr), result.stderr
