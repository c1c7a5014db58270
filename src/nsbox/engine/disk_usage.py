"""What the store uses on disk, in the shape of Docker's GET /system/df (which `nsbox system
df` prints as Docker's tables), and the one prune of stopped containers."""
from __future__ import annotations

import os


def tree_size(path: str) -> int:
    """Bytes of the blocks the files below `path` take."""
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_blocks * 512
            except OSError:
                pass
    return total


def writable_layer_size(engine, record: dict) -> int:
    """Bytes the container wrote (its overlay's upper directory); 0 for a --rootfs container."""
    if not record.get("Image"):
        return 0
    from nsbox.image.rootfs import upper_path
    return tree_size(upper_path(engine.root, record["Id"]))


def disk_usage(engine) -> dict:
    """{"LayersSize", "Images", "Containers", "Volumes", "BuildCache"} as Docker's API gives them:
    image and container summaries with their sizes and users, volumes with UsageData."""
    from nsbox.engine.docker_shape import container_summary, image_summary
    from nsbox.engine.volumes import Volumes
    from nsbox.image.manage import describe
    records = engine.list(include_stopped=True)
    try:
        from nsbox.image.store import ImageStore
        images = ImageStore(engine.root).images()
    except Exception:  # an unreadable image store must not hide the rest
        images = []
    image_sizes = {image.id: image.size for image in images}
    shown_images = [dict(image_summary(describe(engine.root, image.id)),
                         SharedSize=0,
                         Containers=sum(1 for r in records if r.get("Image") == image.id)) for image in images]
    containers = []
    for record in records:
        written = writable_layer_size(engine, record)
        containers.append(dict(container_summary(record), SizeRw=written,
                               SizeRootFs=written + image_sizes.get(record.get("Image") or "", 0)))
    volumes = Volumes(engine)
    users = volumes.users()
    shown_volumes = [dict(volumes.inspect(name), UsageData={"Size": tree_size(os.path.join(volumes.top, name)),
                                                            "RefCount": len(users.get(name, []))})
                     for name in volumes.names()]
    return {"LayersSize": sum(image_sizes.values()), "Images": shown_images, "Containers": containers,
            "Volumes": shown_volumes, "BuildCache": []}


def prune_containers(engine) -> list[str]:
    """Remove every stopped container (and its anonymous volumes), and what interrupted runs and
    removals left with no record; their IDs."""
    from nsbox.engine.removal import sweep
    removed = sweep(engine)
    for record in engine.list(include_stopped=True):
        if record["State"]["Status"] in ("exited", "created", "dead"):
            engine.remove(record["Id"], volumes=True)
            removed.append(record["Id"])
    return removed
