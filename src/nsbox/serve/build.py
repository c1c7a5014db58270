"""POST /build (the docker CLI's classic builder, docker-py's images.build): the body is the
build context as a tar; nsbox's Dockerfile builder makes the image, and its output comes back
as Docker's JSON lines ({"stream": ...}, {"aux": {"ID": ...}}, or {"error": ...}).

The build runs as `nsbox build` in a child: its RUN steps run containers in the foreground,
which takes signals and this process's stdout — not something to do in a threaded server."""
from __future__ import annotations

import json
import os

from nsbox.serve.http import ApiError

FLAGS = (("target", "--target"), ("networkmode", "--network"), ("platform", "--platform"))


def build(handler, request) -> None:
    import io
    import subprocess
    import tempfile

    from nsbox.image.unpack import unpack_layer
    from nsbox.linux.store_files import remove_tree
    from nsbox.serve.execs import nsbox_program
    context = request.body()  # read first: an error answer must not leave the body in the connection
    scratch = tempfile.mkdtemp(prefix="nsbox-serve-build.")
    try:
        directory = os.path.join(scratch, "context")
        os.mkdir(directory)
        if context:
            unpack_layer(io.BytesIO(context), directory, "the build context")
        command = [*nsbox_program(), "--root", handler.root, "build", *_options(request, directory),
                   "--iidfile", os.path.join(scratch, "iid"), directory]
        handler.start_stream()
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert process.stdout is not None
        last = b""
        for line in process.stdout:
            last = line or last
            if not request.flag("q"):
                handler.chunk(json.dumps({"stream": line.decode(errors="replace")}).encode() + b"\n")
        if process.wait() != 0:
            message = last.decode(errors="replace").strip().removeprefix("nsbox: ") or "the build failed"
            handler.chunk(json.dumps({"errorDetail": {"message": message}, "error": message}).encode() + b"\n")
        else:
            with open(os.path.join(scratch, "iid")) as iid:
                handler.chunk(json.dumps({"aux": {"ID": iid.read().strip()}}).encode() + b"\n")
        handler.end_stream()
    finally:
        remove_tree(scratch)


def _options(request, directory: str) -> list[str]:
    """`nsbox build` flags from the query: t (repeated), dockerfile, buildargs, labels, target, ..."""
    dockerfile = os.path.normpath(os.path.join(directory, request.query.get("dockerfile") or "Dockerfile"))
    if not dockerfile.startswith(directory + os.sep):
        raise ApiError(400, f"dockerfile: {request.query['dockerfile']!r} is outside the build context")
    options = ["-f", dockerfile]
    for tag in request.lists.get("t", []):
        options += ["-t", tag]
    for key, flag in (("buildargs", "--build-arg"), ("labels", "--label")):
        pairs = _json_object(request, key)
        for name, value in pairs.items():
            options += [flag, f"{name}={value if value is not None else ''}"]
    for key, flag in FLAGS:
        if request.query.get(key) and request.query[key] != "default":
            options += [flag, request.query[key]]
    options += ["--no-cache"] if request.flag("nocache") else []
    options += ["--pull"] if request.flag("pull") else []
    return options


def _json_object(request, key: str) -> dict:
    text = request.query.get(key) or "{}"
    try:
        value = json.loads(text)
    except ValueError:
        raise ApiError(400, f"{key}: not a JSON object: {text!r}") from None
    if not isinstance(value, dict):
        raise ApiError(400, f"{key}: not a JSON object: {text!r}")
    return value
