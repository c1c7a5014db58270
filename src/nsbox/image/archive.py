"""Image archives: `load` (docker-save and OCI archives), `save` (both at once, as
Docker 25 writes them), and `import` (a root filesystem tarball as a one-layer image).
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import time

from nsbox.errors import ImageError
from nsbox.image.reference import parse_reference
from nsbox.image.store import UNTAGGED, Image, ImageStore
from nsbox.image.layer_stream import layer_stream
from nsbox.image.unpack import entry_parts
from nsbox.oci import image_spec
from nsbox.oci.image_spec import Descriptor, Manifest
from nsbox.oci.timestamps import rfc3339_now

_CHUNK = 1 << 20
CONTAINERD_NAME = "io.containerd.image.name"


def _layer_media_type(path: str) -> str:
    with open(path, "rb") as blob:
        magic = blob.read(4)
    if magic[:2] == b"\x1f\x8b":
        return image_spec.OCI_LAYER_GZIP
    if magic == b"\x28\xb5\x2f\xfd":
        return image_spec.OCI_LAYER_ZSTD
    return image_spec.OCI_LAYER


def store_image(store: ImageStore, config: dict, layers: list[Descriptor], names: list[str]) -> Image:
    """Write the config blob, then the manifest; unpack the layers; name the image."""
    config_bytes = image_spec.dumps(config)
    image_spec.parse_config(config_bytes, "config")
    return _name_image(store, store.write_blob(config_bytes), len(config_bytes), layers, names)


def _name_image(store: ImageStore, config_digest: str, config_size: int, layers: list[Descriptor],
                names: list[str]) -> Image:
    """A manifest for a stored config and layers; the layers unpacked; the names recorded."""
    config = image_spec.parse_config(store.read_blob(config_digest), f"config {config_digest}")
    if len(config.diff_ids) != len(layers):
        raise ImageError(f"config {config_digest} lists {len(config.diff_ids)} layers, the archive {len(layers)}")
    manifest = Manifest(Descriptor(image_spec.OCI_CONFIG, config_digest, config_size), layers)
    manifest_bytes = image_spec.dumps(manifest.to_json())
    for diff_id, layer in zip(config.diff_ids, layers):
        store.ensure_layer(diff_id, layer.digest)
    manifest_digest = store.write_blob(manifest_bytes)
    with store.editing_references() as references:
        for name in names or [UNTAGGED + manifest_digest]:
            references[name] = Descriptor(image_spec.OCI_MANIFEST, manifest_digest, len(manifest_bytes))
    return store.image(manifest_digest)


# import

def apply_changes(config: dict, changes: list[str]) -> None:
    """Dockerfile-like `--change` instructions: CMD, ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE, LABEL."""
    for change in changes:
        instruction, _, argument = change.strip().partition(" ")
        instruction = instruction.upper()
        argument = argument.strip()
        if instruction in ("CMD", "ENTRYPOINT"):
            if argument.startswith("["):
                try:
                    value = json.loads(argument)
                except ValueError:
                    raise ImageError(f"--change {change!r}: the JSON array does not parse") from None
                if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                    raise ImageError(f"--change {change!r}: must be a JSON array of strings")
            else:
                value = ["/bin/sh", "-c", argument]
            config["Cmd" if instruction == "CMD" else "Entrypoint"] = value
        elif instruction == "ENV":
            name, _, value = argument.partition("=")
            if not name or "=" not in argument:
                raise ImageError(f"--change {change!r}: ENV needs NAME=VALUE")
            config["Env"] = [item for item in config.get("Env", []) if not item.startswith(name + "=")] + [argument]
        elif instruction == "WORKDIR":
            config["WorkingDir"] = argument
        elif instruction == "USER":
            config["User"] = argument
        elif instruction == "EXPOSE":
            for port in argument.split():
                config.setdefault("ExposedPorts", {})[port if "/" in port else f"{port}/tcp"] = {}
        elif instruction == "LABEL":
            name, _, value = argument.partition("=")
            config.setdefault("Labels", {})[name] = value.strip('"')
        else:
            raise ImageError(f"--change {change!r}: nsbox import supports CMD, ENTRYPOINT, ENV, WORKDIR, USER, "
                             "EXPOSE and LABEL")


def _leaving_nothing_on_failure(make):
    """Run make(); if it fails, remove the blobs and layers it added that nothing uses."""
    def run(root: str, *args, **kwargs):
        from nsbox.image.manage import prune, store_contents
        before = store_contents(root)
        try:
            return make(root, *args, **kwargs)
        except BaseException:
            prune(root, dangling=False, keep=before)
            raise
    run.__doc__ = make.__doc__
    return run


@_leaving_nothing_on_failure
def import_rootfs(root: str, source, name: str | None = None, changes: list[str] = (),  # type: ignore[assignment]
                  platform: tuple[str, str] | None = None) -> Image:
    """A one-layer image from a root filesystem tarball (`source`: a path or a binary stream).

    The layer is stored uncompressed, so its digest is its diff ID.
    """
    from nsbox.image.platform import host_platform
    names = [str(parse_reference(name))] if name else []
    store = ImageStore(root)
    store.create()
    with store.pulling():
        raw = open(source, "rb") if isinstance(source, str) else source
        try:
            stream = layer_stream(raw)
            digest, size = store.write_new_blob("import-", lambda out: shutil.copyfileobj(stream, out, _CHUNK))
        finally:
            if raw is not source:
                raw.close()
        host = host_platform()
        os_name, architecture = platform or (host.os, host.architecture)
        config_section: dict = {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}
        apply_changes(config_section, list(changes))
        created = rfc3339_now()
        config = {"architecture": architecture, "os": os_name, "created": created, "config": config_section,
                  "rootfs": {"type": "layers", "diff_ids": [digest]},
                  "history": [{"created": created, "created_by": "nsbox import", "comment": "imported"}]}
        return store_image(store, config, [Descriptor(image_spec.OCI_LAYER, digest, size)], names)


# load

@_leaving_nothing_on_failure
def load(root: str, source) -> list[str]:
    """Load a docker-save or OCI archive (a path or a binary stream); return the names loaded
    (an untagged image is reported by its image ID)."""
    store = ImageStore(root)
    store.create()
    spool = tempfile.mkdtemp(prefix="load-", dir=store.ingest_dir)
    try:
        with store.pulling():
            files = _spool_archive(source, spool)
            if "manifest.json" in files:
                images = _load_docker(store, files)
            elif "index.json" in files:
                images = _load_oci(store, files)
            else:
                raise ImageError("the archive has neither manifest.json (docker save) nor index.json (OCI layout)")
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    loaded: list[str] = []
    for image in images:
        loaded.extend(name for name in image.names if not name.startswith(UNTAGGED))
        if not any(not name.startswith(UNTAGGED) for name in image.names):
            loaded.append(image.id)
    return loaded


class _Spooled:
    __slots__ = ("path", "digest", "size")

    def __init__(self, path: str, digest: str, size: int) -> None:
        self.path = path
        self.digest = digest
        self.size = size


def _spool_archive(source, spool: str) -> dict[str, _Spooled]:
    """Copy every regular file of the archive into `spool`, hashed; return name -> file."""
    files: dict[str, _Spooled] = {}
    links: dict[str, str] = {}
    try:
        if isinstance(source, str):
            tar = tarfile.open(source, mode="r:*")
        else:
            tar = tarfile.open(fileobj=source, mode="r|*")
    except (OSError, tarfile.TarError) as error:
        raise ImageError(f"cannot read the image archive: {error}") from None
    with tar:
        try:
            for number, member in enumerate(tar):
                name = "/".join(entry_parts(member.name, "archive entry"))
                if member.issym() or member.islnk():
                    base = os.path.dirname(name) if member.issym() else ""
                    links[name] = "/".join(entry_parts(os.path.join(base, member.linkname), "archive link"))
                    continue
                if not member.isreg():
                    continue
                path = os.path.join(spool, str(number))
                sha256 = hashlib.sha256()
                source_file = tar.extractfile(member)
                with open(path, "wb") as out:
                    while chunk := source_file.read(_CHUNK):  # type: ignore[union-attr]
                        sha256.update(chunk)
                        out.write(chunk)
                files[name] = _Spooled(path, "sha256:" + sha256.hexdigest(), member.size)
        except (tarfile.TarError, EOFError, gzip.BadGzipFile) as error:
            raise ImageError(f"the image archive is not a valid tar: {error}") from None
    for name, target in links.items():
        if target in files:
            files[name] = files[target]
    return files


def _file(files: dict[str, _Spooled], name: str, what: str) -> _Spooled:
    found = files.get("/".join(entry_parts(name, what)))
    if found is None:
        raise ImageError(f"the archive names {name!r} as {what}, but has no such file")
    return found


def _adopt(store: ImageStore, spooled: _Spooled) -> None:
    if os.path.exists(spooled.path):
        store.adopt(spooled.path, spooled.digest)


def _load_docker(store: ImageStore, files: dict[str, _Spooled]) -> list[Image]:
    with open(files["manifest.json"].path, "rb") as source:
        try:
            entries = json.load(source)
        except ValueError as error:
            raise ImageError(f"manifest.json is not valid JSON ({error})") from None
    if not isinstance(entries, list):
        raise ImageError("manifest.json must be an array of images")
    images = []
    for index, entry in enumerate(entries):
        where = f"manifest.json[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str) \
                or not isinstance(entry.get("Layers"), list):
            raise ImageError(f"{where}: needs Config (a file name) and Layers (file names)")
        config_file = _file(files, entry["Config"], f"{where}.Config")
        with open(config_file.path, "rb") as source:
            config = json.loads(source.read())
        image_spec.parse_config(image_spec.dumps(config), f"{where}.Config")
        layers = []
        for layer_name in entry["Layers"]:
            spooled = _file(files, layer_name, f"{where}.Layers")
            media_type = _layer_media_type(spooled.path)
            _adopt(store, spooled)
            layers.append(Descriptor(media_type, spooled.digest, spooled.size))
        names = [str(parse_reference(tag)) for tag in entry.get("RepoTags") or []]
        # keep the config's own bytes: its digest is the image ID Docker showed
        _adopt(store, config_file)
        images.append(_name_image(store, config_file.digest, config_file.size, layers, names))
    return images


def _load_oci(store: ImageStore, files: dict[str, _Spooled]) -> list[Image]:
    from nsbox.image.platform import host_platform
    from nsbox.image.pull import pick_platform

    def blob(descriptor: Descriptor) -> _Spooled:
        spooled = _file(files, f"blobs/sha256/{descriptor.digest[len('sha256:'):]}", f"blob {descriptor.digest}")
        if spooled.digest != descriptor.digest:
            raise ImageError(f"blobs/sha256/{descriptor.digest[7:]} in the archive hashes to {spooled.digest}; refused")
        return spooled

    with open(files["index.json"].path, "rb") as source:
        index = image_spec.parse_index(source.read(), "index.json")
    images = []
    for entry in index.manifests:
        name = entry.annotations.get(CONTAINERD_NAME) or entry.annotations.get(image_spec.REF_NAME_ANNOTATION)
        descriptor = entry
        spooled = blob(descriptor)
        with open(spooled.path, "rb") as source:
            body = source.read()
        if descriptor.media_type in image_spec.INDEX_TYPES:
            descriptor = pick_platform(image_spec.parse_index(body, f"index {descriptor.digest}"), host_platform(),
                                       name or descriptor.digest)
            spooled = blob(descriptor)
            with open(spooled.path, "rb") as source:
                body = source.read()
        manifest = image_spec.parse_manifest(body, f"manifest {descriptor.digest}")
        for part in (manifest.config, *manifest.layers):
            _adopt(store, blob(part))
        for diff_id, layer in zip(image_spec.parse_config(store.read_blob(manifest.config.digest)).diff_ids,
                                  manifest.layers):
            store.ensure_layer(diff_id, layer.digest)
        store.write_blob(body, descriptor.digest)
        names = []
        if name and ("/" in name or ":" in name):
            names = [str(parse_reference(name))]
        with store.editing_references() as references:
            for reference in names or [UNTAGGED + descriptor.digest]:
                references[reference] = Descriptor(manifest.media_type, descriptor.digest, len(body))
        images.append(store.image(descriptor.digest))
    return images


# save

def save(root: str, names: list[str], target) -> None:
    """Write the images to `target` (a path or a binary stream) as one archive that both
    `docker load` (manifest.json) and OCI tools (oci-layout, index.json) read."""
    store = ImageStore(root)
    images = [(name, store.resolve(name)) for name in names]
    index_entries = []
    docker_entries = []
    blobs: dict[str, str] = {}
    for name, image in images:
        by_id = image.id[len("sha256:"):].startswith(name.removeprefix("sha256:"))
        reference = None if by_id else parse_reference(name)
        annotations = {}
        if reference is not None and reference.tag:
            annotations = {CONTAINERD_NAME: str(reference), image_spec.REF_NAME_ANNOTATION: reference.tag}
        index_entries.append(Descriptor(image.manifest.media_type, image.manifest_digest,
                                        len(store.read_blob(image.manifest_digest)), annotations=annotations).to_json())
        for digest in (image.manifest_digest, image.id, *(layer.digest for layer in image.manifest.layers)):
            blobs[digest] = store.blob_path(digest)
        docker_entries.append({"Config": f"blobs/sha256/{image.id[7:]}",
                               "RepoTags": [reference.familiar()] if reference is not None and reference.tag else [],
                               "Layers": [f"blobs/sha256/{layer.digest[7:]}" for layer in image.manifest.layers]})
    if isinstance(target, str):  # written whole under a temporary name, then renamed
        temporary = f"{target}.tmp-{os.getpid()}"
        try:
            with open(temporary, "wb") as out:
                _write_archive(out, index_entries, docker_entries, blobs)
            os.rename(temporary, target)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
    else:
        _write_archive(target, index_entries, docker_entries, blobs)


def _write_archive(out, index_entries: list[dict], docker_entries: list[dict], blobs: dict[str, str]) -> None:
    with tarfile.open(fileobj=out, mode="w|") as tar:
        def add_bytes(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))

        add_bytes("oci-layout", json.dumps({"imageLayoutVersion": image_spec.OCI_LAYOUT_VERSION}).encode())
        add_bytes("index.json", image_spec.dumps({"schemaVersion": 2, "mediaType": image_spec.OCI_INDEX,
                                                  "manifests": index_entries}))
        add_bytes("manifest.json", json.dumps(docker_entries).encode())
        for digest, path in blobs.items():
            info = tar.gettarinfo(path, f"blobs/sha256/{digest[7:]}")
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with open(path, "rb") as content:
                tar.addfile(info, content)
