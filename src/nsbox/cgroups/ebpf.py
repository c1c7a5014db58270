"""cgroup v2's device controller: the allow/deny list compiled into an eBPF program.

cgroup v2 has no devices.allow; the kernel runs a BPF_PROG_TYPE_CGROUP_DEVICE program
attached to the cgroup for each open/mknod of a device and allows it when the program
returns 1. This module assembles that program as raw instructions, loads it with the
bpf(2) syscall through ctypes and attaches it to the cgroup directory (replacing one
that nsbox attached before). Not on the v1 start path: ctypes is imported only here.
"""
from __future__ import annotations

import ctypes
import os

from nsbox.errors import CgroupError

BPF_PROG_LOAD, BPF_PROG_ATTACH, BPF_PROG_DETACH, BPF_PROG_GET_FD_BY_ID, BPF_PROG_QUERY = 5, 8, 9, 13, 16
BPF_PROG_TYPE_CGROUP_DEVICE = 15
BPF_CGROUP_DEVICE = 6
BPF_F_ALLOW_MULTI = 2
SYSCALL_NUMBERS = {"x86_64": 321, "aarch64": 280, "riscv64": 280, "ppc64le": 361, "s390x": 351}

# struct bpf_cgroup_dev_ctx { u32 access_type /* access << 16 | type */; u32 major; u32 minor; }
DEV_BLOCK, DEV_CHAR = 1, 2
ACCESS_BITS = {"m": 1, "r": 2, "w": 4}

# Opcodes used (see the kernel's Documentation/bpf/standardization/instruction-set.rst).
LDX_MEM_W = 0x61   # dst = *(u32 *)(src + off)
MOV32_REG = 0xBC   # wdst = wsrc
AND32_IMM = 0x54   # wdst &= imm
RSH32_IMM = 0x74   # wdst >>= imm
MOV64_IMM = 0xB7   # dst = imm
JNE_IMM = 0x55     # if dst != imm: pc += off
JEQ_IMM = 0x15     # if dst == imm: pc += off
JSET_IMM = 0x45    # if dst & imm: pc += off
EXIT = 0x95


def _insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return (code.to_bytes(1, "little") + ((src << 4) | dst).to_bytes(1, "little")
            + off.to_bytes(2, "little", signed=True) + imm.to_bytes(4, "little", signed=True))


def _rule_block(rule: tuple) -> list[tuple]:
    """Instructions for one rule: fall through to the next rule unless the device matches;
    on a match return allow (1) or deny (0). Registers: r3 type, r4 access, r5 major, r6 minor."""
    allow, kind, major, minor, access = rule
    wanted = sum(ACCESS_BITS[letter] for letter in access)
    checks: list[tuple] = []
    if kind != "a":
        checks.append((JNE_IMM, 3, 0, None, DEV_BLOCK if kind == "b" else DEV_CHAR))
    if major is not None:
        checks.append((JNE_IMM, 5, 0, None, major))
    if minor is not None:
        checks.append((JNE_IMM, 6, 0, None, minor))
    if allow:
        if 7 & ~wanted:  # allowed only if the request asks for nothing outside the rule's access
            checks.append((JSET_IMM, 4, 0, None, 7 & ~wanted))
    elif wanted != 7:  # denied if the request asks for any of the rule's access
        checks += [(MOV32_REG, 7, 4, 0, 0), (AND32_IMM, 7, 0, 0, wanted), (JEQ_IMM, 7, 0, None, 0)]
    block = checks + [(MOV64_IMM, 0, 0, 0, 1 if allow else 0), (EXIT, 0, 0, 0, 0)]
    # None offsets jump past the end of this block, to the next rule.
    return [(code, dst, src, len(block) - index - 1 if off is None else off, imm)
            for index, (code, dst, src, off, imm) in enumerate(block)]


def assemble(rules: list) -> bytes:
    """The program for `rules` (devices.rules() order: later rules win), as bytes of bpf_insn."""
    program = [(LDX_MEM_W, 2, 1, 0, 0), (MOV32_REG, 3, 2, 0, 0), (AND32_IMM, 3, 0, 0, 0xFFFF),
               (MOV32_REG, 4, 2, 0, 0), (RSH32_IMM, 4, 0, 0, 16), (LDX_MEM_W, 5, 1, 4, 0), (LDX_MEM_W, 6, 1, 8, 0)]
    for rule in reversed(rules):
        block = _rule_block(rule)
        program += block
        if len(block) == 2:  # a rule that matches every device decides for all earlier ones
            break
    else:
        program += [(MOV64_IMM, 0, 0, 0, 0), (EXIT, 0, 0, 0, 0)]  # no rule matched: deny

    return b"".join(_insn(*instruction) for instruction in program)


