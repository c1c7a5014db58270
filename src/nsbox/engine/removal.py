"""Removing a container, whatever a kill -9, a full disk or a damaged record left behind.

Removal is serialized per container (an flock on its directory): of several concurrent
`rm -f`, exactly one removes; the others wait for it, then find no such container. The
work is a Steps list (nsbox.engine.undo) in a fixed order: signals first (they need no
disk space), then everything the kernel holds (processes, monitor, runtime state,
cgroups, mounts), and the record last, only once the kernel side is clean, so that a
failure never loses track of a running container. A damaged record is no obstacle: its
cgroups are found by name, its monitor by its working directory, its mounts in mountinfo.
"""
from __future__ import annotations

import fcntl
import os

from nsbox.engine import checked_state
from nsbox.engine.events import emit
from nsbox.engine.undo import Steps
from nsbox.errors import ContainerNotFound, NotFound, NsboxError, StateError
from nsbox.linux.signals import SIGKILL

MONITOR_GRACE = 30.0  # seconds the monitor gets to record the exit before it is killed


def remove(engine, reference: str, force: bool = False, volumes: bool = False, wait_monitor: bool = True) -> str:
    """Remove the container: its processes (with force), monitor, runtime state, cgroups, root
    filesystem, record and name (a "destroy" event says so); its ID. The monitor's own --rm
    passes wait_monitor=False, and then leaves the container to a remover already at work."""
    try:
        container_id = engine.store.lookup(reference)
    except ContainerNotFound:
        if force and sweep_orphan(engine, reference):
            return reference
        raise
    directory = engine.paths.container(container_id)
    lock = _lock(directory, wait=wait_monitor)
    if lock is None:
        return container_id
    try:
        if not _is_same_directory(directory, lock):  # another caller removed it while we waited
            raise ContainerNotFound(f"No such container: {reference}")
        record = checked_state.with_current_state(engine.store.load(container_id))
        status = record["State"]["Status"]
        if status in ("running", "paused", "restarting") and not force:
            raise StateError(f"container {record['Name']} is {status}: stop it first or remove it with -f")
        _mark_removing(engine, record)
        _finish_removal(engine, record, teardown(engine, record, volumes, wait_monitor))
    finally:
        os.close(lock)
    return container_id


def remove_exited(engine, record: dict, runtime_deleted: bool, network=None) -> None:
    """Remove a container whose exit this process has just recorded as "removing". When its
    runtime's delete succeeded here too (which ended its processes and removed its cgroups
    and runtime state), only its network, root filesystem, anonymous volumes and record are
    left; else every step runs. A remover at work already (`rm -f`) is left to finish.
    `network`: its CNI DEL under way (engine.networking.Disconnecting), finished here: after
    the root filesystem step, which it overlaps, and always before the record goes."""
    try:
        if not runtime_deleted:
            remove(engine, record["Id"], force=True, volumes=True, wait_monitor=False)
            return
        directory = engine.paths.container(record["Id"])
        lock = _lock(directory, wait=False)
        if lock is None:
            return
        try:
            if _is_same_directory(directory, lock):
                steps = teardown(engine, record, True, False, runtime_deleted=True, network=network)
                network = None
                _finish_removal(engine, record, steps)
        finally:
            os.close(lock)
    finally:
        if network is not None:
            network.finish()


def _finish_removal(engine, record: dict, steps: Steps) -> None:
    """Run the removal's steps; the record and name go last, once every step succeeded."""
    container_id = record["Id"]
    failures = steps.run()
    if failures:
        raise NsboxError(f"could not remove container {container_id[:12]} completely ({'; '.join(failures)}); "
                         f"its record is kept: fix that and run `nsbox rm -f {container_id[:12]}` again")
    engine.store.remove(container_id, record.get("Name") or "")
    emit(engine.root, "destroy", record)


