"""Fixtures of the network tests: the engine tests' nsbox root (a busybox image, every
container removed after the test), and a check that no network's firewall chains outlive it."""
from __future__ import annotations

import pytest

from tests import leaks
from tests.engine.conftest import busybox_tar, nsbox  # noqa: F401 - fixtures used by these tests


@pytest.fixture(autouse=True)
def no_chains_left():
    """Fail the test if a network it removed left its NSBOX-<bridge> chains behind."""
    before = leaks.unclaimed_chains()
    yield
    left = leaks.unclaimed_chains() - before
    if left:
        pytest.fail(f"test left behind firewall chains of removed networks: {sorted(left)}", pytrace=False)


def fetched(url: str) -> str:
    """A shell line that prints `url` once its server answers: a server container runs as
    soon as `run -d` returns, but its program may not listen yet (busy hosts: many ms later)."""
    return f"until wget -qO- {url}; do sleep 0.1; done"
