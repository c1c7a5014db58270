"""Building layer tarballs and OCI image layouts by hand (no nsbox code), for the tests.

Each entry helper returns a (TarInfo, data) pair; `layer([...])` makes the tar bytes.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile

MTIME = 1_600_000_000


def _info(name: str, kind: bytes, mode: int, uid: int = 0, gid: int = 0, mtime: int = MTIME) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.uid, info.gid = uid, gid
    info.mtime = mtime
    return info


def file(name: str, data: bytes = b"", mode: int = 0o644, uid: int = 0, gid: int = 0,
         xattrs: dict[str, str] | None = None, mtime: int = MTIME):
    info = _info(name, tarfile.REGTYPE, mode, uid, gid, mtime)
    info.size = len(data)
    for key, value in (xattrs or {}).items():
        info.pax_headers[f"SCHILY.xattr.{key}"] = value
    return info, data


def directory(name: str, mode: int = 0o755, uid: int = 0, gid: int = 0, mtime: int = MTIME):
    return _info(name, tarfile.DIRTYPE, mode, uid, gid, mtime), None


def symlink(name: str, target: str):
    info = _info(name, tarfile.SYMTYPE, 0o777)
    info.linkname = target
    return info, None


def hardlink(name: str, target: str):
    info = _info(name, tarfile.LNKTYPE, 0o644)
    info.linkname = target
    return info, None


def fifo(name: str, mode: int = 0o644):
    return _info(name, tarfile.FIFOTYPE, mode), None


def chardev(name: str, major: int, minor: int, mode: int = 0o666):
    info = _info(name, tarfile.CHRTYPE, mode)
    info.devmajor, info.devminor = major, minor
    return info, None


def layer(entries) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Layout:
    """An OCI image layout directory written blob by blob (what skopeo copies from)."""

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w") as out:
            json.dump({"imageLayoutVersion": "1.0.0"}, out)
        self.entries: list[dict] = []

    def blob(self, data: bytes, media_type: str) -> dict:
        digest = sha256(data)
        with open(os.path.join(self.path, "blobs", "sha256", digest[7:]), "wb") as out:
            out.write(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def image(self, layers: list[bytes], config: dict | None = None, architecture: str = "amd64",
              variant: str | None = None, gzipped: bool = True) -> dict:
        """Store an image (gzip or plain tar layers); return its manifest descriptor with the platform."""
        if gzipped:
            descriptors = [self.blob(gzip.compress(data, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip")
                           for data in layers]
        else:
            descriptors = [self.blob(data, "application/vnd.oci.image.layer.v1.tar") for data in layers]
        document = {"architecture": architecture, "os": "linux", "created": "2024-01-02T03:04:05Z",
                    "config": config or {"Cmd": ["sh"]},
                    "rootfs": {"type": "layers", "diff_ids": [sha256(data) for data in layers]}}
        if variant:
            document["variant"] = variant
        config_descriptor = self.blob(json.dumps(document).encode(), "application/vnd.oci.image.config.v1+json")
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": config_descriptor, "layers": descriptors}
        descriptor = self.blob(json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json")
        descriptor["platform"] = {"architecture": architecture, "os": "linux", **({"variant": variant} if variant else {})}
        return descriptor

    def index(self, manifests: list[dict]) -> dict:
        document = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": manifests}
        return self.blob(json.dumps(document).encode(), "application/vnd.oci.image.index.v1+json")

    def name(self, descriptor: dict, tag: str) -> None:
        entry = {key: value for key, value in descriptor.items() if key != "platform"}
        entry["annotations"] = {"org.opencontainers.image.ref.name": tag}
        self.entries.append(entry)
        with open(os.path.join(self.path, "index.json"), "w") as out:
            json.dump({"schemaVersion": 2, "manifests": self.entries}, out)
