"""`nsbox run` in the foreground: exit codes, stdio, and what each flag changes inside."""
from __future__ import annotations

import os

import pytest

from tests.engine.conftest import runtimes_holding


def run(nsbox, *args, **kwargs):
    return nsbox("run", "--rm", *args, check=False, **kwargs)


def container_cgroup(nsbox, container_id: str):
    """The container's cgroup as the engine and nsbox's driver find it (v1 here, v2 in the lane)."""
    from nsbox.engine.containers import Engine
    return Engine(nsbox.root).cgroup(nsbox.inspect(container_id))


def cgroup_file(nsbox, controller: str, container_id: str, name: str) -> str:
    cgroup = container_cgroup(nsbox, container_id)
    directory = cgroup.v1[controller] if controller in cgroup.v1 else cgroup.unified
    with open(os.path.join(directory, name)) as f:
        return f.read().strip()


def test_exit_codes(nsbox):
    assert run(nsbox, "busybox", "true").returncode == 0
    assert run(nsbox, "busybox", "sh", "-c", "exit 3").returncode == 3
    missing = run(nsbox, "busybox", "no-such-program")
    assert missing.returncode == 127 and "no-such-program" in missing.stderr
    not_executable = run(nsbox, "busybox", "/etc/passwd")
    assert not_executable.returncode == 126 and "/etc/passwd" in not_executable.stderr
    # (PID 1 cannot SIGKILL itself: with --init the shell is not PID 1)
    killed = run(nsbox, "--init", "busybox", "sh", "-c", "kill -9 $$")
    assert killed.returncode == 137
    # --rm removed every one of them, the failed ones too
    assert nsbox.out("ps", "-a", "-q") == ""


def test_engine_errors_exit_125_and_leave_nothing(nsbox):
    for args, word in ((["--memory", "lots", "busybox", "true"], "--memory"),
                       (["--restart", "sometimes", "-d", "busybox", "true"], "--restart"),
                       (["--cpus", "99", "busybox", "true"], "--cpus"),
                       (["--bogus-flag", "busybox", "true"], "--bogus-flag"),
                       (["--network", "no-such-network", "busybox", "true"], "no-such-network"),
                       (["no-such-image", "true"], "no-such-image"),
                       (["-v", "/no/such/dir:/x", "busybox", "true"], "/no/such/dir")):
        result = nsbox("run", *args, check=False)
        assert result.returncode == 125, (args, result.stderr)
        assert word in result.stderr, (args, result.stderr)
    assert nsbox.out("ps", "-a", "-q") == ""


def test_signals_ignored_by_the_caller_are_not_ignored_inside(nsbox):
    """nohup nsbox run ...: the container's processes start with every signal at its default."""
    import signal

    def ignore_hup_and_int() -> None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    for detach in ([], ["-d"]):
        nsbox("run", *detach, "--name", "sigs", "--network", "none", "busybox", "grep", "SigIgn",
              "/proc/self/status", preexec_fn=ignore_hup_and_int)  # (not through sh: it ignores SIGQUIT)
        nsbox("wait", "sigs")
        assert nsbox.out("logs", "sigs").split() == ["SigIgn:", "0000000000000000"]
        nsbox("rm", "sigs")


def test_stdio_and_stdin(nsbox):
    result = run(nsbox, "busybox", "sh", "-c", "echo to-out; echo to-err >&2")
    assert result.stdout == "to-out\n" and result.stderr == "to-err\n"
    piped = nsbox("run", "--rm", "-i", "busybox", "tr", "a-z", "A-Z", input="hello\n", stdin=None)
    assert piped.stdout == "HELLO\n"
    closed = nsbox("run", "--rm", "busybox", "cat", input="ignored\n", stdin=None)
    assert closed.stdout == ""  # without -i the container's stdin is empty


def test_foreground_output_is_logged_too(nsbox):
    result = nsbox("run", "--name", "chatty", "busybox", "sh", "-c", "echo out; echo err >&2; printf tail")
    assert (result.stdout, result.stderr) == ("out\ntail", "err\n")
    logs = nsbox("logs", "chatty")
    assert (logs.stdout, logs.stderr) == ("out\ntail", "err\n")
    big = nsbox("run", "--rm", "busybox", "sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x")
    assert big.stdout == "x" * 300000


