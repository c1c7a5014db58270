"""create's direct path: the runtime clones the container's init itself, in its new
namespaces, with no intermediate process (runtime.create._clones_directly); and the
intermediate where the direct path cannot go (a user namespace, a caller with threads).

Which path ran is read from strace: the system calls that make processes and namespaces.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

NEW_NAMESPACES = ("CLONE_NEWNS", "CLONE_NEWUTS", "CLONE_NEWIPC", "CLONE_NEWPID", "CLONE_NEWNET")
MAKES_PROCESS = re.compile(r"^(\d+) +(clone3?|fork|vfork)\((.*)\) += (\d+)$")

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")


def traced(argv: list[str], log) -> tuple[int, str, list[str]]:
    """Run `argv` under strace until each process execs: (its PID, its stdout, the trace lines
    of calls that make processes or namespaces)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as errors:  # a detached container keeps them
        process = subprocess.Popen(["strace", "-f", "-qq", "-e", "signal=none", "--detach-on=execve", "-e",
                                    "trace=clone,clone3,fork,vfork,unshare,setns", "-o", str(log), *argv],
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=errors)
        assert process.wait(timeout=60) == 0, (errors.seek(0), errors.read().decode())[1]
        out.seek(0)
        lines = log.read_text().splitlines()
        return int(lines[0].split()[0]), out.read().decode(), lines  # the first line is the traced program's


def made_processes(lines: list[str], by: int) -> list[tuple[str, str, int]]:
    """(call, arguments, new PID) of every process `by` made."""
    found = []
    for line in lines:
        match = MAKES_PROCESS.match(line)
        if match and int(match[1]) == by:
            found.append((match[2], match[3], int(match[4])))
    return found


def state_pid(runtime, container_id: str) -> int:
    return json.loads(runtime("state", container_id, check=True).stdout)["pid"]


def test_the_runtime_clones_the_init_itself_into_its_new_namespaces(make_bundle, runtime, tmp_path):
    container_id = f"direct-{os.getpid()}"
    runtime_pid, _, lines = traced([runtime.binary, "--root", runtime.root, "run", "--detach", "--bundle",
                                    make_bundle(["sleep", "100"]), container_id], tmp_path / "trace")
    try:
        made = made_processes(lines, runtime_pid)
        assert len(made) == 1, made  # no intermediate process
        call, arguments, pid = made[0]
        assert call == "clone3" and all(flag in arguments for flag in NEW_NAMESPACES), made
        assert pid == state_pid(runtime, container_id)
        assert made_processes(lines, pid) == []
        # only the cgroup namespace is made by unshare, by the init, once in its cgroups
        assert [line.split()[0] for line in lines if " unshare(" in line] == [str(pid)]
        assert os.readlink(f"/proc/{pid}/ns/pid") != os.readlink("/proc/self/ns/pid")
    finally:
        runtime("delete", "--force", container_id)


def test_a_joined_network_namespace_is_joined_by_the_cloned_init(make_bundle, runtime, tmp_path):
    netns = tmp_path / "netns"
    netns.touch()
    subprocess.run(["unshare", f"--net={netns}", "true"], check=True)
    try:
        def edit(spec):
            for namespace in spec["linux"]["namespaces"]:
                if namespace["type"] == "network":
                    namespace["path"] = str(netns)
        runtime_pid, out, lines = traced([runtime.binary, "--root", runtime.root, "run", "--bundle",
                                          make_bundle(["stat", "-L", "-c", "%i", "/proc/self/ns/net"], edit),
                                          f"joined-{os.getpid()}"], tmp_path / "trace")
        assert int(out) == os.stat(netns).st_ino
        (call, arguments, pid), = made_processes(lines, runtime_pid)
        assert call == "clone3" and "CLONE_NEWPID" in arguments and "CLONE_NEWNET" not in arguments
        assert any(line.startswith(f"{pid} ") and "setns(" in line and "CLONE_NEWNET" in line for line in lines)
    finally:
        subprocess.run(["umount", str(netns)], check=True)


