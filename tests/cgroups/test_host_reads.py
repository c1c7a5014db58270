"""cgroups.host reads /proc/self/mountinfo and /proc/self/cgroup on every call and parses
them again only when the bytes changed (nsbox stats of 20 containers asked 20 times)."""
from __future__ import annotations

import pytest

from nsbox.cgroups import host

MOUNTINFO = ("30 1 0:26 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n"
             "31 1 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n")


@pytest.mark.needs_no_root
def test_a_file_is_parsed_again_only_when_it_changed(tmp_path):
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(MOUNTINFO)
    first = host.mounts(str(mountinfo))
    assert first == ({"memory": ("/sys/fs/cgroup/memory", "/")}, ("/sys/fs/cgroup/unified", "/"))
    assert host.mounts(str(mountinfo)) is first  # the same bytes: not parsed again
    mountinfo.write_text(MOUNTINFO.replace("rw,memory", "rw,pids"))  # a remount
    assert host.mounts(str(mountinfo))[0] == {"pids": ("/sys/fs/cgroup/memory", "/")}


@pytest.mark.needs_no_root
def test_own_cgroups_follow_a_move(tmp_path):
    proc_cgroup = tmp_path / "cgroup"
    proc_cgroup.write_text("4:memory:/a\n0::/a\n")
    assert host.own_cgroups(str(proc_cgroup)) == ({"memory": "/a"}, "/a")
    proc_cgroup.write_text("4:memory:/b\n0::/b\n")
    assert host.own_cgroups(str(proc_cgroup)) == ({"memory": "/b"}, "/b")