class _ProgLoad(ctypes.Structure):
    _fields_ = [("prog_type", ctypes.c_uint32), ("insn_cnt", ctypes.c_uint32), ("insns", ctypes.c_uint64),
                ("license", ctypes.c_uint64), ("log_level", ctypes.c_uint32), ("log_size", ctypes.c_uint32),
                ("log_buf", ctypes.c_uint64), ("kern_version", ctypes.c_uint32), ("prog_flags", ctypes.c_uint32),
                ("prog_name", ctypes.c_char * 16), ("prog_ifindex", ctypes.c_uint32),
                ("expected_attach_type", ctypes.c_uint32)]


class _Attach(ctypes.Structure):
    _fields_ = [("target_fd", ctypes.c_uint32), ("attach_bpf_fd", ctypes.c_uint32),
                ("attach_type", ctypes.c_uint32), ("attach_flags", ctypes.c_uint32),
                ("replace_bpf_fd", ctypes.c_uint32)]


class _Query(ctypes.Structure):
    _fields_ = [("target_fd", ctypes.c_uint32), ("attach_type", ctypes.c_uint32),
                ("query_flags", ctypes.c_uint32), ("attach_flags", ctypes.c_uint32),
                ("prog_ids", ctypes.c_uint64), ("prog_cnt", ctypes.c_uint32)]


class _GetFdById(ctypes.Structure):
    _fields_ = [("prog_id", ctypes.c_uint32), ("next_id", ctypes.c_uint32), ("open_flags", ctypes.c_uint32)]


_libc = ctypes.CDLL(None, use_errno=True)


def _bpf(command: int, attr: ctypes.Structure, what: str) -> int:
    number = SYSCALL_NUMBERS.get(os.uname().machine)
    if number is None:
        raise CgroupError(f"the cgroup v2 device filter needs the bpf() syscall number for {os.uname().machine}")
    result = _libc.syscall(ctypes.c_long(number), ctypes.c_int(command), ctypes.byref(attr),
                           ctypes.c_uint(ctypes.sizeof(attr)))
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"bpf({what}): {os.strerror(code)}")
    return result


def load(rules: list) -> int:
    """Load the program for `rules`; returns its fd."""
    code = assemble(rules)
    instructions = ctypes.create_string_buffer(code, len(code))
    license_text = ctypes.create_string_buffer(b"Apache-2.0")
    attr = _ProgLoad(prog_type=BPF_PROG_TYPE_CGROUP_DEVICE, insn_cnt=len(code) // 8,
                     insns=ctypes.addressof(instructions), license=ctypes.addressof(license_text),
                     prog_name=b"nsbox_devices")
    try:
        return _bpf(BPF_PROG_LOAD, attr, "BPF_PROG_LOAD")
    except OSError as error:
        log = ctypes.create_string_buffer(65536)
        attr.log_level, attr.log_size, attr.log_buf = 1, len(log), ctypes.addressof(log)
        try:
            return _bpf(BPF_PROG_LOAD, attr, "BPF_PROG_LOAD")
        except OSError:
            verifier = log.value.decode(errors="replace").strip().splitlines()[-3:]
            raise CgroupError(f"linux.resources.devices: the kernel refused nsbox's device filter program "
                              f"({error.strerror}); verifier: {' | '.join(verifier)}") from None


def attached(directory_fd: int) -> list[int]:
    """IDs of the device programs attached to the cgroup open at directory_fd."""
    ids = (ctypes.c_uint32 * 64)()
    query = _Query(target_fd=directory_fd, attach_type=BPF_CGROUP_DEVICE, prog_ids=ctypes.addressof(ids),
                   prog_cnt=len(ids))
    _bpf(BPF_PROG_QUERY, query, "BPF_PROG_QUERY")
    return list(ids[:query.prog_cnt])


def install(directory: str, rules: list) -> None:
    """Attach the program for `rules` to the cgroup at `directory`, then detach any earlier ones
    (so that an update replaces the list rather than adding to it)."""
    try:
        directory_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as error:
        raise CgroupError(f"linux.resources.devices: cannot open {directory}: {error.strerror}") from None
    try:
        program_fd = load(rules)
        try:
            earlier = attached(directory_fd)
            _bpf(BPF_PROG_ATTACH, _Attach(target_fd=directory_fd, attach_bpf_fd=program_fd,
                                          attach_type=BPF_CGROUP_DEVICE, attach_flags=BPF_F_ALLOW_MULTI),
                 "BPF_PROG_ATTACH")
            for program_id in earlier:
                old_fd = _bpf(BPF_PROG_GET_FD_BY_ID, _GetFdById(prog_id=program_id), "BPF_PROG_GET_FD_BY_ID")
                try:
                    _bpf(BPF_PROG_DETACH, _Attach(target_fd=directory_fd, attach_bpf_fd=old_fd,
                                                  attach_type=BPF_CGROUP_DEVICE), "BPF_PROG_DETACH")
                finally:
                    os.close(old_fd)
        finally:
            os.close(program_fd)
    except OSError as error:
        raise CgroupError(f"linux.resources.devices: cannot attach the device filter to {directory}: {error}") from None
    finally:
        os.close(directory_fd)
