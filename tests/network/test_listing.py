"""`nsbox network ls` as Docker's: --filter (name, id, driver, label, type, dangling; values of
one key are alternatives, every key must hold), -q, --no-trunc."""
from __future__ import annotations

import json


def _names(nsbox, *filters: str) -> list[str]:
    return nsbox.out("network", "ls", "--format", "{{.Name}}", *(arg for f in filters for arg in ("--filter", f))).split()


def test_network_ls_filters_by_each_key(nsbox):
    nsbox("network", "create", "--label", "team=a", "alpha")
    nsbox("network", "create", "--label", "team=b", "--label", "tier", "beta")
    nsbox("network", "create", "gamma")
    nsbox("create", "--name", "user", "--network", "alpha", "busybox", "true")
    alpha = json.loads(nsbox.out("network", "inspect", "alpha"))[0]["Id"]
    assert _names(nsbox, "name=alp") == ["alpha"]
    assert _names(nsbox, f"id={alpha[:10]}") == ["alpha"]
    assert _names(nsbox, "driver=null") == ["none"] and _names(nsbox, "driver=host") == ["host"]
    assert _names(nsbox, "label=team") == ["alpha", "beta"]
    assert _names(nsbox, "label=team=b") == ["beta"] and _names(nsbox, "label=tier") == ["beta"]
    assert _names(nsbox, "type=custom") == ["alpha", "beta", "gamma"]
    builtin = _names(nsbox, "type=builtin")
    assert {"host", "none"} <= set(builtin) and not {"alpha", "beta", "gamma"} & set(builtin)
    assert _names(nsbox, "dangling=true") == ["beta", "gamma"]  # alpha has a container; builtins never dangle
    assert "alpha" in _names(nsbox, "dangling=false") and "beta" not in _names(nsbox, "dangling=false")
    assert _names(nsbox, "name=alpha", "name=gamma") == ["alpha", "gamma"]  # one key: alternatives
    assert _names(nsbox, "label=team", "dangling=true") == ["beta"]  # two keys: both hold
    assert nsbox.out("network", "ls", "-q", "--filter", "name=alpha") == alpha[:12] + "\n"
    assert nsbox.out("network", "ls", "-q", "--no-trunc", "--filter", "name=alpha") == alpha + "\n"
    table = nsbox.out("network", "ls", "--filter", "label=team=a").splitlines()
    assert table[0].split()[:2] == ["NETWORK", "ID"] and len(table) == 2 and table[1].split()[:2] == [alpha[:12], "alpha"]
    nsbox("rm", "user")
    assert _names(nsbox, "dangling=true") == ["alpha", "beta", "gamma"]
    nsbox("network", "rm", "alpha", "beta", "gamma")


def test_network_ls_refuses_a_filter_it_does_not_know(nsbox):
    for words, filter_ in (("unknown network filter 'colour'", "colour=red"), ("KEY=VALUE", "name"),
                           ("type=custom or type=builtin", "type=mine"), ("dangling=true or", "dangling=maybe")):
        result = nsbox("network", "ls", "--filter", filter_, check=False)
        assert result.returncode == 125 and words in result.stderr, result.stderr
