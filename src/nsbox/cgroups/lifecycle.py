"""A cgroup's directories: made in every hierarchy (cpuset filled in), joined, removed."""
from __future__ import annotations

import os

from nsbox.cgroups import host
from nsbox.errors import CgroupError


def create(cgroup) -> None:
    """Make the directory in every hierarchy (and missing parents); a no-op for those that exist."""
    made: list[str] = []
    try:
        for directory in cgroup.directories():
            made += _make_directories(directory)
        cpuset = cgroup.v1.get("cpuset")
        if cpuset is not None:
            _inherit_cpuset([d for d in made if d == cpuset or cpuset.startswith(d + "/")])
        if cgroup.mode == "v2":
            from nsbox.cgroups import v2_controllers
            v2_controllers.enable(cgroup.unified_mount, cgroup.unified, set(host.V2_CONTROLLERS))
    except OSError as error:
        for directory in reversed(made):
            try:
                os.rmdir(directory)
            except OSError:
                pass
        raise CgroupError(f"cannot create cgroup {cgroup.path}: {error}") from None


def add_process(cgroup, pid: int, only_unified: bool = False) -> None:
    """Move `pid` into this cgroup in every hierarchy (or only the cgroup2 one)."""
    directories = [cgroup.unified] if only_unified else cgroup.directories()
    for directory in directories:
        _write_pid(os.path.join(directory, "cgroup.procs"), pid)


def enter_v1(cgroup) -> None:
    """Move the calling process into this cgroup in every v1 hierarchy: it writes 0 ("this
    thread") to each `tasks` file. A thread moving itself takes no threadgroup lock, whose
    first taking in a burst waits for an RCU grace period (~15 ms here), as a PID written to
    cgroup.procs does. So the caller must be single-threaded (a freshly forked child):
    its one thread is then the whole process."""
    for directory in dict.fromkeys(cgroup.v1.values()):
        _write_pid(os.path.join(directory, "tasks"), 0)


def _write_pid(path: str, pid: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, str(pid).encode())
        finally:
            os.close(fd)
    except OSError as error:
        who = "itself" if pid == 0 else f"process {pid}"
        raise CgroupError(f"cannot move {who} into {os.path.dirname(path)}: {error.strerror}") from None


def remove(cgroup) -> None:
    """Remove the cgroup (and any sub-cgroups) everywhere; waits briefly for exiting processes."""
    import time
    deadline = time.monotonic() + 5
    delay = 0.001
    while True:
        busy = []
        for directory in cgroup.directories():
            busy += _remove_tree(directory)
        if not busy:
            if os.path.dirname(cgroup.path) == host.DEFAULT_PARENT:
                _remove_default_parent(cgroup)
            return
        if time.monotonic() > deadline:
            raise CgroupError(f"cannot remove cgroup {cgroup.path}: {', '.join(busy)} still busy "
                              f"(processes {cgroup.pids()} are in it); kill them and retry")
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def _make_directories(directory: str) -> list[str]:
    """mkdir -p that returns the directories it made, top first. A parent removed meanwhile
    (the last container leaving /nsbox) is made again."""
    for attempt in range(3):
        missing = []
        current = directory
        while not os.path.isdir(current):
            missing.append(current)
            current = os.path.dirname(current)
        try:
            for path in reversed(missing):
                try:
                    os.mkdir(path)
                except FileExistsError:
                    pass
            return list(reversed(missing))
        except FileNotFoundError:
            if attempt == 2:
                raise
    return []


def _inherit_cpuset(made: list[str]) -> None:
    """A new v1 cpuset cgroup starts with no CPUs and no memory nodes, and no process may join
    it: give each one made here its parent's."""
    for directory in made:
        for name in ("cpuset.cpus", "cpuset.mems"):
            _fill_cpuset(directory, name)


def _fill_cpuset(directory: str, name: str) -> str:
    """`name`'s value in `directory`, copied down from the nearest ancestor that has one when it is
    empty (a parent that another runtime made a moment ago may not have been filled in yet)."""
    from nsbox.cgroups.interface_files import read, write
    value = read(os.path.join(directory, name)).strip()
    if not value:
        value = _fill_cpuset(os.path.dirname(directory), name)
        write(os.path.join(directory, name), value)
    return value


def _remove_tree(directory: str) -> list[str]:
    """rmdir `directory` and the cgroups below it, deepest first; returns those still busy."""
    try:  # the usual case, a cgroup with no sub-cgroups (or gone already): no walk
        os.rmdir(directory)
        return []
    except FileNotFoundError:
        return []
    except OSError:
        pass  # sub-cgroups (or processes still leaving): deepest first
    busy = []
    for dirpath, _, _ in sorted(os.walk(directory), key=lambda entry: -entry[0].count("/")):
        try:
            os.rmdir(dirpath)
        except FileNotFoundError:
            pass
        except OSError:
            busy.append(dirpath)
    return busy


def _remove_default_parent(cgroup) -> None:
    """nsbox made /nsbox for a spec without cgroupsPath: the last container out removes it
    (another container's directory in it keeps it: rmdir refuses a parent with children)."""
    for directory in cgroup.directories():
        try:
            os.rmdir(os.path.dirname(directory))
        except OSError:
            pass
