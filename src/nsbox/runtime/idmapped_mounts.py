"""Bind mounts with uidMappings/gidMappings (or the idmap/ridmap options): id-mapped.

The runtime makes each one before it forks the init (open_tree + mount_setattr with a
user namespace holding the mount's mapping, the container's own when the mount names
none), so the init, inside its own namespaces, only attaches the ready tree with
move_mount. Image layers and volumes are thus seen with the container's owners, never
copied or chowned.
"""
from __future__ import annotations

import os

from nsbox.errors import ConfigError
from nsbox.oci.runtime_spec import IdMapping, Spec


def _lines(mappings: list[IdMapping]) -> str:
    return "".join(mapping.line() for mapping in mappings)


def prepare(spec: Spec, bundle: str) -> dict[int, int]:
    """Mount index -> fd of its detached id-mapped tree, for every mount that asks for one."""
    trees: dict[int, int] = {}
    namespaces: dict[tuple[str, str], int] = {}
    from nsbox.linux import idmap
    try:
        for index, mount in enumerate(spec.mounts):
            asked = "idmap" in mount.options or "ridmap" in mount.options
            if not (mount.uid_mappings or mount.gid_mappings or asked):
                continue
            where = f"mounts[{index}]"
            uid_map = mount.uid_mappings or spec.linux.uid_mappings
            gid_map = mount.gid_mappings or spec.linux.gid_mappings
            if not uid_map or not gid_map:
                raise ConfigError(f"{where}.uidMappings", "an id-mapped mount needs uidMappings and gidMappings "
                                                          "(its own, or the container's user namespace's)")
            key = (_lines(uid_map), _lines(gid_map))
            if key not in namespaces:
                namespaces[key] = idmap.user_namespace(*key)
            source = mount.source if mount.source.startswith("/") else os.path.join(bundle, mount.source)
            recursive = "rbind" in mount.options or "ridmap" in mount.options
            try:
                trees[index] = idmap.idmapped_tree(source, namespaces[key], recursive)
            except OSError as error:
                raise ConfigError(where, f"cannot make an id-mapped mount of {source}: {error.strerror} (the "
                                         "filesystem must support id-mapped mounts; overlayfs itself does not)") from None
    except BaseException:
        close(trees)
        raise
    finally:
        for fd in namespaces.values():
            os.close(fd)
    return trees


def close(trees: dict[int, int]) -> None:
    for fd in trees.values():
        os.close(fd)
