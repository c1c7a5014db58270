"""nsbox system df | prune: disk used by images, containers and volumes; remove what is unused."""
from __future__ import annotations

import os
import sys

USAGE = "usage: nsbox system df\n       nsbox system prune [-f] [-a] [--volumes]"


def tree_size(path: str) -> int:
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_blocks * 512
            except OSError:
                pass
    return total


def _writable_layer(engine, record: dict) -> int:
    if not record.get("Image"):
        return 0
    from nsbox.image.rootfs import rootfs_path
    return tree_size(os.path.join(os.path.dirname(rootfs_path(engine.root, record["Id"])), "upper"))


def df(engine) -> None:
    from nsbox.cli.formatting import table
    from nsbox.engine.quantities import format_size
    records = engine.list(include_stopped=True)
    try:
        from nsbox.image.store import ImageStore
        images = ImageStore(engine.root).images()
    except Exception:  # an unreadable image store must not hide the rest
        images = []
    used_images = {r.get("Image") for r in records}
    image_size = sum(image.size for image in images)
    unused_image_size = sum(image.size for image in images if image.id not in used_images)
    sizes = {r["Id"]: _writable_layer(engine, r) for r in records}
    running = [r for r in records if r["State"]["Status"] in ("running", "paused")]
    stopped_size = sum(size for cid, size in sizes.items() if cid not in {r["Id"] for r in running})
    volumes = sorted(os.listdir(engine.paths.volumes)) if os.path.isdir(engine.paths.volumes) else []
    used_volumes = {m.get("Name") for r in records for m in r.get("Mounts") or []}
    volume_sizes = {name: tree_size(os.path.join(engine.paths.volumes, name)) for name in volumes}
    rows = [["Images", str(len(images)), str(len(used_images & {i.id for i in images})), format_size(image_size),
             format_size(unused_image_size)],
            ["Containers", str(len(records)), str(len(running)), format_size(sum(sizes.values())),
             format_size(stopped_size)],
            ["Local Volumes", str(len(volumes)), str(len(used_volumes & set(volumes))),
             format_size(sum(volume_sizes.values())),
             format_size(sum(size for name, size in volume_sizes.items() if name not in used_volumes))]]
    sys.stdout.write(table(["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"], rows))


def prune(engine, all_images: bool, volumes: bool) -> None:
    from nsbox.cli.container import prune_containers
    from nsbox.engine.quantities import format_size
    removed = prune_containers(engine)
    sys.stdout.write("Deleted Containers:\n" + "".join(cid + "\n" for cid in removed) if removed else "")
    if volumes:
        from nsbox.engine.volumes import Volumes
        for name in Volumes(engine).prune(every=True):
            sys.stdout.write(f"Deleted Volume: {name}\n")
    from nsbox.image.manage import prune as prune_images
    deleted, freed = prune_images(engine.root, dangling=not all_images)
    for image_id in deleted:
        sys.stdout.write(f"Deleted Image: {image_id}\n")
    sys.stdout.write(f"Total reclaimed space from images: {format_size(freed)}\n")


def main(argv: list[str], root: str) -> int:
    from nsbox.flags import parse
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError
    if not argv or argv[0] not in ("df", "prune"):
        raise ConfigError("SUBCOMMAND", f"use df or prune\n{USAGE}")
    options, rest = parse(argv[1:], {"-f": "force", "--force": "force", "-a": "all", "--all": "all",
                                     "--volumes": "volumes"}, USAGE, stop_at_positional=False)
    if rest:
        raise ConfigError(rest[0], f"unexpected argument\n{USAGE}")
    engine = Engine(root)
    if argv[0] == "df":
        df(engine)
    else:
        prune(engine, bool(options.get("all")), bool(options.get("volumes")))
    return 0
