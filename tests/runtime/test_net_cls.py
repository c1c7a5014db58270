"""linux.resources.network (v1 net_cls and net_prio) where those hierarchies are mounted.

This machine mounts neither; the test mounts one hierarchy holding both in a private mount
namespace of its own (so the host's mount table never shows it), runs the container from
there, reads the files, and removes its cgroups and the mount; the kernel drops the
hierarchy once nothing uses it.
"""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

SCRIPT = r"""
set -e
mkdir -p "$HIERARCHY"
mount -t cgroup -o net_cls,net_prio nsbox-test-net "$HIERARCHY"
clean() {
    nsbox_runtime delete --force netcls >/dev/null 2>&1 || true
    # the hierarchy outlives its mount while a cgroup is left in it: remove them all first
    for try in 1 2 3 4 5 6 7 8 9 10; do
        find "$HIERARCHY" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
        [ -z "$(find "$HIERARCHY" -mindepth 1 -type d)" ] && break
        sleep 0.2
    done
    umount "$HIERARCHY"
}
trap clean EXIT
nsbox_runtime() { "$RUNTIME" --root "$STATE" "$@"; }
nsbox_runtime run --detach --bundle "$BUNDLE" netcls </dev/null >/dev/null
pid=$(nsbox_runtime state netcls | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
path=$(awk -F: '$2 == "net_cls,net_prio" {print $3}' /proc/$pid/cgroup)
echo "cgroup $path"
echo "classid $(cat "$HIERARCHY$path/net_cls.classid")"
grep '^lo ' "$HIERARCHY$path/net_prio.ifpriomap"
"""


def net_cls_hierarchy() -> str:
    with open("/proc/cgroups") as table:
        return [line.split()[1] for line in table if line.startswith("net_cls\t")][0]


def release_hierarchy(env: dict) -> None:
    """A v1 hierarchy outlives its umount while a removed cgroup of it is still dying (a
    socket made in it pins it for a while); mounted again and unmounted once nothing is
    left, it goes. Tries for a few seconds."""
    deadline = time.monotonic() + 10
    while net_cls_hierarchy() != "0" and time.monotonic() < deadline:
        subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                        'mount -t cgroup -o net_cls,net_prio nsbox-test-net "$HIERARCHY" && umount "$HIERARCHY"'],
                       env=env, timeout=30)
        time.sleep(0.2)


def test_net_cls_and_net_prio_in_a_private_hierarchy(make_bundle, runtime, tmp_path):
    with open("/proc/cgroups") as table:
        enabled = {line.split()[0]: line.split()[3] for line in table if not line.startswith("#")}
    if enabled.get("net_cls") != "1" or enabled.get("net_prio") != "1":
        pytest.skip("the kernel has no net_cls/net_prio controllers")
    if any(" - cgroup " in line and "net_cls" in line for line in open("/proc/self/mountinfo")):
        pytest.skip("net_cls is mounted on this host already (tests/cgroups covers it there)")

    def edit(spec):
        spec["linux"]["resources"] = {"network": {"classID": 0x100001, "priorities": [{"name": "lo", "priority": 7}]}}
    bundle = make_bundle(["sleep", "100"], edit)
    env = dict(os.environ, HIERARCHY=str(tmp_path / "net_cls,net_prio"), RUNTIME=runtime.binary,
               STATE=str(tmp_path / "netcls-state"), BUNDLE=bundle)
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", SCRIPT], env=env,
                            capture_output=True, text=True, timeout=60)
    release_hierarchy(env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    with open(os.path.join(bundle, "config.json")) as config:
        cgroups_path = json.load(config)["linux"]["cgroupsPath"]
    assert lines[0] == f"cgroup /{cgroups_path}"  # relative to the runtime's own cgroup there: the root
    assert lines[1] == f"classid {0x100001}"
    assert lines[2] == "lo 7"
    assert net_cls_hierarchy() == "0"  # the hierarchy is gone again: net_cls back on the default one
