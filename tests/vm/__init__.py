"""The cgroup v2 lane: the tests that need a real cgroup v2 kernel, run in a QEMU guest.

    python -m tests.vm [PYTEST ARGS]     (default: -m cgroup_v2)

See README.md, "cgroup v2 lane".
"""
from __future__ import annotations


class LaneError(Exception):
    """The lane could not be prepared or the guest did not report a result."""
