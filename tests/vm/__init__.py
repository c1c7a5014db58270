"""The cgroup v2 lane: the tests that need a real cgroup v2 kernel, run in a QEMU guest.

    python -m tests.vm [PYTEST ARGS]     (default: -m "cgroup_v2 or v2_lane")

Mark a test cgroup_v2 when it needs real cgroup v2 (it is skipped elsewhere), v2_lane
when it runs anywhere and should also run on v2 (runtime and engine tests that touch
cgroups).

See tests/vm/README.md.
"""
from __future__ import annotations


class LaneError(Exception):
    """The lane could not be prepared or the guest did not report a result."""
