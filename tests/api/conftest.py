"""Fixtures of the Python API tests: a per-test nsbox root holding the image "busybox"."""
from __future__ import annotations

import os

import pytest

from tests.engine.conftest import busybox_tar, engine_leftovers  # noqa: F401  (fixture re-used here)


@pytest.fixture
def root(tmp_path, busybox_tar):  # noqa: F811
    """An nsbox root with the image "busybox"; the test must leave no container behind."""
    from nsbox.image.archive import import_rootfs
    path = str(tmp_path / "nsbox-root")
    import_rootfs(path, busybox_tar, "busybox")
    yield path
    from nsbox.engine.containers import Engine
    engine = Engine(path)
    left = [record["Name"] for record in engine.list(include_stopped=True)]
    for record in engine.list(include_stopped=True):
        engine.remove(record["Id"], force=True, volumes=True)
    assert not left, f"the test left containers behind: {left}"
    assert not engine_leftovers(path), f"engine state left behind: {engine_leftovers(path)}"
