"""What a user checks of each limit, on real cgroups: the v1/hybrid hierarchies of this host, and
(marked cgroup_v2) a real cgroup v2 host in the VM lane. Processes are started here, moved into the
cgroup, then released to run; no container runtime is involved."""
from __future__ import annotations

import os
import select
import subprocess
import time

import pytest

from nsbox.errors import CgroupError

from tests.cgroups.conftest import BUSYBOX, PYTHON, SPIN, Member

MiB = 1 << 20


def wait_for(check, what: str, timeout: float = 20):
    """Poll `check` until it returns something true (a bound against hangs, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def controller_file(cg, v1_controller: str, name: str) -> str:
    directory = cg.v1[v1_controller] if v1_controller in cg.v1 else cg.unified
    return os.path.join(directory, name)


def read(path: str) -> str:
    with open(path) as file:
        return file.read().strip()


def keyed(path: str) -> dict[str, int]:
    return {key: int(value) for key, value in (line.split() for line in read(path).splitlines())}


def test_memory_limit_oom_kills_and_reports_it(live):
    live.apply({"memory": {"limit": 64 * MiB, "swap": 64 * MiB}})
    assert live.stats()["memory"]["usage"]["limit"] == 64 * MiB
    watch = live.oom_watch()
    try:
        hog = Member(live, [PYTHON, "-c", "data = b'x' * (200 << 20); print('survived')"], stdout=subprocess.PIPE)
        assert hog.wait() == -9, "a process allocating 200 MiB in 64 MiB must die of SIGKILL"
        assert hog.process.stdout.read() == b""
        readable, _, _ = select.select([watch], [], [], 10)
        assert readable == [watch], "the OOM watch fd must become readable"
    finally:
        os.close(watch)
    assert live.oom_kills() >= 1
    assert live.stats()["memory"]["oom_kill"] >= 1


def test_half_a_cpu_is_in_the_files_and_throttles_a_busy_loop(live):
    if "cpu" in live.v1:
        # Half a CPU in 2 ms periods: a busy loop exceeds 1 ms in the first tick it is scheduled,
        # so it is throttled even on this loaded host, where in 100 ms periods it may never get 50 ms.
        live.apply({"cpu": {"quota": 1000, "period": 2000}})
        assert read(controller_file(live, "cpu", "cpu.cfs_quota_us")) == "1000"
        assert read(controller_file(live, "cpu", "cpu.cfs_period_us")) == "2000"
    else:  # the v2 lane's guest is otherwise idle, and its emulated clock is too coarse for 2 ms periods
        live.apply({"cpu": {"quota": 50000, "period": 100000}})
        assert read(controller_file(live, "cpu", "cpu.max")) == "50000 100000"
    Member(live, SPIN)
    # (the kernel adds a throttled period's time when the period ends: the count comes first)
    wait_for(lambda: (t := live.stats()["cpu"]["throttling"])["throttled_periods"] > 0 and t["throttled_time"] > 0,
             "cpu.stat to count throttled periods and their time")
    assert read(controller_file(live, "cpu", "cpu.stat")).count("nr_throttled") == 1


def test_pids_limit_stops_a_fork_bomb_and_the_host_still_forks(live):
    live.apply({"pids": {"limit": 10}})
    bomb = Member(live, [BUSYBOX, "sh", "-c", "while :; do sleep 1000 & done"], stderr=subprocess.DEVNULL)
    events = controller_file(live, "pids", "pids.events")
    wait_for(lambda: keyed(events).get("max", 0) > 0, "pids.events to count refused forks")
    assert live.stats()["pids"] == {"current": 10, "limit": 10}
    assert 0 < len(live.pids()) <= 10
    assert subprocess.run(["true"]).returncode == 0, "the host must still be able to fork"
    live.kill(9)
    bomb.wait()
    wait_for(lambda: not live.pids(), "the bomb's processes to die")


def test_write_bps_throttle_on_a_loop_device_is_in_the_files_and_counts_io(live, loop_device):
    number = os.stat(loop_device).st_rdev
    major, minor = os.major(number), os.minor(number)
    live.apply({"blockIO": {"throttleWriteBpsDevice": [{"major": major, "minor": minor, "rate": MiB}]},
                "devices": [{"allow": True, "type": "b", "major": major, "minor": minor, "access": "rw"}]})
    if "blkio" in live.v1:
        assert f"{major}:{minor} {MiB}" in read(controller_file(live, "blkio", "blkio.throttle.write_bps_device"))
    else:
        assert f"{major}:{minor} " in read(os.path.join(live.unified, "io.max"))
        assert f"wbps={MiB}" in read(os.path.join(live.unified, "io.max"))
    # Direct I/O: v1 throttles only I/O that reaches the block layer from the writer's cgroup.
    dd = Member(live, ["dd", "if=/dev/zero", f"of={loop_device}", "bs=64k", "count=8", "oflag=direct"],
                stderr=subprocess.DEVNULL)
    assert dd.wait() == 0
    written = [entry["value"] for entry in live.stats()["blkio"]["ioServiceBytesRecursive"]
               if (entry["major"], entry["minor"], entry["op"]) == (major, minor, "Write")]
    assert written and written[0] >= 512 * 1024


def test_freeze_stops_a_counter_and_thaw_resumes_it(live, tmp_path):
    counter = tmp_path / "counter"
    Member(live, [BUSYBOX, "sh", "-c", f'i=0; while :; do i=$((i+1)); echo $i > {counter}; done'])
    wait_for(lambda: counter.exists() and counter.read_text().strip(), "the counter to start")
    live.freeze()
    assert live.frozen()
    stopped = counter.read_text()
    time.sleep(0.3)
    assert counter.read_text() == stopped, "a frozen counter must not move"
    live.thaw()
    assert not live.frozen()
    last = int(stopped) if stopped.strip() else 0
    wait_for(lambda: (text := counter.read_text().strip()) and int(text) > last, "the thawed counter to move on")


def test_update_raises_the_memory_limit_of_a_running_cgroup(live):
    live.apply({"memory": {"limit": 64 * MiB}, "pids": {"limit": 5}})
    sleeper = Member(live, ["sleep", "1000"])
    live.update({"memory": {"limit": 256 * MiB}, "pids": {"limit": 50}})
    assert live.stats()["memory"]["usage"]["limit"] == 256 * MiB
    assert live.stats()["pids"]["limit"] == 50
    grower = Member(live, [PYTHON, "-c", "data = b'x' * (100 << 20)"])
    assert grower.wait() == 0, "100 MiB must fit below the raised 256 MiB limit"
    assert sleeper.pid in live.pids()


def test_check_before_update_refuses_a_limit_below_current_usage(live):
    live.apply({"memory": {"limit": 256 * MiB}})
    holder = Member(live, [PYTHON, "-c", "import time; data = b'x' * (40 << 20); time.sleep(1000)"],
                    stdout=subprocess.DEVNULL)
    wait_for(lambda: live.stats()["memory"]["usage"]["usage"] > 40 * MiB, "the holder to use 40 MiB")
    with pytest.raises(CgroupError, match="below the .* bytes the container uses now"):
        live.update({"memory": {"limit": 16 * MiB, "checkBeforeUpdate": True}})
    assert live.stats()["memory"]["usage"]["limit"] == 256 * MiB
    assert holder.process.poll() is None, "the holder must not have been OOM-killed"


def test_kill_reaches_every_process_and_remove_leaves_no_directory(live):
    Member(live, [BUSYBOX, "sh", "-c", "sleep 1000 & sleep 1000 & wait"])
    wait_for(lambda: len(live.pids()) == 3, "the shell and its two children")
    if live.unified is not None:  # hybrid hosts too: every process is in the cgroup2 hierarchy as well
        relative = "/" + os.path.relpath(live.unified, live.unified_mount)
        for pid in live.pids():
            assert f"0::{relative}\n" in open(f"/proc/{pid}/cgroup").read()
    live.kill(9)
    wait_for(lambda: not live.pids(), "every process to die")
    live.remove()
    assert [d for d in live.directories() if os.path.exists(d)] == []
    live.remove()  # idempotent


def test_sigkill_ends_the_processes_of_a_frozen_cgroup(live):
    Member(live, [BUSYBOX, "sh", "-c", "sleep 1000 & wait"])
    wait_for(lambda: len(live.pids()) == 2, "the shell and its child")
    live.freeze()
    live.kill(9)
    wait_for(lambda: not live.pids(), "the frozen processes to die")


def test_stats_record_has_runc_shape(live):
    live.apply({"memory": {"limit": 64 * MiB}, "pids": {"limit": 20}})
    Member(live, ["sleep", "1000"])
    stats = wait_for(lambda: (s := live.stats())["memory"]["usage"]["usage"] > 0 and s, "memory to be charged")
    assert {"cpu", "memory", "pids", "blkio"} <= set(stats)
    assert set(stats["cpu"]) == {"usage", "throttling"}
    assert {"total", "user", "kernel"} <= set(stats["cpu"]["usage"])
    assert stats["pids"] == {"current": 1, "limit": 20}


def test_state_round_trip_drives_the_same_cgroup(live):
    from nsbox.cgroups import Cgroup
    from nsbox.oci import jsonio
    live.apply({"pids": {"limit": 7}})
    again = Cgroup.from_state(jsonio.loads(jsonio.dumps(live.to_state())))
    assert again.directories() == live.directories()
    assert again.stats()["pids"]["limit"] == 7


def test_every_v1_field_this_host_has_lands_in_its_file(make_cgroup, loop_device):
    cg = make_cgroup()
    if cg.mode == "v2":
        pytest.skip("v1 files (the v2 ones are in test_v2.py)")
    number = os.stat(loop_device).st_rdev
    device = {"major": os.major(number), "minor": os.minor(number)}
    scheduler = f"/sys/block/{os.path.basename(loop_device)}/queue/scheduler"
    if "bfq" not in read(scheduler):
        pytest.skip("no BFQ I/O scheduler (per-device weights need it)")
    with open(scheduler, "w") as file:  # our own loop device: per-device weights need BFQ on it
        file.write("bfq")
    cg.apply({"memory": {"limit": 96 * MiB, "swap": 128 * MiB, "reservation": 32 * MiB, "swappiness": 10,
                         "disableOOMKiller": True},
              "cpu": {"shares": 512, "quota": 20000, "period": 50000, "burst": 1000, "idle": 0, "cpus": "0",
                      "mems": "0"},
              "pids": {"limit": 64},
              "blockIO": {"weight": 300, "weightDevice": [{**device, "weight": 200}],
                          "throttleReadBpsDevice": [{**device, "rate": 2 * MiB}],
                          "throttleReadIOPSDevice": [{**device, "rate": 100}],
                          "throttleWriteIOPSDevice": [{**device, "rate": 50}]}})
    expected = {
        ("memory", "memory.limit_in_bytes"): str(96 * MiB), ("memory", "memory.memsw.limit_in_bytes"): str(128 * MiB),
        ("memory", "memory.soft_limit_in_bytes"): str(32 * MiB), ("memory", "memory.swappiness"): "10",
        ("cpu", "cpu.shares"): "512", ("cpu", "cpu.cfs_quota_us"): "20000", ("cpu", "cpu.cfs_period_us"): "50000",
        ("cpu", "cpu.cfs_burst_us"): "1000", ("cpu", "cpu.idle"): "0", ("cpuset", "cpuset.cpus"): "0",
        ("cpuset", "cpuset.mems"): "0", ("pids", "pids.max"): "64", ("blkio", "blkio.bfq.weight"): "300",
    }
    for (controller, name), value in expected.items():
        path = os.path.join(cg.v1[controller], name)
        if os.path.exists(path):
            assert read(path) == value, name
    assert "oom_kill_disable 1" in read(os.path.join(cg.v1["memory"], "memory.oom_control"))
    key = f"{device['major']}:{device['minor']}"
    blkio = cg.v1["blkio"]
    assert f"{key} {2 * MiB}" in read(os.path.join(blkio, "blkio.throttle.read_bps_device"))
    assert f"{key} 100" in read(os.path.join(blkio, "blkio.throttle.read_iops_device"))
    assert f"{key} 50" in read(os.path.join(blkio, "blkio.throttle.write_iops_device"))
    if os.path.exists(os.path.join(blkio, "blkio.bfq.weight_device")):
        assert f"{key} 200" in read(os.path.join(blkio, "blkio.bfq.weight_device"))


def test_a_cpuset_parent_left_empty_by_another_runtime_is_filled_in(make_cgroup):
    from nsbox.cgroups import open_cgroup
    from tests.conftest import CGROUP_PARENT
    probe = open_cgroup(f"{CGROUP_PARENT}/racing/child", "child")
    if "cpuset" not in probe.v1:
        pytest.skip("no v1 cpuset controller")
    parent = os.path.dirname(probe.v1["cpuset"])
    os.makedirs(parent)  # as another runtime would, a moment before filling in its CPUs
    assert read(os.path.join(parent, "cpuset.cpus")) == ""
    child = make_cgroup("racing/child")
    make_cgroup("racing")  # so that the fixture removes the parent too
    assert read(os.path.join(parent, "cpuset.cpus")) != ""
    sleeper = Member(child, ["sleep", "1000"])
    assert child.pids() == [sleeper.pid]


def test_remove_takes_the_sub_cgroups_made_inside(live):
    """A container may make cgroups of its own below its cgroup (systemd, a nested runtime):
    remove takes them too, deepest first (it tries a single rmdir first, the usual case)."""
    for directory in live.directories():
        os.makedirs(os.path.join(directory, "inner", "deeper"))
    live.remove()
    assert [d for d in live.directories() if os.path.exists(d)] == []
