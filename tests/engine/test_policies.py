"""Restart policies, --rm of detached containers, and OOM kills, as the monitor applies them."""
from __future__ import annotations

import os
import signal
import subprocess

from tests import leaks
from tests.conftest import SESSION_BRIDGE


def test_on_failure_restarts_up_to_the_limit(nsbox):
    nsbox("run", "-d", "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c", "echo try; exit 3")
    nsbox.wait_for(lambda: nsbox.inspect("flaky")["RestartCount"] == 2 and not nsbox.state("flaky")["Running"]
                   and nsbox.state("flaky")["Status"] == "exited", what="two restarts, then stop")
    assert nsbox.state("flaky")["ExitCode"] == 3
    assert nsbox.out("logs", "flaky") == "try\ntry\ntry\n"


def test_terminal_container_restarts_with_a_new_terminal(nsbox):
    nsbox("run", "-d", "-t", "--name", "tty-flaky", "--restart", "on-failure:1", "busybox", "sh", "-c",
          "tty; exit 1")
    nsbox.wait_for(lambda: nsbox.inspect("tty-flaky")["RestartCount"] == 1
                   and nsbox.state("tty-flaky")["Status"] == "exited", what="one restart, then stop")
    assert nsbox.state("tty-flaky")["ExitCode"] == 1
    assert nsbox.out("logs", "tty-flaky").split() == ["/dev/pts/0", "/dev/pts/0"]


def test_on_failure_does_not_restart_success(nsbox):
    nsbox("run", "-d", "--name", "fine", "--restart", "on-failure", "busybox", "true")
    assert nsbox.out("wait", "fine").strip() == "0"
    assert nsbox.inspect("fine")["RestartCount"] == 0


def test_always_restarts_until_stopped(nsbox):
    nsbox("run", "-d", "--name", "phoenix", "--restart", "always", "busybox", "sh", "-c", "echo up; sleep 0.2")
    nsbox.wait_for(lambda: nsbox.inspect("phoenix")["RestartCount"] >= 2, what="two restarts")
    nsbox("stop", "-t", "1", "phoenix")
    count = nsbox.inspect("phoenix")["RestartCount"]
    state = nsbox.state("phoenix")
    assert state["Status"] == "exited" and not state["Running"]
    import time
    time.sleep(1)
    assert nsbox.inspect("phoenix")["RestartCount"] == count  # a stopped container stays stopped
    nsbox("rm", "phoenix")


def running_pid(nsbox, name: str) -> int:
    """The container's PID while its record says it runs, else 0 (one reading of the record:
    between two readings a restart may be under way)."""
    state = nsbox.state(name)
    return state["Pid"] if state["Running"] else 0


def test_unless_stopped_restarts_after_a_crash(nsbox):
    nsbox("run", "-d", "--name", "kept", "--restart", "unless-stopped", "busybox", "sleep", "100")
    first = nsbox.state("kept")["Pid"]
    os.kill(first, 9)  # killed from outside, not by nsbox: the policy applies
    nsbox.wait_for(lambda: running_pid(nsbox, "kept") not in (0, first), what="a new process")
    nsbox("rm", "-f", "kept")


def test_rm_f_during_a_restart_policy_s_relaunch_wins(nsbox):
    """`rm -f` while the monitor starts the container again: the relaunch sees the removal
    and stops (releasing what it made) instead of starting a container whose record is
    being removed; rm -f then finds the monitor gone and leaves nothing, no address either."""
    from tests.engine.test_crash import stopped_process, wait_stopped
    run = stopped_process(nsbox.command("run", "-d", "--name", "kept", "--restart", "always", "busybox",
                                        "sleep", "100"), "relaunching")
    assert run.wait(60) == 0, run.stderr.read()
    record = nsbox.inspect("kept")
    os.kill(record["State"]["Pid"], 9)
    helper = wait_stopped(lambda: [pid for pid in map(int, filter(str.isdigit, os.listdir("/proc")))
                                   if _runs_exit_helper_of(pid, record["Id"])])
    remover = subprocess.Popen(nsbox.command("rm", "-f", "kept"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, text=True)
    nsbox.wait_for(lambda: nsbox.state("kept")["Status"] == "removing", what="rm -f to mark the container")
    os.kill(helper, signal.SIGCONT)
    _, errors = remover.communicate(timeout=120)
    assert remover.returncode == 0, errors
    assert nsbox.out("ps", "-a", "-q") == ""
    assert not leaks.ipam_reservations(SESSION_BRIDGE)
    assert not leaks.processes_below(nsbox.root)


def _runs_exit_helper_of(pid: int, container_id: str) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            words = cmdline.read().split(b"\0")
    except OSError:
        return False
    return b"nsbox.engine.monitor_exit" in words and container_id.encode() in words


def test_restart_conflicts_with_rm_and_needs_detach(nsbox):
    both = nsbox("run", "-d", "--rm", "--restart", "always", "busybox", "true", check=False)
    assert both.returncode == 125 and "--rm" in both.stderr
    foreground = nsbox("run", "--restart", "always", "busybox", "true", check=False)
    assert foreground.returncode == 125 and "-d" in foreground.stderr
    assert nsbox.out("ps", "-a", "-q") == ""


def test_detached_rm_removes_after_exit(nsbox):
    container_id = nsbox.out("run", "-d", "--rm", "busybox", "sh", "-c", "sleep 0.2").strip()
    nsbox.wait_for(lambda: not os.path.exists(os.path.join(nsbox.root, "containers", container_id)),
                   what="the container to remove itself")
    assert nsbox.out("ps", "-a", "-q") == ""


def test_detached_rm_records_the_exit_and_removes_in_one_pass(nsbox, tmp_path):
    """The monitor's helper removes a --rm container as it records its exit: the record is
    written once ("removing"), not "exited" and then "removing" by a second, full removal."""
    log = tmp_path / "strace.log"
    # strace ends with the last of the processes: the CLI, the monitor and its helper
    result = subprocess.run(["strace", "-f", "-qq", "-o", str(log), "-e", "trace=execve,rename",
                             *nsbox.command("run", "-d", "--rm", "--network", "none", "busybox", "true")],
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    container_id = result.stdout.strip()
    lines = log.read_text().splitlines()
    helper = next(line.split()[0] for line in lines if "nsbox.engine.monitor_exit" in line and "execve(" in line)
    writes = [line for line in lines if line.split()[0] == helper and "rename(" in line
              and line.rstrip().endswith(f'{container_id}/state.json") = 0')]
    assert len(writes) == 1, writes
    assert not os.path.exists(os.path.join(nsbox.root, "containers", container_id))
    assert nsbox.out("ps", "-a", "-q") == ""


def test_oom_kill_is_137_and_recorded(nsbox):
    # tail reads /dev/zero looking for a newline that never comes: its buffer grows without end
    result = nsbox("run", "--name", "hog", "-m", "16m", "--memory-swap", "16m", "busybox", "tail", "/dev/zero",
                   check=False)
    assert result.returncode == 137
    state = nsbox.state("hog")
    assert state["OOMKilled"] is True and state["ExitCode"] == 137
    nsbox("run", "-d", "--name", "hog2", "-m", "16m", "--memory-swap", "16m", "busybox", "tail", "/dev/zero")
    assert nsbox.out("wait", "hog2").strip() == "137"
    assert nsbox.state("hog2")["OOMKilled"] is True
    nsbox("run", "--name", "fine", "-m", "16m", "busybox", "true")
    assert nsbox.state("fine")["OOMKilled"] is False
