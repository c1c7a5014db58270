"""A container's seccomp filter: compiled once per profile, cached, loaded by the init.

The runtime compiles `linux.seccomp` with libseccomp (nsbox.linux.seccomp) and keeps the
BPF program under its state root, named by the digest of the profile, so a start with a
profile seen before reads a few hundred bytes and never loads libseccomp. The init and
`exec` load the program last, right before execve (see `install`).
"""
from __future__ import annotations

import os

from nsbox.oci import jsonio

TYPE_CHECKING = False
if TYPE_CHECKING:  # (the init imports this module: it needs only the compiled Filter)
    from nsbox.oci.seccomp import Seccomp

CACHE_DIR = "@seccomp"  # in the state root; "@" is never in a container id
FORMAT = "1"  # bump when the compiler changes what a profile compiles to


class Filter:
    """The compiled program, its seccomp() flags and, for SCMP_ACT_NOTIFY, where to send the fd."""

    __slots__ = ("program", "flags", "listener_path", "listener_metadata", "container_id", "bundle", "listener",
                 "host_pid")

    def __init__(self, program: bytes, flags: int, profile: Seccomp, container_id: str, bundle: str) -> None:
        self.program = program
        self.flags = flags
        self.listener_path = profile.listener_path if profile.notifies else ""
        self.listener_metadata = profile.listener_metadata
        self.container_id = container_id
        self.bundle = bundle
        self.listener: object | None = None  # the connected socket, made before pivot_root
        self.host_pid = 0


def digest(profile: Seccomp) -> str:
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]  # 0.1 ms; hashlib costs 4 ms here
    except ImportError:
        from hashlib import sha256
    text = FORMAT + os.uname().machine + jsonio.dumps(profile.raw)
    return sha256(text.encode()).hexdigest()


def prepare(profile: Seccomp | None, state_root: str, container_id: str, bundle: str) -> Filter | None:
    """The filter for `profile`, from the cache or freshly compiled (and then cached)."""
    if profile is None:
        return None
    from nsbox.linux.seccomp_call import flags_value
    path = os.path.join(state_root, CACHE_DIR, digest(profile) + ".bpf")
    try:
        with open(path, "rb") as cached:
            program = cached.read()
    except FileNotFoundError:
        from nsbox.linux.seccomp import compile_filter
        program = compile_filter(profile)
        _store(path, program)
    return Filter(program, flags_value(profile), profile, container_id, bundle)


def _store(path: str, program: bytes) -> None:
    """Write atomically; a cache that cannot be written only costs the next start a compile."""
    from nsbox.linux.store_files import write_atomic
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        write_atomic(path, program, durable=False)
    except OSError:
        pass


def connect_listener(seccomp_filter: Filter | None) -> None:
    """Connect to the notify agent's socket while the host's paths are still in reach."""
    if seccomp_filter is None or not seccomp_filter.listener_path:
        return
    import socket
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.connect(seccomp_filter.listener_path)
    except OSError as error:
        listener.close()
        from nsbox.errors import ConfigError
        raise ConfigError("linux.seccomp.listenerPath", f"cannot connect to {seccomp_filter.listener_path}: "
                                                         f"{error.strerror}") from None
    seccomp_filter.listener = listener
    seccomp_filter.host_pid = int(os.readlink("/proc/self"))  # still the host's /proc


def install(seccomp_filter: Filter | None) -> None:
    """Load the program into this process; hand a notify listener's fd to the agent."""
    if seccomp_filter is None:
        return
    from nsbox.linux.seccomp_call import load
    listener_fd = load(seccomp_filter.program, seccomp_filter.flags)
    if seccomp_filter.listener is None:
        return
    import socket
    from nsbox.oci.runtime_spec import OCI_VERSION, state_document
    pid = seccomp_filter.host_pid
    state = {"ociVersion": OCI_VERSION, "fds": ["seccompFd"], "pid": pid, "metadata": seccomp_filter.listener_metadata,
             "state": state_document(seccomp_filter.container_id, "creating", pid, seccomp_filter.bundle, {})}
    listener: socket.socket = seccomp_filter.listener  # type: ignore[assignment]
    socket.send_fds(listener, [jsonio.dumps(state).encode()], [listener_fd])
    listener.close()
    os.close(listener_fd)
