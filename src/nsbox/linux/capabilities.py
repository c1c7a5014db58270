"""Linux capabilities by name, and applying the five OCI capability sets to this process."""
from __future__ import annotations

from nsbox.linux import libc

NAMES = ("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
         "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
         "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
         "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
         "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
         "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
         "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
         "CAP_CHECKPOINT_RESTORE")
NUMBERS = {name: number for number, name in enumerate(NAMES)}

PR_CAPBSET_DROP = 24
PR_SET_KEEPCAPS = 8
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_SET_NO_NEW_PRIVS = 38


def last_cap() -> int:
    with open("/proc/sys/kernel/cap_last_cap") as f:
        return int(f.read())


def mask(names: list[str], field: str) -> int:
    """Capability names -> bit mask; an unknown name is a ConfigError naming the field."""
    bits = 0
    for index, name in enumerate(names):
        number = NUMBERS.get(name)
        if number is None:
            from nsbox.errors import ConfigError
            raise ConfigError(f"{field}[{index}]", f"unknown capability {name!r}")
        bits |= 1 << number
    return bits


def names(bits: int) -> list[str]:
    return [name for number, name in enumerate(NAMES) if bits >> number & 1]


def held() -> int:
    """This process's permitted set (what it can give away)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("CapPrm:"):
                return int(line.split()[1], 16)
    return 0


def drop_bounding(keep: int) -> None:
    for number in range(last_cap() + 1):
        if not keep >> number & 1:
            libc.prctl(PR_CAPBSET_DROP, number)


def keep_across_setuid() -> None:
    libc.prctl(PR_SET_KEEPCAPS, 1)


def set_sets(effective: int, permitted: int, inheritable: int) -> None:
    libc.capset(effective, permitted, inheritable)


def raise_ambient(bits: int) -> None:
    for number in range(last_cap() + 1):
        if bits >> number & 1:
            libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, number)


def no_new_privileges() -> None:
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1)
