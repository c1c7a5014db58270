"""Damaged records, racing removals, interrupted removals (issue 11, cases 1, 5 and 12):
one bad record never breaks commands about other containers, `rm -f` of a damaged
container still removes everything the kernel holds for it, eight concurrent `rm -f` of
one container give exactly one removal and no traceback, and a removal killed mid-way
leaves nothing that a name cannot find (and a container whose removal was interrupted is
not started again before `rm -f` finishes it)."""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess

import pytest

from tests.engine.test_crash import stopped_process, wait_stopped

PYTHON_NAMES = ("Traceback", "JSONDecodeError", "FileNotFoundError", "Errno", "Error:")


def cgroup_dirs_named(name: str) -> list[str]:
    """Every cgroup directory called `name`, in every hierarchy (independent of nsbox's search)."""
    found = []
    for top in os.listdir("/sys/fs/cgroup"):
        for directory, subdirectories, _ in os.walk(os.path.join("/sys/fs/cgroup", top)):
            if name in subdirectories:
                found.append(os.path.join(directory, name))
    return found


def mounts_containing(text: str) -> list[str]:
    with open("/proc/self/mountinfo") as mountinfo:
        return [line.split()[4] for line in mountinfo if text in line]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def running_pair(nsbox) -> tuple[dict, dict]:
    nsbox("run", "-d", "--name", "victim", "busybox", "sleep", "300")
    nsbox("run", "-d", "--name", "bystander", "busybox", "sleep", "300")
    return nsbox.inspect("victim"), nsbox.inspect("bystander")


def truncate(path: str, seed: int) -> int:
    with open(path, "rb") as record:
        size = len(record.read())
    offset = random.Random(seed).randrange(0, size)
    os.truncate(path, offset)
    return offset


def record_files(root: str, container_id: str) -> dict[str, str]:
    return {"container.json": os.path.join(root, "containers", container_id, "container.json"),
            "state.json": os.path.join(root, "run", "containers", container_id, "state.json"),
            "runtime state.json": os.path.join(root, "run", "runtime", container_id, "state.json")}


@pytest.mark.parametrize("which", ["container.json", "state.json", "runtime state.json"])
@pytest.mark.parametrize("seed", [1, 2])
def test_truncated_record_is_shown_damaged_and_rm_f_cleans_the_kernel_side(nsbox, which, seed):
    victim, bystander = running_pair(nsbox)
    victim_id, init, monitor = victim["Id"], victim["State"]["Pid"], victim["State"]["MonitorPid"]
    assert cgroup_dirs_named(victim_id) and mounts_containing(victim_id)
    truncate(record_files(nsbox.root, victim_id)[which], seed)

    for command in (["ps"], ["ps", "-a"], ["ps", "-a", "--format", "json"], ["stats", "--no-stream"]):
        result = nsbox(*command, check=False)
        assert result.returncode == 0 and not any(n in result.stderr for n in PYTHON_NAMES), (command, result.stderr)
        assert "bystander" in result.stdout, (command, result.stdout)
    listing = nsbox.out("ps", "-a", "--no-trunc")
    if which != "runtime state.json":  # (the engine's own record is intact then: it shows as it is)
        line = next(line for line in listing.splitlines() if victim_id in line)
        assert "damaged" in line and record_files(nsbox.root, victim_id)[which] in line, line

    removal = nsbox("rm", "-f", "victim", check=False)
    assert removal.returncode == 0 and not any(n in removal.stderr for n in PYTHON_NAMES), removal.stderr
    assert not alive(init) and not alive(monitor)
    assert cgroup_dirs_named(victim_id) == [] and mounts_containing(victim_id) == []
    assert not os.path.exists(os.path.join(nsbox.root, "run", "runtime", victim_id))
    assert nsbox.out("ps", "-a", "-q", "--no-trunc").split() == [bystander["Id"]]
    assert nsbox.state("bystander")["Status"] == "running"


