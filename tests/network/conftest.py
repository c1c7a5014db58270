"""Fixtures of the network tests: the engine tests' nsbox root (a busybox image, every
container removed after the test)."""
from __future__ import annotations

from tests.engine.conftest import busybox_tar, nsbox  # noqa: F401 - fixtures used by these tests
