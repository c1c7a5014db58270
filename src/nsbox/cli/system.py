"""nsbox system df | prune: disk used by images, containers and volumes; remove what is unused."""
from __future__ import annotations

import json
import sys

from nsbox.flags import Command, flag, parse

SUBCOMMANDS = {
    "df": Command("nsbox system df [OPTIONS]", "Disk used by images, containers and volumes.",
                  flag("-v --verbose", "each image, container and volume"),
                  flag("--format FORMAT", "table (the default), json, or a Go template")),
    "prune": Command("nsbox system prune [OPTIONS]", "Remove stopped containers, unused networks, dangling images.",
                     flag("-f --force", "do not ask (nsbox never asks)"),
                     flag("-a --all", "every image no container uses, not only dangling ones"),
                     flag("--volumes", "anonymous volumes no container uses too")),
}
USAGE = "usage: nsbox system df [OPTIONS]\n       nsbox system prune [OPTIONS]"


DF_DEFAULT = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
DF_HEADINGS = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE"}


def df(engine, form: str | None = None, verbose: bool = False) -> None:
    """Docker's `system df`: images, containers and local volumes: counts, sizes, what is reclaimable."""
    from nsbox.cli.formatting import render
    from nsbox.cli.gotemplate import Struct
    from nsbox.engine.disk_usage import disk_usage
    from nsbox.engine.humanize import human_size
    usage = disk_usage(engine)
    images, containers, volumes = usage["Images"], usage["Containers"], usage["Volumes"]

    def row(kind: str, items: list[dict], active, size) -> Struct:
        total = sum(size(item) for item in items)
        reclaimable = sum(size(item) for item in items if not active(item))
        share = f" ({reclaimable * 100 // total}%)" if total else ""
        return Struct("*formatter.diskUsageImagesContext", Type=kind, TotalCount=str(len(items)),
                      Active=str(sum(1 for item in items if active(item))), Size=human_size(total, 4),
                      Reclaimable=human_size(reclaimable, 4) + share)
    rows = [row("Images", images, lambda i: i["Containers"], lambda i: i["Size"]),
            row("Containers", containers, lambda c: c["State"] in ("running", "paused"), lambda c: c["SizeRw"]),
            row("Local Volumes", volumes, lambda v: v["UsageData"]["RefCount"], lambda v: v["UsageData"]["Size"]),
            row("Build Cache", [], bool, len)]
    if verbose:
        sys.stdout.write(_verbose(images, containers, volumes))
    else:
        sys.stdout.write(render(form, rows, DF_HEADINGS, DF_DEFAULT))


def _verbose(images: list[dict], containers: list[dict], volumes: list[dict]) -> str:
    import time

    from nsbox.cli.formatting import tabwrite
    from nsbox.cli.ps import ellipsis
    from nsbox.engine.docker_shape import short
    from nsbox.engine.humanize import human_duration, human_size

    def ago(epoch: int) -> str:
        return f"{human_duration(max(0.0, time.time() - epoch))} ago" if epoch else "N/A"
    out = ["Images space usage:", "", tabwrite(["REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE"
                                               "\tCONTAINERS"] + [
        "\t".join([*_repository_tag(name), image["Id"][7:19], ago(image["Created"]), human_size(image["Size"]),
                   "0B", human_size(image["Size"]), str(image["Containers"])])
        for image in images for name in image["RepoTags"]]).rstrip("\n"), "", "Containers space usage:", "",
        tabwrite(["CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES"] + [
            "\t".join([short(c["Id"]), c["Image"], json.dumps(ellipsis(c["Command"], 20), ensure_ascii=False),
                       str(sum(1 for m in c["Mounts"] if m["Type"] == "volume")), human_size(c["SizeRw"]),
                       ago(c["Created"]), c["Status"], c["Names"][0].lstrip("/")])
            for c in containers]).rstrip("\n"), "", "Local Volumes space usage:", "",
        tabwrite(["VOLUME NAME\tLINKS\tSIZE"] + [f"{v['Name']}\t{v['UsageData']['RefCount']}\t"
                                                f"{human_size(v['UsageData']['Size'])}" for v in volumes]).rstrip("\n"),
        "", "Build cache usage: 0B", ""]
    return "\n".join(out) + "\n"


def _repository_tag(name: str) -> tuple[str, str]:
    if name == "<none>:<none>":
        return "<none>", "<none>"
    from nsbox.image.reference import parse_reference
    reference = parse_reference(name)
    return reference.with_tag(None).familiar(), reference.tag or "<none>"


def prune(engine, all_images: bool, volumes: bool) -> None:
    from nsbox.engine.disk_usage import prune_containers
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
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if not argv or argv[0] not in ("df", "prune"):
        raise ConfigError("SUBCOMMAND", f"use df or prune\n{USAGE}")
    options, rest = parse(argv[1:], SUBCOMMANDS[argv[0]], stop_at_positional=False)
    if rest:
        raise ConfigError(rest[0], f"unexpected argument\n{USAGE}")
    engine = Engine(root)
    if argv[0] == "df":
        df(engine, options.get("format"), bool(options.get("verbose")))
    else:
        prune(engine, bool(options.get("all")), bool(options.get("volumes")))
    return 0
