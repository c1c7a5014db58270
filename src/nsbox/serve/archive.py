"""/containers/ID/archive (docker cp both ways), /containers/ID/export and /containers/ID/changes."""
from __future__ import annotations

import json
import os

from nsbox.serve.http import Chunks


def _engine(handler):
    from nsbox.engine.containers import Engine
    return Engine(handler.root)


def _path_stat(handler, name: str, path: str) -> tuple[str, str]:
    """(host path, the X-Docker-Container-Path-Stat header: base64 JSON with Go's FileMode bits)."""
    import base64
    import stat as stat_module
    from nsbox.engine.file_copy import container_root, inside
    from nsbox.errors import NotFound
    found = inside(container_root(_engine(handler), name), path)
    try:
        info = os.stat(found) if os.path.normpath(path) == "/" else os.lstat(found)
    except FileNotFoundError:
        raise NotFound(f"Could not find the file {path} in container {name}") from None
    mode = stat_module.S_IMODE(info.st_mode)
    if stat_module.S_ISDIR(info.st_mode):
        mode |= 1 << 31
    elif stat_module.S_ISLNK(info.st_mode):
        mode |= 1 << 27
    from nsbox.oci.timestamps import rfc3339
    described = {"name": os.path.basename(path.rstrip("/")) or "/", "size": info.st_size, "mode": mode,
                 "mtime": rfc3339(int(info.st_mtime * 1e9)),
                 "linkTarget": os.readlink(found) if stat_module.S_ISLNK(info.st_mode) else ""}
    return found, base64.b64encode(json.dumps(described).encode()).decode()


def archive_head(handler, request, name: str) -> None:
    _, header = _path_stat(handler, name, request.query.get("path") or "/")
    handler.send_response(200)
    handler.send_header("X-Docker-Container-Path-Stat", header)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def archive_get(handler, request, name: str) -> None:
    """`docker cp CONTAINER:PATH ...`: the path as a tar stream."""
    from nsbox.engine.file_copy import copy_from_as_tar
    path = request.query.get("path") or "/"
    _, header = _path_stat(handler, name, path)
    handler.send_response(200)
    handler.send_header("Content-Type", "application/x-tar")
    handler.send_header("X-Docker-Container-Path-Stat", header)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()

    copy_from_as_tar(_engine(handler), name, path, Chunks(handler))
    handler.end_stream()


def archive_put(handler, request, name: str) -> None:
    """`docker cp ... CONTAINER:DIR`: a tar stream unpacked into the directory."""
    import io

    from nsbox.engine.file_copy import copy_to_from_tar
    data = request.body()  # read first: an error answer must not leave the body in the connection
    copy_to_from_tar(_engine(handler), name, io.BytesIO(data), request.query.get("path") or "/")
    handler.send_empty(200)


def export(handler, request, name: str) -> None:
    """`docker export`: the container's root filesystem as a tar stream."""
    from nsbox.engine.file_copy import container_root, export as export_root
    engine = _engine(handler)
    container_root(engine, name, through_process=False)  # a missing container is a 404 before the stream
    handler.start_stream("application/x-tar")
    export_root(engine, name, Chunks(handler))
    handler.end_stream()


def changes(handler, request, name: str) -> None:
    """`docker diff`: [{"Path", "Kind"}], Kind 0 changed, 1 added, 2 deleted."""
    from nsbox.engine.file_copy import changes as container_changes
    kinds = {"C": 0, "A": 1, "D": 2}
    handler.send_json([{"Path": path, "Kind": kinds[kind]} for kind, path in container_changes(_engine(handler), name)])
