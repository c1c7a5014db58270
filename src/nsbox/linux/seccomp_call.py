"""The seccomp() system call: a profile's filter flags, and installing a compiled program.

Apart from linux.seccomp (the compiler, through libseccomp and ctypes): a start whose
program is cached (runtime.seccomp_filter) needs only this, in the runtime and in the
container's init right before execve, and pays for neither ctypes (~4 ms) nor libseccomp.
"""
from __future__ import annotations

import _ctypes
import os

from nsbox.linux.libc import _libc

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nsbox.oci.seccomp import Seccomp

SYS_SECCOMP = 317  # x86_64
SECCOMP_SET_MODE_FILTER = 1
FILTER_FLAGS = {"SECCOMP_FILTER_FLAG_TSYNC": 1, "SECCOMP_FILTER_FLAG_LOG": 2, "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 4,
                "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": 32}
SECCOMP_FILTER_FLAG_NEW_LISTENER = 8


class _Byte(_ctypes._SimpleCData):
    _type_ = "B"


def flags_value(profile: Seccomp) -> int:
    value = 0
    for flag in profile.flags:
        value |= FILTER_FLAGS[flag]
    if profile.notifies:
        value |= SECCOMP_FILTER_FLAG_NEW_LISTENER
    return value


def load(program: bytes, flags: int = 0) -> int:
    """Install a BPF program (8-byte instructions) in this thread; the result is the listener fd
    when `flags` asks for SECCOMP_FILTER_FLAG_NEW_LISTENER, else 0."""
    buffer = (_Byte * len(program)).from_buffer_copy(program)
    # struct sock_fprog: unsigned short len, (padding), struct sock_filter *filter
    fprog = (len(program) // 8).to_bytes(8, "little") + _ctypes.addressof(buffer).to_bytes(8, "little")
    result = _libc.syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, flags, fprog)
    if result == -1:
        errno = _ctypes.get_errno()
        raise OSError(errno, f"seccomp(SECCOMP_SET_MODE_FILTER, {hex(flags)}): {os.strerror(errno)}")
    return result
