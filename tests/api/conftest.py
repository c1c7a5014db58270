"""Fixtures of the Python API tests: a per-test nsbox root holding the image "busybox",
and a Client for it."""
from __future__ import annotations

import os
import threading

import pytest

from tests.engine.conftest import busybox_tar, engine_leftovers  # noqa: F401  (fixtures re-used here)
from tests.image.conftest import registries  # noqa: F401


@pytest.fixture
def root(tmp_path, busybox_tar):  # noqa: F811
    """An nsbox root with the image "busybox"; the test must leave no container, runtime
    state, zombie child or thread behind."""
    from nsbox.image.archive import import_rootfs
    path = str(tmp_path / "nsbox-root")
    import_rootfs(path, busybox_tar, "busybox")
    threads = threading.active_count()
    yield path
    from nsbox.engine.containers import Engine
    engine = Engine(path)
    records = engine.list(include_stopped=True)
    for record in records:
        engine.remove(record["Id"], force=True, volumes=True)
    assert not records, f"the test left containers behind: {[r['Name'] for r in records]}"
    assert not engine_leftovers(path), f"engine state left behind: {engine_leftovers(path)}"
    assert threading.active_count() == threads, f"threads left running: {threading.enumerate()}"
    assert not zombie_children(), f"unreaped children: {zombie_children()}"
    assert not is_subreaper(), "the API left this process a child subreaper"


@pytest.fixture
def client(root):
    import nsbox
    return nsbox.Client(root)


def is_subreaper() -> bool:
    import ctypes
    flag = ctypes.c_int(0)
    ctypes.CDLL(None, use_errno=True).prctl(37, ctypes.byref(flag), 0, 0, 0)  # PR_GET_CHILD_SUBREAPER
    return bool(flag.value)


def zombie_children() -> list[int]:
    """This process's children that exited and were never waited for."""
    found = []
    me = str(os.getpid())
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me and fields[0] == "Z":
            found.append(int(name))
    return found

