"""This machine's image platform (Docker's GOOS/GOARCH names), and platform strings.

Apart from the registry client, so that a build or an import need not import HTTP."""
from __future__ import annotations

import os

from nsbox.errors import ImageError
from nsbox.oci.image_spec import Platform

_ARCHITECTURES = {"x86_64": ("amd64", None), "aarch64": ("arm64", "v8"), "armv7l": ("arm", "v7"),
                  "armv6l": ("arm", "v6"), "i686": ("386", None), "i386": ("386", None),
                  "ppc64le": ("ppc64le", None), "s390x": ("s390x", None), "riscv64": ("riscv64", None)}


def host_platform() -> Platform:
    architecture, variant = _ARCHITECTURES.get(os.uname().machine, (os.uname().machine, None))
    return Platform("linux", architecture, variant)


def parse_platform(text: str) -> Platform:
    """'linux/arm64/v8' or 'linux/amd64' -> Platform."""
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise ImageError(f"invalid platform {text!r}: expected os/architecture[/variant], e.g. linux/amd64")
    return Platform(parts[0], parts[1], parts[2] if len(parts) == 3 else None)
