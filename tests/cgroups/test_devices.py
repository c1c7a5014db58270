"""The device allow/deny list, for real: v1's devices controller, and the eBPF program that
stands for it on cgroup v2 (attached to the cgroup2 directory, which a hybrid host like this
one has too, so the program is exercised here as well as in the v2 lane)."""
from __future__ import annotations

import os
import subprocess

import pytest

from tests.cgroups.conftest import BUSYBOX, Member


def opens(cg, *paths: str) -> dict[str, str]:
    """path -> "ok" or the error text, for an open(O_RDONLY) of each path by a process in `cg`."""
    script = "; ".join(f'if head -c0 {path}; then echo "{path} ok"; fi' for path in paths)
    member = Member(cg, [BUSYBOX, "sh", "-c", f"{script} 2>&1"], stdout=subprocess.PIPE)
    output = member.process.stdout.read().decode()
    member.wait()
    results = {}
    for path in paths:
        line = [entry for entry in output.splitlines() if path in entry]
        results[path] = "ok" if line and line[0].endswith(" ok") else (line[0] if line else "?")
    return results


def allow(device: str) -> dict:
    number = os.stat(device).st_rdev
    return {"allow": True, "type": "b", "major": os.major(number), "minor": os.minor(number), "access": "rw"}


def test_v1_default_list_denies_other_devices_and_a_rule_allows_one(make_cgroup, loop_device):
    cg = make_cgroup()
    if "devices" not in cg.v1:
        pytest.skip("no v1 devices controller on this host")
    cg.apply(None)
    with open(os.path.join(cg.v1["devices"], "devices.list")) as listing:
        allowed = listing.read().split("\n")
    assert "c 1:3 rwm" in allowed and "a *:* rwm" not in allowed
    result = opens(cg, "/dev/null", loop_device)
    assert result["/dev/null"] == "ok"
    assert "Operation not permitted" in result[loop_device]
    cg.update({"devices": [allow(loop_device)]})
    assert opens(cg, loop_device)[loop_device] == "ok"


@pytest.mark.v2_lane
def test_ebpf_device_program_denies_and_allows_on_the_cgroup2_directory(make_cgroup, loop_device):
    from nsbox.cgroups import devices, ebpf
    cg = make_cgroup()
    if cg.unified is None:
        pytest.skip("no cgroup2 mount on this host")
    if cg.mode != "v2":
        # Hybrid: the v1 devices controller would decide too; leave it open so only the program decides.
        ebpf.install(cg.unified, devices.rules(None))
    else:
        cg.apply(None)
    result = opens(cg, "/dev/null", "/dev/zero", loop_device)
    assert result["/dev/null"] == "ok" and result["/dev/zero"] == "ok"
    assert "Operation not permitted" in result[loop_device]
    ebpf.install(cg.unified, devices.rules([_fields(allow(loop_device))]))
    assert opens(cg, loop_device)[loop_device] == "ok"
    fd = os.open(cg.unified, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert len(ebpf.attached(fd)) == 1, "an update replaces the program instead of stacking another"
    finally:
        os.close(fd)


@pytest.mark.cgroup_v2
def test_v2_mknod_then_open_of_a_denied_block_device_fails(make_cgroup, loop_device, tmp_path):
    from tests.cgroups.conftest import v2_unusable_reason
    reason = v2_unusable_reason()
    if reason:
        pytest.skip(reason)
    cg = make_cgroup()
    cg.apply(None)  # the default list: creating nodes is allowed, opening block devices is not
    number = os.stat(loop_device).st_rdev
    node = tmp_path / "disk"
    member = Member(cg, [BUSYBOX, "sh", "-c", f"mknod {node} b {os.major(number)} {os.minor(number)} && head -c0 {node}"],
                    stderr=subprocess.PIPE)
    assert member.wait() != 0
    assert b"Operation not permitted" in member.process.stderr.read()


@pytest.mark.needs_no_root
def test_rules_reject_bad_values():
    from nsbox.errors import ConfigError
    with pytest.raises(ConfigError, match=r"linux.resources.devices\[0\].access"):
        from nsbox.cgroups import devices
        devices.rules([_fields({"allow": True, "type": "c", "access": "rwx"})])


def _fields(rule: dict):
    from nsbox.oci.fields import Fields
    return Fields(rule, "linux.resources.devices[0]")
