"""nsbox system df | prune: disk used by images, containers and volumes; remove what is unused."""
from __future__ import annotations

import os
import sys

USAGE = "usage: nsbox system df [-v] [--format FORMAT]\n       nsbox system prune [-f] [-a] [--volumes]"


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


DF_DEFAULT = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
DF_HEADINGS = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE"}


def df(engine, form: str | None = None, verbose: bool = False) -> None:
    """Docker's `system df`: images, containers and local volumes: counts, sizes, what is reclaimable."""
    from nsbox.cli.formatting import render
    from nsbox.cli.gotemplate import Struct
    from nsbox.engine.humanize import human_size
    records = engine.list(include_stopped=True)
    try:
        from nsbox.image.store import ImageStore
        images = ImageStore(engine.root).images()
    except Exception:  # an unreadable image store must not hide the rest
        images = []
    used_images = {r.get("Image") for r in records}
    sizes = {r["Id"]: _writable_layer(engine, r) for r in records}
    running = {r["Id"] for r in records if r["State"]["Status"] in ("running", "paused")}
    volumes = sorted(os.listdir(engine.paths.volumes)) if os.path.isdir(engine.paths.volumes) else []
    links = {name: sum(1 for r in records for m in r.get("Mounts") or [] if m.get("Name") == name) for name in volumes}
    volume_sizes = {name: tree_size(os.path.join(engine.paths.volumes, name)) for name in volumes}

    def row(kind: str, total: int, active: int, size: int, reclaimable: int):
        share = f" ({reclaimable * 100 // size}%)" if size else ""
        return Struct("*formatter.diskUsageImagesContext", Type=kind, TotalCount=str(total), Active=str(active),
                      Size=human_size(size, 4), Reclaimable=human_size(reclaimable, 4) + share)
    rows = [row("Images", len(images), len(used_images & {i.id for i in images}), sum(i.size for i in images),
                sum(i.size for i in images if i.id not in used_images)),
            row("Containers", len(records), len(running), sum(sizes.values()),
                sum(size for cid, size in sizes.items() if cid not in running)),
            row("Local Volumes", len(volumes), sum(1 for name in volumes if links[name]), sum(volume_sizes.values()),
                sum(size for name, size in volume_sizes.items() if not links[name])),
            row("Build Cache", 0, 0, 0, 0)]
    if not verbose:
        sys.stdout.write(render(form, rows, DF_HEADINGS, DF_DEFAULT))
        return
    from nsbox.engine.docker_shape import ago, short, status_text
    from nsbox.cli.formatting import tabwrite
    counts = {image.id: sum(1 for r in records if r.get("Image") == image.id) for image in images}
    out = ["Images space usage:", "", tabwrite(["REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE"
                                               "\tCONTAINERS"] + [
        "\t".join([*(_repository_tag(name) if name else ("<none>", "<none>")), image.id[7:19],
                   f"{ago(image.config.created)} ago" if image.config.created else "N/A", human_size(image.size),
                   "0B", human_size(image.size), str(counts[image.id])])
        for image in images for name in (image.names or [""])]).rstrip("\n"), "", "Containers space usage:", "",
        tabwrite(["CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES"] + [
            "\t".join([short(r["Id"]), (r.get("Config") or {}).get("Image") or "", _quoted_command(r),
                       str(sum(1 for m in r.get("Mounts") or [] if m.get("Type") == "volume")), human_size(sizes[r["Id"]]),
                       f"{ago(r['Created'])} ago" if r.get("Created") else "", status_text(r), r.get("Name") or ""])
            for r in records]).rstrip("\n"), "", "Local Volumes space usage:", "",
        tabwrite(["VOLUME NAME\tLINKS\tSIZE"] + [f"{name}\t{links[name]}\t{human_size(volume_sizes[name])}"
                                                for name in volumes]).rstrip("\n"),
        "", "Build cache usage: 0B", ""]
    sys.stdout.write("\n".join(out) + "\n")


def _repository_tag(name: str) -> tuple[str, str]:
    from nsbox.image.reference import parse_reference
    from nsbox.image.store import UNTAGGED
    if name.startswith(UNTAGGED):
        return "<none>", "<none>"
    reference = parse_reference(name)
    return reference.with_tag(None).familiar(), reference.tag or "<none>"


def _quoted_command(record: dict) -> str:
    import json

    from nsbox.cli.ps import command_words, ellipsis
    return json.dumps(ellipsis(" ".join(command_words(record)), 20), ensure_ascii=False)


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
                                     "--volumes": "volumes", "-v": "verbose", "--verbose": "verbose",
                                     "--format=": "format"}, USAGE, stop_at_positional=False)
    if rest:
        raise ConfigError(rest[0], f"unexpected argument\n{USAGE}")
    engine = Engine(root)
    if argv[0] == "df":
        df(engine, options.get("format"), bool(options.get("verbose")))
    else:
        prune(engine, bool(options.get("all")), bool(options.get("volumes")))
    return 0
