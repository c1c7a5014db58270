"""The container's init enters its cgroup without the runtime writing its PID (runtime.cgroup_entry).

A PID written to cgroup.procs waits for an RCU grace period (~15 ms here); so the
intermediate moves itself into every v1 hierarchy (0 into `tasks`) and forks the init into
the cgroup2 directory with clone3(CLONE_INTO_CGROUP) (or, on create's direct path, the
runtime clones the init into the cgroup2 directory and the init moves itself in v1). Only for a user namespace does the
runtime write a PID, and only into the cgroup2 directory.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import tempfile

import pytest


MAPPING = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def in_user_namespace(spec):
    spec["linux"]["namespaces"].append({"type": "user"})
    spec["linux"]["uidMappings"] = spec["linux"]["gidMappings"] = MAPPING


def directories_missing(runtime_root: str, container_id: str, pid: int) -> list[str]:
    """The container's cgroup directories (one per hierarchy) whose cgroup.procs lacks `pid`."""
    from nsbox.runtime.state import load
    cgroup = load(runtime_root, container_id).cgroup
    assert cgroup is not None and cgroup.directories()
    return [directory for directory in cgroup.directories()
            if str(pid) not in open(os.path.join(directory, "cgroup.procs")).read().split()]


@pytest.fixture
def caller_reaps():
    """create() in this process makes it a child subreaper: reset afterwards, or the orphans
    of later tests' containers would stay zombies here (and pin their cgroups)."""
    yield
    from nsbox.linux.libc import PR_SET_CHILD_SUBREAPER, prctl
    prctl(PR_SET_CHILD_SUBREAPER, 0)


@pytest.mark.v2_lane  # touches cgroups: run again on real cgroup v2
@pytest.mark.parametrize("edit", [None, in_user_namespace], ids=["plain", "user-namespace"])
def test_init_is_in_its_cgroup_before_start_without_the_runtime_moving_it(make_bundle, runtime_root, monkeypatch,
                                                                          caller_reaps, edit):
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
    pid = create(runtime_root, container_id, bundle, stdio=(0, 1, 2))
    try:
        assert directories_missing(runtime_root, container_id, pid) == []  # created: before exec
        from nsbox.runtime.state import load
        unified = load(runtime_root, container_id).cgroup.unified is not None  # type: ignore[union-attr]
        assert moves == ([True] if edit is in_user_namespace and unified else [])
    finally:
        delete(runtime_root, container_id, force=True)


def refuse_clone3() -> None:
    """A seccomp filter that makes clone3 fail with ENOSYS, as Docker's default profile does."""
    from nsbox.linux.capabilities import no_new_privileges
    from nsbox.linux.seccomp_call import load
    nr_offset, sys_clone3, enosys = 0, 435, 38
    program = b"".join(struct.pack("HBBI", *instruction) for instruction in (
        (0x20, 0, 0, nr_offset),  # ld [nr]
        (0x15, 0, 1, sys_clone3),  # jeq #clone3
        (0x06, 0, 0, 0x00050000 | enosys),  # ret ERRNO(ENOSYS)
        (0x06, 0, 0, 0x7FFF0000)))  # ret ALLOW
    no_new_privileges()
    load(program)


@pytest.mark.v2_lane  # touches cgroups: run again on real cgroup v2
def test_a_runtime_refused_clone3_still_puts_the_container_in_every_hierarchy(make_bundle, runtime, runtime_root):
    container_id = f"noclone3-{os.getpid()}"
    with tempfile.TemporaryFile() as errors:  # not a pipe: the detached container keeps it open
        result = subprocess.run([runtime.binary, "--root", runtime_root, "run", "--detach", "--bundle",
                                 make_bundle(["sleep", "100"]), container_id], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=errors, timeout=60, preexec_fn=refuse_clone3)
        errors.seek(0)
        assert result.returncode == 0, errors.read().decode()
    try:
        pid = json.loads(runtime("state", container_id, check=True).stdout)["pid"]
        assert directories_missing(runtime_root, container_id, pid) == []
    finally:
        runtime("delete", "--force", container_id)


def born_in_cgroup2(runtime, log, *args: str) -> list[str]:
    """The successful clone3(CLONE_INTO_CGROUP) calls of `nsbox-runtime ARGS` (traced until the
    container's process execs)."""
    with tempfile.TemporaryFile() as errors:  # not a pipe: a detached container keeps it open
        result = subprocess.run(["strace", "-f", "-qq", "-z", "--detach-on=execve", "-e", "trace=clone3", "-o", str(log), runtime.binary,
                                 "--root", runtime.root, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=errors, timeout=60)
        errors.seek(0)
        assert result.returncode == 0, errors.read().decode()
    return [line for line in log.read_text().splitlines() if "CLONE_INTO_CGROUP" in line]  # -z: successful ones


@pytest.mark.v2_lane  # touches cgroups: run again on real cgroup v2
def test_init_and_exec_process_are_born_in_the_cgroup2_directory(make_bundle, runtime, tmp_path):
    """Also with the container's own cgroup namespace (the default), which exec joins: where
    the hierarchy is mounted with nsdelegate (the v2 lane, systemd) a clone3 from inside it
    is refused, so exec's process joins it only once born."""
    if shutil.which("strace") is None:
        pytest.skip("needs strace")
    from nsbox.cgroups import host
    if host.mounts()[1] is None:
        pytest.skip("no cgroup2 mount on this host")
    bundle = make_bundle(["sleep", "100"])
    assert any(ns["type"] == "cgroup" for ns in json.load(open(os.path.join(bundle, "config.json")))["linux"]["namespaces"])
    container_id = f"born-{os.getpid()}"
    try:
        assert born_in_cgroup2(runtime, tmp_path / "run.strace", "run", "--detach", "--bundle", bundle, container_id)
        assert born_in_cgroup2(runtime, tmp_path / "exec.strace", "exec", container_id, "true")
    finally:
        runtime("delete", "--force", container_id)
