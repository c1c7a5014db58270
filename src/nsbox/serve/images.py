"""/images/...: list, inspect, create (pull, with Docker's streamed JSON progress), tag, remove."""
from __future__ import annotations

import json

from nsbox.serve.http import ApiError, Chunks


def list_(handler, request) -> None:
    from nsbox.engine.docker_shape import image_summary
    from nsbox.image.manage import describe
    from nsbox.image.store import ImageStore
    handler.send_json([image_summary(describe(handler.root, image.id)) for image in ImageStore(handler.root).images()])


def inspect(handler, request, name: str) -> None:
    from nsbox.image.manage import describe
    handler.send_json(describe(handler.root, name))


def create(handler, request) -> None:
    """POST /images/create?fromImage=NAME&tag=TAG: a pull, reported as Docker's JSON lines."""
    from nsbox.image.pull import configured_insecure_registries, pull
    image = request.query.get("fromImage")
    if not image:
        raise ApiError(400, "fromImage: name the image to pull (import of a tarball is not supported)")
    tag = request.query.get("tag")
    if tag and not tag.startswith("sha256:") and ":" not in image.rsplit("/", 1)[-1] and "@" not in image:
        image = f"{image}:{tag}"
    handler.start_stream()
    handler.chunk(json.dumps({"status": f"Pulling from {image}", "id": tag or "latest"}).encode() + b"\n")
    try:
        pulled = pull(handler.root, image, insecure_registries=configured_insecure_registries(handler.root))
    except Exception as error:  # the stream has begun: Docker reports a failed pull in it
        handler.chunk(json.dumps({"errorDetail": {"message": str(error)}, "error": str(error)}).encode() + b"\n")
        handler.end_stream()
        return
    for line in ({"status": f"Digest: {pulled.manifest_digest}"},
                 {"status": f"Status: Downloaded newer image for {image}"}):
        handler.chunk(json.dumps(line).encode() + b"\n")
    handler.end_stream()


def tag(handler, request, name: str) -> None:
    from nsbox.image.manage import tag as tag_image
    repository = request.query.get("repo")
    if not repository:
        raise ApiError(400, "repo: name the repository to tag into")
    tag_image(handler.root, name, f"{repository}:{request.query.get('tag') or 'latest'}")
    handler.send_empty(201)


def prune(handler, request) -> None:
    """Unnamed images no container uses (filter dangling=false: as `nsbox image prune -a`), and
    the blobs and layers nothing keeps."""
    from nsbox.image.manage import prune as prune_images
    filters = json.loads(request.query.get("filters") or "{}")
    wanted = filters.get("dangling") or ["true"]
    dangling = all(str(value).lower() in ("true", "1") for value in (wanted if isinstance(wanted, (list, dict))
                                                                     else [wanted]))
    removed, freed = prune_images(handler.root, dangling=dangling)
    handler.send_json({"ImagesDeleted": [{"Deleted": line.rsplit(" ", 1)[-1]} for line in removed
                                         if line.startswith("unnamed image ")] or None, "SpaceReclaimed": freed})


def remove(handler, request, name: str) -> None:
    from nsbox.image.manage import remove_image
    lines = remove_image(handler.root, name, force=request.flag("force"))
    handler.send_json([{"Untagged" if line.startswith("Untagged") else "Deleted": line.split(": ", 1)[-1]}
                       for line in lines])


def save(handler, request, name: str | None = None) -> None:
    """`docker save`: the images as one docker-save (and OCI) archive."""
    from nsbox.image.archive import save as save_images
    names = [name] if name else request.lists.get("names", [])
    if not names:
        raise ApiError(400, "names: name at least one image")
    from nsbox.image.store import ImageStore
    for each in names:
        ImageStore(handler.root).resolve(each)  # a missing image is a 404 before the stream starts
    handler.start_stream("application/x-tar")
    save_images(handler.root, names, Chunks(handler))
    handler.end_stream()


def load(handler, request) -> None:
    """`docker load`: a docker-save or OCI archive in the body."""
    import io

    from nsbox.image.archive import load as load_images
    names = load_images(handler.root, io.BytesIO(request.body()))
    handler.start_stream()
    for loaded in names:
        handler.chunk(json.dumps({"stream": f"Loaded image: {loaded}\n"}).encode() + b"\n")
    handler.end_stream()


def push(handler, request, name: str) -> None:
    """`docker push`: to its registry, reported as Docker's JSON lines."""
    from nsbox.image.pull import configured_insecure_registries
    from nsbox.image.push import push as push_image
    reference = f"{name}:{request.query['tag']}" if request.query.get("tag") else name
    handler.start_stream()
    try:
        digest = push_image(handler.root, reference, insecure_registries=configured_insecure_registries(handler.root))
    except Exception as error:  # the stream has begun: Docker reports a failed push in it
        handler.chunk(json.dumps({"errorDetail": {"message": str(error)}, "error": str(error)}).encode() + b"\n")
    else:
        handler.chunk(json.dumps({"status": f"{request.query.get('tag') or 'latest'}: digest: {digest}"}).encode()
                      + b"\n")
    handler.end_stream()
