"""ctypes access to the libc calls Python's os module lacks (unshare, setns, mount, ...).

Every failure raises OSError naming the call and its arguments, e.g.
"mount('proc', '/x/proc', 'proc'): Permission denied".
"""
from __future__ import annotations

import ctypes
import os

_libc = ctypes.CDLL(None, use_errno=True)

SYS_PIVOT_ROOT = 155  # x86_64
SYS_CAPSET = 126
SYS_KEYCTL = 250
KEYCTL_JOIN_SESSION_KEYRING = 1
PR_SET_CHILD_SUBREAPER = 36


def _encode(value: object) -> object:
    if isinstance(value, str):
        return value.encode()
    return value


def check(result: int, call: str, *args: object) -> int:
    if result == -1:
        errno = ctypes.get_errno()
        shown = ", ".join(repr(a) for a in args)
        raise OSError(errno, f"{call}({shown}): {os.strerror(errno)}")
    return result


def unshare(flags: int) -> None:
    check(_libc.unshare(ctypes.c_int(flags)), "unshare", hex(flags))


def setns(fd: int, nstype: int, path: str = "") -> None:
    check(_libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns", path or fd, hex(nstype))


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
    result = _libc.mount(_encode(source), _encode(target), _encode(fstype), ctypes.c_ulong(flags), _encode(data))
    if result == -1:
        check(result, "mount", source, target, fstype, hex(flags), *((data,) if data else ()))


def umount2(target: str, flags: int = 0) -> None:
    check(_libc.umount2(_encode(target), ctypes.c_int(flags)), "umount2", target, flags)


def pivot_root(new_root: str, put_old: str) -> None:
    check(_libc.syscall(SYS_PIVOT_ROOT, _encode(new_root), _encode(put_old)), "pivot_root", new_root, put_old)


def sethostname(name: str) -> None:
    data = name.encode()
    check(_libc.sethostname(data, ctypes.c_size_t(len(data))), "sethostname", name)


def setdomainname(name: str) -> None:
    data = name.encode()
    check(_libc.setdomainname(data, ctypes.c_size_t(len(data))), "setdomainname", name)


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    return check(_libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg2), ctypes.c_ulong(arg3),
                             ctypes.c_ulong(arg4), ctypes.c_ulong(arg5)), "prctl", option, arg2, arg3)


def capset(effective: int, permitted: int, inheritable: int) -> None:
    """Set the three capability sets of this thread (64-bit masks, _LINUX_CAPABILITY_VERSION_3)."""
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)(effective & 0xFFFFFFFF, permitted & 0xFFFFFFFF, inheritable & 0xFFFFFFFF,
                                 effective >> 32, permitted >> 32, inheritable >> 32)
    check(_libc.syscall(SYS_CAPSET, header, data), "capset", hex(effective), hex(permitted), hex(inheritable))


def join_session_keyring(name: str) -> int:
    """A new session keyring called `name`, joined; its serial number."""
    return check(_libc.syscall(SYS_KEYCTL, KEYCTL_JOIN_SESSION_KEYRING, _encode(name)), "keyctl",
                 "JOIN_SESSION_KEYRING", name)


def personality(persona: int) -> None:
    check(_libc.personality(ctypes.c_ulong(persona)), "personality", hex(persona))


def default_signal_action(number: int) -> None:
    """signal(number, SIG_DFL) without the signal module (it imports enum: ~5 ms here)."""
    _libc.signal(ctypes.c_int(number), None)


def set_child_subreaper() -> None:
    """Become the parent of orphaned descendants (a container's init, once its intermediate exits)."""
    prctl(PR_SET_CHILD_SUBREAPER, 1)
