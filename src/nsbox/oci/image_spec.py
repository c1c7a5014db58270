"""The OCI image specification (v1.1) as typed, validated data: descriptors, image
indexes, image manifests and image configs, plus Docker's schema-2 equivalents.

`parse_index`, `parse_manifest` and `parse_config` take the raw bytes and refuse what does
not validate with a ConfigError naming the field ("manifest.layers[1].digest: ...").
"""
from __future__ import annotations

from nsbox.errors import ConfigError
from nsbox.oci import jsonio
from nsbox.oci.fields import Fields

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_LAYOUT_VERSION = "1.0.0"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
CONFIG_TYPES = (OCI_CONFIG, DOCKER_CONFIG)
LAYER_TYPES = (OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD, DOCKER_LAYER_GZIP,
               "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", DOCKER_FOREIGN_LAYER)

REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"

_HEX = frozenset("0123456789abcdef")


def is_digest(text: object) -> bool:
    """sha256:<64 lowercase hex digits>"""
    return isinstance(text, str) and len(text) == 71 and text.startswith("sha256:") and _HEX.issuperset(text[7:])


def check_digest(digest: object, field: str) -> str:
    if not is_digest(digest):
        raise ConfigError(field, f"must be a sha256 digest (sha256:<64 hex digits>), got {digest!r}")
    return str(digest)


class Platform:
    __slots__ = ("os", "architecture", "variant")

    def __init__(self, os: str, architecture: str, variant: str | None = None) -> None:
        self.os = os
        self.architecture = architecture
        self.variant = variant

    @classmethod
    def from_fields(cls, f: Fields) -> Platform:
        return cls(f.str("os", required=True), f.str("architecture", required=True),  # type: ignore[arg-type]
                   f.str("variant"))

    def __str__(self) -> str:
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part)

    def to_json(self) -> dict:
        out = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        return out


class Descriptor:
    """A pointer to content: media type, digest, size (and for index entries a platform)."""

    __slots__ = ("media_type", "digest", "size", "platform", "annotations")

    def __init__(self, media_type: str, digest: str, size: int, platform: Platform | None = None,
                 annotations: dict[str, str] | None = None) -> None:
        self.media_type = media_type
        self.digest = digest
        self.size = size
        self.platform = platform
        self.annotations = annotations or {}

    @classmethod
    def from_fields(cls, f: Fields) -> Descriptor:
        media_type: str = f.str("mediaType", required=True)  # type: ignore[assignment]
        digest = check_digest(f.raw("digest"), f.where("digest"))
        size: int = f.int("size", required=True, minimum=0)  # type: ignore[assignment]
        platform = f.obj("platform")
        return cls(media_type, digest, size, None if platform is None else Platform.from_fields(platform),
                   f.str_map("annotations"))

    def to_json(self) -> dict:
        out: dict = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.platform is not None:
            out["platform"] = self.platform.to_json()
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out


def _decode(data: bytes, what: str) -> Fields:
    try:
        document = jsonio.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise ConfigError(what, f"is not valid JSON ({error})") from None
    return Fields(document, what)


class Index:
    """An OCI image index or a Docker manifest list: one manifest per platform."""

    __slots__ = ("media_type", "manifests", "annotations")

    def __init__(self, manifests: list[Descriptor], media_type: str = OCI_INDEX,
                 annotations: dict[str, str] | None = None) -> None:
        self.media_type = media_type
        self.manifests = manifests
        self.annotations = annotations or {}

    def to_json(self) -> dict:
        out: dict = {"schemaVersion": 2, "mediaType": self.media_type,
                     "manifests": [entry.to_json() for entry in self.manifests]}
        if self.annotations:
            out["annotations"] = self.annotations
        return out


def parse_index(data: bytes, what: str = "index") -> Index:
    f = _decode(data, what)
    if f.int("schemaVersion", required=True) != 2:
        raise ConfigError(f.where("schemaVersion"), "must be 2")
    media_type = f.str("mediaType", OCI_INDEX)
    if media_type not in INDEX_TYPES:
        raise ConfigError(f.where("mediaType"), f"must be one of {', '.join(INDEX_TYPES)}, got {media_type!r}")
    return Index([Descriptor.from_fields(entry) for entry in f.objs("manifests")], media_type,
                 f.str_map("annotations"))


