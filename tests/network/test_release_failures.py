"""A CNI DEL that fails is not forgotten: the container keeps its network in its record,
`rm` names the plugin that failed and keeps the container, and a later `rm` (the plugin
mended) releases everything. The failing plugin is a real CNI plugin of the test's own,
added to a user network's config list as a user may add theirs."""
from __future__ import annotations

import json
import os

REFUSING_PLUGIN = """#!/usr/bin/python3
import json, os, sys
config = json.load(sys.stdin)
command = os.environ["CNI_COMMAND"]
if command == "DEL" and os.path.exists(sys.argv[0] + ".refuse"):
    print(json.dumps({"cniVersion": config["cniVersion"], "code": 11, "msg": "the test's plugin refuses DEL"}))
    sys.exit(1)
if command == "ADD":
    print(json.dumps(config["prevResult"]))
elif command == "VERSION":
    print(json.dumps({"cniVersion": "1.0.0", "supportedVersions": ["1.0.0"]}))
"""


def test_a_failed_del_keeps_the_network_until_a_later_rm_releases_it(nsbox, tmp_path):
    plugins = tmp_path / "cni"
    plugins.mkdir()
    plugin = plugins / "refuse-del"
    plugin.write_text(REFUSING_PLUGIN)
    plugin.chmod(0o755)
    env = dict(os.environ, NSBOX_CNI_PATH=f"{plugins}:/usr/lib/cni")
    nsbox("network", "create", "fragile", env=env)
    path = os.path.join(nsbox.root, "networks", "fragile.conflist")
    conflist = json.load(open(path))
    conflist["plugins"].append({"type": "refuse-del"})
    with open(path, "w") as out:
        json.dump(conflist, out)
    (plugins / "refuse-del.refuse").touch()

    assert nsbox("run", "--name", "kept", "--network", "fragile", "busybox", "true", env=env).returncode == 0
    # the container ended and its DEL failed: the record still holds the network
    assert nsbox.inspect("kept")["NetworkSettings"]["SandboxKey"]

    refused = nsbox("rm", "kept", check=False, env=env)
    assert refused.returncode == 125
    assert "refuse-del" in refused.stderr and "the test's plugin refuses DEL" in refused.stderr
    assert "rm -f" in refused.stderr  # what to do once it is mended
    assert nsbox.out("ps", "-a", "-q", "--no-trunc").split() == [nsbox.inspect("kept")["Id"]]

    (plugins / "refuse-del.refuse").unlink()
    nsbox("rm", "-f", "kept", env=env)
    assert nsbox.out("ps", "-a", "-q") == ""
    nsbox("network", "rm", "fragile", env=env)
