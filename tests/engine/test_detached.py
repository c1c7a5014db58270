"""Detached containers: the monitor, logs, and the lifecycle commands."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time

import pytest


def wait_ready(nsbox, name: str) -> None:
    """Until the container's shell has said "ready" (its traps are in place)."""
    nsbox.wait_for(lambda: "ready" in nsbox.out("logs", name), what=f"{name} to be ready")


def test_logs_keep_streams_apart_and_survive_the_cli(nsbox):
    # The CLI returns at once; the container keeps writing long after it has exited.
    nsbox("run", "-d", "--name", "talker", "busybox", "sh", "-c",
          "echo first; echo oops >&2; sleep 1; echo second; printf 'no newline'")
    assert nsbox.out("wait", "talker").strip() == "0"
    logs = nsbox("logs", "talker")
    assert logs.stdout == "first\nsecond\nno newline"
    assert logs.stderr == "oops\n"
    assert nsbox.out("logs", "--tail", "1", "talker") == "no newline"
    stamped = nsbox.out("logs", "-t", "talker").splitlines()
    assert stamped[0].endswith(" first") and stamped[0][:4].isdigit() and "T" in stamped[0].split()[0]
    assert nsbox.out("logs", "--since", "1h", "talker").startswith("first")
    assert nsbox.out("logs", "--since", "2999-01-01T00:00:00", "talker") == ""


def test_logs_follow_ends_with_the_container(nsbox):
    nsbox("run", "-d", "--name", "ticker", "busybox", "sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.3; done")
    followed = nsbox("logs", "-f", "ticker", timeout=30)
    assert followed.stdout.split() == ["1", "2", "3"]


def test_stop_kill_wait_and_exit_codes(nsbox):
    nsbox("run", "-d", "--name", "polite", "busybox", "sh", "-c",
          "trap 'exit 42' TERM; echo ready; while true; do sleep 0.1; done")
    wait_ready(nsbox, "polite")
    nsbox("stop", "polite")
    state = nsbox.state("polite")
    assert (state["Status"], state["ExitCode"], state["Running"]) == ("exited", 42, False)
    assert state["FinishedAt"] >= state["StartedAt"]
    # a PID 1 that ignores SIGTERM is killed after the timeout
    nsbox("run", "-d", "--name", "stubborn", "busybox", "sleep", "100")
    nsbox("stop", "-t", "1", "stubborn")
    assert nsbox.state("stubborn")["ExitCode"] == 137
    nsbox("run", "-d", "--name", "victim", "busybox", "sleep", "100")
    nsbox("kill", "victim")
    assert nsbox.out("wait", "victim").strip() == "137"
    nsbox("run", "-d", "--name", "hup", "busybox", "sh", "-c", "trap 'exit 5' HUP; echo ready; while true; do sleep 0.1; done")
    wait_ready(nsbox, "hup")
    nsbox("kill", "-s", "HUP", "hup")
    assert nsbox.out("wait", "hup").strip() == "5"
    refused = nsbox("kill", "hup", check=False)
    assert refused.returncode == 125 and "not running" in refused.stderr


def test_rm_refuses_running_and_force_cleans(nsbox):
    container_id = nsbox.out("run", "-d", "busybox", "sleep", "100").strip()
    pid = nsbox.state(container_id)["Pid"]
    refused = nsbox("rm", container_id[:12], check=False)
    assert refused.returncode == 125 and "-f" in refused.stderr
    nsbox("rm", "-f", container_id[:5])
    assert not os.path.exists(f"/proc/{pid}")
    missing = nsbox("rm", container_id, check=False)
    assert missing.returncode == 1 and missing.stderr == f"nsbox: No such container: {container_id}\n"


def test_rm_v_removes_anonymous_volumes(nsbox):
    nsbox("run", "--name", "vols", "-v", "/anon", "-v", "kept:/named", "busybox", "touch", "/anon/x", "/named/y")
    volumes = sorted(os.listdir(os.path.join(nsbox.root, "volumes")))
    assert len(volumes) == 2 and "kept" in volumes
    nsbox("rm", "-v", "vols")
    assert os.listdir(os.path.join(nsbox.root, "volumes")) == ["kept"]


