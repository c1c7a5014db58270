"""cgroup v2 controllers: which are enabled for a cgroup, enabling them down the tree under
the no-internal-processes rule, and why one is not (delegation)."""
from __future__ import annotations

import os

from nsbox.cgroups.interface_files import read_or, write


def controllers(directory: str) -> set[str]:
    """The controllers enabled for `directory` (its cgroup.controllers)."""
    return _tokens(read_or(os.path.join(directory, "cgroup.controllers")))


def enable(mount_point: str, directory: str, wanted: set[str]) -> set[str]:
    """Enable `wanted` controllers for `directory` in every cgroup.subtree_control from the top down.

    A cgroup with processes may not give controllers to its children, so such a cgroup is
    left alone: returns the controllers that could not be enabled. The kernel exempts the
    root, but the root belongs to the host (systemd sets it up), so nsbox leaves it alone too.
    """
    relative = os.path.relpath(directory, mount_point)
    parts = [] if relative == "." else relative.split("/")
    current = mount_point
    handed_down = set(wanted) & _tokens(read_or(os.path.join(mount_point, "cgroup.controllers")))
    for part in parts:
        needed = handed_down - _tokens(read_or(os.path.join(current, "cgroup.subtree_control")))
        if needed and (current == mount_point or (read_or(os.path.join(current, "cgroup.procs"), "") or "").strip()):
            handed_down -= needed
        elif needed:
            handed_down -= _enable_here(current, needed)
        current = os.path.join(current, part)
    return set(wanted) - handed_down


def _enable_here(directory: str, controllers: set[str]) -> set[str]:
    """Enable `controllers` in one cgroup.subtree_control; returns those the kernel refused."""
    control = os.path.join(directory, "cgroup.subtree_control")
    try:
        write(control, " ".join(f"+{name}" for name in sorted(controllers)))
        return set()
    except OSError:
        pass
    refused = set()
    for name in controllers:  # one by one, to keep the ones the kernel accepts
        try:
            write(control, f"+{name}")
        except OSError:
            refused.add(name)
    return refused


def delegation_hint(mount_point: str, directory: str, controller: str) -> str:
    """Why `controller` is not enabled for `directory`: the first ancestor that does not hand it down."""
    if controller not in _tokens(read_or(os.path.join(mount_point, "cgroup.controllers"))):
        return f"this host's cgroup v2 hierarchy has no {controller} controller"
    current = os.path.dirname(directory)
    chain = []
    while current.startswith(mount_point):
        chain.append(current)
        if current == mount_point:
            break
        current = os.path.dirname(current)
    for ancestor in reversed(chain):
        if controller not in _tokens(read_or(os.path.join(ancestor, "cgroup.subtree_control"))):
            if ancestor == mount_point:
                return (f"the host's root cgroup does not enable {controller} for its children, and nsbox leaves "
                        f"the root to the host (enable it with: echo +{controller} > "
                        f"{os.path.join(mount_point, 'cgroup.subtree_control')})")
            where = "/" + os.path.relpath(ancestor, mount_point)
            return (f"the {controller} controller is not delegated: {where} does not enable it in "
                    "cgroup.subtree_control and holds processes (cgroup v2's no-internal-processes rule); "
                    "run nsbox from a cgroup with delegated controllers and no processes of its own beside "
                    "its children, or use an absolute linux.cgroupsPath")
    return f"the {controller} controller is not enabled for {directory}"


def _tokens(text: str | None) -> set[str]:
    return {token.lstrip("+") for token in (text or "").split()}
