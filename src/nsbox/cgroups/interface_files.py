"""Reading and writing cgroup interface files with raw os calls (no buffering, few syscalls)."""
from __future__ import annotations

import os

from nsbox.errors import CgroupError


def read(path: str) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode()


def read_or(path: str, default: str | None = None) -> str | None:
    try:
        return read(path)
    except (FileNotFoundError, ProcessLookupError, OSError):
        return default


def read_int(path: str, default: int = 0) -> int:
    """An integer file; "max" (v2's unlimited) reads as -1."""
    text = read_or(path)
    if text is None:
        return default
    text = text.strip()
    if text == "max":
        return -1
    try:
        return int(text)
    except ValueError:
        return default


def read_keyed(path: str) -> dict[str, int]:
    """A "key value" per line file (memory.stat, cpu.stat, memory.events, ...)."""
    values: dict[str, int] = {}
    text = read_or(path, "")
    for line in text.splitlines():  # type: ignore[union-attr]
        key, _, value = line.partition(" ")
        try:
            values[key] = int(value)
        except ValueError:
            continue
    return values


def write(path: str, value: str) -> None:
    """Write one value in one write(2), as the kernel expects; OSError names the file and value.
    (O_TRUNC means nothing to cgroupfs but keeps a plain-file stand-in, as in the tests, exact.)"""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
    except OSError as error:
        raise OSError(error.errno, f"open({path!r}): {error.strerror}") from None
    try:
        os.write(fd, value.encode())
    except OSError as error:
        raise OSError(error.errno, f"write({path!r}, {value!r}): {error.strerror}") from None
    finally:
        os.close(fd)


def write_field(field: str, path: str, value: str) -> None:
    """Write a limit; failure is a CgroupError that names the OCI field, the file and the kernel's reason."""
    try:
        write(path, value)
    except OSError as error:
        import errno
        reason = os.strerror(error.errno) if error.errno else str(error)
        hint = {errno.EINVAL: "the kernel rejected the value (out of range, or in conflict with another limit)",
                errno.EBUSY: "the cgroup is in use in a way that forbids this change",
                errno.ENOSPC: "the parent cgroup does not allow it (its own limits are tighter)",
                errno.EPERM: "not permitted (the parent cgroup forbids it, or a capability is missing)",
                errno.EACCES: "not permitted (the parent cgroup forbids it, or a capability is missing)",
                errno.ENOENT: "this host has no such file",
                errno.EOPNOTSUPP: "this kernel does not support it"}.get(error.errno or 0, "")
        raise CgroupError(f"linux.resources.{field}: cannot write {value!r} to {path}: {reason}"
                          + (f" ({hint})" if hint else "")) from None


def procs(directory: str) -> list[int]:
    """PIDs in cgroup.procs of `directory` and every cgroup below it."""
    found: list[int] = []
    for dirpath, _, _ in os.walk(directory):
        text = read_or(os.path.join(dirpath, "cgroup.procs"), "")
        found.extend(int(pid) for pid in text.split())  # type: ignore[union-attr]
    return found
