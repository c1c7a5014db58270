"""Limits this v1/hybrid host cannot apply: a clear error that names the option, and nothing
half-applied. (The v2 equivalents are in test_v2.py.)"""
from __future__ import annotations

import os

import pytest

from nsbox.errors import CgroupError, ConfigError

MiB = 1 << 20


@pytest.fixture
def v1_cgroup(make_cgroup):
    cg = make_cgroup()
    if "memory" not in cg.v1:
        pytest.skip("this host has no v1 memory controller")
    return cg


def memory_limit(cg) -> int:
    with open(os.path.join(cg.v1["memory"], "memory.limit_in_bytes")) as file:
        return int(file.read())


@pytest.mark.parametrize("resources, start", [
    ({"blockIO": {"leafWeight": 100}},
     "linux.resources.blockIO.leafWeight: this host has no blkio.leaf_weight (the CFQ I/O scheduler"),
    ({"network": {"classID": 0x100001}}, "linux.resources.network.classID: "),
    ({"hugepageLimits": [{"pageSize": "2MB", "limit": 4 * MiB}]}, "linux.resources.hugepageLimits[0]: "),
    ({"memory": {"swappiness": 101}}, "linux.resources.memory.swappiness: must be between 0 and 100"),
    ({"pids": {}}, "linux.resources.pids.limit: is required"),
    ({"unified": {"../escape": "1"}}, "linux.resources.unified.../escape: must name a cgroup v2 interface file"),
])
@pytest.mark.parametrize("verb", ["apply", "update"])
def test_a_limit_the_host_cannot_apply_names_the_option_and_changes_nothing(v1_cgroup, resources, start, verb):
    before = memory_limit(v1_cgroup)
    with pytest.raises((CgroupError, ConfigError)) as raised:
        getattr(v1_cgroup, verb)({"memory": {"limit": 64 * MiB}, **resources})
    assert str(raised.value).startswith(start), str(raised.value)
    assert memory_limit(v1_cgroup) == before, "the memory limit must not be applied when another one fails"


def test_update_is_all_or_nothing_when_the_kernel_refuses_a_value(v1_cgroup):
    v1_cgroup.apply({"memory": {"limit": 64 * MiB}})
    # The file exists, but a real-time budget needs one in every ancestor: the kernel says no.
    with pytest.raises(CgroupError, match=r"^linux.resources.cpu.realtimeRuntime: cannot write '950000'"):
        v1_cgroup.update({"memory": {"limit": 128 * MiB}, "cpu": {"realtimeRuntime": 950000}})
    assert memory_limit(v1_cgroup) == 64 * MiB, "the new memory limit must be rolled back"


def test_missing_controller_error_says_why_and_what_to_do(v1_cgroup):
    with pytest.raises(CgroupError) as raised:
        v1_cgroup.apply({"network": {"classID": 1}})
    message = str(raised.value)
    assert "net_cls" in message and "remove the option" in message


def test_hugetlb_on_the_cgroup2_mount_is_never_enabled_at_the_host_root(v1_cgroup):
    if v1_cgroup.mode != "hybrid" or "hugetlb" in v1_cgroup.v1:
        pytest.skip("needs a hybrid host whose hugetlb controller is on the cgroup2 mount")
    control = os.path.join(v1_cgroup.unified_mount, "cgroup.subtree_control")
    with open(control) as file:
        before = file.read()
    with pytest.raises(CgroupError, match="root cgroup does not enable hugetlb"):
        v1_cgroup.apply({"hugepageLimits": [{"pageSize": "2MB", "limit": 4 * MiB}]})
    with open(control) as file:
        assert file.read() == before


def test_kernel_memory_is_accepted_with_a_warning_where_the_kernel_dropped_it(v1_cgroup):
    major, minor = (int(part.split("-")[0]) for part in os.uname().release.split(".")[:2])
    if (major, minor) < (5, 16):
        pytest.skip("this kernel still limits kernel memory")
    warnings = []
    v1_cgroup.warn = warnings.append
    v1_cgroup.apply({"memory": {"limit": 64 * MiB, "kernel": 32 * MiB}})
    assert memory_limit(v1_cgroup) == 64 * MiB
    assert warnings == ["linux.resources.memory.kernel: Linux 5.16 and later do not limit kernel memory; "
                        "the option is ignored"]


def test_memory_swap_below_limit_is_refused_by_the_kernel_with_the_field_named(v1_cgroup):
    if not os.path.exists(os.path.join(v1_cgroup.v1["memory"], "memory.memsw.limit_in_bytes")):
        pytest.skip("no swap accounting")
    with pytest.raises(CgroupError, match=r"^linux.resources.memory.swap: cannot write"):
        v1_cgroup.apply({"memory": {"limit": 64 * MiB, "swap": 32 * MiB}})


def test_raising_the_memory_limit_above_an_earlier_swap_limit_asks_for_swap(v1_cgroup):
    if not os.path.exists(os.path.join(v1_cgroup.v1["memory"], "memory.memsw.limit_in_bytes")):
        pytest.skip("no swap accounting")
    v1_cgroup.apply({"memory": {"limit": 64 * MiB, "swap": 64 * MiB}})
    with pytest.raises(CgroupError, match=r"^linux.resources.memory.limit: .* give linux.resources.memory.swap too"):
        v1_cgroup.update({"memory": {"limit": 128 * MiB}})
    v1_cgroup.update({"memory": {"limit": 128 * MiB, "swap": 256 * MiB}})
    assert memory_limit(v1_cgroup) == 128 * MiB


def test_relative_paths_stay_below_the_callers_own_cgroups(make_cgroup):
    from tests import leaks
    from tests.conftest import CGROUP_PARENT
    cg = make_cgroup()
    bases = leaks.own_cgroup_bases()
    for controller, directory in cg.v1.items():
        hierarchy = controller.removeprefix("name=")
        if hierarchy in bases:
            own = os.path.join(leaks.CGROUP_ROOT, hierarchy, bases[hierarchy].lstrip("/"))
            assert directory.startswith(os.path.join(own, CGROUP_PARENT) + "/"), directory


@pytest.mark.parametrize("path, message", [
    ("system.slice:nsbox:abc", "systemd form"),
    ("a/../../escape", "must not contain '..'"),
])
def test_bad_cgroups_paths(path, message):
    from nsbox.cgroups import open_cgroup
    with pytest.raises(CgroupError, match=message):
        open_cgroup(path, "abc")


@pytest.mark.needs_no_root
def test_default_path_is_nsbox_slash_id():
    from nsbox.cgroups import open_cgroup
    cg = open_cgroup("", "abc")
    assert cg.path == "/nsbox/abc"
    assert all(directory.endswith("/nsbox/abc") for directory in cg.directories())
