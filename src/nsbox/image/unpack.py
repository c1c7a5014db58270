"""Layer unpacking that behaves as if chrooted into the layer directory.

Every path is resolved by the kernel with openat2(RESOLVE_IN_ROOT): a symlink written by
an earlier entry (even one pointing at /etc or ../../..) resolves inside the layer when a
later entry is written through it, and the final component of every entry is created
without following anything. Names that climb above the root are refused, naming the
entry; absolute names are taken relative to the root. OCI whiteouts become overlayfs
whiteouts (a 0/0 character device) and opaque directories (trusted.overlay.opaque=y).
"""
from __future__ import annotations

import ctypes
import errno
import os
import shutil
import stat
import tarfile

from nsbox.errors import ImageError
from nsbox.image.layer_stream import LayerStream, layer_stream

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"

_SYS_OPENAT2 = 437  # the same number on every architecture (asm-generic since Linux 5.6)
_RESOLVE_NO_MAGICLINKS = 0x02
_RESOLVE_IN_ROOT = 0x10
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_CHUNK = 1 << 20


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def open_in_root(root_fd: int, path: str, flags: int = _DIR_FLAGS) -> int:
    """Open `path` as if `root_fd` were "/" (symlinks and ".." cannot leave it)."""
    how = _OpenHow(flags, 0, _RESOLVE_IN_ROOT | _RESOLVE_NO_MAGICLINKS)
    fd = _libc.syscall(_SYS_OPENAT2, root_fd, os.fsencode(path), ctypes.byref(how), ctypes.sizeof(how))
    if fd < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"openat2({path!r}, RESOLVE_IN_ROOT): {os.strerror(code)}")
    return fd


def entry_parts(name: str, what: str = "entry") -> list[str]:
    """The path components of a tar entry name, relative to the layer root.

    Leading "/" and "./" are dropped (absolute names are relative to the root); an entry
    whose ".." would climb above the root is refused.
    """
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise ImageError(f"{what} {name!r} climbs above the layer root ('..'); refusing the layer")
            parts.pop()
        else:
            parts.append(part)
    return parts


def _clamp(parts: list[str]) -> list[str]:
    """Path components with ".." stopping at the root, as inside a chroot."""
    clamped: list[str] = []
    for part in parts:
        if part == "..":
            if clamped:
                clamped.pop()
        elif part not in ("", "."):
            clamped.append(part)
    return clamped


