"""OCI hooks: each at the moment the spec names, with the container state on stdin."""
from __future__ import annotations

import json
import os
import stat

from tests.runtime.conftest import state_of

HOOK = """#!/bin/sh
state=$(cat)
echo "$1 $state" >> {log}
echo "$1 netns=$(readlink /proc/self/ns/net) root=$(ls -di / | cut -d' ' -f1)" >> {log}.where
exit {code}
"""


def write_hook(tmp_path, name, log, code=0):
    path = tmp_path / name
    path.write_text(HOOK.format(log=log, code=code))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def hooks_config(hook, kinds, timeout=None):
    config = {}
    for kind in kinds:
        entry = {"path": hook, "args": ["hook", kind]}
        if timeout:
            entry["timeout"] = timeout
        config[kind] = [entry]
    return config


KINDS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]


def read_log(log):
    entries = []
    for line in open(log):
        kind, _, state = line.partition(" ")
        entries.append((kind, json.loads(state)))
    return entries


def test_hooks_run_in_order_with_the_state(make_bundle, runtime, tmp_path):
    log = tmp_path / "hooks.log"
    hook = write_hook(tmp_path, "hook.sh", log)

    def edit(spec):
        spec["hooks"] = hooks_config(hook, KINDS)
        spec["annotations"] = {"org.test": "yes"}
        # startContainer's path resolves inside the container: bind the hook's directory there.
        spec["mounts"].append({"destination": str(tmp_path), "type": "bind", "source": str(tmp_path),
                               "options": ["rbind"]})
    bundle = make_bundle(["sleep", "100"], edit, copy_rootfs=True)
    runtime("create", "--bundle", bundle, "hooked", check=True)
    pid = state_of(runtime, "hooked")["pid"]
    assert [kind for kind, _ in read_log(log)] == ["prestart", "createRuntime", "createContainer"]
    runtime("start", "hooked", check=True)
    assert [kind for kind, _ in read_log(log)][3:] == ["startContainer", "poststart"]
    runtime("delete", "--force", "hooked", check=True)
    entries = read_log(log)
    assert [kind for kind, _ in entries] == KINDS
    by_kind = dict(entries)
    for kind in ("prestart", "createRuntime", "poststart"):
        assert by_kind[kind]["id"] == "hooked" and by_kind[kind]["pid"] == pid
        assert by_kind[kind]["bundle"] == bundle and by_kind[kind]["annotations"] == {"org.test": "yes"}
    assert by_kind["prestart"]["status"] == "creating"
    assert by_kind["poststart"]["status"] == "running"
    assert by_kind["poststop"]["status"] == "stopped"
    # createRuntime runs in the runtime's namespaces; createContainer and startContainer in the container's.
    where = dict(line.split(" ", 1) for line in open(f"{log}.where").read().splitlines())
    host_net = os.readlink("/proc/self/ns/net")
    assert f"netns={host_net}" in where["createRuntime"] and f"netns={host_net}" in where["poststop"]
    assert f"netns={host_net}" not in where["createContainer"]
    assert f"netns={host_net}" not in where["startContainer"]


def test_failing_create_hook_fails_create_and_leaves_nothing(make_bundle, runtime, tmp_path):
    log = tmp_path / "hooks.log"
    hook = write_hook(tmp_path, "fail.sh", log, code=3)

    def edit(spec):
        spec["hooks"] = hooks_config(hook, ["createRuntime"])
    result = runtime("create", "--bundle", make_bundle(["sleep", "100"], edit), "badhook")
    assert result.returncode != 0
    assert "createRuntime hook 0" in result.stderr and "exited 3" in result.stderr
    assert runtime("list", "-q").stdout == ""


def test_failing_poststop_hook_warns_and_the_rest_still_run(make_bundle, runtime, tmp_path):
    log = tmp_path / "hooks.log"
    bad = write_hook(tmp_path, "bad.sh", log, code=1)
    good = write_hook(tmp_path, "good.sh", log)

    def edit(spec):
        spec["hooks"] = {"poststop": [{"path": bad, "args": ["bad", "first"]},
                                      {"path": good, "args": ["good", "second"]}]}
    runtime("create", "--bundle", make_bundle(["true"], edit), "poststop", check=True)
    result = runtime("delete", "poststop")
    assert result.returncode == 0
    assert "warning" in result.stderr and "poststop hook 0" in result.stderr
    assert [kind for kind, _ in read_log(log)] == ["first", "second"]


def test_poststart_and_poststop_hooks_are_the_ones_create_saw(make_bundle, runtime, tmp_path):
    """start and delete run the hooks kept in the record: config.json, changed or gone after
    create, is not read again (as runc, which keeps the config it created from)."""
    log = tmp_path / "hooks.log"
    hook = write_hook(tmp_path, "hook.sh", log)

    def edit(spec):
        spec["hooks"] = hooks_config(hook, ["poststart", "poststop"])
    bundle = make_bundle(["true"], edit)
    runtime("create", "--bundle", bundle, "kept", check=True)
    os.rename(os.path.join(bundle, "config.json"), os.path.join(bundle, "config.json.gone"))
    runtime("start", "kept", check=True)
    runtime("delete", "--force", "kept", check=True)
    assert [kind for kind, _ in read_log(log)] == ["poststart", "poststop"]


def test_hook_timeout_kills_it(make_bundle, runtime, tmp_path):
    hook = tmp_path / "slow.sh"
    hook.write_text("#!/bin/sh\nsleep 30\n")
    hook.chmod(0o755)

    def edit(spec):
        spec["hooks"] = {"createRuntime": [{"path": str(hook), "timeout": 1}]}
    result = runtime("create", "--bundle", make_bundle(["true"], edit), "slow")
    assert result.returncode != 0 and "timed out after 1 s" in result.stderr
