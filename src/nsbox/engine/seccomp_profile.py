"""Docker's seccomp profile format turned into the OCI `linux.seccomp` of one container.

A Docker profile (nsbox's default in seccomp_default.json, or the file given with
`--security-opt seccomp=PATH`) adds `archMap` and, per rule, `includes`/`excludes` on
capabilities, architectures and the kernel version. For a container these are decided
once, from its capability set and this host, as Docker does; what is left is plain OCI.
"""
from __future__ import annotations

import os

from nsbox.errors import ConfigError

DEFAULT_PROFILE = os.path.join(os.path.dirname(__file__), "seccomp_default.json")
# Docker's (Go's) architecture names, as includes/excludes use them, by uname machine.
GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "i686": "x86", "armv7l": "arm", "ppc64le": "ppc64le",
           "s390x": "s390x", "riscv64": "riscv64", "mips64": "mips64"}
SECCOMP_ARCH = {"amd64": "SCMP_ARCH_X86_64", "arm64": "SCMP_ARCH_AARCH64", "x86": "SCMP_ARCH_X86",
                "arm": "SCMP_ARCH_ARM", "ppc64le": "SCMP_ARCH_PPC64LE", "s390x": "SCMP_ARCH_S390X",
                "riscv64": "SCMP_ARCH_RISCV64", "mips64": "SCMP_ARCH_MIPS64"}


def read_profile(path: str, flag: str = "--security-opt seccomp") -> dict:
    from nsbox.oci import jsonio
    try:
        with open(path, "rb") as f:
            profile = jsonio.loads(f.read())
    except OSError as error:
        raise ConfigError(flag, f"cannot read the profile {path}: {error.strerror}") from None
    except ValueError as error:
        raise ConfigError(flag, f"{path} is not valid JSON: {error}") from None
    if not isinstance(profile, dict) or "defaultAction" not in profile:
        raise ConfigError(flag, f"{path} is not a seccomp profile (Docker's format: defaultAction, syscalls, ...)")
    return profile


def _kernel() -> tuple[int, ...]:
    release = os.uname().release.split("-")[0]
    return tuple(int(part) for part in release.split(".")[:2] if part.isdigit())


def _version(text: str, where: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(".")[:2])
    except ValueError:
        raise ConfigError(where, f"must be a kernel version like 4.8, got {text!r}") from None


def _applies(rule: dict, caps: set[str], arch: str, kernel: tuple[int, ...], where: str) -> bool:
    includes, excludes = rule.get("includes") or {}, rule.get("excludes") or {}
    if includes.get("arches") and arch not in includes["arches"]:
        return False
    if includes.get("caps") and not set(includes["caps"]) <= caps:
        return False
    if includes.get("minKernel") and kernel < _version(includes["minKernel"], f"{where}.includes.minKernel"):
        return False
    if arch in (excludes.get("arches") or ()) or caps & set(excludes.get("caps") or ()):
        return False
    if excludes.get("minKernel") and kernel >= _version(excludes["minKernel"], f"{where}.excludes.minKernel"):
        return False
    return True


def to_oci(profile: dict, capabilities: list[str], machine: str | None = None) -> dict:
    """The OCI linux.seccomp object this profile gives a container holding `capabilities`."""
    arch = GO_ARCH.get(machine or os.uname().machine, machine or "")
    kernel = _kernel()
    caps = set(capabilities)
    oci: dict = {"defaultAction": profile["defaultAction"]}
    if "defaultErrnoRet" in profile:
        oci["defaultErrnoRet"] = profile["defaultErrnoRet"]
    architectures = list(profile.get("architectures") or [])
    native = SECCOMP_ARCH.get(arch)
    for entry in profile.get("archMap") or []:
        if entry.get("architecture") == native:
            architectures = [native] + list(entry.get("subArchitectures") or [])
    if architectures:
        oci["architectures"] = architectures
    for key in ("flags", "listenerPath", "listenerMetadata"):
        if profile.get(key):
            oci[key] = profile[key]
    syscalls = []
    for index, rule in enumerate(profile.get("syscalls") or []):
        where = f"seccomp profile syscalls[{index}]"
        if not isinstance(rule, dict):
            raise ConfigError(where, "must be an object")
        if not _applies(rule, caps, arch, kernel, where):
            continue
        names = rule.get("names") or ([rule["name"]] if rule.get("name") else [])
        item: dict = {"names": names, "action": rule.get("action")}
        for key in ("errnoRet", "args"):
            if rule.get(key) is not None and rule[key] != []:
                item[key] = rule[key]
        syscalls.append(item)
    oci["syscalls"] = syscalls
    return oci
