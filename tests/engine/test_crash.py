"""kill -9 of nsbox at each step of `run` (and of a monitor): `ps` stays truthful and
`rm -f` cleans up everything (the autouse leak check sees mounts, cgroups, processes).

tests/faults/sitecustomize.py (on PYTHONPATH only here) makes nsbox stop itself (SIGSTOP)
right after a named step, so the kill lands exactly there; test_kill_9_at_random_moments
kills at moments chosen by chance instead.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

STEPS = ("named", "created", "started")


def stopped_process(command: list[str], step: str) -> subprocess.Popen:
    faults = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "faults")
    environment = dict(os.environ, NSBOX_TEST_STOP_AT=step, PYTHONPATH=faults)
    # the launcher through the interpreter with site: its own `python -S` loads no sitecustomize
    process = subprocess.Popen([sys.executable, *command], env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    return process


def wait_stopped(pids) -> int:
    """The first of `pids()` in state T (stopped)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for pid in pids():
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    if stat.read().rsplit(")", 1)[1].split()[0] == "T":
                        return pid
            except OSError:
                continue
        time.sleep(0.02)
    raise AssertionError("nsbox never reached the step")


def working_in(directory: str) -> list[int]:
    """Processes whose working directory is below `directory` (a monitor works in its container's)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/cwd").startswith(directory):
                    found.append(int(entry))
            except OSError:
                continue
    return found


def only_container(nsbox) -> dict:
    listed = [json.loads(line) for line in nsbox.out("ps", "-a", "--format", "json").splitlines()]
    assert len(listed) == 1, listed
    return listed[0]


@pytest.mark.parametrize("step", STEPS)
def test_kill_9_of_foreground_run(nsbox, step):
    process = stopped_process(nsbox.command("run", "--name", "victim", "busybox", "sleep", "100"), step)
    wait_stopped(lambda: [process.pid])
    process.kill()
    process.wait()
    shown = only_container(nsbox)
    expected = {"named": "dead", "created": "created", "started": "running"}[step]
    assert shown["State"] == expected, shown
    if step == "named":  # the ID and name are taken, the record not yet written
        assert shown["Names"] == "victim" and shown["Status"] == "Dead"
    if step == "created":  # its init waits on exec.fifo for a start that will not come: ps says so
        state = nsbox.state("victim")
        assert shown["Status"] == f"Created (init {state['Pid']} waiting, its nsbox gone)", shown
        assert os.path.exists(f"/proc/{state['Pid']}") and "waits for a start" in state["Error"]
    if step == "started":
        assert "(no monitor)" in shown["Status"]
        assert os.path.exists(f"/proc/{nsbox.state('victim')['Pid']}")
    nsbox("rm", "-f", "victim")
    assert nsbox.out("ps", "-a", "-q") == ""


@pytest.mark.parametrize("step", ["exit-recorded", "record-removed"])
def test_kill_9_of_a_rm_run_while_it_removes_its_container(nsbox, step):
    """`run --rm` removes its container itself once the program ended (the runtime's delete
    done, the exit recorded as "removing"): killed there, `ps -a` stays truthful, and
    `rm -f` (the record is still there) or `system prune` (it was moved away) leave nothing
    (the autouse leak check looks at mounts, cgroups, processes; the store is checked here)."""
    process = stopped_process(nsbox.command("run", "--rm", "--name", "victim", "--network", "none", "busybox",
                                            "true"), step)
    wait_stopped(lambda: [process.pid])
    process.kill()
    process.wait()
    if step == "exit-recorded":
        shown = only_container(nsbox)
        assert shown["State"] == "removing" and shown["Names"] == "victim", shown
        assert os.listdir(os.path.join(nsbox.root, "image", "rootfs"))  # not removed yet
        nsbox("rm", "-f", "victim")
    else:
        assert nsbox.out("ps", "-a", "-q") == ""
        nsbox("system", "prune", "-f")
    assert nsbox.out("ps", "-a", "-q") == ""
    assert os.listdir(os.path.join(nsbox.root, "containers")) == []
    assert os.listdir(os.path.join(nsbox.root, "names")) == []
    assert os.listdir(os.path.join(nsbox.root, "image", "rootfs")) == []
    assert [entry for entry in os.listdir(os.path.join(nsbox.root, "run", "runtime")) if len(entry) == 64] == []


@pytest.mark.parametrize("step", STEPS[1:])
def test_kill_9_of_the_monitor_while_it_starts_the_container(nsbox, step):
    process = stopped_process(nsbox.command("run", "-d", "--name", "victim", "busybox", "sleep", "100"), step)
    monitor = wait_stopped(lambda: working_in(os.path.join(nsbox.root, "containers")))
    os.kill(monitor, signal.SIGKILL)
    _, error = process.communicate(timeout=30)
    assert process.returncode == 125 and b"monitor" in error
    shown = only_container(nsbox)
    # killed once the runtime created it: created (its init waits for a start that never
    # comes); killed once it started: running, with no monitor
    expected = {"created": "created", "started": "running"}[step]
    assert shown["State"] == expected, shown
    if step == "started":
        assert "(no monitor)" in shown["Status"], shown
    nsbox("rm", "-f", "victim")
    assert nsbox.out("ps", "-a", "-q") == ""


def test_run_d_returns_once_the_container_runs_not_when_the_monitor_becomes_its_loop(nsbox):
    """The CLI's wait ends at the monitor's "running" report: the exec of the monitor's loop
    (which tears down the engine's memory first) happens after, on its own."""
    process = stopped_process(nsbox.command("run", "-d", "--name", "quick", "busybox", "sleep", "100"), "reported")
    monitor = wait_stopped(lambda: working_in(os.path.join(nsbox.root, "containers")))
    try:
        out, error = process.communicate(timeout=60)  # while the monitor is still stopped before its exec
        assert process.returncode == 0, error
        assert out.decode().strip() == nsbox.inspect("quick")["Id"]
        assert nsbox.state("quick")["Running"] and nsbox.state("quick")["MonitorPid"] == monitor
    finally:
        os.kill(monitor, signal.SIGCONT)
    nsbox.wait_for(lambda: b"monitor_loop" in open(f"/proc/{monitor}/cmdline", "rb").read(), what="the loop")
    nsbox("rm", "-f", "quick")


def test_kill_9_of_a_running_monitor_then_the_container_exits(nsbox):
    container_id = nsbox.out("run", "-d", "busybox", "sleep", "100").strip()
    state = nsbox.state(container_id)
    os.kill(state["MonitorPid"], signal.SIGKILL)
    pid = state["Pid"]
    os.kill(pid, signal.SIGKILL)  # the container dies with nobody watching
    nsbox.wait_for(lambda: not os.path.exists(f"/proc/{pid}/cmdline") or
                   open(f"/proc/{pid}/cmdline").read() == "", what="the process to go")
    shown = only_container(nsbox)
    assert shown["State"] == "exited" and "unknown" in shown["Status"], shown
    nsbox("rm", container_id)  # not running any more: no -f needed
    assert nsbox.out("ps", "-a", "-q") == ""


def test_kill_9_at_random_moments_of_run_leaves_ps_truthful(nsbox):
    """Real faults at moments chosen by chance: ps never fails, what it calls running runs,
    and rm -f leaves nothing (the autouse leak check looks at mounts, cgroups, processes)."""
    import random
    chance = random.Random(os.getpid())
    for round in range(8):
        name = f"victim{round}"
        process = subprocess.Popen(nsbox.command("run", "--name", name, "busybox", "sleep", "100"),
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(chance.uniform(0.0, 0.6))
        process.kill()
        process.wait()
        for shown in (json.loads(line) for line in nsbox.out("ps", "-a", "--format", "json").splitlines()):
            if shown["State"] == "running":
                pid = nsbox.state(shown["Names"])["Pid"]
                assert os.path.exists(f"/proc/{pid}"), f"ps says {shown['Names']} runs, but {pid} is gone"
        nsbox("rm", "-f", name, check=False)
    nsbox("rm", "-f", *nsbox.out("ps", "-a", "-q").split(), check=False)
    assert nsbox.out("ps", "-a", "-q") == ""


def reboot(nsbox) -> None:
    """What a reboot does to nsbox's state (its containers stopped): the mount table and
    the run directory (a tmpfs, /run/nsbox by default) emptied; the root's files stay."""
    with open("/proc/self/mountinfo") as mountinfo:
        points = [line.split()[4] for line in mountinfo if line.split()[4].startswith(nsbox.root + "/")]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", point], check=True)
    shutil.rmtree(os.path.join(nsbox.root, "run"), ignore_errors=True)


def test_a_kept_container_starts_again_after_a_reboot_with_its_files(nsbox, tmp_path):
    """Its root filesystem is mounted again from the files the reboot left (the overlay's
    upper directory): start runs its own program with what it wrote before, cp reads it."""
    script = "cat /kept-file 2>/dev/null || echo first run; echo written before > /kept-file"
    assert nsbox.out("run", "--name", "kept", "--network", "none", "busybox", "sh", "-c", script) == "first run\n"
    reboot(nsbox)
    nsbox("cp", "kept:/kept-file", str(tmp_path / "copied"))
    assert (tmp_path / "copied").read_text() == "written before\n"
    reboot(nsbox)
    nsbox("start", "kept")
    nsbox.wait_for(lambda: nsbox.state("kept")["Status"] == "exited", what="the second run's exit")
    assert nsbox.state("kept")["ExitCode"] == 0
    assert nsbox.out("logs", "kept") == "first run\nwritten before\n"
    nsbox("rm", "kept")
