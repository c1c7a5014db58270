"""nsbox volume create|ls|inspect|rm|prune: named volumes, as Docker's `volume` commands."""
from __future__ import annotations

import sys

USAGE = """usage: nsbox volume create [--label KEY=VALUE]... [NAME]
       nsbox volume ls [-q] [--filter dangling=true|false|name=X|label=K[=V]] [--format FORMAT]
       nsbox volume inspect [-f FORMAT] NAME...
       nsbox volume rm [-f] NAME...
       nsbox volume prune [-f] [-a]"""
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
    from nsbox.flags import parse
    command = argv[0] if argv else ""
    flags = {"create": {"--label=": "label*", "-l=": "label*", "-d=": "driver", "--driver=": "driver"},
             "ls": {"-q": "quiet", "--quiet": "quiet", "-f=": "filter*", "--filter=": "filter*", "--format=": "format"},
             "inspect": {"-f=": "format", "--format=": "format"}, "rm": {"-f": "force", "--force": "force"},
             "prune": {"-f": "force", "--force": "force", "-a": "all", "--all": "all"}}
    command = {"list": "ls", "remove": "rm"}.get(command, command)
    if command not in flags:
        raise ConfigError("SUBCOMMAND", f"use create, ls, inspect, rm or prune\n{USAGE}")
    options, names = parse(argv[1:], flags[command], USAGE, stop_at_positional=False)
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
