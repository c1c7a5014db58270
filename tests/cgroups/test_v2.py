"""The cgroup v2 driver: OCI resources to unified-hierarchy files (with the unit conversions),
errors, delegation, stats.

Each test runs twice: against FakeV2Host (this machine has no cgroup v2 controllers) and,
marked cgroup_v2, against the real hierarchy of a v2 host (the VM lane: -m cgroup_v2).
"""
from __future__ import annotations

import os

import pytest

from nsbox.errors import CgroupError, ConfigError

MiB = 1 << 20
CONTROLLERS = "cpuset cpu io memory hugetlb pids rdma misc"
ENABLED = "cpuset cpu io memory hugetlb pids"


class FakeV2Host:
    """A FAKE: plain files shaped like a cgroup v2 mount that delegates every controller.

    It stands in for a v2 kernel, which this machine does not have; the kernel would create
    these files on mkdir and keep their values itself. The fake holds the values a fresh
    cgroup shows, so the driver reads and writes them as it would on a real host; the same
    tests run against a real v2 hierarchy in the VM lane.
    """

    LEAF_FILES = {
        "cgroup.controllers": ENABLED, "cgroup.subtree_control": "", "cgroup.procs": "", "cgroup.freeze": "0",
        "cgroup.kill": "", "cgroup.events": "populated 0\nfrozen 0\n", "cgroup.type": "domain",
        "memory.max": "max", "memory.low": "0", "memory.high": "max", "memory.swap.max": "max",
        "memory.current": "0", "memory.peak": "0", "memory.swap.current": "0", "memory.stat": "anon 0\nfile 0\n",
        "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
        "cpu.weight": "100", "cpu.max": "max 100000", "cpu.max.burst": "0", "cpu.idle": "0",
        "cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
        "cpuset.cpus": "", "cpuset.mems": "", "pids.max": "max", "pids.current": "0",
        "io.weight": "default 100", "io.max": "", "io.stat": "",
        "hugetlb.2MB.max": "max", "hugetlb.2MB.current": "0", "hugetlb.2MB.events": "max 0\n",
    }

    def __init__(self, top: str) -> None:
        self.root = os.path.join(top, "cgroup")
        self.parent = os.path.join(self.root, "nsbox-test")
        self.leaf = os.path.join(self.parent, "c1")
        self._fill(self.root, {"cgroup.controllers": CONTROLLERS, "cgroup.subtree_control": ENABLED,
                               "cgroup.procs": "1\n"})
        self._fill(self.parent, {"cgroup.controllers": ENABLED, "cgroup.subtree_control": "", "cgroup.procs": ""})
        self._fill(self.leaf, self.LEAF_FILES)

    @staticmethod
    def _fill(directory: str, files: dict[str, str]) -> None:
        os.makedirs(directory, exist_ok=True)
        for name, text in files.items():
            with open(os.path.join(directory, name), "w") as file:
                file.write(text)

    def cgroup(self):
        from nsbox.cgroups import Cgroup
        return Cgroup("nsbox-test/c1", {}, self.leaf, self.root)


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.cgroup_v2)])
def v2(request, tmp_path):
    """A v2 Cgroup, created: on the fake tree, or on this host's real cgroup v2 hierarchy."""
    if request.param == "fake":
        # A plain directory takes no BPF program: record the device list instead (the
        # program itself is tested on a real cgroup2 directory in test_devices.py).
        from nsbox.cgroups import ebpf
        monkeypatch = request.getfixturevalue("monkeypatch")
        installed = []
        monkeypatch.setattr(ebpf, "install", lambda directory, rules: installed.append((directory, rules)))
        cg = FakeV2Host(str(tmp_path)).cgroup()
        cg.create()
        yield cg
        for directory, _ in installed:  # (none when the test's apply failed before the devices)
            assert directory == cg.unified
        return
    from tests.cgroups.conftest import v2_unusable_reason
    reason = v2_unusable_reason()
    if reason:
        pytest.skip(reason)
    make = request.getfixturevalue("make_cgroup")
    yield make()