def test_garbage_and_wrong_shapes_are_damaged_not_fatal(nsbox):
    ids = [nsbox.out("create", "--name", f"c{index}", "busybox", "true").strip() for index in range(3)]
    for container_id, garbage in zip(ids, [b"\xff\xfe\x00", b"[1, 2]", b'{"Id": 3}']):
        with open(record_files(nsbox.root, container_id)["container.json"], "wb") as record:
            record.write(garbage)
    listing = nsbox("ps", "-a", "--format", "json", "--no-trunc", check=False)
    assert listing.returncode == 0, listing.stderr
    entries = [json.loads(line) for line in listing.stdout.splitlines()]
    assert sorted(entry["ID"] for entry in entries) == sorted(ids)
    assert all("damaged" in entry["Status"] for entry in entries)
    assert {entry["Names"] for entry in entries} == {"c0", "c1", "c2"}  # found by their name links
    started = nsbox("start", "c0", check=False)
    assert started.returncode == 125 and "damaged" in started.stderr and "rm -f" in started.stderr
    assert nsbox("rm", "-f", "c0", "c1", ids[2][:12]).returncode == 0


def test_eight_concurrent_rm_f_remove_once(nsbox):
    ids = [nsbox.out("run", "-d", "busybox", "sleep", "300").strip() for _ in range(5)]
    calls = [(container_id, subprocess.Popen(nsbox.command("rm", "-f", container_id), stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, text=True))
             for _ in range(8) for container_id in ids]
    results = [(container_id, process.wait(timeout=120), *process.communicate()) for container_id, process in calls]
    assert all(code == 0 for _, code, _, _ in results), [r for r in results if r[1]][:3]
    for container_id in ids:
        mine = [(out, err) for cid, _, out, err in results if cid == container_id]
        removed = [out for out, _ in mine if out.strip() == container_id]
        assert len(removed) == 1, mine
        others = [err for out, err in mine if not out]
        assert len(others) == 7 and all(err == f"nsbox: No such container: {container_id}\n" for err in others), others
        assert cgroup_dirs_named(container_id) == [] and mounts_containing(container_id) == []
    assert nsbox.out("ps", "-a", "-q") == ""


def test_rm_killed_after_the_record_went_leaves_nothing_nameless(nsbox):
    """A kill -9 between the record's disappearance and the rest of the removal: no Dead
    entry with a blank name; the name is free again; prune sweeps the rest."""
    nsbox("run", "-d", "--name", "doomed", "busybox", "sleep", "300")
    process = stopped_process(nsbox.command("rm", "-f", "doomed"), "record-removed")
    pid = wait_stopped(lambda: [process.pid])
    os.kill(pid, signal.SIGKILL)
    process.wait()
    assert nsbox.out("ps", "-a", "-q") == ""
    again = nsbox("rm", "-f", "doomed", check=False)
    assert again.returncode == 0 and again.stderr == "nsbox: No such container: doomed\n"
    nsbox("create", "--name", "doomed", "busybox", "true")  # the name is free
    nsbox("system", "prune", "-f")
    assert sorted(os.listdir(os.path.join(nsbox.root, "containers"))) == []


@pytest.mark.parametrize("made_by", [["create"], ["run", "-d"]])
def test_start_after_an_interrupted_rm_is_refused_until_rm_f_finishes(nsbox, made_by):
    """A kill -9 of `rm` once it has marked the record "removing" (a created container, or a
    running one, still running then): the container is shown as Removal In Progress, `start`
    refuses it (Docker's "marked for removal") before making anything and says how to
    finish, and `rm -f` does."""
    from tests.engine.test_failed_start import held_by
    container_id = nsbox.out(*made_by, "--name", "doomed", "--dns", "127.0.0.1", "busybox", "sleep", "300").strip()
    running = made_by[0] == "run"
    process = stopped_process(nsbox.command("rm", "-f", "doomed"), "removal-marked")
    pid = wait_stopped(lambda: [process.pid])
    os.kill(pid, signal.SIGKILL)
    process.wait()
    assert "Removal In Progress" in nsbox.out("ps", "-a")
    for start in (["start"], ["start", "-a"]):
        refused = nsbox(*start, "doomed", check=False)
        assert refused.returncode == 125, refused.stderr
        assert refused.stderr == ("nsbox: container doomed is marked for removal and cannot be started: "
                                  "finish its removal with `nsbox rm -f doomed`\n"), refused.stderr
        if not running:
            assert held_by(nsbox, container_id) == []
    nsbox("rm", "-f", "doomed")
    assert nsbox.out("ps", "-a", "-q") == ""


