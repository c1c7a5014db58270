"""The container store: one directory per container holding its record (container.json),
bundle, and logs; a names/ directory of symlinks that makes names unique.

A record is a Docker-shaped dict (what `inspect` prints) kept in two files: its
configuration below the root (written with fsync: it must survive a crash of the
machine; but not a --rm container's, which would not outlive it anyway), and its live
state (State, the monitor, the restart count) in the run directory, /run/nsbox, a tmpfs
that a reboot empties, as it empties the processes the state describes; that file is
replaced atomically but not fsynced. Every change holds
the container's fcntl lock, so concurrent CLIs and monitors never clash and a kill -9
at any moment leaves a readable store; nsbox.engine.checked_state turns State into the truth
of the moment.
"""
from __future__ import annotations

import os

from nsbox.engine.names import check_name, new_id, random_name
from nsbox.engine.paths import Paths
from nsbox.errors import AlreadyExists, ContainerNotFound, DamagedRecord, NameInUse, NotFound, NsboxError, StateError
from nsbox.linux.store_files import locked, remove_tree, write_atomic
from nsbox.oci import jsonio

RECORD = "container.json"
LIVE_STATE = "state.json"
TRASH_PREFIX = ".removed-"  # a record being deleted: no longer a container
# NetworkSettings too: what CNI ADD gave lives as long as the namespace (a reboot ends
# both); the configuration keeps the settings the container was created with.
LIVE_KEYS = ("State", "Monitor", "InitStart", "ManualStop", "RestartCount", "NetworkSettings")


