"""Named volumes: directories ROOT/volumes/NAME/_data that containers mount (`-v NAME:/dst`),
made by `volume create` or by the first container that names them, removed only when no
container uses them."""
from __future__ import annotations

import json
import os

from nsbox.errors import StateError, VolumeNotFound

META = "volume.json"  # beside _data: the creation time and labels `volume create` was given


class Volumes:
    def __init__(self, engine) -> None:
        self.engine = engine
        self.top = engine.paths.volumes

    def names(self) -> list[str]:
        return sorted(os.listdir(self.top)) if os.path.isdir(self.top) else []

    def users(self) -> dict[str, list[str]]:
        """Volume name -> IDs of the containers (any state) that mount it."""
        used: dict[str, list[str]] = {}
        for record in self.engine.list(include_stopped=True):
            for mount in record.get("Mounts") or []:
                if mount.get("Type") == "volume":
                    used.setdefault(mount["Name"], []).append(record["Id"])
        return used

    def create(self, name: str = "", labels: dict[str, str] | None = None) -> dict:
        from nsbox.engine.names import check_name, new_id
        from nsbox.linux.store_files import write_atomic
        from nsbox.oci.timestamps import rfc3339_now
        name = check_name(name, "volume name") if name else new_id()
        directory = os.path.join(self.top, name)
        if not os.path.exists(os.path.join(directory, META)):  # Docker: creating an existing name is no error
            os.makedirs(os.path.join(directory, "_data"), exist_ok=True)
            meta = {"CreatedAt": rfc3339_now(), "Labels": labels or {}}
            write_atomic(os.path.join(directory, META), json.dumps(meta).encode(), durable=False)
        return self.inspect(name)

    def inspect(self, name: str) -> dict:
        """Docker's shape: CreatedAt, Driver, Labels, Mountpoint, Name, Options, Scope."""
        directory = os.path.join(self.top, name)
        if "/" in name or name in ("", ".", "..") or not os.path.isdir(directory):
            raise VolumeNotFound(f"No such volume: {name}")
        try:
            with open(os.path.join(directory, META)) as meta_file:
                meta = json.load(meta_file)
        except (OSError, ValueError):  # made by a container's -v NAME:/dst
            from nsbox.oci.timestamps import rfc3339
            meta = {"CreatedAt": rfc3339(int(os.stat(directory).st_mtime * 1e9)), "Labels": {}}
        return {"CreatedAt": meta["CreatedAt"], "Driver": "local", "Labels": meta.get("Labels") or None,
                "Mountpoint": os.path.join(directory, "_data"), "Name": name, "Options": None, "Scope": "local"}

    def remove(self, name: str, force: bool = False) -> None:
        from nsbox.engine.container_store import remove_tree
        self.inspect(name)
        users = self.users().get(name)
        if users:
            raise StateError(f"remove {name}: volume is in use - [{', '.join(users)}]: "
                             "remove the containers that use it first")
        remove_tree(os.path.join(self.top, name))

    def prune(self, every: bool = False) -> list[str]:
        """Remove unused volumes: anonymous ones (64 hex digits), or with `every` all of them."""
        used = self.users()
        removed = []
        for name in self.names():
            anonymous = len(name) == 64 and all(c in "0123456789abcdef" for c in name)
            if name not in used and (every or anonymous):
                self.remove(name)
                removed.append(name)
        return removed