@pytest.mark.parametrize("step", ["processes", "monitor", "runtime state", "cgroups", "network", "root filesystem",
                                  "anonymous volumes"])
def test_rm_killed_after_each_removal_step_then_rm_f_leaves_nothing(nsbox, step):
    """A running container with an address, a published port and an anonymous volume; `rm -f`
    killed right after one of its steps: the container is still listed (its record goes
    last), start refuses it, and `rm -f` again removes the rest (the autouse check: mounts,
    cgroups, processes, veth, leases, namespace files; here: the store and the volume)."""
    from tests.network.test_bridge import free_port
    container_id = nsbox.out("run", "-d", "--name", "doomed", "--dns", "127.0.0.1", "-p", f"127.0.0.1:{free_port()}:80",
                             "-v", "/data", "busybox", "sleep", "300").strip()
    monitor = nsbox.state("doomed")["MonitorPid"]
    process = stopped_process(nsbox.command("rm", "-f", "-v", "doomed"), f"after {step}")
    pid = wait_stopped(lambda: [process.pid])
    os.kill(pid, signal.SIGKILL)
    process.wait()
    assert "Removal In Progress" in nsbox.out("ps", "-a", "--filter", "name=doomed")
    assert nsbox("start", "doomed", check=False).returncode == 125
    # its process was killed, and the monitor recorded that, leaving the mark: a known exit
    nsbox.wait_for(lambda: not alive(monitor), what="the monitor's end")
    state = nsbox.state("doomed")
    assert (state["Status"], state["Running"], state["ExitCode"], state["Error"]) == ("removing", False, 137, ""), state
    assert "Removal In Progress" in nsbox.out("ps", "-a", "--filter", "name=doomed")
    nsbox("rm", "-f", "-v", "doomed")
    assert nsbox.out("ps", "-a", "-q") == ""
    assert os.listdir(os.path.join(nsbox.root, "volumes")) == []
    assert cgroup_dirs_named(container_id) == [] and mounts_containing(container_id) == []


def test_rm_killed_after_it_killed_a_container_with_no_monitor_shows_it_still_removing(nsbox):
    """The monitor was gone already (kill -9), so nobody records the exit that `rm` caused:
    the container is still shown as Removal In Progress (not as exited), and rm -f finishes."""
    nsbox("run", "-d", "--name", "doomed", "--network", "none", "busybox", "sleep", "300")
    os.kill(nsbox.state("doomed")["MonitorPid"], signal.SIGKILL)
    process = stopped_process(nsbox.command("rm", "-f", "doomed"), "after processes")
    os.kill(wait_stopped(lambda: [process.pid]), signal.SIGKILL)
    process.wait()
    state = nsbox.state("doomed")
    assert (state["Status"], state["Running"], state["Pid"]) == ("removing", False, 0), state
    assert "Removal In Progress" in nsbox.out("ps", "-a")
    nsbox("rm", "-f", "doomed")
    assert nsbox.out("ps", "-a", "-q") == ""


@pytest.mark.parametrize("cleaner", [["rm", "-f"], ["system", "prune", "-f"]])
def test_orphaned_root_filesystem_is_found_by_rm_f_and_prune(nsbox, cleaner):
    """A mounted root filesystem (an in-use record of the image store) whose container record
    is gone, as a crash between the steps of `run` left it: rm -f ID and system prune find it."""
    container_id = nsbox.out("create", "--name", "orphan", "busybox", "true").strip()
    shutil.rmtree(os.path.join(nsbox.root, "containers", container_id))
    os.unlink(os.path.join(nsbox.root, "names", "orphan"))
    assert nsbox.out("ps", "-a", "-q") == "" and mounts_containing(container_id)
    refused = nsbox("rmi", "busybox", check=False)
    assert refused.returncode != 0  # the image is still in use by the orphan
    result = nsbox(*cleaner, *([container_id] if cleaner[0] == "rm" else []), check=False)
    assert result.returncode == 0, result.stderr
    assert mounts_containing(container_id) == []
    assert not os.path.exists(os.path.join(nsbox.root, "image", "rootfs", container_id))
    nsbox("rmi", "busybox")