def read(cg, name: str) -> str:
    with open(os.path.join(cg.unified, name)) as file:
        return file.read().strip()


@pytest.mark.needs_no_root
def test_the_device_list_goes_to_the_cgroup2_directory_as_one_program(tmp_path, monkeypatch):
    from nsbox.cgroups import ebpf
    installed = []
    monkeypatch.setattr(ebpf, "install", lambda directory, rules: installed.append((directory, rules)))
    cg = FakeV2Host(str(tmp_path)).cgroup()
    cg.create()
    cg.apply({"devices": [{"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rw"}]})
    assert len(installed) == 1 and installed[0][0] == cg.unified
    rules = installed[0][1]
    assert rules[0] == (False, "a", None, None, "rwm"), "deny all first"
    assert (True, "c", 10, 200, "rw") in rules and (True, "c", 1, 3, "rwm") in rules  # the spec's, /dev/null


def test_memory_limit_swap_and_reservation_convert_to_v2_files(v2):
    v2.apply({"memory": {"limit": 64 * MiB, "swap": 96 * MiB, "reservation": 32 * MiB}})
    assert read(v2, "memory.max") == str(64 * MiB)
    assert read(v2, "memory.swap.max") == str(32 * MiB), "v2 swap.max is swap alone: memory+swap - memory"
    assert read(v2, "memory.low") == str(32 * MiB)
    v2.update({"memory": {"limit": -1, "swap": -1}})
    assert read(v2, "memory.max") == "max"
    assert read(v2, "memory.swap.max") == "max"


def test_cpu_shares_quota_period_and_burst(v2):
    v2.apply({"cpu": {"shares": 1024, "quota": 50000, "period": 100000}})
    assert read(v2, "cpu.weight") == "39", "shares 1024 maps to weight 39 (1 + (1024-2)*9999/262142)"
    assert read(v2, "cpu.max") == "50000 100000"
    v2.update({"cpu": {"period": 200000}})
    assert read(v2, "cpu.max") == "50000 200000", "a new period keeps the quota"
    v2.update({"cpu": {"quota": -1}})
    assert read(v2, "cpu.max") == "max 200000"


def test_pids_limit(v2):
    v2.apply({"pids": {"limit": 10}})
    assert read(v2, "pids.max") == "10"
    v2.update({"pids": {"limit": -1}})
    assert read(v2, "pids.max") == "max"


def test_block_io_weight_and_throttle(v2, loop_device):
    if not os.path.exists(os.path.join(v2.unified, "io.weight")):
        pytest.skip("this kernel has no io.weight (no BFQ or io.cost)")
    number = os.stat(loop_device).st_rdev
    device = f"{os.major(number)}:{os.minor(number)}"
    v2.apply({"blockIO": {"weight": 500, "throttleWriteBpsDevice": [
        {"major": os.major(number), "minor": os.minor(number), "rate": MiB}]}})
    assert read(v2, "io.weight").splitlines()[0] == "default 4950", "blkio 500 maps to io.weight 4950"
    line = [entry for entry in read(v2, "io.max").splitlines() if entry.startswith(device + " ")]
    assert line and f"wbps={MiB}" in line[0]


def test_unified_keys_are_written_as_given(v2):
    v2.apply({"unified": {"memory.high": str(48 * MiB)}})
    assert read(v2, "memory.high") == str(48 * MiB)


def test_hugepage_limit(v2):
    if not os.path.exists(os.path.join(v2.unified, "hugetlb.2MB.max")):
        pytest.skip("no 2MB hugetlb controller on this host")
    v2.apply({"hugepageLimits": [{"pageSize": "2MB", "limit": 4 * MiB}]})
    assert read(v2, "hugetlb.2MB.max") == str(4 * MiB)


