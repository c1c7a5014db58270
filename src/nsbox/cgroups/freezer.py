"""Freezing and thawing every process of a cgroup: v1's freezer.state, else v2's cgroup.freeze."""
from __future__ import annotations

import os

from nsbox.cgroups.interface_files import read_keyed, read_or, write
from nsbox.errors import CgroupError


def can_freeze(cgroup) -> bool:
    return "freezer" in cgroup.v1 or cgroup.unified is not None


def frozen(cgroup) -> bool:
    """Is the cgroup frozen, or being frozen (what was asked, not whether every task has stopped)?"""
    if "freezer" in cgroup.v1:
        return (read_or(os.path.join(cgroup.v1["freezer"], "freezer.state"), "") or "").strip() == "FROZEN"
    if cgroup.unified is not None:
        return (read_or(os.path.join(cgroup.unified, "cgroup.freeze"), "0") or "0").strip() == "1"
    return False


def settled(cgroup, want_frozen: bool) -> bool:
    """Has the kernel finished freezing (every task stopped) or thawing?"""
    if "freezer" in cgroup.v1:
        return frozen(cgroup) == want_frozen
    return (read_keyed(os.path.join(cgroup.unified, "cgroup.events")).get("frozen", 0) == 1) == want_frozen


def set_frozen(cgroup, want_frozen: bool) -> None:
    """Freeze or thaw, and wait until the kernel has done it (at most 10 s)."""
    import time
    if not can_freeze(cgroup):
        raise CgroupError("this host has no cgroup freezer (no v1 freezer controller, no cgroup v2)")
    if "freezer" in cgroup.v1:
        path, value = os.path.join(cgroup.v1["freezer"], "freezer.state"), ("FROZEN" if want_frozen else "THAWED")
    else:
        path, value = os.path.join(cgroup.unified, "cgroup.freeze"), ("1" if want_frozen else "0")
    verb = "freeze" if want_frozen else "thaw"
    deadline = time.monotonic() + 10
    delay = 0.0005
    try:
        while True:
            write(path, value)  # v1 can stay in FREEZING while tasks fork: writing again retries
            if settled(cgroup, want_frozen):
                return
            if time.monotonic() > deadline:
                break
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        if want_frozen:
            write(path, "THAWED" if "freezer" in cgroup.v1 else "0")
    except OSError as error:
        raise CgroupError(f"cannot {verb} cgroup {cgroup.path}: {error}") from None
    raise CgroupError(f"cgroup {cgroup.path} did not {verb} within 10 s")
