"""The device allow/deny list: OCI linux.resources.devices, checked and put in kernel order.

Every container starts from "deny everything", then the spec's rules in order (a later
rule wins over an earlier one for the devices it matches), then the devices every
container needs (/dev/null, /dev/zero, the ptys, ...), as the OCI runtime spec's
default devices require. v1 writes these as lines to devices.allow / devices.deny;
v2 compiles them into an eBPF program (ebpf.py).
"""
from __future__ import annotations

from nsbox.errors import ConfigError

# (allow, type, major, minor, access); None for major/minor matches any number.
Rule = tuple[bool, str, int | None, int | None, str]

DEFAULT_ALLOWED: list[Rule] = [
    (True, "c", None, None, "m"),  # creating device nodes (opening them is what the rules below decide)
    (True, "b", None, None, "m"),
    (True, "c", 1, 3, "rwm"),      # /dev/null
    (True, "c", 1, 5, "rwm"),      # /dev/zero
    (True, "c", 1, 7, "rwm"),      # /dev/full
    (True, "c", 1, 8, "rwm"),      # /dev/random
    (True, "c", 1, 9, "rwm"),      # /dev/urandom
    (True, "c", 5, 0, "rwm"),      # /dev/tty
    (True, "c", 5, 1, "rwm"),      # /dev/console
    (True, "c", 5, 2, "rwm"),      # /dev/ptmx
    (True, "c", 136, None, "rwm"),  # /dev/pts/*
]


def rules(items: list | None) -> list[Rule]:
    """Deny-all, the spec's rules (Fields of linux.resources.devices[i]), then the default devices."""
    result: list[Rule] = [(False, "a", None, None, "rwm")]
    for item in items or ():
        kind = item.str("type", "a")
        if kind not in ("a", "b", "c", "u"):
            raise ConfigError(item.where("type"), f"must be a, b or c, got {kind!r}")
        access = item.str("access", "rwm")
        if not access or set(access) - set("rwm"):
            raise ConfigError(item.where("access"), f"must be letters from 'rwm', got {access!r}")
        major = item.int("major")
        minor = item.int("minor")
        for name, number in (("major", major), ("minor", minor)):
            if number is not None and number < -1:
                raise ConfigError(item.where(name), f"must be a device number or -1 for any, got {number}")
        result.append((item.bool("allow"), "c" if kind == "u" else kind,
                       None if major in (None, -1) else major, None if minor in (None, -1) else minor,
                       "".join(sorted(set(access), key="rwm".index))))
    result.extend(DEFAULT_ALLOWED)
    return result


def v1_line(rule: Rule) -> tuple[str, str]:
    """(devices.allow or devices.deny, "c 1:3 rwm") for one rule."""
    allow, kind, major, minor, access = rule
    if kind == "a":
        return ("devices.allow" if allow else "devices.deny"), "a"
    return ("devices.allow" if allow else "devices.deny"), f"{kind} {_number(major)}:{_number(minor)} {access}"


def _number(number: int | None) -> str:
    return "*" if number is None else str(number)