class ContainerStore:
    """Container records below one nsbox root."""

    __slots__ = ("paths",)

    def __init__(self, root: str) -> None:
        self.paths = Paths(root)

    # -- creation and naming -------------------------------------------------------

    def add(self, record: dict, name: str | None, prepare=None, durable: bool = True) -> dict:
        """Give `record` a fresh ID and a unique name (random if `name` is None) and store it.

        `prepare(record)` (e.g. mounting the root filesystem) runs once the ID and name are
        the record's, before it is first written; if it fails, nothing is left. With
        durable=False the caller makes the record durable later, with `sync`."""
        os.makedirs(self.paths.containers, exist_ok=True)
        os.makedirs(self.paths.names, exist_ok=True)
        while True:
            container_id = new_id()
            try:
                os.mkdir(self.paths.container(container_id), 0o700)
                break
            except FileExistsError:
                continue
        try:
            if name is None:
                for _ in range(100):
                    name = random_name()
                    if self._claim_name(name, container_id):
                        break
                else:
                    raise AlreadyExists("could not find a free random container name; give one with --name")
            elif not self._claim_name(check_name(name), container_id):
                owner = self._name_owner(name)
                raise NameInUse(f"the container name {name!r} is already in use by container "
                                    f"{owner[:12] if owner else '?'}: remove that container or choose another name")
            record["Id"] = container_id
            record["Name"] = name
            if prepare is not None:
                prepare(record)
            self._save_configuration(record, durable)  # (the live state: from its first update)
        except BaseException:
            self._remove_files(container_id, name)
            raise
        return record

    def _claim_name(self, name: str, container_id: str) -> bool:
        """Atomically point names/<name> at the container; False if another container has it."""
        link = os.path.join(self.paths.names, name)
        for _ in range(2):
            try:
                os.symlink(container_id, link)
                return True
            except FileExistsError:
                owner = self._name_owner(name)
                if owner is None or os.path.isdir(self.paths.container(owner)):
                    return False
                try:  # the owner was removed but its link stayed (a kill -9 mid-removal)
                    os.unlink(link)
                except FileNotFoundError:
                    pass
        return False

    def _name_owner(self, name: str) -> str | None:
        try:
            return os.readlink(os.path.join(self.paths.names, name))
        except OSError:
            return None

    def _name_of(self, container_id: str) -> str:
        """The name whose link points at the container (for a record never written)."""
        try:
            names = os.listdir(self.paths.names)
        except FileNotFoundError:
            return ""
        return next((name for name in names if self._name_owner(name) == container_id), "")

    def rename(self, container_id: str, new_name: str) -> None:
        new_name = check_name(new_name, "NEW_NAME")
        with self.lock(container_id):
            record = self.load(container_id)
            old_name = record.get("Name")
            if old_name == new_name:
                return
            if not self._claim_name(new_name, container_id):
                raise NameInUse(f"the container name {new_name!r} is already in use: choose another name")
            record["Name"] = new_name
            self.save(record)
            if old_name and self._name_owner(old_name) == container_id:
                os.unlink(os.path.join(self.paths.names, old_name))

    # -- finding -------------------------------------------------------------------

    def ids(self) -> list[str]:
        try:
            return [entry for entry in os.listdir(self.paths.containers) if len(entry) == 64]
        except FileNotFoundError:
            return []

    def lookup(self, reference: str) -> str:
        """The ID of the container named `reference`, or whose ID is or starts with it."""
        owner = self._name_owner(reference.lstrip("/")) if reference else None
        if owner and os.path.isdir(self.paths.container(owner)):
            return owner
        if len(reference) == 64 and os.path.isdir(self.paths.container(reference)):
            return reference
        matches = [cid for cid in self.ids() if reference and cid.startswith(reference)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise NsboxError(f"container ID prefix {reference!r} is ambiguous ({len(matches)} containers): "
                             "give more digits or the name")
        raise ContainerNotFound(f"No such container: {reference}")

    # -- records -------------------------------------------------------------------

    def load(self, container_id: str) -> dict:
        """The stored record, read as untrusted: a stand-in marked Dead if a crash came before
        the first write, or if a file of it is damaged (then "Damaged" holds the file's path
        and State.Error says what is wrong; the configuration is kept when only the live
        state is damaged, so that `rm -f` still finds the container's cgroup)."""
        path = self.paths.container(container_id, RECORD)
        try:
            with open(path, "rb") as config:
                record = _decoded(config.read(), path, ("Id", "State", "Config", "HostConfig"))
        except FileNotFoundError:
            if not os.path.isdir(self.paths.container(container_id)):
                raise ContainerNotFound(f"No such container: {container_id[:12]}") from None
            return self._stand_in(container_id, "record never written (creation interrupted)")
        except DamagedRecord as damage:
            return dict(self._stand_in(container_id, str(damage)), Damaged=damage.path)
        live_path = self.live_path(container_id)
        try:
            with open(live_path, "rb") as live:
                record.update(_decoded(live.read(), live_path, ("State",)))
        except FileNotFoundError:
            pass  # never started since the machine booted: the configuration's State holds
        except DamagedRecord as damage:
            record.update(Damaged=damage.path, State={"Status": "dead", "Dead": True, "Error": str(damage)})
        return record

    def _stand_in(self, container_id: str, error: str) -> dict:
        return {"Id": container_id, "Name": self._name_of(container_id), "Created": "", "Config": {},
                "HostConfig": {}, "State": {"Status": "dead", "Dead": True, "Error": error}}

    def live_path(self, container_id: str) -> str:
        return os.path.join(self.paths.run, "containers", container_id, LIVE_STATE)

    def save(self, record: dict, config_changed: bool = True, durable: bool = True) -> None:
        """Write the live state and (if it changed) the configuration of `record`."""
        if config_changed:
            self._save_configuration(record, durable)
        live_path = self.live_path(record["Id"])
        state = jsonio.dumps({key: record[key] for key in LIVE_KEYS if key in record}).encode()
        try:  # (durable=False: /run, and a reboot ends the container anyway)
            write_atomic(live_path, state, durable=False)
        except FileNotFoundError:  # its first live state: the directory too
            os.makedirs(os.path.dirname(live_path), exist_ok=True)
            write_atomic(live_path, state, durable=False)

    def _save_configuration(self, record: dict, durable: bool) -> None:
        """The whole record, State included: until the container's first start writes its live
        state, load() reads the State from here (a new container's live state is the same, and a
        write fewer, and a directory fewer for one never started, matter: on this machine's ext4,
        mounted with `discard`, the replacing rename of an older state waits for the disk)."""
        # A --rm container's record lives no longer than its process, which a power loss
        # ends too: no fsync for it (what such a loss leaves, a root filesystem and a record
        # maybe empty, `rm -f` and `system prune` clean up like any interrupted removal).
        write_atomic(self.paths.container(record["Id"], RECORD), jsonio.dumps(record).encode(),
                     durable=durable and not (record.get("HostConfig") or {}).get("AutoRemove"))

    def sync(self, container_id: str) -> None:
        """Make the configuration written with durable=False survive a power loss (fsync)."""
        fd = os.open(self.paths.container(container_id, RECORD), os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def lock(self, container_id: str) -> locked:
        return locked(self.paths.container(container_id, "lock"))

    def usable(self, record: dict) -> dict:
        """`record` if it is whole; else a StateError that says to remove it."""
        container_id = record["Id"]
        if record.get("Damaged"):
            raise StateError(f"container {container_id[:12]} has a damaged record ({record['Damaged']}): "
                             "remove it with `nsbox rm -f`")
        if record["State"].get("Dead") and not os.path.exists(self.paths.container(container_id, RECORD)):
            raise StateError(f"container {container_id[:12]} was never fully created: remove it with `nsbox rm -f`")
        return record

    def update(self, container_id: str, change) -> dict:  # change: (record) -> None
        """Read, change and write a record under its lock; returns the new record."""
        with self.lock(container_id):
            record = self.usable(self.load(container_id))
            before = _config_text(record)
            change(record)
            self.save(record, config_changed=_config_text(record) != before)
            return record

    def remove(self, container_id: str, name: str) -> None:
        """Delete the record, bundle and logs, and free the name (the caller cleaned the rest)."""
        self._remove_files(container_id, name)

    def _remove_files(self, container_id: str, name: str | None) -> None:
        """The record disappears first, in one rename, so that a kill -9 mid-way leaves no
        half-removed container (a blank-named Dead entry); a stale name link is reclaimed by
        the next claim, and the trash by sweep_trash."""
        trash = os.path.join(self.paths.containers, TRASH_PREFIX + container_id)
        try:
            os.rename(self.paths.container(container_id), trash)
        except FileNotFoundError:
            pass
        if name and self._name_owner(name) == container_id:
            try:
                os.unlink(os.path.join(self.paths.names, name))
            except FileNotFoundError:
                pass
        remove_tree(os.path.dirname(self.live_path(container_id)))
        remove_tree(trash)

    def sweep_trash(self) -> list[str]:
        """Finish removals a kill -9 interrupted: trashed records, name links to no container,
        live state of no container; the IDs whose leftovers went."""
        swept = []
        for entry in _listdir(self.paths.containers):
            if entry.startswith(TRASH_PREFIX):
                remove_tree(os.path.join(self.paths.containers, entry))
                swept.append(entry[len(TRASH_PREFIX):])
        for name in _listdir(self.paths.names):
            owner = self._name_owner(name)
            if owner is not None and not os.path.isdir(self.paths.container(owner)):
                try:
                    os.unlink(os.path.join(self.paths.names, name))
                except FileNotFoundError:
                    pass
        live_root = os.path.join(self.paths.run, "containers")
        for entry in _listdir(live_root):
            if not os.path.isdir(self.paths.container(entry)):
                remove_tree(os.path.join(live_root, entry))
        return swept


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except FileNotFoundError:
        return []


def _decoded(data: bytes, path: str, required: tuple[str, ...]) -> dict:
    """A record file's JSON object with `required` keys, or DamagedRecord saying what is wrong."""
    try:
        record = jsonio.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise DamagedRecord(path, f"not valid JSON ({error}){' (empty)' if not data else ''}") from None
    if not isinstance(record, dict) or any(key not in record for key in required) \
            or not isinstance(record.get("State"), dict):
        raise DamagedRecord(path, f"not a container record (needs {', '.join(required)})")
    return record


def _config_text(record: dict) -> str:
    return jsonio.dumps({key: value for key, value in record.items() if key not in LIVE_KEYS})
