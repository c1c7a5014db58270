"""nsbox volume create|ls|inspect|rm|prune: named volumes, as Docker's `volume` commands."""
from __future__ import annotations

import sys

from nsbox.flags import Command, flag, parse

FORCE = flag("-f --force", "do not ask (nsbox never asks)")
SUBCOMMANDS = {
    "create": Command("nsbox volume create [OPTIONS] [NAME]", "Make a named volume.",
                      flag("-l --label KEY=VALUE...", "a label"), flag("-d --driver local", "the driver (only local)")),
    "ls": Command("nsbox volume ls [OPTIONS]", "List volumes.", flag("-q --quiet", "only their names"),
                  flag("-f --filter dangling=true|false|name=X|label=K[=V]...", "only the matching volumes"),
                  flag("--format FORMAT", "table (the default), json, or a Go template")),
    "inspect": Command("nsbox volume inspect [OPTIONS] NAME [NAME...]", "Volumes as JSON.",
                       flag("-f --format FORMAT", "a Go template, or json")),
    "rm": Command("nsbox volume rm [OPTIONS] NAME [NAME...]", "Remove volumes.",
                  flag("-f --force", "no error for a volume that does not exist")),
    "prune": Command("nsbox volume prune [OPTIONS]", "Remove the anonymous volumes no container uses.", FORCE,
                     flag("-a --all", "named ones too")),
}
USAGE = "\n".join(command.usage.replace("usage: ", "usage: " if name == "create" else "       ")
                   for name, command in SUBCOMMANDS.items())
LS_DEFAULT = "table {{.Driver}}\t{{.Name}}"
HEADINGS = {"Driver": "DRIVER", "Name": "VOLUME NAME", "Mountpoint": "MOUNTPOINT", "Labels": "LABELS",
            "Scope": "SCOPE", "Size": "SIZE", "Links": "LINKS", "Label": "LABEL"}


def _row(volume: dict):
    from nsbox.cli.gotemplate import Struct
    labels = volume["Labels"] or {}
    return Struct("*formatter.volumeContext", {
        "Driver": volume["Driver"], "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        "Label": lambda key: labels.get(key, ""), "Links": "N/A", "Mountpoint": volume["Mountpoint"],
        "Name": volume["Name"], "Scope": volume["Scope"], "Size": "N/A"})


def _matches(row, users: list[str], filters: list[str]) -> bool:
    from nsbox.errors import ConfigError
    for item in filters:
        key, _, value = item.partition("=")
        if key == "dangling":
            ok = (not users) == (value.lower() in ("true", "1"))
        elif key == "name":
            ok = value in row["Name"]
        elif key == "label":
            name, has_value, wanted = value.partition("=")
            labels = dict(item.split("=", 1) for item in row["Labels"].split(",") if item)
            ok = name in labels and (not has_value or labels[name] == wanted)
        elif key == "driver":
            ok = value == row["Driver"]
        else:
            raise ConfigError("--filter", f"unknown filter {key!r}: use dangling, name, label or driver")
        if not ok:
            return False
    return True


def main(argv: list[str], root: str) -> int:
    from nsbox.engine.containers import Engine
    from nsbox.engine.volumes import Volumes
    from nsbox.errors import ConfigError
    command = argv[0] if argv else ""
    if command in ("-h", "--help"):
        print(USAGE)
        return 0
    command = {"list": "ls", "remove": "rm"}.get(command, command)
    if command not in SUBCOMMANDS:
        raise ConfigError("SUBCOMMAND", f"use create, ls, inspect, rm or prune\n{USAGE}")
    options, names = parse(argv[1:], SUBCOMMANDS[command], stop_at_positional=False)
    volumes = Volumes(Engine(root))
    if command == "create":
        if options.get("driver") not in (None, "local"):
            raise ConfigError("--driver", "only the local driver is supported")
        labels = dict(item.partition("=")[::2] for item in options.get("label") or [])
        print(volumes.create(names[0] if names else "", labels)["Name"])
    elif command == "ls":
        users = volumes.users()
        rows = [_row(volumes.inspect(name)) for name in volumes.names()]
        rows = [row for row in rows if _matches(row, users.get(row["Name"], []), options.get("filter") or [])]
        if options.get("quiet"):
            sys.stdout.write("".join(row["Name"] + "\n" for row in rows))
        else:
            from nsbox.cli.formatting import render
            sys.stdout.write(render(options.get("format"), rows, HEADINGS, LS_DEFAULT))
    elif command == "inspect":
        _inspect(volumes, names, options.get("format"))
    elif command == "rm":
        return _remove(volumes, names, bool(options.get("force")))
    else:
        removed = volumes.prune(bool(options.get("all")))
        sys.stdout.write("Deleted Volumes:\n" + "".join(name + "\n" for name in removed) + "\n" if removed else "")
        sys.stdout.write("Total reclaimed space: 0B\n")
    return 0


def _inspect(volumes, names: list[str], form: str | None) -> None:
    from nsbox.cli.formatting import print_json
    from nsbox.errors import ConfigError
    if not names:
        raise ConfigError("NAME", f"name at least one volume\n{USAGE}")
    from nsbox.errors import VolumeNotFound
    shown, missing = [], []
    for name in names:
        try:
            shown.append(volumes.inspect(name))
        except VolumeNotFound:
            missing.append(name)
    if form and form != "json":
        from nsbox.cli.formatting import render_each
        sys.stdout.write(render_each(form, shown))
    else:
        print_json(shown)
    if missing:
        raise VolumeNotFound("\n".join(f"No such volume: {name}" for name in missing))


def _remove(volumes, names: list[str], force: bool) -> int:
    from nsbox.errors import ConfigError, NsboxError, VolumeNotFound
    if not names:
        raise ConfigError("NAME", f"name at least one volume\n{USAGE}")
    failed = 0
    for name in names:
        try:
            volumes.remove(name)
            print(name)
        except VolumeNotFound:
            if force:  # Docker: rm -f of a missing volume is no error
                print(name)
            else:
                sys.stderr.write(f"nsbox: No such volume: {name}\n")
                failed = 1
        except NsboxError as error:
            sys.stderr.write(f"nsbox: {error}\n")
            failed = 1
    return failed
