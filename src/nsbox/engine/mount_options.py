"""The mount flags of `run` and `create` (-v/--volume, --mount, --tmpfs) as Docker's Mounts
entries of a container record: bind mounts of host paths, named and anonymous volumes, tmpfs.
Every refusal is an InvalidOption naming the flag."""
from __future__ import annotations

import os

from nsbox.errors import InvalidOption


def parse_mounts(options: dict, root: str) -> list[dict]:
    """-v, --mount and --tmpfs as Docker's Mounts entries."""
    mounts: list[dict] = []
    for item in options.get("volume") or []:
        parts = item.split(":")
        if len(parts) == 1:
            mounts.append(_volume_mount(root, "", parts[0], "", "-v"))
            continue
        if len(parts) > 3:
            raise InvalidOption("--volume", f"must be SOURCE:DEST[:OPTIONS], got {item!r}")
        source, destination = parts[0], parts[1]
        mode = parts[2] if len(parts) == 3 else ""
        if not source or not destination:  # Docker: "invalid spec: :/data: empty section between colons"
            raise InvalidOption("--volume", f"invalid spec {item!r}: empty section between colons (give "
                                            "SOURCE:DEST, or just DEST for an anonymous volume)")
        if source.startswith("/") or source.startswith("."):
            mounts.append(_bind_mount(source, destination, mode, "--volume"))
        else:
            mounts.append(_volume_mount(root, source, destination, mode, "--volume"))
    for item in options.get("mount") or []:
        fields: dict[str, str] = {}
        for part in item.split(","):
            key, has_value, value = part.partition("=")
            fields[key.strip()] = value if has_value else "true"
        kind = fields.get("type", "volume")
        target = fields.get("target") or fields.get("destination") or fields.get("dst") or ""
        source = fields.get("source") or fields.get("src") or ""
        readonly = fields.get("readonly", fields.get("ro", "false")) in ("true", "1")
        mode = "ro" if readonly else ""
        if kind == "bind":
            mounts.append(_bind_mount(source, target, mode, "--mount"))
        elif kind == "volume":
            mounts.append(_volume_mount(root, source, target, mode, "--mount"))
        elif kind == "tmpfs":
            options_text = f"size={fields['tmpfs-size']}" if "tmpfs-size" in fields else ""
            mounts.append(_tmpfs_mount(target, options_text, "--mount"))
        else:
            raise InvalidOption("--mount", f"unknown type {kind!r}: use bind, volume or tmpfs")
    for item in options.get("tmpfs") or []:
        destination, _, options_text = item.partition(":")
        mounts.append(_tmpfs_mount(destination, options_text, "--tmpfs"))
    seen: set[str] = set()
    for mount in mounts:
        if mount["Destination"] in seen:
            raise InvalidOption("--volume", f"duplicate mount point {mount['Destination']}")
        seen.add(mount["Destination"])
    return mounts


def _check_destination(destination: str, field: str) -> str:
    if not destination.startswith("/") or destination == "/":
        raise InvalidOption(field, f"the container path must be absolute and not /, got {destination!r}")
    return os.path.normpath(destination)


def _mode(mode: str, field: str) -> tuple[bool, str]:
    read_write, propagation = True, "rprivate"
    for option in [m for m in mode.split(",") if m]:
        if option in ("ro", "rw"):
            read_write = option == "rw"
        elif option in ("shared", "rshared", "slave", "rslave", "private", "rprivate"):
            propagation = option
        elif option not in ("z", "Z", "nocopy"):
            raise InvalidOption(field, f"unknown volume option {option!r}: use ro, rw or a propagation like rslave")
    return read_write, propagation


def _bind_mount(source: str, destination: str, mode: str, field: str) -> dict:
    if not source:
        raise InvalidOption(field, "a bind mount needs a source path on the host")
    source = os.path.abspath(source)
    if not os.path.exists(source):
        raise InvalidOption(field, f"bind source {source} does not exist on the host: create it first")
    read_write, propagation = _mode(mode, field)
    return {"Type": "bind", "Source": source, "Destination": _check_destination(destination, field),
            "Mode": mode, "RW": read_write, "Propagation": propagation}


def _volume_mount(root: str, name: str, destination: str, mode: str, field: str) -> dict:
    from nsbox.engine.names import check_name
    anonymous = not name
    if anonymous:
        name = os.urandom(32).hex()
    else:
        check_name(name, field)
    read_write, _ = _mode(mode, field)
    return {"Type": "volume", "Name": name, "Source": os.path.join(root, "volumes", name, "_data"),
            "Destination": _check_destination(destination, field), "Driver": "local", "Mode": mode,
            "RW": read_write, "Propagation": "", "Anonymous": anonymous}


def _tmpfs_mount(destination: str, options_text: str, field: str) -> dict:
    for option in [o for o in options_text.split(",") if o]:
        key = option.partition("=")[0]
        if key not in ("size", "mode", "uid", "gid", "nr_inodes", "ro", "rw", "noexec", "exec", "nosuid",
                       "suid", "nodev", "dev"):
            raise InvalidOption(field, f"unknown tmpfs option {option!r}")
    return {"Type": "tmpfs", "Source": "", "Destination": _check_destination(destination, field),
            "Mode": options_text, "RW": "ro" not in options_text.split(","), "Propagation": ""}
