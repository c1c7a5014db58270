"""The OCI lifecycle: create, start, state, kill, delete, as seen from outside."""
from __future__ import annotations

import json
import os
import time

import pytest

from tests.runtime.conftest import state_of


@pytest.mark.v2_lane  # touches cgroups: run again on real cgroup v2
def test_states_in_order_and_init_is_an_ordinary_host_process(make_bundle, runtime):
    bundle = make_bundle(["sleep", "100"])
    runtime("create", "--bundle", bundle, "life", check=True)
    created = state_of(runtime, "life")
    assert created["status"] == "created"
    assert created["id"] == "life" and created["bundle"] == bundle and created["ociVersion"].startswith("1.")
    pid = created["pid"]
    assert pid > 1 and os.path.exists(f"/proc/{pid}")
    # Before start the user's program has not run: the init is still nsbox's own code.
    assert b"sleep" not in open(f"/proc/{pid}/cmdline", "rb").read()
    runtime("start", "life", check=True)
    running = state_of(runtime, "life")
    assert running["status"] == "running" and running["pid"] == pid
    deadline = time.monotonic() + 15
    while b"sleep" not in open(f"/proc/{pid}/cmdline", "rb").read() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[:2] == [b"sleep", b"100"]
    assert "NSpid:\t%d\t1" % pid in open(f"/proc/{pid}/status").read()
    runtime("kill", "life", "KILL", check=True)
    deadline = time.monotonic() + 15
    while state_of(runtime, "life")["status"] != "stopped" and time.monotonic() < deadline:
        time.sleep(0.01)
    stopped = state_of(runtime, "life")
    assert stopped["status"] == "stopped" and "pid" not in stopped
    runtime("delete", "life", check=True)
    assert runtime("state", "life").returncode != 0
    assert not os.path.exists(os.path.join(runtime.root, "life"))


def test_start_twice_is_refused(make_bundle, runtime):
    bundle = make_bundle(["sleep", "100"])
    runtime("create", "--bundle", bundle, "twice", check=True)
    runtime("start", "twice", check=True)
    again = runtime("start", "twice")
    assert again.returncode != 0 and "only a created container can be started" in again.stderr
    refused = runtime("delete", "twice")
    assert refused.returncode != 0 and "--force" in refused.stderr
    runtime("delete", "--force", "twice", check=True)


def test_run_exits_with_the_programs_code_and_cleans_up(run_container, runtime):
    result = run_container(["sh", "-c", "echo out; echo err >&2; exit 7"])
    assert result.returncode == 7
    assert result.stdout == "out\n" and result.stderr == "err\n"
    assert os.listdir(runtime.root) == []


