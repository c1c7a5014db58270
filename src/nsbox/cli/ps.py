"""nsbox ps: list containers as Docker lists them (-a, -q, -l, -n N, -s, --filter, --no-trunc,
--format table|json|TEMPLATE)."""
from __future__ import annotations

import sys

from nsbox.flags import Command, flag, parse

COMMAND = Command("nsbox ps [OPTIONS]", "List containers (running ones; -a: all).",
                  flag("-a --all", "stopped containers too"),
                  flag("-q --quiet", "only their IDs"),
                  flag("-l --latest", "only the newest"),
                  flag("-n --last N", "only the N newest"),
                  flag("-s --size", "their sizes"),
                  flag("--no-trunc", "full IDs and commands"),
                  flag("-f --filter KEY=VALUE...", "only the matching containers"),
                  flag("--format FORMAT", "table (the default), json, or a Go template: "
                                          "'table {{.Names}}\\t{{.Status}}', '{{.ID}}'"),
                  notes="filters: name=, id=, status=created|running|paused|restarting|exited|dead, "
                        "label=KEY[=VALUE], exited=CODE")

DEFAULT = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
HEADINGS = {"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
            "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS", "Size": "SIZE",
            "Names": "NAMES", "Labels": "LABELS", "Mounts": "MOUNTS", "LocalVolumes": "LOCAL VOLUMES",
            "Networks": "NETWORKS", "Platform": "PLATFORM", "Label": "LABEL"}


def ellipsis(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def command_words(record: dict) -> list[str]:
    config = record.get("Config") or {}
    return (config.get("Entrypoint") or []) + (config.get("Cmd") or [])


def container_context(record: dict, full: bool, size: str = "0B"):
    """One row of `docker ps` as its templates see it (Docker's ContainerContext)."""
    from nsbox.cli.gostruct import Struct
    from nsbox.oci.jsonio import quote
    from nsbox.engine.humanize import go_time
    from nsbox.engine.docker_shape import ago, short, status_text
    from nsbox.network.ports import ports_text
    config = record.get("Config") or {}
    labels = config.get("Labels") or {}
    mounts = [m.get("Name") or m.get("Source") or "" for m in record.get("Mounts") or []]
    command = " ".join(f"'{arg}'" if " " in arg else arg for arg in command_words(record))
    return Struct("*formatter.ContainerContext", {
        "ID": short(record["Id"], full), "Image": config.get("Image") or record.get("Rootfs") or "",
        "Command": quote(command if full else ellipsis(command, 20)),
        "CreatedAt": go_time(record.get("Created") or ""),
        "RunningFor": f"{ago(record['Created'])} ago" if record.get("Created") else "",
        "Ports": ports_text((record.get("NetworkSettings") or {}).get("Ports") or {}), "State": record["State"].get("Status") or "", "Status": status_text(record), "Size": size,
        "Names": record.get("Name") or "", "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        "Label": lambda key: labels.get(key, ""),
        "Mounts": ",".join(m if full else ellipsis(m, 15) for m in mounts),
        "LocalVolumes": str(sum(1 for m in record.get("Mounts") or [] if m.get("Type") == "volume")),
        "Networks": ",".join((record.get("NetworkSettings") or {}).get("Networks") or {})
        or (record.get("HostConfig") or {}).get("NetworkMode") or "", "Platform": None})


def main(argv: list[str], root: str) -> int:
    from nsbox.engine.docker_shape import short
    from nsbox.engine.containers import Engine
    from nsbox.errors import ConfigError
    options, rest = parse(argv, COMMAND, stop_at_positional=False)
    if rest:
        raise ConfigError(rest[0], f"ps takes no arguments\n{COMMAND.usage}")
    from nsbox.engine.filters import check, matches
    filters = options.get("filter") or []
    check(filters)
    from nsbox.engine.quantities import parse_int
    last = 1 if options.get("latest") else parse_int(str(options.get("last", -1)), "--last", -1)
    engine = Engine(root)
    records = [r for r in engine.list(include_stopped=bool(options.get("all") or filters or last > 0))
               if matches(r, filters)]
    if last >= 0:
        records = sorted(records, key=lambda r: r.get("Created") or "", reverse=True)[:last]
    full = bool(options.get("no_trunc"))
    if options.get("quiet"):
        sys.stdout.write("".join(short(r["Id"], full) + "\n" for r in records))
        return 0
    from nsbox.cli.formatting import render
    sizes = {r["Id"]: container_size(engine, r) for r in records} if options.get("size") else {}
    rows = [container_context(r, full, sizes.get(r["Id"], "0B")) for r in records]
    default = DEFAULT + ("\t{{.Size}}" if options.get("size") else "")
    sys.stdout.write(render(options.get("format"), rows, HEADINGS, default))
    return 0


def container_size(engine, record: dict) -> str:
    """-s: the writable layer's size, and with the image's "(virtual ...)", in Docker's units."""
    import os
    from nsbox.engine.humanize import human_size
    from nsbox.engine.disk_usage import writable_layer_size
    writable = writable_layer_size(engine, record)
    image_size = 0
    if record.get("Image"):
        try:
            from nsbox.image.store import ImageStore as Store
            image_size = next((i.size for i in Store(engine.root).images() if i.id == record["Image"]), 0)
        except Exception:  # an unreadable image store must not hide the containers
            pass
    return f"{human_size(writable)} (virtual {human_size(writable + image_size)})"
