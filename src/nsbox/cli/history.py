"""nsbox history: an image's layers, newest first, as `docker history` shows them."""
from __future__ import annotations

import sys

from nsbox.flags import Command, flag, parse

COMMAND = Command("nsbox history [OPTIONS] IMAGE", "An image's layers, newest first.",
                  flag("-q --quiet", "only the layers' IDs"),
                  flag("--no-trunc", "full IDs and commands"),
                  flag("-H --human", "sizes and dates for people (the default; -H=false for raw numbers)"),
                  flag("--format FORMAT", "table (the default), json, or a Go template"))
DEFAULT = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
HEADINGS = {"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "CreatedBy": "CREATED BY",
            "Size": "SIZE", "Comment": "COMMENT"}


def _layer_size(path: str) -> int:
    from nsbox.engine.disk_usage import tree_size
    return tree_size(path)


def main(argv: list[str], root: str) -> int:
    from nsbox.engine.docker_shape import ago
    from nsbox.cli.formatting import render
    from nsbox.cli.gotemplate import Struct
    from nsbox.engine.humanize import go_time, human_size
    from nsbox.errors import ConfigError
    from nsbox.image.store import ImageStore
    options, names = parse(argv, COMMAND, stop_at_positional=False)
    if len(names) != 1:
        raise ConfigError("IMAGE", f"name one image\n{COMMAND.usage}")
    image = ImageStore(root).resolve(names[0])
    full = bool(options.get("no_trunc"))
    human = options.get("human", True) is not False
    entries = image.config.raw.get("history") or [{"created": image.config.created, "created_by": ""}]
    layer_dirs = image.layer_dirs()
    rows = []
    layer = 0
    for index, entry in enumerate(entries):
        size = 0
        if not entry.get("empty_layer") and layer < len(layer_dirs):
            size = _layer_size(layer_dirs[layer])
            layer += 1
        created_by = entry.get("created_by") or ""
        newest = index == len(entries) - 1
        rows.append(Struct("*history.historyContext", {
            "ID": (image.id if full else image.id[7:19]) if newest else "<missing>",
            "CreatedSince": f"{ago(entry['created'])} ago" if entry.get("created") else "N/A",
            "CreatedAt": go_time(entry.get("created") or ""),
            "CreatedBy": created_by if full or len(created_by) <= 45 else created_by[:44] + "…",
            "Size": human_size(size) if human else str(size), "Comment": entry.get("comment") or ""}))
    rows.reverse()
    if options.get("quiet"):
        sys.stdout.write("".join(row["ID"] + "\n" for row in rows))
        return 0
    sys.stdout.write(render(options.get("format"), rows, HEADINGS, DEFAULT))
    return 0