def teardown(engine, record: dict, volumes: bool, wait_monitor: bool, runtime_deleted: bool = False,
             network=None) -> Steps:
    """The removal's steps, in order (a network's CNI DEL belongs before "root filesystem",
    unless `network`, a DEL already under way, is given: it is waited for after that step).
    `runtime_deleted`: the runtime's delete has just ended the processes and removed the
    runtime state and cgroups (in this process), and no monitor watches the container."""
    steps = Steps()
    damaged = bool(record.get("Damaged")) or not record.get("HostConfig")
    if not runtime_deleted:
        steps.add("processes", lambda: _kill_processes(engine, record))
        steps.add("monitor", lambda: _end_monitor(engine, record, wait_monitor, damaged))
        steps.add("runtime state", lambda: _delete_runtime_state(engine, record))
        steps.add("cgroups", lambda: _remove_cgroups(engine, record, damaged))
    if network is None:
        steps.add("network", lambda: _release_network(engine, record, damaged))
    steps.add("root filesystem", lambda: _remove_mounts(engine, record))
    if network is not None:
        steps.add("network", network.finish)
    if volumes:
        steps.add("anonymous volumes", lambda: _remove_anonymous_volumes(record))
    return steps


def sweep_orphan(engine, reference: str) -> bool:
    """Clean what a container with no record left (a root filesystem, runtime state, cgroups:
    a crash between steps of `run`); True if `reference` named such leftovers."""
    orphans = [cid for cid in orphan_ids(engine) if reference and cid.startswith(reference)]
    if len(orphans) != 1:
        return False
    record = {"Id": orphans[0], "Name": "", "HostConfig": {}, "Config": {}, "State": {}}
    failures = teardown(engine, record, False, False).run()
    if failures:
        raise NsboxError(f"could not clean the leftovers of container {orphans[0][:12]}: {'; '.join(failures)}")
    return True


def orphan_ids(engine) -> list[str]:
    """IDs with a root filesystem or runtime state but no container record."""
    from nsbox.image.rootfs import image_users
    known = set(engine.store.ids())
    candidates = set(image_users(engine.root))
    try:
        candidates.update(os.listdir(os.path.join(engine.paths.run, "runtime")))
    except FileNotFoundError:
        pass
    return sorted(cid for cid in candidates if len(cid) == 64 and cid not in known)


def sweep(engine) -> list[str]:
    """Everything interrupted removals and creations left (`system prune`); the IDs cleaned."""
    cleaned = engine.store.sweep_trash()
    for container_id in orphan_ids(engine):
        if sweep_orphan(engine, container_id):
            cleaned.append(container_id)
    return cleaned


# -- the steps -----------------------------------------------------------------------

def _mark_removing(engine, record: dict) -> None:
    """Tell the monitor not to restart or --rm it. Best effort: on a full disk (or a damaged
    record) the signals still go out, and the monitor is stopped before the cgroup goes."""
    if record.get("Damaged") or not os.path.exists(engine.paths.container(record["Id"], "container.json")):
        return
    try:
        engine.store.update(record["Id"], lambda r: (r.update(ManualStop=True), r["State"].update(Status="removing")))
    except (OSError, NsboxError):
        pass


def _kill_processes(engine, record: dict) -> None:
    from nsbox.linux.proc import wait_gone
    pid = record["State"].get("Pid") or 0
    if record.get("HostConfig"):
        engine.signal(record, SIGKILL, all_processes=True)
    elif pid:
        from nsbox.linux import proc
        if proc.is_alive(pid, record.get("InitStart")):
            os.kill(pid, SIGKILL)
    if pid and not wait_gone(pid, record.get("InitStart"), 30):
        raise StateError(f"process {pid} did not end after SIGKILL")


def _end_monitor(engine, record: dict, wait_monitor: bool, damaged: bool) -> None:
    """Let the monitor record the exit (it sees "removing": no restart, no --rm of its own);
    kill it if it does not end. A damaged record's monitor is found by its working directory."""
    from nsbox.linux.proc import wait_gone
    monitor = record.get("Monitor") or {}
    if wait_monitor and monitor.get("Pid") and monitor["Pid"] != os.getpid():
        if not wait_gone(monitor["Pid"], monitor.get("Start"), 0 if damaged else MONITOR_GRACE):
            _kill(monitor["Pid"])
    if damaged and wait_monitor:
        for pid in _processes_in(engine.paths.container(record["Id"])):
            _kill(pid)


