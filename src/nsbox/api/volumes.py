"""nsbox.volumes: the named volumes containers mount (`volumes=["NAME:/dst"]`), as objects
over the engine's volume store (the one `nsbox volume` uses)."""
from __future__ import annotations

from nsbox.engine.containers import Engine

TYPE_CHECKING = False
if TYPE_CHECKING:
    import builtins
    from typing import Any


class Volume:
    """One volume; attrs is Docker's shape (Name, Mountpoint, Labels, CreatedAt, ...)."""

    __slots__ = ("_engine", "attrs")

    def __init__(self, engine: Engine, attrs: dict[str, Any]) -> None:
        self._engine = engine
        self.attrs = attrs

    def __repr__(self) -> str:
        return f"<Volume {self.name}>"

    @property
    def name(self) -> str:
        return str(self.attrs["Name"])

    @property
    def mountpoint(self) -> str:
        """The directory on the host that holds the volume's files."""
        return str(self.attrs["Mountpoint"])

    def remove(self, force: bool = False) -> None:
        """Remove it (refused while a container uses it)."""
        from nsbox.engine.volumes import Volumes
        Volumes(self._engine).remove(self.name, force)


class Volumes:
    """The volumes below one root (nsbox.volumes, Client.volumes)."""

    __slots__ = ("_engine",)

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _store(self) -> Any:
        from nsbox.engine.volumes import Volumes as VolumeStore
        return VolumeStore(self._engine)

    def create(self, name: str = "", labels: dict[str, str] | None = None) -> Volume:
        """A new volume (a random name if none); an existing name is returned as it is."""
        return Volume(self._engine, self._store().create(name, labels))

    def get(self, name: str) -> Volume:
        """The volume called `name`; VolumeNotFound if none."""
        return Volume(self._engine, self._store().inspect(name))

    def list(self) -> builtins.list[Volume]:
        store = self._store()
        return [Volume(self._engine, store.inspect(name)) for name in store.names()]

    def prune(self) -> builtins.list[str]:
        """Remove the anonymous volumes no container uses; their names."""
        return list(self._store().prune())
