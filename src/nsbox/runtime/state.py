"""A container's record on disk: <root>/<id>/state.json, its exec.fifo, and its lock.

`create`, `start`, `kill` and `delete` are separate processes, so everything they share
lives here. Writes are atomic (temp file, rename; no fsync: a reboot ends every container
and /run with it) and every change holds the container directory's flock, so a crash at
any moment leaves a readable record.
The status is not stored but derived from the kernel (is the init alive, is the
exec.fifo still there, is the cgroup frozen), so it can never go stale.
"""
from __future__ import annotations

import os

from nsbox.errors import AlreadyExists, ConfigError, DamagedRecord, NotFound, StateError
from nsbox.linux import proc
from nsbox.linux.store_files import lock_fd, write_atomic
from nsbox.oci import jsonio

TYPE_CHECKING = False  # typing costs ~12 ms to import: only the type checker reads this
if TYPE_CHECKING:
    from nsbox.cgroups import Cgroup

DEFAULT_ROOT = "/run/nsbox-runtime"
STATE_FILE = "state.json"
FIFO = "exec.fifo"

_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-+")


def check_id(container_id: str) -> str:
    if not container_id or not set(container_id) <= _ID_CHARS or container_id in (".", ".."):
        raise ConfigError("container id", f"{container_id!r} is not valid: use letters, digits and _ . - + only")
    return container_id


class ContainerRecord:
    """What the runtime remembers of one container between its commands."""

    __slots__ = ("root", "id", "dir", "lock_fd", "data")

    def __init__(self, root: str, container_id: str, data: dict, lock_fd: int) -> None:
        self.root = root
        self.id = container_id
        self.dir = os.path.join(root, container_id)
        self.data = data
        self.lock_fd = lock_fd

    # -- making, finding, locking ------------------------------------------------------

    @classmethod
    def make(cls, root: str, container_id: str) -> ContainerRecord:
        """A new, locked container directory; AlreadyExists if the id is taken."""
        check_id(container_id)
        os.makedirs(root, mode=0o700, exist_ok=True)
        directory = os.path.join(root, container_id)
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            raise AlreadyExists(f"container {container_id!r} already exists in {root}") from None
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        lock_fd(fd)
        return cls(root, container_id, {"id": container_id, "pid": 0}, fd)

    @classmethod
    def load(cls, root: str, container_id: str, lock: bool = True, damaged_ok: bool = False) -> ContainerRecord:
        """The container's record; a damaged state.json is a DamagedRecord error (or, with
        damaged_ok, a record whose data holds only the id and "damaged": the reason)."""
        check_id(container_id)
        directory = os.path.join(root, container_id)
        try:
            fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise NotFound(f"container {container_id!r} does not exist (looked in {root})") from None
        if lock:
            lock_fd(fd)
        path = os.path.join(directory, STATE_FILE)
        try:
            with open(path, "rb") as f:
                data = jsonio.loads(f.read())
            if not isinstance(data, dict) or not isinstance(data.get("pid", 0), int):
                raise ValueError("not a state record (an object with the init's pid)")
        except FileNotFoundError:
            data = {"id": container_id, "pid": 0, "creating": True}
        except (ValueError, UnicodeDecodeError) as error:
            if not damaged_ok:
                os.close(fd)
                raise DamagedRecord(path, f"{error}; `nsbox-runtime delete --force {container_id}` removes it") from None
            data = {"id": container_id, "pid": 0, "damaged": f"{path}: {error}"}
        return cls(root, container_id, data, fd)

    def save(self) -> None:
        write_atomic(os.path.join(self.dir, STATE_FILE), jsonio.dumps(self.data).encode(), 0o600,
                     durable=False)  # live state: a reboot ends the container anyway

    def unlock(self) -> None:
        if self.lock_fd >= 0:
            os.close(self.lock_fd)
            self.lock_fd = -1

    def remove(self) -> None:
        """Delete the container's directory (its state, fifo, and anything else in it)."""
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)
        self.unlock()

    # -- what the record holds ---------------------------------------------------------

    @property
    def pid(self) -> int:
        return self.data.get("pid", 0)

    @property
    def bundle(self) -> str:
        return self.data.get("bundle", "")

    @property
    def annotations(self) -> dict[str, str]:
        return self.data.get("annotations", {})

    @property
    def fifo(self) -> str:
        return os.path.join(self.dir, FIFO)

    @property
    def cgroup(self) -> Cgroup | None:
        state = self.data.get("cgroup")
        if state is None:
            return None
        from nsbox.cgroups import Cgroup
        return Cgroup.from_state(state)

    def hooks(self, kind: str) -> list:  # -> list[nsbox.oci.runtime_spec.Hook]
        """The spec's `kind` hooks (poststart, poststop) as create saved them: start and delete
        run them without reading and validating config.json again (runc, too, keeps them)."""
        raw = self.data.get("hooks", {}).get(kind)
        if not raw:
            return []
        from nsbox.oci.fields import Fields
        from nsbox.oci.runtime_spec import Hook
        return [Hook(Fields(hook, f"hooks.{kind}[{index}]")) for index, hook in enumerate(raw)]

    def alive(self) -> bool:
        return self.pid > 0 and proc.is_alive(self.pid, self.data.get("started"))

    def status(self) -> str:
        """creating | created | running | paused | stopped, read from the kernel each time."""
        if not self.alive():
            return "stopped"
        if self.data.get("creating"):
            return "creating"
        if os.path.exists(self.fifo):
            return "created"
        cgroup = self.cgroup
        if cgroup is not None and cgroup.frozen():
            return "paused"
        return "running"

    def oci_state(self) -> dict:
        from nsbox.oci.runtime_spec import state_document
        return state_document(self.id, self.status(), self.pid, self.bundle, self.annotations)


def list_ids(root: str) -> list[str]:
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    # other entries (the seccomp cache, "@seccomp") are not containers
    return sorted(name for name in names if set(name) <= _ID_CHARS and os.path.isdir(os.path.join(root, name)))


def load(state_root: str, container_id: str) -> ContainerRecord:
    """The container's record, unlocked (for reading)."""
    record = ContainerRecord.load(state_root, container_id, lock=False)
    record.unlock()
    return record


def state(state_root: str, container_id: str) -> dict:
    return load(state_root, container_id).oci_state()


def live_cgroup(state_root: str, container_id: str, doing: str) -> tuple[ContainerRecord, Cgroup]:
    """The record and cgroup of a container that has processes (created, running or paused)."""
    record = load(state_root, container_id)
    status = record.status()
    if status not in ("created", "running", "paused"):
        raise StateError(f"container {container_id!r} is {status}; {doing} needs a live container")
    cgroup = record.cgroup
    if cgroup is None:
        raise StateError(f"container {container_id!r} has no cgroup")
    return record, cgroup
