"""`nsbox network rm/prune/disconnect/inspect` as Docker's: rm by name or ID, going on after a
failure, -f for a network that does not exist; prune's filters (until, label, label!);
disconnect -f; inspect by ID."""
from __future__ import annotations

import json
import time


def _id(nsbox, name: str) -> str:
    return json.loads(nsbox.out("network", "inspect", name))[0]["Id"]


def test_network_rm_by_name_or_id_goes_on_and_force_skips_the_missing(nsbox):
    nsbox("network", "create", "first")
    nsbox("network", "create", "second")
    second = _id(nsbox, "second")
    assert json.loads(nsbox.out("network", "inspect", second[:6]))[0]["Name"] == "second"
    modes = json.loads(nsbox.out("network", "inspect", "host", "none"))  # as Docker shows its builtins
    assert [(m["Name"], m["Driver"]) for m in modes] == [("host", "host"), ("none", "null")]
    result = nsbox("network", "rm", "nosuch", "first", check=False)
    assert result.returncode == 125 and "no such network: 'nosuch'" in result.stderr and result.stdout == "first\n"
    result = nsbox("network", "rm", "-f", "nosuch", second[:8], check=False)
    assert result.returncode == 0 and result.stderr == "" and result.stdout == second[:8] + "\n"
    assert nsbox.out("network", "ls", "--filter", "type=custom", "-q") == ""
    host = nsbox("network", "rm", "-f", "host", check=False)
    assert host.returncode == 125 and "pre-defined" in host.stderr


def test_network_prune_takes_dockers_filters(nsbox):
    nsbox("network", "create", "--label", "keep=yes", "kept")
    nsbox("network", "create", "--label", "tier=x", "tiered")
    nsbox("network", "create", "plain")
    for filter_, words in (("colour=red", "unknown prune filter 'colour'"), ("until=soon", "until=soon: use")):
        refused = nsbox("network", "prune", "--filter", filter_, check=False)
        assert refused.returncode == 125 and words in refused.stderr, refused.stderr
    assert nsbox.out("network", "prune", "-f", "--filter", "until=1h") == ""  # all made just now
    assert nsbox.out("network", "prune", "--filter", "label=tier=x") == "Deleted network tiered\n"
    later = str(int(time.time()) + 100)
    assert nsbox.out("network", "prune", "--filter", "label!=keep", "--filter", f"until={later}") == \
        "Deleted network plain\n"
    assert nsbox.out("network", "ls", "--filter", "type=custom", "--format", "{{.Name}}") == "kept\n"
    nsbox("network", "rm", "kept")


def test_network_disconnect_force(nsbox):
    nsbox("network", "create", "leaving")
    nsbox("create", "--name", "member", "--network", "leaving", "busybox", "true")
    assert json.loads(nsbox.out("network", "inspect", "leaving"))[0]["Containers"] == ["member"]
    nsbox("network", "disconnect", "leaving", "member")
    assert json.loads(nsbox.out("network", "inspect", "leaving"))[0]["Containers"] == []
    again = nsbox("network", "disconnect", "leaving", "member", check=False)
    assert again.returncode == 125 and "not connected" in again.stderr
    nsbox("network", "disconnect", "-f", "leaving", "member")
    nsbox("rm", "member")
    gone = nsbox("network", "disconnect", "leaving", "member", check=False)
    assert gone.returncode == 1 and "member" in gone.stderr
    nsbox("network", "disconnect", "--force", "leaving", "member")
    nsbox("network", "rm", "leaving")