class _Unpacker:
    """Writes tar members below root_fd, one at a time, in archive order."""

    def __init__(self, root_fd: int, source: str, stream: LayerStream) -> None:
        self.root_fd = root_fd
        self.source = source
        self.stream = stream
        self.can_mknod = os.geteuid() == 0
        self.parent_cache: tuple[str, int] | None = None
        self.dir_times: list[tuple[str, float]] = []

    def close(self) -> None:
        self._forget_parent()

    def _forget_parent(self) -> None:
        if self.parent_cache is not None:
            os.close(self.parent_cache[1])
            self.parent_cache = None

    def _refuse(self, name: str, why: str) -> ImageError:
        return ImageError(f"{self.source}: entry {name!r} {why}; refusing the layer")

    def parent_fd(self, parts: list[str], name: str) -> int:
        """An fd of the entry's parent directory, made (inside the root) if missing.

        One fd is cached, keyed by the exact parent path: an entry that replaces a
        directory on that path has a shorter parent, so it evicts the cache first.
        """
        path = "/".join(parts)
        if self.parent_cache is not None and self.parent_cache[0] == path:
            return self.parent_cache[1]
        fd = self._make_dirs(parts, name)
        self._forget_parent()
        self.parent_cache = (path, fd)
        return fd

    def _make_dirs(self, parts: list[str], name: str, hops: int = 0) -> int:
        try:
            return open_in_root(self.root_fd, "/".join(parts) or ".")
        except OSError as error:
            if error.errno == errno.ENOTDIR:
                raise self._refuse(name, f"needs {'/'.join(parts)!r} to be a directory, but it is not") from None
            if error.errno != errno.ENOENT or not parts:
                raise
        parent = self._make_dirs(parts[:-1], name, hops)
        try:
            os.mkdir(parts[-1], 0o755, dir_fd=parent)
        except FileExistsError:
            # a symlink whose target is missing: make the target, inside the root, as chroot would
            try:
                target = os.readlink(parts[-1], dir_fd=parent)
            except OSError:
                target = None
            if target is None or hops >= 40:
                raise self._refuse(name, f"needs {'/'.join(parts)!r} to be a directory, but it is not") from None
            base = [] if target.startswith("/") else parts[:-1]
            os.close(self._make_dirs(_clamp(base + target.split("/")), name, hops + 1))
        finally:
            os.close(parent)
        return open_in_root(self.root_fd, "/".join(parts))

    def _clear(self, parent: int, leaf: str, keep_dir: bool) -> bool:
        """Remove what is at parent/leaf so a new entry can take its place; True if a directory was kept."""
        try:
            st = os.lstat(leaf, dir_fd=parent)
        except FileNotFoundError:
            return False
        if stat.S_ISDIR(st.st_mode):
            if keep_dir:
                return True
            shutil.rmtree(leaf, dir_fd=parent)
        else:
            os.unlink(leaf, dir_fd=parent)
        return False

    def extract(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        name = member.name
        parts = entry_parts(name, f"{self.source}: entry")
        if not parts:
            return  # the root itself keeps the store's ownership and mode
        leaf = parts[-1]
        if leaf.startswith(WHITEOUT_PREFIX):
            self._whiteout(parts, name)
            return
        parent = self.parent_fd(parts[:-1], name)
        if member.isdir():
            self._extract_dir(tar, member, parts, parent, leaf)
        elif member.isreg():
            self._extract_file(tar, member, parts, parent, leaf)
        elif member.issym():
            self._extract_symlink(tar, member, parts, parent, leaf)
        elif member.islnk():
            self._extract_hardlink(tar, member, parts, parent, leaf)
        elif member.ischr() or member.isblk() or member.isfifo():
            self._extract_special(tar, member, parts, parent, leaf)
        else:
            raise self._refuse(name, f"has a tar type nsbox does not unpack ({member.type!r})")

    def _extract_dir(self, tar: tarfile.TarFile, member: tarfile.TarInfo, parts: list[str], parent: int,
                     leaf: str) -> None:
        """A directory (an existing one is kept, as layers stack)."""
        kept = self._clear(parent, leaf, keep_dir=True)
        if not kept:
            os.mkdir(leaf, 0o700, dir_fd=parent)
        fd = os.open(leaf, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=parent)
        try:
            self._set_metadata(fd, member)
        finally:
            os.close(fd)
        self.dir_times.append(("/".join(parts), member.mtime))

    def _extract_file(self, tar: tarfile.TarFile, member: tarfile.TarInfo, parts: list[str], parent: int,
                      leaf: str) -> None:
        """A regular file, sparse or not."""
        self._clear(parent, leaf, keep_dir=False)
        fd = os.open(leaf, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                     dir_fd=parent)
        try:
            if member.sparse is None:
                self._write_contents(fd, member)
            else:  # a GNU sparse file: tarfile knows where its holes are
                _write_sparse(fd, tar, member)
            self._set_metadata(fd, member)
        finally:
            os.close(fd)

    def _extract_symlink(self, tar: tarfile.TarFile, member: tarfile.TarInfo, parts: list[str], parent: int,
                         leaf: str) -> None:
        """A symlink, written as is (it resolves inside the root when used)."""
        self._clear(parent, leaf, keep_dir=False)
        os.symlink(member.linkname, leaf, dir_fd=parent)
        os.chown(leaf, member.uid, member.gid, dir_fd=parent, follow_symlinks=False)
        self._set_xattrs(f"/proc/self/fd/{parent}/{leaf}", member, follow=False)
        os.utime(leaf, (member.mtime, member.mtime), dir_fd=parent, follow_symlinks=False)

    def _extract_hardlink(self, tar: tarfile.TarFile, member: tarfile.TarInfo, parts: list[str], parent: int,
                          leaf: str) -> None:
        """A hard link to an entry already in the layer."""
        name = member.name
        target = entry_parts(member.linkname, f"{self.source}: hard link {name!r} to")
        if not target:
            raise self._refuse(name, "is a hard link to the layer root")
        self._clear(parent, leaf, keep_dir=False)
        try:
            source_parent = open_in_root(self.root_fd, "/".join(target[:-1]) or ".")
        except OSError:
            raise self._refuse(name, f"is a hard link to {member.linkname!r}, which is not in the layer") from None
        try:
            os.link(target[-1], leaf, src_dir_fd=source_parent, dst_dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            raise self._refuse(name, f"is a hard link to {member.linkname!r}, which is not in the layer") from None
        except PermissionError:
            raise self._refuse(name, f"is a hard link to {member.linkname!r}, which cannot be linked "
                                     "(a directory?)") from None
        finally:
            os.close(source_parent)

    def _extract_special(self, tar: tarfile.TarFile, member: tarfile.TarInfo, parts: list[str], parent: int,
                         leaf: str) -> None:
        """A device node or a fifo."""
        self._clear(parent, leaf, keep_dir=False)
        if member.isfifo():
            os.mkfifo(leaf, 0o600, dir_fd=parent)
        elif not self.can_mknod:
            return  # device nodes only where the caller may make them (as rootless Docker does)
        else:
            kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
            try:
                os.mknod(leaf, kind | 0o600, os.makedev(member.devmajor, member.devminor), dir_fd=parent)
            except PermissionError:
                return  # root without CAP_MKNOD (e.g. in a user namespace)
        os.chown(leaf, member.uid, member.gid, dir_fd=parent, follow_symlinks=False)
        os.chmod(leaf, member.mode & 0o7777, dir_fd=parent)
        os.utime(leaf, (member.mtime, member.mtime), dir_fd=parent, follow_symlinks=False)

    def _write_contents(self, fd: int, member: tarfile.TarInfo) -> None:
        """Write the member's contents, which follow its header in the stream, to `fd`."""
        remaining = member.size
        while remaining:
            piece = self.stream.view(min(remaining, _CHUNK))
            if not piece:
                raise self._refuse(member.name, "is cut short: the layer ends inside it")
            remaining -= len(piece)
            while piece:
                piece = piece[os.write(fd, piece):]

    def _whiteout(self, parts: list[str], name: str) -> None:
        leaf = parts[-1]
        if leaf == OPAQUE_MARKER:
            fd = self.parent_fd(parts[:-1], name)
            os.setxattr(fd, OPAQUE_XATTR, b"y")
            return
        hidden = leaf[len(WHITEOUT_PREFIX):]
        if hidden in ("", ".", "..") or hidden.startswith(WHITEOUT_PREFIX):
            raise self._refuse(name, "is a malformed whiteout")
        parent = self.parent_fd(parts[:-1], name)
        self._clear(parent, hidden, keep_dir=False)
        os.mknod(hidden, stat.S_IFCHR | 0o600, os.makedev(0, 0), dir_fd=parent)

    def _set_metadata(self, fd: int, member: tarfile.TarInfo) -> None:
        os.fchown(fd, member.uid, member.gid)
        os.fchmod(fd, member.mode & 0o7777)  # after chown, which clears setuid/setgid
        self._set_xattrs(fd, member, follow=True)
        if not member.isdir():
            os.utime(fd, (member.mtime, member.mtime))

    def _set_xattrs(self, target: int | str, member: tarfile.TarInfo, follow: bool) -> None:
        for key, value in member.pax_headers.items():
            if not key.startswith("SCHILY.xattr."):
                continue
            attribute = key[len("SCHILY.xattr."):]
            if attribute.startswith("trusted.overlay."):
                continue  # would let a layer forge overlayfs whiteouts, redirects or metacopy
            try:
                os.setxattr(target, attribute, value.encode("utf-8", "surrogateescape"), follow_symlinks=follow)
            except OSError as error:
                if error.errno not in (errno.ENOTSUP, errno.EPERM):
                    raise

    def finish(self) -> None:
        self._forget_parent()
        for path, mtime in reversed(self.dir_times):
            try:
                fd = open_in_root(self.root_fd, path, _DIR_FLAGS | os.O_NOFOLLOW)
            except OSError:
                continue  # replaced by a later entry
            try:
                os.utime(fd, (mtime, mtime))
            finally:
                os.close(fd)


def unpack_stream(stream: LayerStream, directory: str, source: str) -> str:
    """Unpack the tar `stream` into the existing `directory`; return the stream's diff ID."""
    root_fd = os.open(directory, _DIR_FLAGS | os.O_NOFOLLOW)
    unpacker = _Unpacker(root_fd, source, stream)
    try:
        try:
            # mode "r" on a stream that only goes forward: the entries' contents are read by
            # _write_contents straight from the stream, not copied through tarfile's buffers
            with tarfile.TarFile(fileobj=stream, mode="r", errorlevel=2) as tar:  # type: ignore[arg-type]
                for member in tar:
                    try:
                        unpacker.extract(tar, member)
                    except OSError as error:
                        raise ImageError(f"{source}: entry {member.name!r} could not be written: "
                                         f"{error.strerror or error}") from error
        except (tarfile.TarError, EOFError) as error:
            raise ImageError(f"{source}: not a valid tar archive ({error})") from None
        unpacker.finish()
        return stream.digest()
    finally:
        unpacker.close()
        os.close(root_fd)


def unpack_layer(blob, directory: str, source: str, diff_id: str | None = None) -> str:
    """Unpack a layer blob (a path, or a raw reader of its bytes) into `directory` (which
    must exist and be empty).

    The uncompressed stream must hash to `diff_id` when one is given. Returns the diff ID.
    """
    stream = layer_stream(open(blob, "rb") if isinstance(blob, str) else blob)
    try:
        actual = unpack_stream(stream, directory, source)
    finally:
        stream.close()
    if diff_id is not None and actual != diff_id:
        raise ImageError(f"{source}: uncompressed content is {actual}, but the image config says {diff_id}")
    return actual


def _write_sparse(fd: int, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    """Only the data regions of a GNU sparse member, at their offsets: the holes stay holes.
    The layer is a stream, so the file is read in order and what lies in a hole is dropped."""
    source = tar.extractfile(member)
    assert source is not None and member.sparse is not None  # a sparse regular file
    regions: list[tuple[int, int]] = member.sparse  # type: ignore[assignment]  # typeshed has it as int
    position = 0
    for offset, size in regions:
        while position < offset:  # a hole: tarfile gives zeros, which are not written
            skipped = len(source.read(min(offset - position, _CHUNK)))
            if not skipped:
                raise ImageError(f"{member.name}: the layer's sparse file ends early")
            position += skipped
        while size > 0:
            data = source.read(min(size, _CHUNK))
            if not data:
                raise ImageError(f"{member.name}: the layer's sparse file ends early")
            os.pwrite(fd, data, position)
            position += len(data)
            size -= len(data)
    os.ftruncate(fd, member.size)