def test_environment_workdir_entrypoint_hostname(nsbox, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nFROM_FILE=yes\n")
    result = run(nsbox, "-e", "A=1", "--env", "B=two words", "--env-file", str(env_file), "-w", "/tmp",
                 "--hostname", "box1", "busybox", "sh", "-c", 'echo "$A|$B|$FROM_FILE"; pwd; hostname')
    assert result.stdout.split("\n")[:3] == ["1|two words|yes", "/tmp", "box1"], result.stderr
    assert run(nsbox, "--entrypoint", "echo", "busybox", "from", "entrypoint").stdout == "from entrypoint\n"


@pytest.mark.parametrize("runtime", ["nsbox", "runc"])
def test_user(nsbox, runtime):
    import shutil
    if runtime == "runc" and not shutil.which("runc"):
        pytest.skip("runc is not installed")
    as_nobody = run(nsbox, "--runtime", runtime, "-u", "nobody", "busybox", "sh", "-c", "id -u; id -g")
    assert as_nobody.stdout.split() == ["65534", "65534"], as_nobody.stderr
    assert run(nsbox, "--runtime", runtime, "-u", "1234:5678", "busybox", "id").stdout.startswith("uid=1234 gid=5678")
    bad_user = run(nsbox, "--runtime", runtime, "-u", "nosuchuser", "busybox", "true")
    assert bad_user.returncode == 125 and "nosuchuser" in bad_user.stderr
    nsbox("run", "-d", "--runtime", runtime, "-u", "nobody", "--name", "which", "busybox", "sleep", "100")
    assert runtimes_holding(nsbox, "which") == {runtime}
    nsbox("rm", "-f", "which")


def test_capabilities(nsbox):
    def effective(*flags):
        line = [x for x in run(nsbox, *flags, "busybox", "cat", "/proc/self/status").stdout.splitlines()
                if x.startswith("CapEff:")][0]
        return int(line.split()[1], 16)
    docker_default = effective()
    assert docker_default == 0xa80425fb  # Docker's 14 default capabilities
    assert effective("--cap-add", "NET_ADMIN") == docker_default | 1 << 12
    assert effective("--cap-drop", "CHOWN") == docker_default & ~1
    assert effective("--cap-drop", "ALL") == 0
    assert effective("--privileged") > docker_default | 1 << 21  # CAP_SYS_ADMIN and the rest
    bogus = run(nsbox, "--cap-add", "BOGUS", "busybox", "true")
    assert bogus.returncode == 125 and "--cap-add" in bogus.stderr and "BOGUS" in bogus.stderr


def test_masked_and_readonly_paths_and_devices(nsbox):
    with open("/proc/timer_list") as host_view:
        assert host_view.read(1)  # not empty on the host
    script = ("wc -c < /proc/timer_list; "
              "echo 1 > /proc/sys/kernel/panic 2>/dev/null && echo sys-writable || echo sys-readonly; "
              "mknod /tmp/sda b 8 0 && (head -c 1 /tmp/sda >/dev/null 2>&1 && echo disk-read || echo disk-denied); "
              "echo x > /dev/null && echo null-ok")
    out = run(nsbox, "busybox", "sh", "-c", script).stdout.split()
    assert out == ["0", "sys-readonly", "disk-denied", "null-ok"]
    privileged = run(nsbox, "--privileged", "busybox", "sh", "-c", "wc -c < /proc/timer_list")
    assert int(privileged.stdout) > 0


def test_read_only_root_and_mounts(nsbox, tmp_path):
    host_dir = tmp_path / "shared"
    host_dir.mkdir()
    (host_dir / "in.txt").write_text("from host")
    result = run(nsbox, "--read-only", "-v", f"{host_dir}:/data", "-v", f"{host_dir}:/data-ro:ro",
                 "--tmpfs", "/scratch:size=1m", "-v", "named-vol:/vol", "--mount",
                 f"type=bind,source={host_dir},target=/m,readonly", "busybox", "sh", "-c",
                 "touch /root-file 2>/dev/null && echo root-writable || echo root-readonly; "
                 "cat /data/in.txt; echo; echo from-container > /data/out.txt; "
                 "touch /data-ro/x 2>/dev/null && echo ro-writable || echo ro-readonly; "
                 "touch /m/x 2>/dev/null && echo m-writable || echo m-readonly; "
                 "echo s > /scratch/s && grep /scratch /proc/mounts | cut -d' ' -f3; "
                 "echo kept > /vol/file")
    assert result.stdout.split() == ["root-readonly", "from", "host", "ro-readonly", "m-readonly", "tmpfs"], result
    assert (host_dir / "out.txt").read_text() == "from-container\n"
    # a named volume outlives the container and is found by name
    assert run(nsbox, "-v", "named-vol:/again", "busybox", "cat", "/again/file").stdout == "kept\n"


def test_init_reaps_and_forwards(nsbox):
    out = run(nsbox, "--init", "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$").stdout
    first, pid = out.splitlines()
    assert first.startswith("/dev/init -- sh") and pid != "1"


def test_ulimit_and_labels(nsbox):
    assert run(nsbox, "--ulimit", "nofile=123:456", "busybox", "sh", "-c", "ulimit -n; ulimit -Hn").stdout.split() \
        == ["123", "456"]
    nsbox("create", "--name", "labelled", "-l", "tier=web", "--label", "team=a", "busybox", "true")
    assert nsbox.inspect("labelled")["Config"]["Labels"] == {"tier": "web", "team": "a"}
    assert nsbox.out("ps", "-a", "-q", "--filter", "label=tier=web").strip()
    assert nsbox.out("ps", "-a", "-q", "--filter", "label=tier=db").strip() == ""


# The files each flag of test_resource_flags_reach_the_cgroup writes, and what they hold.
V1_LIMIT_FILES = {
    ("memory", "memory.limit_in_bytes"): str(64 << 20), ("memory", "memory.soft_limit_in_bytes"): str(32 << 20),
    ("cpu", "cpu.cfs_quota_us"): "50000", ("cpu", "cpu.cfs_period_us"): "100000", ("cpu", "cpu.shares"): "512",
    ("cpuset", "cpuset.cpus"): "0", ("pids", "pids.max"): "42",
}
V2_LIMIT_FILES = {
    ("memory", "memory.max"): str(64 << 20), ("memory", "memory.low"): str(32 << 20),
    ("memory", "memory.swap.max"): str(64 << 20),  # v2 counts swap alone: 128m of memory+swap - 64m
    ("cpu", "cpu.max"): "50000 100000", ("cpu", "cpu.weight"): "20",  # shares 512 on the runtimes' linear map
    ("cpuset", "cpuset.cpus"): "0", ("pids", "pids.max"): "42",
}


@pytest.mark.v2_lane  # reads the files through nsbox's driver: v1 here, v2 in the lane
def test_resource_flags_reach_the_cgroup(nsbox):
    container_id = nsbox.out("run", "-d", "-m", "64m", "--memory-swap", "128m", "--memory-reservation", "32m",
                             "--cpus", "0.5", "--cpu-shares", "512", "--cpuset-cpus", "0", "--pids-limit", "42",
                             "--blkio-weight", "300", "busybox", "sleep", "100").strip()
    cgroup = container_cgroup(nsbox, container_id)
    expected = dict(V1_LIMIT_FILES if "memory" in cgroup.v1 else V2_LIMIT_FILES)
    if "memory" in cgroup.v1 and os.path.exists(os.path.join(cgroup.v1["memory"], "memory.memsw.limit_in_bytes")):
        expected["memory", "memory.memsw.limit_in_bytes"] = str(128 << 20)
    assert {(controller, name): cgroup_file(nsbox, controller, container_id, name) for controller, name in expected} == expected
    # CFQ's blkio.weight or BFQ's blkio.bfq.weight (this kernel's: it prints "default 300"); on v2
    # io.bfq.weight, or io.weight on its 1..10000 scale (300 is 2930 there)
    blkio = cgroup.v1.get("blkio") or cgroup.unified
    weights = {"blkio.weight": "300", "blkio.bfq.weight": "300", "io.weight": "2930", "io.bfq.weight": "300"}
    weight = next((name for name in weights if blkio and os.path.exists(os.path.join(blkio, name))), None)
    if weight is not None:
        assert cgroup_file(nsbox, "blkio" if cgroup.v1 else "io", container_id, weight).split()[-1] == weights[weight], weight
    host = nsbox.inspect(container_id)["HostConfig"]
    assert (host["Memory"], host["NanoCpus"], host["PidsLimit"]) == (64 << 20, 500_000_000, 42)
    nsbox("rm", "-f", container_id)


@pytest.mark.v2_lane
def test_device_throttles(nsbox):
    import stat
    devices = [f"/dev/{name}" for name in os.listdir("/dev") if stat.S_ISBLK(os.stat(f"/dev/{name}").st_mode)]
    if not devices:
        pytest.skip("no block device on this host")
    device = sorted(devices)[0]
    numbers = os.stat(device).st_rdev
    container_id = nsbox.out("run", "-d", "--device-read-bps", f"{device}:1mb", "--device-write-iops",
                             f"{device}:100", "busybox", "sleep", "100").strip()
    expected = f"{os.major(numbers)}:{os.minor(numbers)}"
    if container_cgroup(nsbox, container_id).v1:
        assert cgroup_file(nsbox, "blkio", container_id, "blkio.throttle.read_bps_device") == f"{expected} {1 << 20}"
        assert cgroup_file(nsbox, "blkio", container_id, "blkio.throttle.write_iops_device") == f"{expected} 100"
    else:
        assert cgroup_file(nsbox, "io", container_id, "io.max") == f"{expected} rbps={1 << 20} wbps=max riops=max wiops=100"
    nsbox("rm", "-f", container_id)


def ns(nsbox, kind: str, *flags) -> str:
    return run(nsbox, *flags, "busybox", "readlink", f"/proc/self/ns/{kind}").stdout.strip()


def test_namespace_modes(nsbox):
    own = {kind: os.readlink(f"/proc/self/ns/{kind}") for kind in ("net", "pid", "ipc", "uts", "cgroup", "time")}
    assert ns(nsbox, "net") != own["net"]
    assert ns(nsbox, "net", "--network", "host") == own["net"]
    assert ns(nsbox, "pid", "--pid", "host") == own["pid"]
    assert ns(nsbox, "ipc", "--ipc", "host") == own["ipc"]
    assert ns(nsbox, "uts", "--uts", "host") == own["uts"]
    assert ns(nsbox, "cgroup") == own["cgroup"]  # Docker's default on a v1 host
    assert ns(nsbox, "cgroup", "--cgroupns", "private") != own["cgroup"]
    assert ns(nsbox, "time", "--timens") != own["time"]
    # --network none: only the loopback interface; bridge (the default) adds eth0
    interfaces = run(nsbox, "--network", "none", "busybox", "ls", "/sys/class/net").stdout.split()
    assert interfaces == ["lo"]
    assert run(nsbox, "busybox", "ls", "/sys/class/net").stdout.split() == ["eth0", "lo"]
    nsbox("run", "-d", "--name", "first", "busybox", "sleep", "100")
    first_pid = nsbox.state("first")["Pid"]
    for kind, flag in (("net", "--network"), ("pid", "--pid"), ("ipc", "--ipc"), ("uts", "--uts")):
        assert ns(nsbox, kind, flag, "container:first") == os.readlink(f"/proc/{first_pid}/ns/{kind}")
    nsbox("rm", "-f", "first")  # --userns remap: tests/security/test_userns.py


def test_runc_as_the_runtime(nsbox):
    import shutil
    if not shutil.which("runc"):
        pytest.skip("runc is not installed")
    result = run(nsbox, "--runtime", "runc", "busybox", "sh", "-c", "echo $$; exit 4")
    assert (result.returncode, result.stdout) == (4, "1\n")
    container_id = nsbox.out("run", "-d", "--runtime", "runc", "busybox", "sleep", "100").strip()
    assert runtimes_holding(nsbox, container_id) == {"runc"}
    assert nsbox.out("exec", container_id, "cat", "/proc/1/cmdline").startswith("sleep")
    nsbox("rm", "-f", container_id)
