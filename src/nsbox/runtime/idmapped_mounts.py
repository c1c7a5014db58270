"""Bind mounts the runtime makes before it forks the init, which only attaches them.

Id-mapped ones (uidMappings/gidMappings, or the idmap/ridmap options): open_tree +
mount_setattr with a user namespace holding the mount's mapping (the container's own
when the mount names none), so volumes are seen with the container's owners, never
copied or chowned. In a container with a new user namespace every bind mount is made
so: its root is an unprivileged host id that may not reach the source path (as runc's
mount source fds).
"""
from __future__ import annotations

import os

from nsbox.errors import ConfigError
from nsbox.oci.runtime_spec import IdMapping, Spec


def _lines(mappings: list[IdMapping]) -> str:
    return "".join(mapping.line() for mapping in mappings)


def needed(spec: Spec) -> bool:
    user_ns = spec.linux.namespace("user")
    return (user_ns is not None and not user_ns.path) or any(
        m.uid_mappings or "idmap" in m.options or "ridmap" in m.options for m in spec.mounts)


def prepare(spec: Spec, bundle: str) -> dict[int, int]:
    """Mount index -> fd of its detached tree, for every mount the runtime makes."""
    user_ns_entry = spec.linux.namespace("user")
    user_ns = user_ns_entry is not None and not user_ns_entry.path
    trees: dict[int, int] = {}
    namespaces: dict[tuple[str, str], int] = {}
    from nsbox.linux import idmap
    try:
        for index, mount in enumerate(spec.mounts):
            asked = "idmap" in mount.options or "ridmap" in mount.options
            recursive = "rbind" in mount.options or "ridmap" in mount.options
            source = mount.source if mount.source.startswith("/") else os.path.join(bundle, mount.source)
            is_bind = mount.type == "bind" or "bind" in mount.options or "rbind" in mount.options
            if not (mount.uid_mappings or mount.gid_mappings or asked):
                if user_ns and is_bind and os.path.exists(source):
                    trees[index] = idmap.detached_tree(source, recursive)
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