@pytest.mark.parametrize("resources, field", [
    ({"cpu": {"realtimeRuntime": 1000}}, "linux.resources.cpu.realtimeRuntime"),
    ({"memory": {"swappiness": 10}}, "linux.resources.memory.swappiness"),
    ({"memory": {"disableOOMKiller": True}}, "linux.resources.memory.disableOOMKiller"),
    ({"blockIO": {"leafWeight": 100}}, "linux.resources.blockIO.leafWeight"),
    ({"network": {"classID": 1}}, "linux.resources.network.classID"),
    ({"memory": {"swap": 2 * MiB}}, "linux.resources.memory.swap"),
])
def test_a_limit_v2_cannot_apply_is_an_error_naming_it_and_nothing_changes(v2, resources, field):
    with pytest.raises((CgroupError, ConfigError)) as raised:
        v2.apply({"pids": {"limit": 10}, **resources})
    assert str(raised.value).startswith(field)
    assert read(v2, "pids.max") == "max", "no limit may be half-applied"


def test_kernel_memory_is_accepted_with_a_warning(v2):
    warnings = []
    v2.warn = warnings.append
    v2.apply({"memory": {"limit": 64 * MiB, "kernel": 32 * MiB}})
    assert read(v2, "memory.max") == str(64 * MiB)
    assert len(warnings) == 1 and warnings[0].startswith("linux.resources.memory.kernel:")


@pytest.mark.needs_no_root
def test_create_enables_controllers_top_down_but_never_at_the_root(tmp_path):
    host = FakeV2Host(str(tmp_path))
    with open(os.path.join(host.root, "cgroup.subtree_control"), "w") as file:
        file.write("cpu memory")  # the host's root delegates only these
    host.cgroup().create()
    with open(os.path.join(host.root, "cgroup.subtree_control")) as file:
        assert file.read() == "cpu memory", "nsbox must not change the host's root cgroup"
    with open(os.path.join(host.parent, "cgroup.subtree_control")) as file:
        assert sorted(file.read().split()) == ["+cpu", "+memory"]


@pytest.mark.needs_no_root
def test_missing_delegation_is_explained(tmp_path):
    host = FakeV2Host(str(tmp_path))
    for name, text in (("cgroup.procs", "4242\n"), ("cgroup.subtree_control", "")):
        with open(os.path.join(host.parent, name), "w") as file:
            file.write(text)
    with open(os.path.join(host.leaf, "cgroup.controllers"), "w") as file:
        file.write("cpu")
    cg = host.cgroup()
    with pytest.raises(CgroupError) as raised:
        cg.apply({"memory": {"limit": 64 * MiB}})
    message = str(raised.value)
    assert message.startswith("linux.resources.memory: cannot use the memory controller")
    assert "/nsbox-test" in message and "no-internal-processes" in message


@pytest.mark.needs_no_root
def test_stats_convert_v2_files_to_the_runc_record(tmp_path):
    host = FakeV2Host(str(tmp_path))
    files = {"cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 3\n"
                         "throttled_usec 250\n",
             "memory.current": "4096000", "memory.max": "67108864", "memory.peak": "5000000",
             "memory.stat": "anon 1000\nfile 2000\n", "memory.events": "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
             "io.stat": "7:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n",
             "pids.current": "3", "pids.max": "10"}
    host._fill(host.leaf, files)
    stats = host.cgroup().stats()
    assert stats["cpu"] == {"usage": {"total": 1500000, "user": 1000000, "kernel": 500000, "percpu": []},
                            "throttling": {"periods": 10, "throttled_periods": 3, "throttled_time": 250000}}
    assert stats["memory"]["usage"] == {"usage": 4096000, "limit": 67108864, "max": 5000000, "failcnt": 4}
    assert stats["memory"]["cache"] == 2000 and stats["memory"]["oom_kill"] == 1
    assert stats["pids"] == {"current": 3, "limit": 10}
    assert {"major": 7, "minor": 0, "op": "Write", "value": 8192} in stats["blkio"]["ioServiceBytesRecursive"]
    assert {"major": 7, "minor": 0, "op": "Read", "value": 1} in stats["blkio"]["ioServicedRecursive"]
    assert host.cgroup().oom_kills() == 1


@pytest.mark.needs_no_root
def test_sigkill_uses_cgroup_kill(tmp_path):
    host = FakeV2Host(str(tmp_path))
    host.cgroup().kill(9)
    with open(os.path.join(host.leaf, "cgroup.kill")) as file:
        assert file.read() == "1"