def frozen_by_the_kernel(nsbox, name: str) -> bool:
    """The container's cgroup, found by nsbox's driver, as the kernel reports it: v1
    freezer.state, or v2 cgroup.events' frozen."""
    from nsbox.engine.containers import Engine
    cgroup = Engine(nsbox.root).cgroup(nsbox.inspect(name))
    if "freezer" in cgroup.v1:
        with open(os.path.join(cgroup.v1["freezer"], "freezer.state")) as freezer:
            return freezer.read().strip() == "FROZEN"
    with open(os.path.join(cgroup.unified, "cgroup.events")) as events:
        return "frozen 1" in events.read().splitlines()


@pytest.mark.v2_lane  # touches cgroups (through nsbox's driver): run again on real cgroup v2
def test_pause_unpause(nsbox):
    nsbox("run", "-d", "--name", "counter", "busybox", "sh", "-c", "while true; do echo x; sleep 0.05; done")
    nsbox("pause", "counter")
    assert nsbox.state("counter")["Status"] == "paused"
    assert "(Paused)" in nsbox.out("ps")
    assert frozen_by_the_kernel(nsbox, "counter")
    # Frozen, it writes nothing more: the log stops growing (once what was written just
    # before the freeze has reached it) and stays so.
    def lines() -> int:
        return len(nsbox.out("logs", "counter").splitlines())
    counts = [lines()]
    for _ in range(20):
        time.sleep(0.5)
        counts.append(lines())
        if counts[-1] == counts[-2]:
            break
    assert counts[-1] == counts[-2], f"the log kept growing while paused: {counts}"
    time.sleep(1)
    assert lines() == counts[-1]
    nsbox("unpause", "counter")
    nsbox.wait_for(lambda: lines() > counts[-1], what="output after unpause")
    assert nsbox.state("counter")["Status"] == "running"
    assert not frozen_by_the_kernel(nsbox, "counter")
    nsbox("rm", "-f", "counter")


def test_rename_and_unique_names(nsbox):
    nsbox("create", "--name", "one", "busybox", "true")
    clash = nsbox("create", "--name", "one", "busybox", "true", check=False)
    assert clash.returncode == 125 and "already in use" in clash.stderr
    bad = nsbox("create", "--name", "-bad name", "busybox", "true", check=False)
    assert bad.returncode == 125 and "--name" in bad.stderr
    nsbox("rename", "one", "two")
    assert nsbox.inspect("two")["Name"] == "/two"
    assert nsbox("inspect", "one", check=False).returncode == 1
    nsbox("create", "--name", "one", "busybox", "true")  # the old name is free again
    assert len(nsbox.out("ps", "-a", "-q").split()) == 2


def test_create_start_restart(nsbox):
    container_id = nsbox.out("create", "--name", "later", "busybox", "sh", "-c", "echo started; sleep 100").strip()
    assert nsbox.state("later")["Status"] == "created"
    assert "Created" in nsbox.out("ps", "-a")
    nsbox("start", "later")
    assert nsbox.state("later")["Running"]
    first_pid = nsbox.state("later")["Pid"]
    nsbox("restart", "-t", "0", "later")
    state = nsbox.state("later")
    assert state["Running"] and state["Pid"] != first_pid
    assert nsbox.out("logs", "later") == "started\nstarted\n"
    nsbox("rm", "-f", container_id)


def test_inspect_is_docker_shaped(nsbox):
    nsbox("run", "-d", "--name", "shape", "-m", "64m", "-v", "/anon", "busybox", "sleep", "100")
    data = nsbox.inspect("shape")
    assert set(data["State"]) >= {"Status", "Running", "Paused", "Restarting", "OOMKilled", "Dead", "Pid",
                                  "ExitCode", "Error", "StartedAt", "FinishedAt"}
    assert data["HostConfig"]["Memory"] == 64 << 20
    assert data["Mounts"][0]["Destination"] == "/anon" and data["Mounts"][0]["Type"] == "volume"
    assert data["NetworkSettings"]["Networks"]["bridge"]["IPAddress"] == data["NetworkSettings"]["IPAddress"] != ""
    assert data["Config"]["Cmd"] == ["sleep", "100"] and len(data["Id"]) == 64
    ps_json = [json.loads(line) for line in nsbox.out("ps", "--format", "json").splitlines()]
    assert ps_json[0]["Names"] == "shape" and ps_json[0]["State"] == "running"
    nsbox("rm", "-f", "shape")


