"""The process: capabilities, rlimits, user, env, cwd, noNewPrivileges, oomScoreAdj, exit codes."""
from __future__ import annotations

import json
import os
import time

import pytest


def status_field(text: str, name: str) -> str:
    return [line for line in text.splitlines() if line.startswith(name + ":")][0].split()[1]


def test_capabilities_are_exactly_the_configured_sets(run_container):
    def edit(spec):
        spec["process"]["capabilities"] = {
            "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
            "effective": ["CAP_CHOWN", "CAP_KILL"],
            "permitted": ["CAP_CHOWN", "CAP_KILL"],
            "inheritable": ["CAP_KILL"],
            "ambient": ["CAP_KILL"],
        }
        spec["process"]["user"] = {"uid": 1000, "gid": 1000}
    result = run_container(["cat", "/proc/self/status"], edit)
    assert result.returncode == 0, result.stderr
    chown, kill, bind = 1 << 0, 1 << 5, 1 << 10
    # A non-root program keeps across execve only its ambient capabilities (CAP_KILL)
    assert int(status_field(result.stdout, "CapBnd"), 16) == chown | kill | bind
    assert int(status_field(result.stdout, "CapAmb"), 16) == kill
    assert int(status_field(result.stdout, "CapInh"), 16) == kill
    assert int(status_field(result.stdout, "CapEff"), 16) == kill
    assert int(status_field(result.stdout, "CapPrm"), 16) == kill


def test_default_capabilities_for_root(run_container):
    result = run_container(["cat", "/proc/self/status"])
    assert result.returncode == 0, result.stderr
    expected = (1 << 29) | (1 << 5) | (1 << 10)  # AUDIT_WRITE, KILL, NET_BIND_SERVICE
    assert int(status_field(result.stdout, "CapEff"), 16) == expected
    assert int(status_field(result.stdout, "CapBnd"), 16) == expected
    assert status_field(result.stdout, "NoNewPrivs") == "1"


def test_unknown_capability_names_the_field(run_container):
    def edit(spec):
        spec["process"]["capabilities"]["bounding"].append("CAP_FLY")
    result = run_container(["true"], edit)
    assert result.returncode != 0
    assert "process.capabilities.bounding[3]" in result.stderr and "CAP_FLY" in result.stderr


def test_rlimits_show_in_proc_limits(run_container):
    def edit(spec):
        spec["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654},
                                      {"type": "RLIMIT_NPROC", "soft": 77, "hard": 88}]
    result = run_container(["cat", "/proc/self/limits"], edit)
    assert result.returncode == 0, result.stderr
    lines = {line[:26].strip(): line[26:].split() for line in result.stdout.splitlines()[1:]}
    assert lines["Max open files"][:2] == ["321", "654"]
    assert lines["Max processes"][:2] == ["77", "88"]


def test_rlimit_above_the_runtimes_own_hard_limit_is_a_clear_error(run_container, runtime):
    def edit(spec):
        spec["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 10**7, "hard": 10**7}]
    result = run_container(["true"], edit)
    assert result.returncode != 0
    assert "process.rlimits[0]" in result.stderr and "CAP_SYS_RESOURCE" in result.stderr


def test_user_groups_umask_env_and_cwd(run_container):
    def edit(spec):
        spec["process"]["user"] = {"uid": 1234, "gid": 2345, "additionalGids": [3456, 4567], "umask": 0o077}
        spec["process"]["env"] = ["PATH=/bin:/usr/bin", "GREETING=hello world"]
        spec["process"]["cwd"] = "/tmp"
    result = run_container(["sh", "-c", "id -u; id -g; id -G; umask; pwd; echo $GREETING; echo $HOME"], edit)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["1234", "2345", "2345 3456 4567", "0077", "/tmp", "hello world", "/"]


def test_oom_score_adj(run_container):
    def edit(spec):
        spec["process"]["oomScoreAdj"] = 567
    result = run_container(["cat", "/proc/self/oom_score_adj"], edit)
    assert result.stdout.strip() == "567"


def test_no_new_privileges_off(run_container):
    def edit(spec):
        spec["process"]["noNewPrivileges"] = False
    result = run_container(["grep", "NoNewPrivs", "/proc/self/status"], edit)
    assert result.stdout.split() == ["NoNewPrivs:", "0"]


def test_missing_program_exits_127_and_names_it(run_container, runtime):
    result = run_container(["no-such-program", "arg"])
    assert result.returncode == 127
    assert "no-such-program" in result.stderr and "not found" in result.stderr
    assert runtime("list", "-q").stdout == ""


def test_missing_program_by_path_exits_127(run_container):
    result = run_container(["/bin/nothing-here"])
    assert result.returncode == 127 and "/bin/nothing-here" in result.stderr


def test_not_executable_exits_126(run_container):
    result = run_container(["/etc/passwd"])
    assert result.returncode == 126
    assert "/etc/passwd" in result.stderr and "permission denied" in result.stderr


def test_directory_is_not_executable_126(run_container):
    result = run_container(["/tmp"])
    assert result.returncode == 126 and "directory" in result.stderr


def test_sigpipe_has_its_default_action(run_container):
    # Python ignores SIGPIPE; the container's program must not inherit that.
    result = run_container(["sh", "-c", "grep SigIgn /proc/self/status"])
    assert result.returncode == 0
    assert int(result.stdout.split()[1], 16) & (1 << 12) == 0


def test_the_program_starts_with_no_signal_blocked(run_container):
    # create blocks every signal around its forks (fork_without_collecting): none may stay so.
    result = run_container(["sh", "-c", "grep SigBlk /proc/self/status"])
    assert result.returncode == 0 and int(result.stdout.split()[1], 16) == 0


def signal_mask(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line for line in status if line.startswith(field + ":")).split()[1], 16)


