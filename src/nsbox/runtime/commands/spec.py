"""`nsbox-runtime spec`: its flags and usage (COMMAND: its --help too) and the call it makes."""
from __future__ import annotations

import os

from nsbox.flags import Command, flag
from nsbox.runtime.cli import Context

COMMAND = Command("nsbox-runtime spec [OPTIONS]", "Write a default config.json (as `runc spec`).",
                  flag("-b --bundle DIR", "where (default: the current directory)"),
                  flag("--rootless", "for a rootless container (a user namespace, no cgroup limits)"))


def run(options: dict, positionals: list[str], ctx: Context) -> int:
    import json

    from nsbox.errors import AlreadyExists
    from nsbox.oci.default_spec import default_spec
    path = os.path.join(str(options.get("bundle", ".")), "config.json")
    if os.path.exists(path):
        raise AlreadyExists(f"{path} exists already; remove it first to write a new one")
    spec = default_spec(rootless=bool(options.get("rootless")))
    if options.get("rootless"):
        uid, gid = os.getuid(), os.getgid()
        spec["linux"]["uidMappings"][0]["hostID"] = uid
        spec["linux"]["gidMappings"][0]["hostID"] = gid
    with open(path, "w") as config:
        json.dump(spec, config, indent="\t")
        config.write("\n")
    return 0