@pytest.mark.v2_lane  # touches cgroups (through nsbox's driver): run again on real cgroup v2
def test_top_stats_update(nsbox):
    nsbox("run", "-d", "--name", "busy", "-m", "128m", "busybox", "sh", "-c", "sleep 100 & sleep 100 & wait")
    # (the shell forks its two sleeps after it started: wait for them, then read top once more)
    nsbox.wait_for(lambda: len(nsbox.out("top", "busy").splitlines()) == 4, what="sh and its two sleeps")
    top = nsbox.out("top", "busy").splitlines()
    assert top[0].split()[:4] == ["UID", "PID", "CONTAINER", "PID"]
    inner = sorted(int(line.split()[2]) for line in top[1:])
    assert inner[0] == 1 and len(inner) == 3
    stats = json.loads(nsbox.out("stats", "--no-stream", "--format", "json", "busy"))
    assert stats["MemLimit"] == 128 << 20 and stats["PIDs"] == 3 and stats["Name"] == "busy"
    nsbox("update", "-m", "256m", "--pids-limit", "10", "busy")
    stats = json.loads(nsbox.out("stats", "--no-stream", "--format", "json", "busy"))
    assert stats["MemLimit"] == 256 << 20
    assert nsbox.inspect("busy")["HostConfig"]["PidsLimit"] == 10
    refused = nsbox("exec", "busy", "sh", "-c", "for i in $(seq 20); do sleep 10 & done; wait", check=False)
    # fork fails beyond 10 processes: the shell says so, and the kernel counted the refusals
    assert refused.returncode != 0 and "can't fork" in refused.stderr, refused.stderr
    from nsbox.engine.containers import Engine
    cgroup = Engine(nsbox.root).cgroup(nsbox.inspect("busy"))
    with open(os.path.join(cgroup.v1.get("pids") or cgroup.unified, "pids.events")) as events:
        assert int(events.read().split()[1]) > 0, "pids.events counts no fork refused at pids.max"
    nsbox("rm", "-f", "busy")


