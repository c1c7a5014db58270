"""exec: a new process inside a running container, in all its namespaces and its cgroup."""
from __future__ import annotations

import json
import os
import time

import pytest

from tests.runtime.conftest import state_of


def start_sleeper(make_bundle, runtime, name, edit=None):
    runtime("run", "-d", "--bundle", make_bundle(["sleep", "100"], edit), name, check=True)
    return state_of(runtime, name)["pid"]


@pytest.mark.v2_lane  # touches cgroups: run again on real cgroup v2
def test_exec_joins_the_containers_namespaces(make_bundle, runtime):
    def edit(spec):
        spec["hostname"] = "exec-target"
    start_sleeper(make_bundle, runtime, "target", edit)
    result = runtime("exec", "target", "sh", "-c", "hostname; ps -o pid,comm | grep sleep; ls /sys/class/net")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split()
    assert lines[0] == "exec-target"
    assert lines[1:3] == ["1", "sleep"]
    assert lines[3:] == ["lo"]
    runtime("delete", "-f", "target", check=True)


def test_exec_exit_code_env_cwd_user(make_bundle, runtime):
    start_sleeper(make_bundle, runtime, "target2")
    result = runtime("exec", "--env", "FOO=bar", "--cwd", "/tmp", "--user", "1000:1001", "target2",
                     "sh", "-c", "echo $FOO; pwd; id -u; id -g; exit 3")
    assert result.returncode == 3
    assert result.stdout.split() == ["bar", "/tmp", "1000", "1001"]
    missing = runtime("exec", "target2", "nope")
    assert missing.returncode == 127 and "nope" in missing.stderr
    runtime("delete", "-f", "target2", check=True)


def test_exec_process_file_detach_and_pid_file(make_bundle, runtime, tmp_path):
    start_sleeper(make_bundle, runtime, "target3")
    process = {"args": ["sleep", "50"], "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0}}
    (tmp_path / "process.json").write_text(json.dumps(process))
    pid_file = tmp_path / "exec.pid"
    runtime("exec", "--process", str(tmp_path / "process.json"), "--detach", "--pid-file", str(pid_file),
            "target3", check=True)
    pid = int(pid_file.read_text())
    assert open(f"/proc/{pid}/cmdline", "rb").read() == b"sleep\x0050\x00"
    ns_pids = [line for line in open(f"/proc/{pid}/status") if line.startswith("NSpid")][0].split()[1:]
    assert ns_pids[0] == str(pid) and int(ns_pids[1]) > 1
    pids = json.loads(runtime("ps", "-f", "json", "target3", check=True).stdout)
    assert pid in pids
    runtime("delete", "-f", "target3", check=True)
    deadline = time.monotonic() + 3
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.01)
    assert not os.path.exists(f"/proc/{pid}"), "delete -f left the exec'd process running"


def test_exec_into_a_stopped_container_is_refused(make_bundle, runtime):
    runtime("create", "--bundle", make_bundle(["true"]), "notrunning", check=True)
    result = runtime("exec", "notrunning", "true")
    assert result.returncode == 125 and "created" in result.stderr and "running" in result.stderr
    runtime("delete", "notrunning", check=True)


def test_exec_forwards_signals_to_the_process(make_bundle, runtime):
    import signal
    import subprocess
    start_sleeper(make_bundle, runtime, "sigtarget")
    foreground = subprocess.Popen([runtime.binary, "--root", runtime.root, "exec", "sigtarget", "sh", "-c",
                                   "trap 'echo got-term; exit 9' TERM; echo ready; while true; do sleep 0.05; done"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    assert foreground.stdout.readline().strip() == "ready"
    foreground.send_signal(signal.SIGTERM)
    assert foreground.wait(timeout=10) == 9
    assert foreground.stdout.read().strip() == "got-term"
    runtime("delete", "-f", "sigtarget", check=True)


def test_execs_helper_and_process_never_collect_garbage(make_bundle, runtime, tmp_path):
    """As create's children (test_direct_clone): exec's helper is forked with the collector
    off (linux.clone.fork_without_collecting), and so is the process it forks. Every
    allocation would start a collection here (threshold 1), noted by an inherited callback."""
    from nsbox.linux.libc import PR_SET_CHILD_SUBREAPER, prctl
    from nsbox.runtime.exec_process import exec_process
    from tests.collections_probe import collections_in_children
    start_sleeper(make_bundle, runtime, "collected")
    noted = tmp_path / "collections"
    with collections_in_children(noted):
        pid = exec_process(runtime.root, "collected", {"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
                           stdio=(0, 1, 2))
    try:
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    finally:
        prctl(PR_SET_CHILD_SUBREAPER, 0)  # exec_process made this process a subreaper
        runtime("delete", "-f", "collected", check=True)
    assert not noted.exists(), noted.read_text()
