"""seccomp filters: compiled by libseccomp (through ctypes), loaded with the seccomp() call.

`compile_filter(Seccomp)` builds the filter with libseccomp (Debian's libseccomp2) and
exports its classic-BPF program as bytes; linux.seccomp_call.load(program, flags) installs
such bytes in this thread with seccomp(SECCOMP_SET_MODE_FILTER). The two halves are apart so that the
runtime can cache the bytes by the profile's digest and a start with a known profile
never loads libseccomp at all. Unknown system call names are skipped, as runc does.
"""
from __future__ import annotations

import ctypes
import os

from nsbox.errors import ConfigError
from nsbox.oci.seccomp import EPERM, Seccomp


OPERATORS = {"SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4, "SCMP_CMP_GE": 5,
             "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7}
SCMP_ACT_KILL_PROCESS = 0x80000000
SCMP_ACT_KILL_THREAD = 0x00000000
SCMP_ACT_TRAP = 0x00030000
SCMP_ACT_NOTIFY = 0x7FC00000
SCMP_ACT_LOG = 0x7FFC0000
SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_FLTATR_CTL_NNP = 3  # libseccomp's own no_new_privs switch; we load the program ourselves
NR_SCMP_ERROR = -1


def action_value(action: str, errno_ret: int | None) -> int:
    """The kernel's SECCOMP_RET_* value for an OCI action (ERRNO and TRACE default to EPERM, as runc)."""
    if action == "SCMP_ACT_ERRNO":
        return 0x00050000 | ((EPERM if errno_ret is None else errno_ret) & 0xFFFF)
    if action == "SCMP_ACT_TRACE":
        return 0x7FF00000 | ((EPERM if errno_ret is None else errno_ret) & 0xFFFF)
    return {"SCMP_ACT_KILL": SCMP_ACT_KILL_THREAD, "SCMP_ACT_KILL_THREAD": SCMP_ACT_KILL_THREAD,
            "SCMP_ACT_KILL_PROCESS": SCMP_ACT_KILL_PROCESS, "SCMP_ACT_TRAP": SCMP_ACT_TRAP,
            "SCMP_ACT_NOTIFY": SCMP_ACT_NOTIFY, "SCMP_ACT_LOG": SCMP_ACT_LOG, "SCMP_ACT_ALLOW": SCMP_ACT_ALLOW}[action]


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


class _Version(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint), ("minor", ctypes.c_uint), ("micro", ctypes.c_uint)]


def _library() -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    except OSError as error:
        from nsbox.errors import NsboxError
        raise NsboxError(f"seccomp needs libseccomp: {error} (apt-get install libseccomp2)") from None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
    lib.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(_ArgCmp)]
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.seccomp_version.restype = ctypes.POINTER(_Version)
    return lib


def library_version() -> str:
    version = _library().seccomp_version().contents
    return f"{version.major}.{version.minor}.{version.micro}"


def compile_filter(profile: Seccomp, where: str = "linux.seccomp") -> bytes:
    """The profile as a classic-BPF program (struct sock_filter[]), as libseccomp exports it."""
    lib = _library()
    default = action_value(profile.default_action, profile.default_errno_ret)
    ctx = lib.seccomp_init(default)
    if not ctx:
        raise ConfigError(f"{where}.defaultAction", "libseccomp refused it as a default action")
    try:
        lib.seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)
        for index, name in enumerate(profile.architectures):
            token = lib.seccomp_arch_resolve_name(name[len("SCMP_ARCH_"):].lower().encode())
            if not token:
                raise ConfigError(f"{where}.architectures[{index}]", f"unknown architecture {name!r}")
            result = lib.seccomp_arch_add(ctx, token)
            if result < 0 and result != -17:  # EEXIST: the native one is there already
                raise ConfigError(f"{where}.architectures[{index}]", f"libseccomp: {os.strerror(-result)}")
        for index, rule in enumerate(profile.syscalls):
            _add_rule(lib, ctx, rule, default, f"{where}.syscalls[{index}]")
        return _export(lib, ctx)
    finally:
        lib.seccomp_release(ctx)


def _add_rule(lib: ctypes.CDLL, ctx: int, rule, default: int, where: str) -> None:
    action = action_value(rule.action, rule.errno_ret)
    if action == default:
        return  # libseccomp refuses a rule that repeats the default; runc skips it too
    conditions = [(arg.index, OPERATORS[arg.op], arg.value, arg.value_two) for arg in rule.args]
    # libseccomp takes one condition per argument in a rule; several on the same argument
    # become one rule each (their OR), as runc does.
    indexes = [c[0] for c in conditions]
    groups = [conditions] if len(set(indexes)) == len(indexes) else [[c] for c in conditions]
    for name in rule.names:
        number = lib.seccomp_syscall_resolve_name(name.encode())
        if number == NR_SCMP_ERROR:
            continue  # unknown to this libseccomp: skipped, as runc does
        for group in groups:
            array = (_ArgCmp * max(len(group), 1))(*[_ArgCmp(*c) for c in group])
            result = lib.seccomp_rule_add_array(ctx, action, number, len(group), array)
            if result < 0:
                raise ConfigError(where, f"libseccomp refused the rule for {name!r}: {os.strerror(-result)}")


def _export(lib: ctypes.CDLL, ctx: int) -> bytes:
    fd = os.memfd_create("nsbox-seccomp", os.MFD_CLOEXEC)
    try:
        result = lib.seccomp_export_bpf(ctx, fd)
        if result < 0:
            raise OSError(-result, f"seccomp_export_bpf: {os.strerror(-result)}")
        size = os.lseek(fd, 0, os.SEEK_END)
        return os.pread(fd, size, 0)
    finally:
        os.close(fd)
