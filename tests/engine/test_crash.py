"""kill -9 of nsbox at each step of `run` (and of a monitor): `ps` stays truthful and
`rm -f` cleans up everything (the autouse leak check sees mounts, cgroups, processes).

NSBOX_STOP_AT=<step> makes nsbox stop itself (SIGSTOP) at that step, so the kill lands
exactly there rather than at a moment chosen by a timer.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

STEPS = ("named", "created", "started")


def stopped_process(command: list[str], step: str) -> subprocess.Popen:
    process = subprocess.Popen(command, env=dict(os.environ, NSBOX_STOP_AT=step), stdout=subprocess.PIPE,
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
    if step == "started":
        assert "(no monitor)" in shown["Status"]
        assert os.path.exists(f"/proc/{shown['Pid']}")
    nsbox("rm", "-f", "victim")
    assert nsbox.out("ps", "-a", "-q") == ""


@pytest.mark.parametrize("step", STEPS[1:])
def test_kill_9_of_the_monitor_while_it_starts_the_container(nsbox, step):
    process = stopped_process(nsbox.command("run", "-d", "--name", "victim", "busybox", "sleep", "100"), step)
    monitor = wait_stopped(lambda: working_in(os.path.join(nsbox.root, "containers")))
    os.kill(monitor, signal.SIGKILL)
    _, error = process.communicate(timeout=30)
    assert process.returncode == 125 and b"monitor" in error
    shown = only_container(nsbox)
    assert shown["State"] in ("created", "running", "exited"), shown
    nsbox("rm", "-f", "victim")
    assert nsbox.out("ps", "-a", "-q") == ""


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