def test_stats_no_stream_gives_cpu_since_the_start_at_once(nsbox, tmp_path):
    """--no-stream's CPU % is the average since the container started (podman's first
    sample), so the one reading needs no second one half a second later: a busy container
    shows its share, an idle one next to nothing, and the command never sleeps."""
    nsbox("run", "-d", "--name", "spinning", "busybox", "sh", "-c", "while :; do :; done")
    nsbox("run", "-d", "--name", "idle", "busybox", "sleep", "100")
    time.sleep(1.5)
    log = tmp_path / "strace.log"
    result = subprocess.run(["strace", "-f", "-qq", "-o", str(log), "-e", "trace=clock_nanosleep,nanosleep",
                             *nsbox.command("stats", "--no-stream", "--format", "json")],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    shown = {entry["Name"]: entry for entry in map(json.loads, result.stdout.splitlines())}
    assert shown["spinning"]["CPUPerc"] > 10, shown  # (two cores shared with others: not ~100)
    assert shown["idle"]["CPUPerc"] < 10, shown
    assert "nanosleep" not in log.read_text(), log.read_text()
    nsbox("rm", "-f", "spinning", "idle")


@pytest.mark.v2_lane  # touches cgroups (through nsbox's driver): run again on real cgroup v2
def test_exec_flags(nsbox):
    nsbox("run", "-d", "--name", "target", "-e", "FROM_RUN=1", "busybox", "sleep", "100")
    out = nsbox.out("exec", "-e", "EXTRA=2", "-w", "/tmp", "target", "sh", "-c", 'echo $FROM_RUN $EXTRA; pwd')
    assert out.split() == ["1", "2", "/tmp"]
    assert nsbox.out("exec", "-u", "nobody", "target", "id", "-u").strip() == "65534"
    assert nsbox("exec", "target", "sh", "-c", "exit 9", check=False).returncode == 9
    assert nsbox("exec", "target", "no-such-program", check=False).returncode == 127
    assert nsbox("exec", "-i", "target", "cat", input="piped\n", stdin=None).stdout == "piped\n"
    nsbox("exec", "-d", "target", "sh", "-c", "echo detached > /tmp/marker")
    nsbox.wait_for(lambda: nsbox("exec", "target", "cat", "/tmp/marker", check=False).stdout == "detached\n")
    # the exec'd process is in the container's cgroup (the one its PID 1 is in, as both see it:
    # v1's memory line, v2's one line, "0::/" there inside the container's cgroup namespace)
    # and namespaces
    pid = nsbox.state("target")["Pid"]
    out = nsbox.out("exec", "target", "sh", "-c", "cat /proc/self/cgroup; echo --; cat /proc/1/cgroup; "
                    "readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt")
    own, _, init = out.partition("--\n")

    def cgroup_line(text: str) -> str:
        return next(line for line in text.splitlines() if ":memory:" in line or line.startswith("0::"))
    assert cgroup_line(own) == cgroup_line(init)
    assert os.readlink(f"/proc/{pid}/ns/pid") in out and os.readlink(f"/proc/{pid}/ns/mnt") in out
    nsbox("stop", "-t", "0", "target")
    assert nsbox("exec", "target", "true", check=False).returncode == 125
    nsbox("rm", "target")


def test_cp_and_export(nsbox, tmp_path):
    nsbox("run", "-d", "--name", "files", "--tmpfs", "/scratch", "busybox", "sleep", "100")
    source = tmp_path / "in.txt"
    source.write_text("into the container")
    nsbox("cp", str(source), "files:/scratch/")
    assert nsbox.out("exec", "files", "cat", "/scratch/in.txt") == "into the container"
    nsbox("exec", "files", "sh", "-c", "mkdir -p /tmp/d && echo out > /tmp/d/f && ln -s /etc/passwd /tmp/d/link")
    nsbox("cp", "files:/tmp/d", str(tmp_path / "copied"))
    assert (tmp_path / "copied" / "f").read_text() == "out\n"
    assert os.readlink(tmp_path / "copied" / "link") == "/etc/passwd"  # kept as a link, not followed on the host
    # a symlink inside the container cannot lead cp out to the host
    nsbox("exec", "files", "ln", "-s", "/", "/tmp/escape")
    nsbox("cp", "files:/tmp/escape/etc/passwd", str(tmp_path / "passwd"))
    assert (tmp_path / "passwd").read_text() == nsbox.out("exec", "files", "cat", "/etc/passwd")
    assert (tmp_path / "passwd").read_text() != open("/etc/passwd").read()
    exported = nsbox("export", "files", text=False).stdout
    with tarfile.open(fileobj=io.BytesIO(exported)) as archive:
        names = archive.getnames()
    assert "bin/busybox" in names and "tmp/d/f" in names
    assert not any(name.startswith("scratch/in.txt") for name in names)  # mounts are not the filesystem
    nsbox("rm", "-f", "files")


def test_system_df_prune_info_version(nsbox):
    nsbox("run", "--name", "done", "busybox", "sh", "-c", "head -c 100000 /dev/zero > /big")
    nsbox("run", "-d", "--name", "live", "busybox", "sleep", "100")
    df = nsbox.out("system", "df")
    assert df.splitlines()[0].split()[:3] == ["TYPE", "TOTAL", "ACTIVE"]
    containers = [line for line in df.splitlines() if line.startswith("Containers")][0].split()
    assert containers[1:3] == ["2", "1"]
    pruned = nsbox.out("system", "prune", "-f")
    assert "Deleted Containers" in pruned
    assert nsbox.out("ps", "-a", "--format", "json").count("\n") == 1
    info = nsbox.out("info")
    assert "Running: 1" in info and "Default Network: bridge" in info and "Cgroup Version:" in info
    assert nsbox.out("version").startswith("Client:\n Version:")  # Docker's shape: Client, then Server
    nsbox("rm", "-f", "live")


def test_monitor_is_small_and_outlives_the_cli(nsbox):
    from nsbox.engine.monitor_build import compiled_loop
    container_id = nsbox.out("run", "-d", "busybox", "sleep", "100").strip()
    monitor = nsbox.state(container_id)["MonitorPid"]
    # run -d returns once the container runs; the monitor's exec of its loop may still be on its way
    nsbox.wait_for(lambda: b"monitor_loop" in open(f"/proc/{monitor}/cmdline", "rb").read(), what="the loop")
    with open(f"/proc/{monitor}/smaps_rollup") as rollup:  # not the engine (~15 MiB)
        pss_kib = [int(line.split()[1]) for line in rollup if line.startswith("Pss:")][0]
    # the C loop where a compiler is at hand (the machines nsbox is tested on have one)
    assert compiled_loop() is not None and os.readlink(f"/proc/{monitor}/exe") == compiled_loop()
    assert pss_kib <= 1024  # one Python interpreter alone holds ~3 MiB
    assert nsbox.state(container_id)["Pid"] in [int(p) for p in open(f"/proc/{monitor}/task/{monitor}/children").read().split()]
    os.kill(monitor, signal.SIGKILL)
    nsbox.wait_for(lambda: not os.path.exists(f"/proc/{monitor}/cmdline") or
                   open(f"/proc/{monitor}/stat").read().split(")")[1].split()[0] == "Z", what="monitor gone")
    assert "(no monitor)" in nsbox.out("ps")
    nsbox("stop", "-t", "0", container_id)


def test_the_monitor_never_collects_garbage(nsbox, tmp_path):
    """A collection in the forked monitor would write to the engine's objects, and so copy
    their pages: it forks with the collector off. Here every allocation would start a
    collection (threshold 1), noted by a callback the monitor inherits until its exec."""
    from nsbox.cli.run_flags import run_options
    from nsbox.engine.containers import Engine
    from nsbox.engine.monitor import spawn_monitor
    from tests.collections_probe import collections_in_children
    engine = Engine(nsbox.root)
    container_id = engine.create(run_options(["--network", "none", "busybox", "sleep", "100"]))["Id"]
    noted = tmp_path / "collections"
    with collections_in_children(noted):
        spawn_monitor(engine, container_id)
    assert nsbox.state(container_id)["Running"]
    assert not noted.exists(), noted.read_text()
    nsbox("rm", "-f", container_id)


def test_the_python_monitor_loop_does_the_same_work(nsbox):
    """Where the C loop was not built (no compiler), detached containers get monitor_loop.py:
    forced here with NSBOX_MONITOR=python, it records exit codes and output, removes --rm
    containers and restarts by policy."""
    env = dict(os.environ, NSBOX_MONITOR="python")
    nsbox("run", "-d", "--name", "coded", "busybox", "sh", "-c", "sleep 1; echo hi; echo oops >&2; exit 3", env=env)
    monitor = nsbox.state("coded")["MonitorPid"]
    assert os.readlink(f"/proc/{monitor}/exe").startswith(os.path.realpath(sys.base_prefix))  # an interpreter
    nsbox.wait_for(lambda: nsbox.state("coded")["Status"] == "exited", what="the exit")
    assert nsbox.state("coded")["ExitCode"] == 3
    assert (nsbox("logs", "coded").stdout, nsbox("logs", "coded").stderr) == ("hi\n", "oops\n")
    nsbox("run", "-d", "--rm", "--name", "gone", "busybox", "true", env=env)
    nsbox.wait_for(lambda: "gone" not in nsbox.out("ps", "-a", "--format", "{{.Names}}"), what="--rm")
    nsbox("run", "-d", "--name", "again", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 1", env=env)
    nsbox.wait_for(lambda: nsbox.state("again")["Status"] == "exited" and nsbox.inspect("again")["RestartCount"] == 2,
                   timeout=90, what="two restarts")


def test_kill_9_of_one_monitor_keeps_the_others_exit_codes_and_logs(nsbox, tmp_path):
    """Each container has a monitor of its own: killing one loses that container's exit code
    only; the others' exits, OOM-free codes and output are still recorded."""
    go = tmp_path / "go"
    os.mkfifo(go)
    names = ["first", "second", "third"]
    for code, name in enumerate(names, start=3):
        nsbox("run", "-d", "--name", name, "-v", f"{tmp_path}:/shared", "busybox", "sh", "-c",
              f"echo out-{name}; echo err-{name} >&2; cat /shared/go >/dev/null; echo bye-{name}; exit {code}")
    nsbox.wait_for(lambda: all(f"out-{n}" in nsbox.out("logs", n) for n in names), what="the first lines")
    os.kill(nsbox.state("second")["MonitorPid"], signal.SIGKILL)
    with open(go, "w") as release:  # every container reads end-of-file and exits
        release.write("")
    nsbox.wait_for(lambda: all(nsbox.state(n)["Status"] == "exited" for n in ("first", "third")), what="exits")
    assert [nsbox.state(n)["ExitCode"] for n in ("first", "third")] == [3, 5]
    for name in ("first", "third"):
        result = nsbox("logs", name)
        assert (result.stdout, result.stderr) == (f"out-{name}\nbye-{name}\n", f"err-{name}\n")


@pytest.mark.v2_lane  # touches cgroups (through nsbox's driver): run again on real cgroup v2
def test_stop_signal_timeout_and_cgroup_parent(nsbox):
    from tests import leaks
    from tests.conftest import CGROUP_PARENT
    nsbox("run", "-d", "--name", "usr1", "--stop-signal", "SIGUSR1", "busybox", "sh", "-c",
          "trap 'exit 11' USR1; echo ready; while true; do sleep 0.1; done")
    wait_ready(nsbox, "usr1")
    nsbox("stop", "usr1")
    assert nsbox.state("usr1")["ExitCode"] == 11
    nsbox("run", "-d", "--name", "slow", "--stop-timeout", "1", "busybox", "sleep", "100")
    nsbox("stop", "slow")  # SIGTERM is ignored by PID 1: SIGKILL after the container's own 1 s
    assert nsbox.state("slow")["ExitCode"] == 137
    parent = f"{CGROUP_PARENT}/custom-parent"
    container_id = nsbox.out("run", "-d", "--cgroup-parent", parent, "busybox", "sleep", "100").strip()
    from nsbox.engine.containers import Engine
    cgroup = Engine(nsbox.root).cgroup(nsbox.inspect(container_id))
    directory = cgroup.v1.get("pids") or cgroup.unified  # v1 here, v2 in the lane
    hierarchy = "pids" if cgroup.v1 else ""
    base = leaks.own_cgroup_bases()[hierarchy]
    assert directory == os.path.join(leaks.CGROUP_ROOT, hierarchy, base.lstrip("/"), parent, container_id)
    with open(os.path.join(directory, "cgroup.procs")) as procs:
        assert str(nsbox.state(container_id)["Pid"]) in procs.read().split()
    nsbox("rm", "-f", container_id)
    assert not os.path.exists(directory)
    for hierarchy, own in leaks.own_cgroup_bases().items():  # the parent is the test's, as Docker leaves it
        directory = os.path.join(leaks.CGROUP_ROOT, hierarchy, own.lstrip("/"), parent)
        if os.path.isdir(directory):
            os.rmdir(directory)


def test_live_stats_table(nsbox):
    import pty
    # --network none: no NET I/O figures to widen the table past what rich sees of the pty (left alone)
    nsbox("run", "-d", "--name", "watched", "--network", "none", "-m", "64m", "busybox", "sleep", "100")
    pid, master = pty.fork()
    if pid == 0:
        import fcntl
        import struct
        fcntl.ioctl(0, 0x5414, struct.pack("HHHH", 50, 200, 0, 0))  # TIOCSWINSZ: room for every column
        os.execv(nsbox.binary, nsbox.command("stats"))
    output = b""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and output.count(b"watched") < 2:  # at least one refresh
        try:
            output += os.read(master, 65536)
        except OSError:
            break
    os.kill(pid, signal.SIGINT)
    os.waitpid(pid, 0)
    os.close(master)
    text = output.decode(errors="replace")
    assert "MEM USAGE / LIMIT" in text and "watched" in text and "64MiB" in text
    nsbox("rm", "-f", "watched")
