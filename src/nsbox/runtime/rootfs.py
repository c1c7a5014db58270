"""The container's root filesystem, built inside its new mount namespace.

Runs in the container's init before pivot_root: propagation, the rootfs bind, the
config's mounts (every OCI type), /dev, devices; then pivot_root; then masked and
read-only paths. Mount destinations are resolved inside the rootfs so a symlink in the
image can never lead a mount out of it.
"""
from __future__ import annotations

import os
import stat

from nsbox.errors import ConfigError
from nsbox.linux import mounts as m
from nsbox.oci.runtime_spec import Device, Mount, Spec

DEFAULT_DEVICES = (  # path, major, minor
    ("/dev/null", 1, 3), ("/dev/zero", 1, 5), ("/dev/full", 1, 7),
    ("/dev/random", 1, 8), ("/dev/urandom", 1, 9), ("/dev/tty", 5, 0),
)
DEV_LINKS = (("/dev/fd", "/proc/self/fd"), ("/dev/stdin", "/proc/self/fd/0"),
             ("/dev/stdout", "/proc/self/fd/1"), ("/dev/stderr", "/proc/self/fd/2"),
             ("/dev/core", "/proc/kcore"))


def prepare(spec: Spec, bundle: str, rootfs: str, in_user_ns: bool, join_cgroup: object,
            idmapped: dict[int, int] | None = None) -> None:
    """Everything before pivot_root.

    `join_cgroup()` makes the init's cgroup namespace (the init is born in its cgroup: the
    runtime moved the intermediate that forked it); it is called before the first cgroup
    mount, or at the end."""
    propagation = m.PROPAGATION.get(spec.linux.rootfs_propagation or "rslave", m.MS_SLAVE | m.MS_REC)
    m.mount(None, "/", None, propagation)
    if propagation & m.MS_SHARED:
        # pivot_root refuses a shared new root or parent: as runc, the mount holding the
        # rootfs goes private (so its bind below is private too); pivot() shares / again.
        m.mount(None, mount_point_of(rootfs), None, m.MS_PRIVATE)
    m.mount(rootfs, rootfs, None, m.MS_BIND | m.MS_REC)
    joined = False
    own_cgroup_ns = spec.linux.namespace("cgroup") is not None
    for index, mount in enumerate(spec.mounts):
        if mount.type == "cgroup" and not joined:
            join_cgroup()  # type: ignore[operator]
            joined = True
        mount_one(mount, bundle, rootfs, own_cgroup_ns, (idmapped or {}).get(index))
    if not joined:
        join_cgroup()  # type: ignore[operator]
    dev_is_mounted = any(mount.destination.rstrip("/") == "/dev" for mount in spec.mounts)
    if dev_is_mounted:
        make_default_devices(rootfs, in_user_ns)
    for index, device in enumerate(spec.linux.devices):
        make_device(rootfs, device, in_user_ns, f"linux.devices[{index}]")


def mount_one(mount: Mount, bundle: str, rootfs: str, own_cgroup_ns: bool = False, tree: int | None = None) -> None:
    """One config mount; `tree` is its id-mapped copy, made by the runtime, to attach."""
    flags, propagation, data = m.parse_options(mount.options)
    target = m.resolve_in_root(rootfs, mount.destination)
    kind = mount.type
    is_bind = bool(flags & m.MS_BIND) or kind == "bind"
    try:
        if is_bind:
            source = mount.source if mount.source.startswith("/") else os.path.join(bundle, mount.source)
            if tree is not None:  # opened by the runtime: the source may be out of this user's reach
                from nsbox.linux.idmap import attach
                m.make_mount_point(target, is_file=not stat.S_ISDIR(os.fstat(tree).st_mode))
                attach(tree, target)
                os.close(tree)
            else:
                if not os.path.exists(source):
                    raise ConfigError(f"{mount.where}.source", f"{source} does not exist")
                m.make_mount_point(target, is_file=not os.path.isdir(source))
                m.mount(source, target, None, m.MS_BIND | (flags & m.MS_REC))
            remount_flags = flags & ~(m.MS_BIND | m.MS_REC | m.MS_REMOUNT)
            if remount_flags:
                remount(target, remount_flags)
        elif kind == "cgroup":
            from nsbox.runtime.cgroup_mount import mount_cgroups
            mount_cgroups(target, flags, own_cgroup_ns)
        else:
            m.make_mount_point(target, is_file=False)
            try:
                m.mount(mount.source or kind, target, kind, flags, ",".join(data) or None)
            except PermissionError:
                if kind != "sysfs":
                    raise
                # sysfs needs a network namespace of our own; without one, bind the host's.
                m.mount("/sys", target, None, m.MS_BIND | m.MS_REC)
                remount(target, flags | m.MS_RDONLY)
        if propagation:
            m.mount(None, target, None, propagation)
    except OSError as error:
        raise ConfigError(f"{mount.where}", f"cannot mount {kind or 'bind'} at {mount.destination}: {error.strerror}") from None