class Manifest:
    """One image for one platform: its config and its layers, bottom first."""

    __slots__ = ("media_type", "config", "layers", "annotations")

    def __init__(self, config: Descriptor, layers: list[Descriptor], media_type: str = OCI_MANIFEST,
                 annotations: dict[str, str] | None = None) -> None:
        self.media_type = media_type
        self.config = config
        self.layers = layers
        self.annotations = annotations or {}

    def to_json(self) -> dict:
        out: dict = {"schemaVersion": 2, "mediaType": self.media_type, "config": self.config.to_json(),
                     "layers": [layer.to_json() for layer in self.layers]}
        if self.annotations:
            out["annotations"] = self.annotations
        return out


def parse_manifest(data: bytes, what: str = "manifest") -> Manifest:
    f = _decode(data, what)
    if f.int("schemaVersion", required=True) != 2:
        raise ConfigError(f.where("schemaVersion"), "must be 2 (Docker schema 1 manifests are not supported)")
    media_type = f.str("mediaType", OCI_MANIFEST)
    if media_type not in MANIFEST_TYPES:
        raise ConfigError(f.where("mediaType"), f"must be one of {', '.join(MANIFEST_TYPES)}, got {media_type!r}")
    config = Descriptor.from_fields(f.obj("config", required=True))  # type: ignore[arg-type]
    if config.media_type not in CONFIG_TYPES:
        raise ConfigError(f.where("config.mediaType"), f"must be an image config type, got {config.media_type!r}")
    layers = []
    for layer in f.objs("layers"):
        descriptor = Descriptor.from_fields(layer)
        if descriptor.media_type not in LAYER_TYPES:
            raise ConfigError(layer.where("mediaType"), f"is not a layer type nsbox can unpack: {descriptor.media_type!r}")
        layers.append(descriptor)
    return Manifest(config, layers, media_type, f.str_map("annotations"))


def media_type_of(data: bytes) -> str:
    """The mediaType a manifest or index document declares (guessing from its shape if absent)."""
    try:
        document = jsonio.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ConfigError("manifest", "is not valid JSON") from None
    if not isinstance(document, dict):
        raise ConfigError("manifest", "must be an object")
    declared = document.get("mediaType")
    if isinstance(declared, str):
        return declared
    return OCI_INDEX if "manifests" in document else OCI_MANIFEST


class ImageConfig:
    """The parts of an image config a container is made from, plus the layer diff IDs.

    `raw` keeps the whole decoded document (for `nsbox image inspect`).
    """

    __slots__ = ("raw", "architecture", "os", "variant", "created", "diff_ids", "entrypoint", "cmd", "env",
                 "working_dir", "user", "exposed_ports", "volumes", "labels", "stop_signal")

    def __init__(self, f: Fields) -> None:
        self.raw: dict = f.data
        self.architecture = f.str("architecture", "")
        self.os = f.str("os", "")
        self.variant = f.str("variant")
        self.created = f.str("created")
        rootfs = f.obj("rootfs", required=True)
        if rootfs.str("type", required=True) != "layers":  # type: ignore[union-attr]
            raise ConfigError(rootfs.where("type"), "must be 'layers'")  # type: ignore[union-attr]
        self.diff_ids = rootfs.strs("diff_ids")  # type: ignore[union-attr]
        for index, diff_id in enumerate(self.diff_ids):
            check_digest(diff_id, f"{rootfs.where('diff_ids')}[{index}]")  # type: ignore[union-attr]
        config = f.obj("config") or Fields({}, f.where("config"))
        self.entrypoint = config.strs("Entrypoint")
        self.cmd = config.strs("Cmd")
        self.env = config.strs("Env")
        self.working_dir = config.str("WorkingDir", "")
        self.user = config.str("User", "")
        self.exposed_ports = sorted(config.obj("ExposedPorts").data) if config.has("ExposedPorts") else []  # type: ignore[union-attr]
        self.volumes = sorted(config.obj("Volumes").data) if config.has("Volumes") else []  # type: ignore[union-attr]
        self.labels = config.str_map("Labels")
        self.stop_signal = config.str("StopSignal")


def parse_config(data: bytes, what: str = "config") -> ImageConfig:
    return ImageConfig(_decode(data, what))


def dumps(document: dict) -> bytes:
    """Canonical-enough JSON bytes for documents nsbox writes (stable key order, compact)."""
    import json
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
