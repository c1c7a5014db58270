"""The CLI's error edge, as Docker's (issue 11, cases 6 and 13): one line per error and no
Python exception name, exit 1 for "No such container" outside run/create, 125 for nsbox's
own failures around run/create, `rm -f` of a missing container exits 0, an unknown flag
prints one line and a hint, and numbers are refused where they are parsed, never wrapped."""
from __future__ import annotations

import pytest

PYTHON_NAMES = ("Traceback", "OverflowError", "RecursionError", "ValueError", "Error:", "[Errno")


def clean(stderr: str) -> list[str]:
    assert not any(name in stderr for name in PYTHON_NAMES), stderr
    return stderr.splitlines()


@pytest.mark.parametrize("command", [
    ["exec", "nosuch", "true"], ["logs", "nosuch"], ["rm", "nosuch"], ["stop", "nosuch"], ["inspect", "nosuch"],
    ["kill", "nosuch"], ["start", "nosuch"], ["wait", "nosuch"], ["top", "nosuch"], ["pause", "nosuch"],
])
def test_no_such_container_exits_1_with_dockers_line(nsbox, command):
    result = nsbox(*command, check=False)
    assert result.returncode == 1, result.stderr
    kind = "object" if command[0] == "inspect" else "container"  # (docker inspect looks at every kind)
    assert result.stderr == f"nsbox: No such {kind}: nosuch\n"


def test_rm_force_of_a_missing_container_reports_and_exits_0(nsbox):
    kept = nsbox.out("create", "--name", "kept", "busybox", "true").strip()
    result = nsbox("rm", "-f", "nosuch", "kept", check=False)
    assert result.returncode == 0 and result.stdout == "kept\n"
    assert result.stderr == "nsbox: No such container: nosuch\n"
    assert nsbox.out("ps", "-a", "-q") == "" and kept
    assert nsbox("rm", "nosuch", "alsonot", check=False).returncode == 1


def test_stop_goes_on_after_a_missing_one(nsbox):
    nsbox("run", "-d", "--name", "sleeper", "busybox", "sleep", "60")
    result = nsbox("stop", "-t", "0", "nosuch", "sleeper", check=False)
    assert result.returncode == 1 and result.stdout == "sleeper\n"
    assert nsbox.state("sleeper")["Status"] == "exited"


@pytest.mark.parametrize("command", [["run", "--bogus", "busybox", "true"], ["ps", "--bogus"],
                                     ["rm", "-Z", "x"]])
def test_unknown_flag_is_one_line_and_a_hint(nsbox, command):
    result = nsbox(*command, check=False)
    assert result.returncode == 125
    flag = command[1]
    assert clean(result.stderr) == [f"nsbox: unknown flag: {flag}", f"See 'nsbox {command[0]} --help'."]


@pytest.mark.parametrize("args, flag", [
    (["-m", "18446744073814409216"], "--memory"),  # 2^64 + 100 MiB: used to set a 100 MiB limit
    (["-m", "99999999999999999999g"], "--memory"),
    (["-m", "9223372036854775808"], "--memory"),  # 2^63
    (["-m", "nan"], "--memory"),
    (["--memory-reservation", "1208925819614629174706176"], "--memory-reservation"),  # 2^80
    (["--ulimit", "nofile=99999999999999999999"], "--ulimit"),
    (["--pids-limit", str(2 ** 64)], "--pids-limit"),
    (["--stop-timeout", str(2 ** 63)], "--stop-timeout"),
    (["-v", ":/data"], "--volume"),
])
def test_bad_values_refused_by_flag_and_nothing_made(nsbox, args, flag):
    result = nsbox("run", *args, "busybox", "true", check=False)
    assert result.returncode == 125, result.stderr
    lines = clean(result.stderr)
    assert flag in lines[0], lines
    assert nsbox.out("ps", "-a", "-q") == ""


def test_stop_time_out_of_range(nsbox):
    nsbox("create", "--name", "made", "busybox", "true")
    result = nsbox("stop", "-t", str(2 ** 64), "made", check=False)
    assert result.returncode == 125 and "--time" in clean(result.stderr)[0]


def test_run_failures_exit_125_and_debug_shows_the_traceback(nsbox):
    missing = nsbox("run", "--rootfs", "/no/such/dir", "true", check=False)
    assert missing.returncode == 125 and len(clean(missing.stderr)) == 1
    other = nsbox("run", "--network", "container:nosuch", "busybox", "true", check=False)
    assert other.returncode == 125 and "No such container: nosuch" in other.stderr
    debug = nsbox("--debug", "inspect", "nosuch", check=False)
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    assert debug.stderr.splitlines()[-1] == "nsbox: No such object: nosuch"
