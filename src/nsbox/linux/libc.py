"""The libc calls Python's os module lacks (unshare, setns, mount, ...), through _ctypes.

Every failure raises OSError naming the call and its arguments, e.g.
"mount('proc', '/x/proc', 'proc'): Permission denied".

_ctypes is the C half of ctypes: the ctypes package itself costs ~4 ms of CPU at start-up
here (it defines every C type, imports struct and types), while the start path needs a
dozen calls that take ints, bytes and unsigned longs. `Library` is what ctypes.CDLL(None)
is, made from _ctypes alone; other modules may still pass ctypes' own objects to its
functions (ctypes.c_long, byref), and those that need more use ctypes itself.
"""
from __future__ import annotations

import _ctypes
import os


class Int(_ctypes._SimpleCData):
    """C int: what a function returns unless told otherwise (ctypes.c_int)."""
    _type_ = "i"


class Long(_ctypes._SimpleCData):
    """C long (ctypes.c_long): what syscall() returns."""
    _type_ = "l"


class ULong(_ctypes._SimpleCData):
    """C unsigned long (ctypes.c_ulong): flags and prctl arguments."""
    _type_ = "L"


class Library:
    """This process's own C symbols (libc's, the interpreter's) as functions returning Int,
    like ctypes.CDLL(None, use_errno=True); with the PYTHONAPI flag, like ctypes.PyDLL (the
    GIL held across the call)."""

    def __init__(self, flags: int = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO) -> None:
        self._handle = _ctypes.dlopen(None, os.RTLD_NOW)  # type: ignore[arg-type]  # None: the process itself

        class Function(_ctypes.CFuncPtr):
            _flags_ = flags
            _restype_ = Int
        self._function = Function

    def __getattr__(self, name: str):  # -> a callable C function, kept as an attribute
        if name.startswith("_"):
            raise AttributeError(name)
        function = self._function((name, self))  # type: ignore[arg-type]  # (it reads only ._handle)
        setattr(self, name, function)
        return function


_libc = Library()

SYS_PIVOT_ROOT = 155  # x86_64
SYS_CAPSET = 126
SYS_KEYCTL = 250
KEYCTL_JOIN_SESSION_KEYRING = 1
PR_SET_CHILD_SUBREAPER = 36
SIG_BLOCK, SIG_SETMASK = 0, 2
SIG_IGN = 1
AF_INET, SOCK_DGRAM, SOCK_CLOEXEC = 2, 2, os.O_CLOEXEC  # (SOCK_CLOEXEC is O_CLOEXEC on Linux)


def _encode(value: object) -> object:
    if isinstance(value, str):
        return value.encode()
    return value


def check(result: int, call: str, *args: object) -> int:
    if result == -1:
        errno = _ctypes.get_errno()
        shown = ", ".join(repr(a) for a in args)
        raise OSError(errno, f"{call}({shown}): {os.strerror(errno)}")
    return result


def datagram_socket() -> int:
    """A new AF_INET datagram socket's fd, for interface ioctls (linux.netdev). Python's
    _socket module would do, but it is a shared library of its own: loading it costs a
    container's init ~0.5 ms on its way to "ready"."""
    return check(_libc.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket", "AF_INET", "SOCK_DGRAM | SOCK_CLOEXEC")


def unshare(flags: int) -> None:
    check(_libc.unshare(flags), "unshare", hex(flags))


def setns(fd: int, nstype: int, path: str = "") -> None:
    check(_libc.setns(fd, nstype), "setns", path or fd, hex(nstype))


def mount(source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None) -> None:
    result = _libc.mount(_encode(source), _encode(target), _encode(fstype), ULong(flags), _encode(data))
    if result == -1:
        check(result, "mount", source, target, fstype, hex(flags), *((data,) if data else ()))


def umount2(target: str, flags: int = 0) -> None:
    check(_libc.umount2(_encode(target), flags), "umount2", target, flags)


def pivot_root(new_root: str, put_old: str) -> None:
    check(_libc.syscall(SYS_PIVOT_ROOT, _encode(new_root), _encode(put_old)), "pivot_root", new_root, put_old)


def sethostname(name: str) -> None:
    data = name.encode()
    check(_libc.sethostname(data, ULong(len(data))), "sethostname", name)


def setdomainname(name: str) -> None:
    data = name.encode()
    check(_libc.setdomainname(data, ULong(len(data))), "setdomainname", name)


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    return check(_libc.prctl(option, ULong(arg2), ULong(arg3), ULong(arg4), ULong(arg5)), "prctl", option, arg2, arg3)


def capset(effective: int, permitted: int, inheritable: int) -> None:
    """Set the three capability sets of this thread (64-bit masks, _LINUX_CAPABILITY_VERSION_3)."""
    header = _u32s(0x20080522, 0)
    data = _u32s(effective & 0xFFFFFFFF, permitted & 0xFFFFFFFF, inheritable & 0xFFFFFFFF,
                 effective >> 32, permitted >> 32, inheritable >> 32)
    check(_libc.syscall(SYS_CAPSET, header, data), "capset", hex(effective), hex(permitted), hex(inheritable))


def _u32s(*values: int) -> bytes:
    """A C array of uint32 (the kernel reads it through the pointer a bytes object passes)."""
    return b"".join(value.to_bytes(4, "little") for value in values)


def join_session_keyring(name: str) -> int:
    """A new session keyring called `name`, joined; its serial number."""
    return check(_libc.syscall(SYS_KEYCTL, KEYCTL_JOIN_SESSION_KEYRING, _encode(name)), "keyctl",
                 "JOIN_SESSION_KEYRING", name)


def personality(persona: int) -> None:
    check(_libc.personality(ULong(persona)), "personality", hex(persona))


def default_signal_actions() -> None:
    """signal(N, SIG_DFL) for every signal, without the signal module (it imports enum: ~5 ms
    here). SIGKILL's and SIGSTOP's cannot change; glibc refuses its own 32 and 33: no matter."""
    for number in range(1, 65):  # up to SIGRTMAX
        if number not in (9, 19):
            _libc.signal(number, None)


def ignore_signal(number: int) -> None:
    """signal(number, SIG_IGN)."""
    _libc.signal(number, ULong(SIG_IGN))


class _Byte(_ctypes._SimpleCData):
    _type_ = "B"


_SignalSet = _Byte * 128  # sigset_t


def block_all_signals() -> bytes:
    """Block every signal in this thread (glibc keeps its own two out); the mask it had."""
    old = _SignalSet()
    check(_libc.sigprocmask(SIG_BLOCK, b"\xff" * 128, old), "sigprocmask", "SIG_BLOCK", "all")
    return bytes(old)


def set_signal_mask(mask: bytes) -> None:
    check(_libc.sigprocmask(SIG_SETMASK, mask, None), "sigprocmask", "SIG_SETMASK")


def set_child_subreaper() -> None:
    """Become the parent of orphaned descendants (a container's init, once its intermediate exits)."""
    prctl(PR_SET_CHILD_SUBREAPER, 1)
