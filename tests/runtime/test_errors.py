"""Bad input: the error names the field and the rule; nothing is left behind."""
from __future__ import annotations

import json
import os

import pytest


@pytest.mark.parametrize("edit, field, words", [
    (lambda s: s["process"].__setitem__("args", []), "process.args", "empty"),
    (lambda s: s["process"].__setitem__("cwd", "relative"), "process.cwd", "absolute"),
    (lambda s: s["process"]["user"].__setitem__("uid", "root"), "process.user.uid", "integer"),
    (lambda s: s["linux"]["namespaces"].append({"type": "pid"}), "linux.namespaces[6].type", "twice"),
    (lambda s: s["linux"]["namespaces"].append({"type": "bogus"}), "linux.namespaces[6].type", "unknown"),
    (lambda s: s["linux"].__setitem__("namespaces", [{"type": "pid"}]), "linux.namespaces", "mount namespace"),
    (lambda s: s["linux"]["namespaces"].append({"type": "user"}), "linux.uidMappings", "uidMappings"),
    (lambda s: s.__setitem__("ociVersion", "2.0.0"), "ociVersion", "1.x"),
    (lambda s: s["process"].__setitem__("rlimits", [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]),
     "process.rlimits[0].type", "unknown rlimit"),
    (lambda s: s["linux"].__setitem__("seccomp", {"defaultAction": "SCMP_ACT_NOPE"}), "linux.seccomp.defaultAction",
     "unknown action"),
    (lambda s: s["mounts"].append({"destination": "/x", "type": "bind", "source": "/no/such/dir", "options": ["bind"]}),
     "mounts[7]", "does not exist"),
    (lambda s: s["root"].__setitem__("path", "/no/such/rootfs"), "root.path", "not a directory"),
    (lambda s: s["process"].__setitem__("terminal", True), "process.terminal", "--console-socket"),
])
def test_bad_config_names_the_field_and_leaves_nothing(make_bundle, runtime, edit, field, words):
    result = runtime("create", "--bundle", make_bundle(["true"], edit), "bad")
    assert result.returncode == 125, result.stderr
    assert field in result.stderr and words in result.stderr, result.stderr
    assert runtime("list", "-q").stdout == ""


def test_invalid_json(runtime, tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    result = runtime("create", "--bundle", str(tmp_path), "badjson")
    assert result.returncode == 125 and "config.json" in result.stderr and "not valid JSON" in result.stderr


def test_missing_config(runtime, tmp_path):
    result = runtime("create", "--bundle", str(tmp_path), "noconfig")
    assert result.returncode == 125 and "config.json does not exist" in result.stderr


def test_unknown_container_and_bad_id(runtime):
    result = runtime("state", "nobody")
    assert result.returncode == 125 and "'nobody' does not exist" in result.stderr
    result = runtime("state", "../etc")
    assert result.returncode == 125 and "not valid" in result.stderr


def test_usage_errors(runtime):
    assert "unknown command" in runtime("frobnicate").stderr
    bogus = runtime("create", "--bogus", "x").stderr
    assert "unknown flag: --bogus" in bogus and "nsbox-runtime create --help" in bogus and len(bogus.splitlines()) == 1
    result = runtime("--systemd-cgroup", "list")
    assert result.returncode == 125 and "systemd" in result.stderr


def test_log_file_in_json(runtime, tmp_path):
    log = tmp_path / "runtime.log"
    runtime("--log", str(log), "--log-format", "json", "state", "ghost")
    entry = json.loads(log.read_text().splitlines()[-1])
    assert entry["level"] == "error" and "ghost" in entry["msg"] and entry["time"]


@pytest.mark.v2_lane  # touches cgroups: run again on real cgroup v2
def test_failure_after_the_init_started_leaves_no_process_or_cgroup(make_bundle, runtime):
    # A mount that fails inside the init, after namespaces and the cgroup exist.
    def edit(spec):
        spec["mounts"].append({"destination": "/proc/sys/bad", "type": "nosuchfs", "source": "none"})
    result = runtime("create", "--bundle", make_bundle(["true"], edit), "halfway")
    assert result.returncode == 125
    assert "mounts[7]" in result.stderr and "nosuchfs" in result.stderr
    assert not os.path.exists(os.path.join(runtime.root, "halfway"))
