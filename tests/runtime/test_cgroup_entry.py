"""The container's init enters its cgroup without the runtime writing its PID (runtime.cgroup_entry).

A PID written to cgroup.procs waits for an RCU grace period (~15 ms here); so the
intermediate moves itself into every v1 hierarchy (0 into `tasks`) and forks the init into
the cgroup2 directory with clone3(CLONE_INTO_CGROUP). Only for a user namespace does the
runtime write a PID, and only into the cgroup2 directory.
"""
from __future__ import annotations

import os
import struct
import subprocess

import pytest

from tests.conftest import VENV_BIN

MAPPING = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def in_user_namespace(spec):
    spec["linux"]["namespaces"].append({"type": "user"})
    spec["linux"]["uidMappings"] = spec["linux"]["gidMappings"] = MAPPING


def hierarchies_outside(pid: int, cgroups_path: str) -> list[str]:
    """The lines of /proc/PID/cgroup whose cgroup is not `cgroups_path` (relative to ours)."""
    own = {line.split(":", 2)[1]: line.rstrip("\n").split(":", 2)[2] for line in open("/proc/self/cgroup")}
    outside = []
    for line in open(f"/proc/{pid}/cgroup"):
        _, controllers, path = line.rstrip("\n").split(":", 2)
        if path != os.path.join(own[controllers], cgroups_path):
            outside.append(line.strip())
    return outside


@pytest.mark.v2_lane  # touches cgroups: run again on real cgroup v2
@pytest.mark.parametrize("edit", [None, in_user_namespace], ids=["plain", "user-namespace"])
def test_init_is_in_its_cgroup_before_start_without_the_runtime_moving_it(make_bundle, runtime_root, monkeypatch, edit):
    from nsbox.cgroups.cgroup import Cgroup
    from nsbox.runtime.create import create
    from nsbox.runtime.delete import delete
    moves: list[bool] = []
    real_add_process = Cgroup.add_process

    def watched_add_process(self, pid: int, only_unified: bool = False) -> None:
        moves.append(only_unified)
        real_add_process(self, pid, only_unified)

    monkeypatch.setattr(Cgroup, "add_process", watched_add_process)
    bundle = make_bundle(["true"], edit)
    container_id = f"entry-{os.getpid()}"
    cgroups_path = __import__("json").load(open(os.path.join(bundle, "config.json")))["linux"]["cgroupsPath"]
    pid = create(runtime_root, container_id, bundle, stdio=(0, 1, 2))
    try:
        assert hierarchies_outside(pid, cgroups_path) == []  # created: the init waits for start, before exec
        unified = any(line.startswith("0::") for line in open(f"/proc/{pid}/cgroup"))
        assert moves == ([True] if edit is in_user_namespace and unified else [])
    finally:
        delete(runtime_root, container_id, force=True)


def refuse_clone3() -> None:
    """A seccomp filter that makes clone3 fail with ENOSYS, as Docker's default profile does."""
    from nsbox.linux.capabilities import no_new_privileges
    from nsbox.linux.seccomp import load
    nr_offset, sys_clone3, enosys = 0, 435, 38
    program = b"".join(struct.pack("HBBI", *instruction) for instruction in (
        (0x20, 0, 0, nr_offset),  # ld [nr]
        (0x15, 0, 1, sys_clone3),  # jeq #clone3
        (0x06, 0, 0, 0x00050000 | enosys),  # ret ERRNO(ENOSYS)
        (0x06, 0, 0, 0x7FFF0000)))  # ret ALLOW
    no_new_privileges()
    load(program)


@pytest.mark.v2_lane  # touches cgroups: run again on real cgroup v2
def test_a_runtime_refused_clone3_still_puts_the_container_in_every_hierarchy(make_bundle, runtime_root):
    def edit(spec):  # the host's view of the cgroups, from inside
        spec["linux"]["namespaces"] = [ns for ns in spec["linux"]["namespaces"] if ns["type"] != "cgroup"]
    bundle = make_bundle(["cat", "/proc/self/cgroup"], edit)
    cgroups_path = __import__("json").load(open(os.path.join(bundle, "config.json")))["linux"]["cgroupsPath"]
    result = subprocess.run([os.path.join(VENV_BIN, "nsbox-runtime"), "--root", runtime_root, "run", "--bundle", bundle,
                             f"noclone3-{os.getpid()}"], capture_output=True, text=True, timeout=60,
                            preexec_fn=refuse_clone3)
    assert result.returncode == 0, result.stderr
    own = {line.split(":", 2)[1]: line.rstrip("\n").split(":", 2)[2] for line in open("/proc/self/cgroup")}
    lines = [line.split(":", 2) for line in result.stdout.splitlines()]
    assert lines and all(path == os.path.join(own[controllers], cgroups_path) for _, controllers, path in lines), \
        result.stdout
