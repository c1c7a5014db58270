"""Absurd numbers, deep JSON and host-escaping values in config.json: refused before
anything is created, in one line that names the field, never a Python exception name
(issue 11, cases 6-9)."""
from __future__ import annotations

import json
import os

import pytest

PYTHON_NAMES = ("Traceback", "Error:", "OverflowError", "RecursionError", "ValueError", "[Errno")


def one_clean_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert not any(name in stderr for name in PYTHON_NAMES), stderr
    return lines[0]


def set_path(path: str, value):
    """An edit that sets spec[a][b]... = value, making objects on the way."""
    keys = path.split(".")

    def edit(spec):
        target = spec
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        target[keys[-1]] = value
    return edit


def add_namespace(kind: str, path: str):
    def edit(spec):
        spec["linux"]["namespaces"] = [ns for ns in spec["linux"]["namespaces"] if ns["type"] != kind]
        spec["linux"]["namespaces"].append({"type": kind, "path": path})
    return edit


@pytest.mark.parametrize("edit, field, words", [
    # numbers beyond what the kernel (or a C long) holds: refused, never wrapped modulo 2^64
    (set_path("linux.resources.memory", {"limit": 2 ** 80}), "linux.resources.memory.limit", "at most"),
    (set_path("linux.resources.memory", {"limit": 2 ** 64}), "linux.resources.memory.limit", "at most"),
    (set_path("linux.resources.memory", {"limit": 2 ** 63}), "linux.resources.memory.limit", "at most"),
    (set_path("linux.resources.pids", {"limit": 2 ** 64 + 100}), "linux.resources.pids.limit", "at most"),
    (set_path("process.user.uid", 2 ** 64), "process.user.uid", "at most 4294967294"),
    (set_path("process.user.gid", 2 ** 32 - 1), "process.user.gid", "at most 4294967294"),
    (set_path("process.rlimits", [{"type": "RLIMIT_NOFILE", "soft": 2 ** 80, "hard": 2 ** 80}]),
     "process.rlimits[0].soft", "at most 18446744073709551615"),
    (set_path("process.oomScoreAdj", 2 ** 63), "process.oomScoreAdj", "at most"),
    # the host's own root, however it is spelled
    (set_path("root.path", "../" * 40), "root.path", "host's root"),
    (set_path("root.path", "/"), "root.path", "host's root"),
    # faults that used to be found only after the fork
    (add_namespace("network", "/proc/999999/ns/net"), "linux.namespaces[5].path", "No such file"),
    (add_namespace("network", f"/proc/{os.getpid()}/ns/uts"), "linux.namespaces[5].path", "not a network namespace"),
    (set_path("hostname", "h" * 300), "hostname", "at most 64"),
    (set_path("process.capabilities.bounding", ["CAP_CHOWN", "CAP_BOGUS"]),
     "process.capabilities.bounding[1]", "unknown capability"),
    (set_path("process.env", ["PATH=/bin", "BIG=" + "x" * (10 << 20)]), "process.env[1]", "at most"),
    (set_path("process.args", ["true"] + ["y" * 100_000] * 30), "process.env", "ARG_MAX"),
])
def test_refused_by_field_before_anything_is_made(make_bundle, runtime, edit, field, words):
    result = runtime("run", "--bundle", make_bundle(["true"], edit), "hostile")
    assert result.returncode == 125, result.stderr
    line = one_clean_line(result.stderr)
    assert field in line and words in line, line
    assert runtime("list", "-q").stdout == ""


def test_config_nested_100000_levels(runtime, tmp_path):
    (tmp_path / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    result = runtime("create", "--bundle", str(tmp_path), "deep")
    assert result.returncode == 125
    line = one_clean_line(result.stderr)
    assert "config.json" in line and "nested too deeply" in line, line


def test_rlimit_infinity_is_unlimited(run_container):
    """2^64-1 is RLIM_INFINITY: accepted, and the process sees "unlimited" (Python's resource
    module overflowed on it)."""
    result = run_container(["sh", "-c", "ulimit -c"], set_path("process.rlimits", [
        {"type": "RLIMIT_CORE", "soft": 2 ** 64 - 1, "hard": 2 ** 64 - 1}]))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "unlimited"


def test_debug_prints_the_traceback(make_bundle, runtime):
    bundle = make_bundle(["true"], set_path("process.user.uid", 2 ** 64))
    result = runtime("--debug", "run", "--bundle", bundle, "debugged")
    assert result.returncode == 125
    assert "Traceback" in result.stderr and "process.user.uid" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize("damage", [b"", b"{\"pid\": 12", b"[1]", b"\xff\xfe"])
def test_damaged_state_is_listed_and_delete_force_removes_it(make_bundle, runtime, damage):
    """A torn state.json breaks neither `list` nor the other containers; `delete --force`
    removes the record and says what it could not do."""
    runtime("create", "--bundle", make_bundle(["sleep", "30"]), "whole", check=True)
    runtime("create", "--bundle", make_bundle(["sleep", "30"]), "torn", check=True)
    with open(os.path.join(runtime.root, "torn", "state.json"), "rb") as state:
        kept = json.loads(state.read())
    with open(os.path.join(runtime.root, "torn", "state.json"), "wb") as state:
        state.write(damage)
    listing = runtime("list")
    assert listing.returncode == 0, listing.stderr
    rows = {line.split()[0]: line.split()[2] for line in listing.stdout.splitlines()[1:]}
    assert rows == {"whole": "created", "torn": "damaged"}
    state = runtime("state", "torn")
    assert state.returncode == 125 and "damaged" in one_clean_line(state.stderr)
    deleted = runtime("delete", "--force", "torn")
    assert "damaged" in one_clean_line(deleted.stderr)
    assert runtime("list", "-q").stdout == "whole\n"
    runtime("delete", "--force", "whole", check=True)
    # what it said it could not find, the test (which kept the state) cleans
    from nsbox.cgroups import Cgroup
    cgroup = Cgroup.from_state(kept["cgroup"])
    cgroup.kill(9)
    cgroup.remove()