def test_a_created_init_runs_none_of_the_runtimes_signal_handlers(make_bundle, runtime):
    """Until start, the init is the runtime's own Python code, forked from a process whose
    interpreter catches SIGINT (KeyboardInterrupt), as an API caller may catch SIGTERM: the
    init must catch none of it. A signal sent to a created container then does to its PID 1
    what it does to the program's: nothing, for a program without a handler (with the
    caller's handler, SIGINT or SIGTERM right after a start ended the container: seen as a
    flaky `kill` after `restart` in tests/api)."""
    from tests.runtime.conftest import state_of
    bundle = make_bundle(["sleep", "100"])
    runtime("create", "--bundle", bundle, "calm", check=True)
    pid = state_of(runtime, "calm")["pid"]
    assert signal_mask(pid, "SigCgt") == 0, "the waiting init catches signals (its caller's handlers)"
    runtime("kill", "calm", "INT", check=True)
    runtime("kill", "calm", "TERM", check=True)
    runtime("start", "calm", check=True)
    deadline = time.monotonic() + 15
    while True:  # the init execs the program soon after start returns
        assert state_of(runtime, "calm")["status"] == "running", "the init ended before it ran the program"
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            if cmdline.read().split(b"\0")[:2] == [b"sleep", b"100"]:
                break
        assert time.monotonic() < deadline, "the init never ran the program"
        time.sleep(0.01)
    runtime("delete", "--force", "calm", check=True)


def run_detached_with_fd3(runtime, bundle, name, *flags):
    """`nsbox-runtime run -d` with an extra open descriptor 3; the container's fds, seen from the host."""
    import subprocess
    subprocess.run(["sh", "-c", 'exec 3</etc/hostname; exec "$@"', "sh", runtime.binary, "--root", runtime.root,
                    "run", "-d", *flags, "--bundle", bundle, name],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30,
                   check=True)
    pid = json.loads(runtime("state", name, check=True).stdout)["pid"]
    fds = {int(fd): os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    runtime("delete", "-f", name, check=True)
    return fds


def test_preserve_fds_passes_extra_descriptors(make_bundle, runtime):
    fds = run_detached_with_fd3(runtime, make_bundle(["sleep", "100"]), "fds", "--preserve-fds", "1")
    assert sorted(fds) == [0, 1, 2, 3] and fds[3] == "/etc/hostname"


def test_without_preserve_fds_extra_descriptors_are_closed(make_bundle, runtime):
    fds = run_detached_with_fd3(runtime, make_bundle(["sleep", "100"]), "nofds")
    assert sorted(fds) == [0, 1, 2]


@pytest.mark.parametrize("domain, machine", [("LINUX32", "i686"), ("LINUX", os.uname().machine)])
def test_personality_domain(run_container, domain, machine):
    if os.uname().machine != "x86_64":
        pytest.skip("the LINUX32 persona shows as i686 on x86_64 only")

    def edit(spec):
        spec["linux"]["personality"] = {"domain": domain}
    result = run_container(["uname", "-m"], edit)
    assert (result.returncode, result.stdout.strip()) == (0, machine), result.stderr


def test_personality_unknown_domain_is_refused_by_field(run_container):
    def edit(spec):
        spec["linux"]["personality"] = {"domain": "SVR4"}
    result = run_container(["true"], edit)
    assert result.returncode == 125
    assert "linux.personality.domain: must be LINUX or LINUX32" in result.stderr


@pytest.mark.parametrize("extra, expected", [((), "1"), (("--no-new-keyring",), "0")])
def test_session_keyring_of_its_own_unless_no_new_keyring(run_container, extra, expected):
    """As runc: the init joins a new session keyring named after the container (shown in
    /proc/keys, unmasked here), and --no-new-keyring keeps the caller's."""
    def edit(spec):
        spec["linux"]["maskedPaths"] = []
    name = f"keyring-{os.getpid()}-{len(extra)}"
    result = run_container(["sh", "-c", f"grep -c ' {name}: ' /proc/keys || true"], edit, name=name, extra=extra)
    assert (result.returncode, result.stdout.strip()) == (0, expected), result.stderr
