"""nsbox.images: pull, list, get, tag, remove, load, save and import images of the store
the `nsbox` command uses."""
from __future__ import annotations

from collections.abc import Callable

from nsbox.engine.containers import Engine

TYPE_CHECKING = False
if TYPE_CHECKING:
    import builtins
    from typing import Any


class Image:
    """One image; attrs is what `nsbox image inspect` prints (Docker's shape)."""

    __slots__ = ("_engine", "attrs")

    def __init__(self, engine: Engine, attrs: dict[str, Any]) -> None:
        self._engine = engine
        self.attrs = attrs

    def __repr__(self) -> str:
        return f"<Image {self.short_id} {', '.join(self.tags)}>"

    @property
    def id(self) -> str:
        return str(self.attrs["Id"])

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]

    @property
    def tags(self) -> builtins.list[str]:
        return list(self.attrs.get("RepoTags") or [])

    @property
    def labels(self) -> dict[str, str]:
        return dict((self.attrs.get("Config") or {}).get("Labels") or {})

    def tag(self, repository: str, tag: str | None = None) -> None:
        """Give the image another name (repository[:tag])."""
        from nsbox.image.manage import tag as add_tag
        add_tag(self._engine.root, self.id, f"{repository}:{tag}" if tag else repository)
        self.reload()

    def reload(self) -> None:
        from nsbox.image.manage import describe
        self.attrs = describe(self._engine.root, self.id)


class Images:
    """The images below one root (nsbox.images, Client.images)."""

    __slots__ = ("_engine",)

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, name: str) -> Image:
        """The image with that name or ID (prefix); ImageNotFound if none."""
        from nsbox.image.manage import describe
        return Image(self._engine, describe(self._engine.root, name))

    def list(self) -> builtins.list[Image]:
        from nsbox.image.manage import describe
        from nsbox.image.store import ImageStore
        return [Image(self._engine, describe(self._engine.root, image.id))
                for image in ImageStore(self._engine.root).images()]

    def pull(self, reference: str, *, progress: Callable[[dict[str, Any]], None] | None = None, platform: str | None = None,
             insecure_registries: tuple[str, ...] = ()) -> Image:
        """Pull from its registry. `progress(event)` gets {"id": layer digest, "status":
        "download"|..., "current": bytes so far, "total": size} as layers arrive."""
        from nsbox.image.platform import parse_platform
        from nsbox.image.pull import pull
        pulled = pull(self._engine.root, reference, parse_platform(platform) if platform else None,
                      insecure_registries, _CallbackProgress(progress) if progress else None)
        return self.get(pulled.id)

    def remove(self, name: str, force: bool = False) -> builtins.list[str]:
        """Untag (and delete, once no name is left) the image; what was untagged and deleted."""
        from nsbox.image.manage import remove_image
        return remove_image(self._engine.root, name, force)

    def tag(self, source: str, target: str) -> None:
        from nsbox.image.manage import tag
        tag(self._engine.root, source, target)

    def load(self, path: str) -> builtins.list[Image]:
        """Load a `docker save` or OCI archive; the images it held."""
        from nsbox.image.archive import load
        return [self.get(name) for name in load(self._engine.root, path)]

    def save(self, names: str | builtins.list[str], path: str) -> None:
        """Write the images to a tar archive that `docker load` and `nsbox load` read."""
        from nsbox.image.archive import save
        save(self._engine.root, [names] if isinstance(names, str) else list(names), path)

    def import_rootfs(self, path: str, name: str, changes: builtins.list[str] | None = None) -> Image:
        """A one-layer image from a root filesystem tarball (`nsbox import`)."""
        from nsbox.image.archive import import_rootfs
        return self.get(import_rootfs(self._engine.root, path, name, changes or []).id)


class _CallbackProgress:
    """pull()'s progress interface, reporting to a plain callback."""

    __slots__ = ("callback",)

    def __init__(self, callback: Callable[[dict[str, Any]], None]) -> None:
        self.callback = callback

    def layer(self, digest: str, size: int, state: str = "download") -> Callable[..., None]:
        done = [0]

        def advance(amount: int, reset: bool = False) -> None:
            done[0] = 0 if reset else done[0] + amount
            self.callback({"id": digest, "status": state, "current": done[0], "total": size})
        return advance

    def status(self, digest: str, text: str) -> None:
        self.callback({"id": digest, "status": text})
