"""Checks of a config.json against this host made before anything is created or forked:
a root filesystem that is the host's own /, capability names, namespace paths, the
hostname's length and the size of args + env. Each refusal names the field, where the
same fault found after the fork would only say that the init died.
"""
from __future__ import annotations

import os

from nsbox.errors import ConfigError
from nsbox.oci.runtime_spec import Process, Spec

HOST_NAME_MAX = 64  # the kernel's limit for sethostname and setdomainname
MAX_ARG_STRLEN = 32 * 4096  # the kernel's limit for one argument or environment string


def check(spec: Spec, rootfs: str) -> None:
    check_root(rootfs)
    check_namespace_paths(spec)
    for field, value in (("hostname", spec.hostname), ("domainname", spec.domainname)):
        if len(value.encode()) > HOST_NAME_MAX:
            raise ConfigError(field, f"is {len(value.encode())} bytes long; the kernel takes at most {HOST_NAME_MAX}")
    if spec.process is not None:
        check_process(spec.process, "process")


def check_root(rootfs: str) -> None:
    """Refuse a root that is the host's / however it is spelled ("../../..", a symlink, a bind mount)."""
    try:
        if os.path.samestat(os.stat(rootfs), os.stat("/")):
            raise ConfigError("root.path", f"{rootfs} is the host's root directory: the container would "
                                           "run on the host's own files; give it a root filesystem of its own")
    except OSError as error:
        raise ConfigError("root.path", f"cannot use {rootfs}: {error.strerror}") from None


def check_namespace_paths(spec: Spec) -> None:
    for index, namespace in enumerate(spec.linux.namespaces):
        if not namespace.path:
            continue
        field = f"linux.namespaces[{index}].path"
        try:
            fd = os.open(namespace.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as error:
            hint = " (is the process whose namespace it names still running?)" if error.errno == 2 else ""
            raise ConfigError(field, f"cannot open {namespace.path}: {error.strerror}{hint}") from None
        from nsbox.linux.namespaces import KINDS, type_flag
        try:
            flag = type_flag(fd)
        except OSError:
            flag = 0
        finally:
            os.close(fd)
        if flag != KINDS[namespace.type][0]:
            kind = next((name for name, (bits, _) in KINDS.items() if bits == flag), "")
            raise ConfigError(field, f"{namespace.path} is not a {namespace.type} namespace "
                                     f"({'it is a ' + kind + ' namespace' if kind else 'not a namespace file at all'})")


def check_process(process: Process, where: str) -> None:
    """Capability names known to this runtime; args and env within the kernel's execve limits."""
    if process.capabilities is not None:
        check_capabilities(process.capabilities, f"{where}.capabilities")
    total = 0
    for key, strings in (("args", process.args), ("env", process.env)):
        for index, text in enumerate(strings):
            size = len(text.encode(errors="surrogateescape")) + 1
            if size > MAX_ARG_STRLEN:
                raise ConfigError(f"{where}.{key}[{index}]", f"is {size - 1} bytes long; the kernel passes at most "
                                                             f"{MAX_ARG_STRLEN - 1} bytes per argument or variable")
            total += size + 8  # the string and its pointer
    limit = os.sysconf("SC_ARG_MAX")
    if total > limit:
        raise ConfigError(f"{where}.env", f"args and env together take {total} bytes; the kernel's limit "
                                          f"(ARG_MAX) is {limit}: pass large data in a file instead")


def check_capabilities(capabilities: dict[str, list[str]], where: str) -> None:
    """Known names; a warning for ambient ones the kernel cannot raise (not permitted and
    inheritable): runc warns and goes on, and `runc spec`'s own config asks for them."""
    from nsbox.linux.capabilities import mask, names
    sets = {kind: mask(values, f"{where}.{kind}") for kind, values in capabilities.items()}
    ambient = sets.get("ambient", 0)
    unraisable = ambient & ~((sets.get("permitted", 0) | sets.get("effective", 0)) & sets.get("inheritable", 0))
    if unraisable:
        from nsbox.runtime.notices import warn
        warn(f"{where}.ambient: {', '.join(names(unraisable))} not both permitted and inheritable, "
             "so the kernel cannot raise it; left out")
