"""Image references as Docker parses them.

    busybox                     -> docker.io/library/busybox:latest
    me/app:1.2                  -> docker.io/me/app:1.2
    127.0.0.1:5000/app          -> 127.0.0.1:5000/app:latest
    app@sha256:<hex>            -> docker.io/library/app@sha256:<hex>
"""
from __future__ import annotations

from nsbox.errors import ImageError
from nsbox.oci.image_spec import is_digest

DEFAULT_DOMAIN = "docker.io"
DEFAULT_TAG = "latest"
DOCKER_HUB_ENDPOINT = "registry-1.docker.io"

# Docker's grammar, checked by hand: `re` costs milliseconds on the engine's start path.
_LOWER_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_ALNUM = _LOWER_ALNUM | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TAG_CHARS = _ALNUM | frozenset("_.-")
_HEX_COLON = frozenset("0123456789abcdefABCDEF:")


def _is_component(text: str) -> bool:
    """[a-z0-9]+ runs joined by one separator: ".", "_", "__" or any number of "-"."""
    if not text or text[0] not in _LOWER_ALNUM or text[-1] not in _LOWER_ALNUM:
        return False
    separator = ""
    for char in text:
        if char in _LOWER_ALNUM:
            if separator and separator not in (".", "_", "__") and set(separator) != {"-"}:
                return False
            separator = ""
        elif char in "._-":
            separator += char
        else:
            return False
    return True


def _is_tag(text: str) -> bool:
    return 0 < len(text) <= 128 and text[0] != "." and text[0] != "-" and _TAG_CHARS.issuperset(text)


def _is_domain(text: str) -> bool:
    host, port = text, ""
    if text.startswith("["):
        host, _, port = text[1:].partition("]")
        if not host or not _HEX_COLON.issuperset(host) or (port and not port.startswith(":")):
            return False
        port = port[1:]
        return not port or port.isdigit()
    if ":" in text:
        host, port = text.rsplit(":", 1)
        if not port.isdigit():
            return False
    for label in host.split("."):
        if not label or label[0] == "-" or label[-1] == "-" or not (_ALNUM | {"-"}).issuperset(label):
            return False
    return True


class Reference:
    """A parsed image reference: domain, repository path, and a tag and/or a digest."""

    __slots__ = ("domain", "path", "tag", "digest")

    def __init__(self, domain: str, path: str, tag: str | None, digest: str | None) -> None:
        self.domain = domain
        self.path = path
        self.tag = tag
        self.digest = digest

    @property
    def repository(self) -> str:
        """domain/path, the name `nsbox images` shows (e.g. docker.io/library/busybox)."""
        return f"{self.domain}/{self.path}"

    @property
    def endpoint(self) -> str:
        """host[:port] to talk to for this reference's registry."""
        return DOCKER_HUB_ENDPOINT if self.domain == DEFAULT_DOMAIN else self.domain

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    def familiar(self) -> str:
        """The short form people type: busybox:latest rather than docker.io/library/busybox:latest."""
        return str(self).removeprefix("docker.io/library/").removeprefix("docker.io/")

    def with_tag(self, tag: str | None, digest: str | None = None) -> Reference:
        return Reference(self.domain, self.path, tag, digest)


def parse_reference(text: str, default_tag: bool = True) -> Reference:
    """Parse `text` as Docker does; raise ImageError naming what is wrong."""
    original = text
    if not text:
        raise ImageError("invalid image reference '': it is empty")
    digest = None
    if "@" in text:
        text, digest = text.split("@", 1)
        if not is_digest(digest):
            raise ImageError(f"invalid image reference {original!r}: the digest must be sha256:<64 lowercase hex digits>")
    tag = None
    last_slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > last_slash:
        text, tag = text[:colon], text[colon + 1:]
        if not _is_tag(tag):
            raise ImageError(f"invalid image reference {original!r}: tag {tag!r} must match [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}")
    first, _, rest = text.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        domain, path = first, rest
        if not _is_domain(domain):
            raise ImageError(f"invalid image reference {original!r}: {domain!r} is not a registry host[:port]")
    else:
        domain, path = DEFAULT_DOMAIN, text
    if domain in ("index.docker.io", "registry-1.docker.io"):
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = f"library/{path}"
    for component in path.split("/"):
        if not _is_component(component):
            raise ImageError(f"invalid image reference {original!r}: repository name component {component!r} "
                             "must be lowercase letters, digits and separators (. _ __ -)")
    if len(domain) + 1 + len(path) > 255:
        raise ImageError(f"invalid image reference {original!r}: the repository name is longer than 255 characters")
    if tag is None and digest is None and default_tag:
        tag = DEFAULT_TAG
    return Reference(domain, path, tag, digest)

