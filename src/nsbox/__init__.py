"""nsbox: Linux containers with no daemon — `import nsbox` gives them as Python objects.

    import nsbox
    result = nsbox.run("busybox", ["echo", "hi"], memory="128m", network="none", timeout=5)
    result.stdout            # b"hi\\n"

Everything here loads on first use (a module __getattr__): `nsbox-runtime create` and
`nsbox run` import this package and must pay nothing for the Python API.
See docs/python-api.md.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing's constant without importing typing (mypy reads any TYPE_CHECKING so)
if TYPE_CHECKING:
    from nsbox.api.client import Client as Client
    from nsbox.api.containers import Container as Container
    from nsbox.api.containers import Containers
    from nsbox.api.images import Image as Image
    from nsbox.api.images import Images
    from nsbox.api.networks import Network as Network
    from nsbox.api.networks import Networks
    from nsbox.api.result import Result as Result
    from nsbox.api.volumes import Volume as Volume
    from nsbox.api.volumes import Volumes
    from nsbox.errors import AlreadyExists as AlreadyExists
    from nsbox.errors import CgroupError as CgroupError
    from nsbox.errors import ConfigError as ConfigError
    from nsbox.errors import ContainerNotFound as ContainerNotFound
    from nsbox.errors import ImageNotFound as ImageNotFound
    from nsbox.errors import InvalidOption as InvalidOption
    from nsbox.errors import LimitUnsupported as LimitUnsupported
    from nsbox.errors import NameInUse as NameInUse
    from nsbox.errors import NetworkNotFound as NetworkNotFound
    from nsbox.errors import NotFound as NotFound
    from nsbox.errors import NsboxError as NsboxError
    from nsbox.errors import RuntimeFailed as RuntimeFailed
    from nsbox.errors import StateError as StateError
    from nsbox.errors import VolumeNotFound as VolumeNotFound
    from nsbox.errors import WaitTimeout as WaitTimeout

    containers: Containers
    images: Images
    networks: Networks
    volumes: Volumes

    def run(image: str, command: list[str] | str | None = None, *, stdin: bytes | str | int | None = None,
            timeout: float | None = None, text: bool = False, check: bool = False, remove: bool = True,
            name: str | None = None, **options: object) -> Result: ...

    async def arun(image: str, command: list[str] | str | None = None, *, stdin: bytes | str | int | None = None,
                   timeout: float | None = None, text: bool = False, check: bool = False, remove: bool = True,
                   name: str | None = None, **options: object) -> Result: ...

_CLASSES = {"Client": "nsbox.api.client", "Container": "nsbox.api.containers", "Image": "nsbox.api.images",
            "Network": "nsbox.api.networks", "Result": "nsbox.api.result", "Volume": "nsbox.api.volumes"}
_ERRORS = ("NsboxError", "NotFound", "ContainerNotFound", "ImageNotFound", "AlreadyExists", "NameInUse",
           "ConfigError", "InvalidOption", "CgroupError", "LimitUnsupported", "RuntimeFailed", "StateError",
           "WaitTimeout", "VolumeNotFound", "NetworkNotFound")
_OF_DEFAULT_CLIENT = ("run", "arun", "containers", "images", "networks", "volumes")

__all__ = [*_OF_DEFAULT_CLIENT, *_CLASSES, *_ERRORS]


def __getattr__(name: str) -> object:
    if name in _OF_DEFAULT_CLIENT:
        from nsbox.api.client import default_client
        return getattr(default_client(), name)
    if name in _CLASSES:
        import importlib
        return getattr(importlib.import_module(_CLASSES[name]), name)
    if name in _ERRORS:
        from nsbox import errors
        return getattr(errors, name)
    raise AttributeError(f"module 'nsbox' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