def test_killed_by_signal_exits_128_plus_signal(make_bundle, runtime):
    import subprocess
    bundle = make_bundle(["sleep", "100"])
    foreground = subprocess.Popen([runtime.binary, "--root", runtime.root, "run", "--bundle", bundle, "killed"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while runtime("state", "killed").returncode != 0 or state_of(runtime, "killed")["status"] != "running":
        assert time.monotonic() < deadline, "the container never ran"
        time.sleep(0.01)
    runtime("kill", "killed", "SIGKILL", check=True)
    assert foreground.wait(timeout=10) == 137
    assert os.listdir(runtime.root) == []


def test_pid_file_and_detach(make_bundle, runtime, tmp_path):
    bundle = make_bundle(["sleep", "100"])
    pid_file = tmp_path / "pid"
    runtime("run", "--detach", "--pid-file", str(pid_file), "--bundle", bundle, "det", check=True)
    state = state_of(runtime, "det")
    assert state["status"] == "running"
    assert int(pid_file.read_text()) == state["pid"]
    runtime("delete", "--force", "det", check=True)
    assert not os.path.exists(f"/proc/{state['pid']}") or open(f"/proc/{state['pid']}/stat").read().split()[2] == "Z"


def test_list_shows_containers_as_table_and_json(make_bundle, runtime):
    bundle = make_bundle(["sleep", "100"])
    runtime("create", "--bundle", bundle, "listed", check=True)
    table = runtime("list", check=True).stdout.splitlines()
    assert table[0].split()[:3] == ["ID", "PID", "STATUS"]
    assert table[1].split()[0] == "listed" and table[1].split()[2] == "created"
    rows = json.loads(runtime("list", "--format", "json", check=True).stdout)
    assert [(r["id"], r["status"]) for r in rows] == [("listed", "created")]
    assert runtime("list", "-q", check=True).stdout == "listed\n"
    runtime("delete", "listed", check=True)


@pytest.mark.v2_lane  # touches cgroups: run again on real cgroup v2
def test_ps_lists_the_host_pids_of_every_process(make_bundle, runtime):
    bundle = make_bundle(["sh", "-c", "sleep 100 & sleep 100"])
    runtime("run", "-d", "--bundle", bundle, "pslist", check=True)
    init = state_of(runtime, "pslist")["pid"]
    deadline = time.monotonic() + 15
    while len(json.loads(runtime("ps", "--format", "json", "pslist").stdout)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    pids = json.loads(runtime("ps", "--format", "json", "pslist", check=True).stdout)
    assert init in pids and len(pids) == 2
    for pid in pids:
        assert open(f"/proc/{pid}/cmdline", "rb").read().startswith(b"sleep")
    table = runtime("ps", "pslist", check=True).stdout.splitlines()
    assert "PID" in table[0] and len(table) == 3
    runtime("delete", "-f", "pslist", check=True)


def _host_pid_namespace(spec):
    spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"] if n["type"] != "pid"]


def _running(pids) -> list[int]:
    alive = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] != "Z":
                    alive.append(pid)
        except FileNotFoundError:
            pass
    return alive


@pytest.mark.v2_lane  # touches cgroups: run again on real cgroup v2
def test_kill_all_signals_every_process(make_bundle, runtime):
    # In the host's PID namespace the end of the init does not end the others: only
    # --all (every process of the cgroup) reaches the two background sleeps.
    bundle = make_bundle(["sh", "-c", "sleep 100 & sleep 100 & wait"], edit=_host_pid_namespace)
    runtime("run", "-d", "--bundle", bundle, "killall", check=True)
    deadline = time.monotonic() + 15
    while len(json.loads(runtime("ps", "-f", "json", "killall").stdout)) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    pids = json.loads(runtime("ps", "-f", "json", "killall", check=True).stdout)
    assert len(pids) == 3, pids
    runtime("kill", "--all", "killall", "9", check=True)
    deadline = time.monotonic() + 15
    while _running(pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _running(pids) == [], "kill --all left processes of the container running"
    assert state_of(runtime, "killall")["status"] == "stopped"
    runtime("delete", "killall", check=True)


def switches(pid: int) -> int:
    """The process's voluntary context switches so far (it counts while the process runs)."""
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("voluntary_ctxt_switches"))


def freezer_says_frozen(runtime, container_id: str) -> bool:
    """The kernel's own word: v1 freezer.state, or v2 cgroup.events' frozen."""
    with open(os.path.join(runtime.root, container_id, "state.json")) as state:
        cgroup = json.load(state)["cgroup"]
    if "freezer" in cgroup["v1"]:
        with open(os.path.join(cgroup["v1"]["freezer"], "freezer.state")) as freezer:
            return freezer.read().strip() == "FROZEN"
    with open(os.path.join(cgroup["unified"], "cgroup.events")) as events:
        return "frozen 1" in events.read().splitlines()


@pytest.mark.v2_lane  # touches cgroups: run again on real cgroup v2
def test_pause_and_resume_freeze_the_container(make_bundle, runtime):
    bundle = make_bundle(["sh", "-c", "while true; do sleep 0.01; done"])
    runtime("run", "-d", "--bundle", bundle, "frozen", check=True)
    pid = state_of(runtime, "frozen")["pid"]
    runtime("pause", "frozen", check=True)
    assert state_of(runtime, "frozen")["status"] == "paused"
    assert freezer_says_frozen(runtime, "frozen")
    # The loop waits for a sleep ten times a second: each wait is a context switch. Frozen,
    # the count stands still (a sleeping but unfrozen loop would go on counting).
    before = switches(pid)
    time.sleep(0.5)
    assert switches(pid) == before, "the container's loop went on running while paused"
    runtime("resume", "frozen", check=True)
    assert state_of(runtime, "frozen")["status"] == "running"
    assert not freezer_says_frozen(runtime, "frozen")
    deadline = time.monotonic() + 10
    while switches(pid) == before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert switches(pid) > before, "the loop did not go on after resume"
    runtime("delete", "--force", "frozen", check=True)


def test_duplicate_id_is_refused(make_bundle, runtime):
    bundle = make_bundle(["sleep", "100"])
    runtime("create", "--bundle", bundle, "dup", check=True)
    again = runtime("create", "--bundle", bundle, "dup")
    assert again.returncode != 0 and "already exists" in again.stderr
    assert state_of(runtime, "dup")["status"] == "created"
    runtime("delete", "dup", check=True)


def test_features_and_spec(runtime, tmp_path):
    features = json.loads(runtime("features", check=True).stdout)
    assert features["ociVersionMax"] == "1.1.0"
    assert "time" in features["linux"]["namespaces"] and "createRuntime" in features["hooks"]
    runtime("spec", "--bundle", str(tmp_path), check=True)
    spec = json.loads((tmp_path / "config.json").read_text())
    assert spec["root"]["path"] == "rootfs" and spec["process"]["args"] == ["sh"]
    refused = runtime("spec", "--bundle", str(tmp_path))
    assert refused.returncode != 0 and "exists" in refused.stderr
    rootless = tmp_path / "rootless"
    rootless.mkdir()
    runtime("spec", "--rootless", "--bundle", str(rootless), check=True)
    spec = json.loads((rootless / "config.json").read_text())
    assert {"type": "user"} in spec["linux"]["namespaces"] and spec["linux"]["uidMappings"]
