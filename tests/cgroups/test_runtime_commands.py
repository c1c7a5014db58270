"""The cgroups layer through nsbox-runtime: limits from config.json, `update`, `events`."""
from __future__ import annotations

import json
import os
import select
import subprocess
import time


MiB = 1 << 20


def with_resources(resources: dict):
    def edit(spec):
        spec["linux"]["resources"] = resources
    return edit


def started(make_bundle, runtime, name: str, args: list[str], resources: dict) -> int:
    bundle = make_bundle(args, with_resources(resources))
    runtime("create", "--bundle", bundle, name, check=True)
    runtime("start", name, check=True)
    return json.loads(runtime("state", name, check=True).stdout)["pid"]


def stats(runtime, name: str) -> dict:
    record = json.loads(runtime("events", "--stats", name, check=True).stdout)
    assert record["type"] == "stats" and record["id"] == name
    return record["data"]


def cpu_quota(pid: int) -> str:
    """The process's CPU quota, read the way a user would: find its cgroup in /proc/PID/cgroup."""
    lines = [line.rstrip("\n").split(":", 2) for line in open(f"/proc/{pid}/cgroup")]
    for _, controllers, path in lines:
        if "cpu" in controllers.split(","):
            mount = next(m.split()[4] for m in open("/proc/self/mountinfo") if " - cgroup " in m and "cpu" in
                         m.split()[-1].split(","))
            return open(os.path.join(mount, path.lstrip("/"), "cpu.cfs_quota_us")).read().strip()
    path = next(path for _, controllers, path in lines if controllers == "")
    return open(os.path.join("/sys/fs/cgroup", path.lstrip("/"), "cpu.max")).read().split()[0]


def test_config_limits_reach_the_cgroup_and_update_raises_them(make_bundle, runtime):
    pid = started(make_bundle, runtime, "limited", ["sleep", "1000"],
                  {"memory": {"limit": 64 * MiB}, "pids": {"limit": 20}, "cpu": {"quota": 50000, "period": 100000}})
    before = stats(runtime, "limited")
    assert before["memory"]["usage"]["limit"] == 64 * MiB
    assert before["pids"] == {"current": 1, "limit": 20}
    runtime("update", "--memory", "128m", "--pids-limit", "40", "--cpu-quota", "25000", "limited", check=True)
    after = stats(runtime, "limited")
    assert after["memory"]["usage"]["limit"] == 128 * MiB
    assert after["pids"]["limit"] == 40
    assert cpu_quota(pid) == "25000"
    runtime("delete", "--force", "limited", check=True)


def test_update_reads_oci_resources_from_a_file_or_stdin(make_bundle, runtime, tmp_path):
    started(make_bundle, runtime, "fromstdin", ["sleep", "1000"], {"pids": {"limit": 20}})
    resources = tmp_path / "resources.json"
    resources.write_text(json.dumps({"pids": {"limit": 33}}))
    runtime("update", "--resources", str(resources), "fromstdin", check=True)
    assert stats(runtime, "fromstdin")["pids"]["limit"] == 33
    resources.write_text(json.dumps({"pids": {"limit": 44}}))
    with open(resources) as stdin:
        runtime("update", "-r", "-", "fromstdin", stdin=stdin, check=True)
    assert stats(runtime, "fromstdin")["pids"]["limit"] == 44
    runtime("delete", "--force", "fromstdin", check=True)


def test_update_errors_name_the_flag_or_the_field(make_bundle, runtime, tmp_path):
    started(make_bundle, runtime, "badupdate", ["sleep", "1000"], {"memory": {"limit": 64 * MiB}})
    bad_size = runtime("update", "--memory", "lots", "badupdate")
    assert bad_size.returncode == 125 and "--memory: must be a size" in bad_size.stderr
    resources = tmp_path / "resources.json"
    resources.write_text(json.dumps({"blockIO": {"leafWeight": 10}}))
    refused = runtime("update", "--resources", str(resources), "badupdate")
    assert refused.returncode == 125 and "linux.resources.blockIO.leafWeight" in refused.stderr
    assert stats(runtime, "badupdate")["memory"]["usage"]["limit"] == 64 * MiB
    runtime("delete", "--force", "badupdate", check=True)


def test_a_limit_the_host_cannot_apply_fails_create_and_leaves_nothing(make_bundle, runtime):
    bundle = make_bundle(["sleep", "1000"], with_resources({"memory": {"limit": 64 * MiB},
                                                            "blockIO": {"leafWeight": 100}}))
    result = runtime("create", "--bundle", bundle, "cannot")
    assert result.returncode == 125
    assert "linux.resources.blockIO.leafWeight" in result.stderr and "remove the option" in result.stderr
    assert runtime("list", "-q").stdout == ""
    # the autouse no_leaks fixture checks that no cgroup directory and no process is left


def test_events_streams_an_oom_kill_and_ends_when_the_container_stops(make_bundle, runtime):
    started(make_bundle, runtime, "hungry", ["sleep", "1000"], {"memory": {"limit": 32 * MiB, "swap": 32 * MiB}})
    events = subprocess.Popen([runtime.binary, "--root", runtime.root, "events", "--interval", "500ms", "hungry"],
                              stdout=subprocess.PIPE, text=True)
    try:
        seen = [json.loads(events.stdout.readline())]
        assert seen[0]["type"] == "stats" and seen[0]["data"]["memory"]["oom_kill"] == 0
        # Only now that events is watching: a process in the container wants 100 MiB of its 32.
        hog = runtime("exec", "hungry", "dd", "if=/dev/zero", "of=/dev/null", "bs=100M", "count=1")
        assert hog.returncode == 137
        deadline = time.monotonic() + 30
        while not any(record["type"] == "oom" for record in seen):
            assert time.monotonic() < deadline, f"no oom event; saw {[record['type'] for record in seen]}"
            if select.select([events.stdout], [], [], 1)[0]:
                seen.append(json.loads(events.stdout.readline()))
        assert {"type": "oom", "id": "hungry"} in seen
        assert stats(runtime, "hungry")["memory"]["oom_kill"] >= 1
        runtime("kill", "hungry", "KILL", check=True)
        assert events.wait(timeout=30) == 0, "events ends when the container stops"
    finally:
        if events.poll() is None:
            events.kill()
            events.wait()
    runtime("delete", "--force", "hungry", check=True)


def test_events_refuses_a_bad_interval(make_bundle, runtime):
    started(make_bundle, runtime, "interval", ["sleep", "1000"], {})
    result = runtime("events", "--interval", "soon", "interval")
    assert result.returncode == 125 and "--interval" in result.stderr
    runtime("delete", "--force", "interval", check=True)


def test_events_ends_when_the_container_stops_not_at_the_next_tick(make_bundle, runtime):
    started(make_bundle, runtime, "ticking", ["sleep", "1000"], {})
    events = subprocess.Popen([runtime.binary, "--root", runtime.root, "events", "--interval", "1h", "ticking"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert json.loads(events.stdout.readline())["type"] == "stats"
        runtime("kill", "ticking", "KILL", check=True)
        assert events.wait(timeout=30) == 0, "events waited for its next stats tick, an hour away"
    finally:
        if events.poll() is None:
            events.kill()
            events.wait()
    runtime("delete", "--force", "ticking", check=True)