def remount(target: str, flags: int) -> None:
    """Bind-remount with `flags`, keeping the flags the kernel locks (nosuid, nodev, noexec)."""
    locked = 0
    vfs = os.statvfs(target).f_flag
    for st_flag, ms_flag in ((os.ST_NOSUID, m.MS_NOSUID), (os.ST_NODEV, m.MS_NODEV), (os.ST_NOEXEC, m.MS_NOEXEC)):
        if vfs & st_flag:
            locked |= ms_flag
    m.mount(None, target, None, m.MS_BIND | m.MS_REMOUNT | flags | locked)


def make_default_devices(rootfs: str, in_user_ns: bool) -> None:
    for path, major, minor in DEFAULT_DEVICES:
        node = os.path.join(rootfs, path.lstrip("/"))
        if in_user_ns:
            bind_host_device(path, node)
        else:
            if os.path.lexists(node):
                os.unlink(node)
            os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
            os.chmod(node, 0o666)
    for link, target in DEV_LINKS:
        path = os.path.join(rootfs, link.lstrip("/"))
        if not os.path.lexists(path):
            os.symlink(target, path)
    ptmx = os.path.join(rootfs, "dev/ptmx")
    if os.path.lexists(ptmx):
        os.unlink(ptmx)
    os.symlink("pts/ptmx", ptmx)


def bind_host_device(host_path: str, node: str) -> None:
    """In a user namespace mknod is refused; bind the host's node instead, as runc does."""
    if not os.path.lexists(node):
        os.close(os.open(node, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o666))
    m.mount(host_path, node, None, m.MS_BIND)


def make_device(rootfs: str, device: Device, in_user_ns: bool, field: str) -> None:
    node = m.resolve_in_root(rootfs, device.path)
    os.makedirs(os.path.dirname(node), exist_ok=True)
    if in_user_ns:
        if not os.path.exists(device.path):
            raise ConfigError(field, f"cannot create {device.path} in a user namespace and the host has no such device to bind")
        bind_host_device(device.path, node)
        return
    kinds = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}
    if os.path.lexists(node):
        os.unlink(node)
    try:
        os.mknod(node, (device.file_mode & 0o7777) | kinds[device.type], os.makedev(device.major, device.minor))
        os.chown(node, device.uid, device.gid)
        os.chmod(node, device.file_mode & 0o7777)
    except OSError as error:
        raise ConfigError(field, f"cannot create {device.path}: {error.strerror}") from None


def mount_point_of(path: str) -> str:
    """The mount point of the mount that holds `path` (the longest one above it)."""
    path = os.path.realpath(path)
    best = "/"
    with open("/proc/self/mountinfo") as info:
        for line in info:
            point = line.split()[4]
            if (path == point or path.startswith(point.rstrip("/") + "/")) and len(point) > len(best):
                best = point
    return best


def pivot(rootfs: str, no_pivot: bool, shared: bool = False) -> None:
    """Make `rootfs` the root: pivot_root(".", ".") then detach the old root; or chroot.
    `shared`: rootfsPropagation (r)shared, applied to the new root once it is the root."""
    os.chdir(rootfs)
    if no_pivot:
        m.mount(rootfs, "/", None, m.MS_MOVE)
        os.chroot(".")
    else:
        m.pivot_root(".", ".")
        m.mount(None, ".", None, m.MS_SLAVE | m.MS_REC)
        m.umount2(".", m.MNT_DETACH)
    os.chdir("/")
    if shared:
        m.mount(None, "/", None, m.MS_SHARED | m.MS_REC)


def finish(spec: Spec) -> None:
    """After pivot_root: masked paths, read-only paths, a read-only root."""
    for index, path in enumerate(spec.linux.masked_paths):
        try:
            if os.path.isdir(path):
                m.mount("tmpfs", path, "tmpfs", m.MS_RDONLY, None)
            else:
                m.mount("/dev/null", path, None, m.MS_BIND)
        except FileNotFoundError:
            continue
        except OSError as error:
            raise ConfigError(f"linux.maskedPaths[{index}]", f"cannot mask {path}: {error.strerror}") from None
    for index, path in enumerate(spec.linux.readonly_paths):
        try:
            m.mount(path, path, None, m.MS_BIND | m.MS_REC)
            remount(path, m.MS_RDONLY | m.MS_REC)
        except FileNotFoundError:
            continue
        except OSError as error:
            raise ConfigError(f"linux.readonlyPaths[{index}]", f"cannot make {path} read-only: {error.strerror}") from None
    if spec.root_readonly:
        remount("/", m.MS_RDONLY)