def _delete_runtime_state(engine, record: dict) -> None:
    from nsbox.engine.runtimes import NsboxRuntime
    container_id = record["Id"]
    runtimes = [engine.runtime(record)] if record.get("HostConfig") else [NsboxRuntime(os.path.join(
        engine.paths.run, "runtime"))]
    for runtime in runtimes:
        try:
            if runtime.status(container_id) is not None:
                runtime.delete(container_id, force=True)
        except NsboxError:
            if not isinstance(runtime, NsboxRuntime):
                raise
            # its state.json is damaged: the cgroups step below finds the processes by name
            from nsbox.linux.store_files import remove_tree
            remove_tree(os.path.join(runtime.state_root, container_id))


def _remove_cgroups(engine, record: dict, damaged: bool) -> None:
    """The container's cgroups, emptied and removed: the record's, or every one named by its ID."""
    from nsbox.cgroups import open_cgroup
    from nsbox.cgroups.host import find_named
    container_id = record["Id"]
    paths = find_named(container_id) if damaged else []
    cgroups = [open_cgroup(path, container_id) for path in paths]
    if not damaged:
        cgroups.append(engine.cgroup(record))
    for cgroup in cgroups:
        if not any(os.path.isdir(directory) for directory in cgroup.directories()):
            continue
        cgroup.kill(SIGKILL)
        cgroup.remove()


def _release_network(engine, record: dict, damaged: bool) -> None:
    """CNI DEL of whatever the container still holds (veth, address, port rules); its
    addresses and network namespace file even when the record is too damaged to say more."""
    from nsbox.network.modes import sandbox_path
    if (record.get("NetworkSettings") or {}).get("SandboxKey"):
        from nsbox.engine.networking import disconnect
        disconnect(engine, record["Id"])
    elif damaged:  # the record cannot name its networks (a damaged or never written record)
        from nsbox.network.subnets import release_addresses
        release_addresses(record["Id"])
    sandbox = sandbox_path(engine.paths.run, record["Id"])
    if os.path.lexists(sandbox):
        from nsbox.network import netns
        netns.remove(sandbox)


def _remove_mounts(engine, record: dict) -> None:
    """Every mount below the container's directories, then its root filesystem's files."""
    from nsbox.image.rootfs import remove_rootfs, rootfs_path
    from nsbox.linux.libc import umount2
    from nsbox.linux.mounts import mount_points
    container_id = record["Id"]
    rootfs_dir = os.path.dirname(rootfs_path(engine.root, container_id))
    tops = (rootfs_dir + "/", engine.paths.container(container_id) + "/")
    for mount_point in sorted(mount_points(), key=len, reverse=True):
        if mount_point.startswith(tops):
            try:
                umount2(mount_point, 2)  # MNT_DETACH
            except OSError:
                if os.path.ismount(mount_point):
                    raise
    try:  # (only nsbox's image/rootfs/<id>: a --rootfs directory is the user's)
        remove_rootfs(engine.root, container_id)
    except NotFound:
        pass


def _remove_anonymous_volumes(record: dict) -> None:
    from nsbox.linux.store_files import remove_tree
    for mount in record.get("Mounts") or []:
        if mount.get("Anonymous"):
            remove_tree(os.path.dirname(mount["Source"]))


# -- helpers -------------------------------------------------------------------------

def _lock(directory: str, wait: bool) -> int | None:
    """An flock on the container's directory (None: busy and not waiting)."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ContainerNotFound(f"No such container: {os.path.basename(directory)[:12]}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _is_same_directory(directory: str, fd: int) -> bool:
    try:
        return os.path.samestat(os.stat(directory), os.fstat(fd))
    except FileNotFoundError:
        return False


def _kill(pid: int) -> None:
    try:
        os.kill(pid, SIGKILL)
    except ProcessLookupError:
        pass


def _processes_in(directory: str) -> list[int]:
    """Processes whose working directory is `directory` (a monitor chdirs into its container's)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in (os.getpid(), os.getppid()):
            try:
                if os.readlink(f"/proc/{entry}/cwd") == directory:
                    found.append(int(entry))
            except OSError:
                continue
    return found