def in_user_namespace(spec):
    spec["linux"]["namespaces"].append({"type": "user"})
    spec["linux"]["uidMappings"] = spec["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def test_a_user_namespace_goes_through_the_intermediate(make_bundle, runtime, tmp_path):
    container_id = f"userns-{os.getpid()}"
    runtime_pid, _, lines = traced([runtime.binary, "--root", runtime.root, "run", "--detach", "--bundle",
                                    make_bundle(["sleep", "100"], in_user_namespace), container_id], tmp_path / "trace")
    try:
        (_, arguments, intermediate), = made_processes(lines, runtime_pid)
        assert "CLONE_NEW" not in arguments
        assert any(line.startswith(f"{intermediate} ") and "unshare(CLONE_NEWUSER)" in line for line in lines)
        (_, _, pid), = made_processes(lines, intermediate)
        assert pid == state_pid(runtime, container_id)
    finally:
        runtime("delete", "--force", container_id)


CREATE_WITH_A_THREAD = """
import sys, threading
from nsbox.runtime.create import create
from nsbox.runtime.delete import delete
idle = threading.Event()
threading.Thread(target=idle.wait).start()
try:
    print(create(sys.argv[1], "threaded", sys.argv[2], stdio=(0, 1, 2)))
finally:
    idle.set()
delete(sys.argv[1], "threaded", force=True)
"""


def test_a_caller_with_threads_goes_through_the_intermediate(make_bundle, runtime_root, tmp_path):
    """A raw clone3 runs none of glibc's fork handlers: with another thread alive (the
    Python API's), create forks (os.fork) an intermediate, which then makes the init."""
    runtime_pid, out, lines = traced([sys.executable, "-c", CREATE_WITH_A_THREAD, runtime_root,
                                      make_bundle(["true"])], tmp_path / "trace")
    made = made_processes(lines, runtime_pid)
    intermediates = [pid for call, arguments, pid in made if "CLONE_NEW" not in arguments and "CLONE_VM" not in arguments]
    assert all("CLONE_NEWPID" not in arguments for _, arguments, _ in made), made
    assert len(intermediates) == 1, made
    assert [pid for _, _, pid in made_processes(lines, intermediates[0])] == [int(out)]


def test_while_waiting_runs_once_while_the_container_is_being_created(make_bundle, runtime_root):
    """create(while_waiting=...) lets a caller (the engine) do its own work while the init mounts."""
    from nsbox.linux.libc import PR_SET_CHILD_SUBREAPER, prctl
    from nsbox.runtime.create import create
    from nsbox.runtime.delete import delete
    from nsbox.runtime.state import state
    seen = []
    container_id = f"waiting-{os.getpid()}"
    try:
        pid = create(runtime_root, container_id, make_bundle(["true"]), stdio=(0, 1, 2),
                     while_waiting=lambda: seen.append(state(runtime_root, container_id)))
        assert [(found["status"], found["pid"]) for found in seen] == [("creating", pid)]
    finally:
        delete(runtime_root, container_id, force=True)
        prctl(PR_SET_CHILD_SUBREAPER, 0)  # create made this process a subreaper


@pytest.mark.parametrize("edit", [None, in_user_namespace], ids=["cloned-init", "intermediate"])
def test_create_children_never_collect_garbage(make_bundle, runtime_root, tmp_path, edit):
    """A collection in a forked child writes to the runtime's objects, and so copies their
    pages: the children turn the collector off first thing (create._stop_collecting). Here
    every allocation would start a collection (threshold 1), noted by a callback the
    children inherit, while they can still reach this test's directory."""
    from nsbox.linux.libc import PR_SET_CHILD_SUBREAPER, prctl
    from nsbox.runtime.create import create
    from nsbox.runtime.delete import delete
    from tests.collections_probe import collections_in_children
    noted, container_id = tmp_path / "collections", f"nogc-{os.getpid()}"
    try:
        with collections_in_children(noted):
            create(runtime_root, container_id, make_bundle(["true"], edit), stdio=(0, 1, 2))
    finally:
        delete(runtime_root, container_id, force=True)
        prctl(PR_SET_CHILD_SUBREAPER, 0)
    assert not noted.exists(), noted.read_text()
