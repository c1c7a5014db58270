"""The engine raises nsbox's shared error classes, which name what was wrong; the CLI
prints the same errors."""
from __future__ import annotations

import os

import pytest

from nsbox import errors
from nsbox.engine.containers import Engine


def test_missing_image_is_image_not_found(root):
    with pytest.raises(errors.ImageNotFound, match="'nosuchimage' is not in the store") as caught:
        Engine(root).create({"image": "nosuchimage", "command": ["true"]})
    assert isinstance(caught.value, errors.NotFound)


def test_missing_container_is_container_not_found(root):
    with pytest.raises(errors.ContainerNotFound, match="No such container: ghost"):
        Engine(root).get("ghost")


def test_taken_name_is_name_in_use(root):
    engine = Engine(root)
    first = engine.create({"image": "busybox", "command": ["true"], "name": "taken"})
    try:
        with pytest.raises(errors.NameInUse, match="'taken' is already in use") as caught:
            engine.create({"image": "busybox", "command": ["true"], "name": "taken"})
        assert isinstance(caught.value, errors.AlreadyExists)
    finally:
        engine.remove(first["Id"], force=True)


def test_bad_option_is_invalid_option_naming_it(root):
    with pytest.raises(errors.InvalidOption) as caught:
        Engine(root).create({"image": "busybox", "command": ["true"], "memory": "1k"})
    assert caught.value.option == "--memory" and "minimum memory limit is 6m" in caught.value.reason
    assert isinstance(caught.value, errors.ConfigError)


def test_limit_the_host_cannot_enforce_is_limit_unsupported():
    """This host mounts no net_cls controller (and cgroup v2 has none): a class ID is refused
    before anything is made."""
    from nsbox.cgroups import open_cgroup
    from tests import leaks
    from tests.conftest import CGROUP_PARENT
    if os.path.exists(os.path.join(leaks.CGROUP_ROOT, "net_cls")):
        pytest.skip("this host mounts net_cls")
    cgroup = open_cgroup(f"{CGROUP_PARENT}/unsupported-{os.getpid()}", "unsupported")
    with pytest.raises(errors.LimitUnsupported) as caught:
        cgroup.apply({"network": {"classID": 1048577}})
    assert caught.value.limit == "linux.resources.network.classID"
    assert "no net_cls controller" in caught.value.reason
    assert isinstance(caught.value, errors.CgroupError)
