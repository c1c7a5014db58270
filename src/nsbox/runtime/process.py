"""The last steps before the user's program: rlimits, user, capabilities, then execve.

Used by the container's init and by `exec`. Everything here runs after pivot_root, when
the host's Python library is out of reach: it may only use modules imported before.
"""
from __future__ import annotations

import os
import resource

from nsbox.errors import CANNOT_EXECUTE_EXIT, NOT_FOUND_EXIT, ConfigError, ContainerStartError
from nsbox.linux import capabilities as caps
from nsbox.linux import libc
from nsbox.oci.runtime_spec import Process

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def environment(process: Process) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in process.env:
        name, _, value = item.partition("=")
        env[name] = value
    if "HOME" not in env:
        env["HOME"] = home_of(process.user.uid)
    return env


def home_of(uid: int) -> str:
    try:
        with open("/etc/passwd") as passwd:
            for line in passwd:
                fields = line.split(":")
                if len(fields) > 5 and fields[2] == str(uid):
                    return fields[5] or "/"
    except OSError:
        pass
    return "/"


def find_program(name: str, env: dict[str, str], cwd: str) -> str:
    """The program file args[0] names, looked up in the container's PATH; Docker's 127/126 errors."""
    if "/" in name:
        path = name if name.startswith("/") else os.path.join(cwd, name)
        if not os.path.exists(path):
            raise ContainerStartError(f"exec: {name!r}: no such file or directory", NOT_FOUND_EXIT)
        check_executable(path, name)
        return path
    for directory in env.get("PATH", DEFAULT_PATH).split(":"):
        path = os.path.join(directory or ".", name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise ContainerStartError(f"exec: {name!r}: executable file not found in $PATH "
                              f"({env.get('PATH', DEFAULT_PATH)})", NOT_FOUND_EXIT)


def check_executable(path: str, name: str) -> None:
    if os.path.isdir(path):
        raise ContainerStartError(f"exec: {name!r}: is a directory, not a program", CANNOT_EXECUTE_EXIT)
    if not os.access(path, os.X_OK):
        raise ContainerStartError(f"exec: {name!r}: permission denied (not executable)", CANNOT_EXECUTE_EXIT)


def set_rlimits(process: Process) -> None:
    for index, limit in enumerate(process.rlimits):
        number = getattr(resource, limit.type)
        try:  # (Python takes rlim_t as a signed long long: RLIM_INFINITY is -1 there)
            resource.setrlimit(number, (_rlim(limit.soft), _rlim(limit.hard)))
        except (ValueError, OSError) as error:
            current = resource.getrlimit(number)
            raise ConfigError(f"process.rlimits[{index}]",
                              f"cannot set {limit.type} to soft {limit.soft} hard {limit.hard} "
                              f"(the runtime's own hard limit is {current[1]}; raising it needs CAP_SYS_RESOURCE): {error}") from None


def _rlim(value: int) -> int:
    """An OCI uint64 limit as Python's resource module takes it (2^63 and up: unlimited)."""
    return resource.RLIM_INFINITY if value >= 1 << 63 else value


def set_oom_score_adj(process: Process) -> None:
    """Written only when it changes: in a user namespace the init's /proc files belong to the
    host's root (its ids changed, so it is not dumpable) and cannot be written."""
    if process.oom_score_adj is not None:
        with open("/proc/self/oom_score_adj") as current:
            if current.read().strip() == str(process.oom_score_adj):
                return
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write(str(process.oom_score_adj))


def become_user(process: Process, capabilities: dict[str, list[str]] | None) -> None:
    """setgroups/setgid/setuid, keeping the capabilities the config grants across the switch."""
    user = process.user
    bounding = None if capabilities is None else caps.mask(capabilities["bounding"], "process.capabilities.bounding")
    if bounding is not None:
        caps.drop_bounding(bounding)
    caps.keep_across_setuid()
    try:
        os.setgroups(user.additional_gids)
        os.setresgid(user.gid, user.gid, user.gid)
        os.setresuid(user.uid, user.uid, user.uid)
    except OSError as error:
        raise ConfigError("process.user", f"cannot switch to uid {user.uid} gid {user.gid}: {error.strerror} "
                          "(in a user namespace both must be mapped)") from None
    if user.umask is not None:
        os.umask(user.umask)


def change_directory(cwd: str) -> None:
    """chdir into process.cwd, refusing a directory outside the container's root: a path
    through a descriptor the runtime leaked (/proc/self/fd/N) was CVE-2024-21626's way out."""
    try:
        os.chdir(cwd)
    except OSError as error:
        raise ConfigError("process.cwd", f"cannot change into {cwd}: {error.strerror}") from None
    try:
        inside = os.getcwd()  # glibc fails with ENOENT for an "(unreachable)" directory
    except FileNotFoundError:
        inside = ""
    if not inside.startswith("/"):
        raise ConfigError("process.cwd", f"{cwd} is outside the container's root filesystem")


def set_capabilities(capabilities: dict[str, list[str]] | None) -> None:
    if capabilities is None:
        return
    effective = caps.mask(capabilities["effective"], "process.capabilities.effective")
    permitted = caps.mask(capabilities["permitted"], "process.capabilities.permitted")
    inheritable = caps.mask(capabilities["inheritable"], "process.capabilities.inheritable")
    ambient = caps.mask(capabilities["ambient"], "process.capabilities.ambient")
    missing = (effective | permitted | inheritable) & ~caps.held()
    if missing:
        raise ConfigError("process.capabilities", f"nsbox-runtime does not hold {', '.join(caps.names(missing))} "
                          "itself, so it cannot grant it; remove it from the config")
    try:
        caps.set_sets(effective, permitted | effective, inheritable)
        # The kernel raises an ambient capability only if it is permitted and inheritable;
        # the others are left out, with the warning preflight gave (runc's behaviour).
        caps.raise_ambient(ambient & (permitted | effective) & inheritable)
    except OSError as error:
        raise ConfigError("process.capabilities", error.strerror or str(error)) from None


def restore_signals() -> None:
    """Every signal's default action: an ignored signal stays ignored across execve, and the
    container must not inherit what Python ignores (SIGPIPE, SIGXFSZ) nor what the caller's
    caller did (nohup's SIGHUP: a shell cannot even trap a signal ignored on entry)."""
    libc.default_signal_actions()


def set_inheritable_fds(keep: int) -> None:
    """Close-on-exec every descriptor above 2 + `keep` (--preserve-fds); pass the kept ones on."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd < 3:
            continue
        try:
            os.set_inheritable(fd, fd < 3 + keep)
        except OSError:
            pass


def execute(path: str, args: list[str], env: dict[str, str]) -> None:
    restore_signals()
    try:
        os.execve(path, args, env)
    except OSError as error:
        code = NOT_FOUND_EXIT if error.errno == 2 else CANNOT_EXECUTE_EXIT
        raise ContainerStartError(f"exec {path}: {error.strerror}", code) from None
