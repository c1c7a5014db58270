"""What `create` hands to the processes it forks (runtime.init), in a module of its own so
that the runtime makes it without importing the children's code: the intermediate imports
that itself, while the runtime goes on (id maps, and the moves into the cgroup the
intermediate cannot make itself: runtime.cgroup_entry)."""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nsbox.oci.runtime_spec import Spec
    from nsbox.runtime.cgroup_entry import CgroupEntry
    from nsbox.runtime.seccomp_filter import Filter


class InitOptions:
    __slots__ = ("spec", "bundle", "rootfs", "state_dir_fd", "fifo_fd", "lock_fd", "no_pivot", "preserve_fds",
                 "console", "stdio", "runtime_hooks", "seccomp", "idmapped", "keyring",
                 "cgroup_entry")

    def __init__(self, spec: Spec, bundle: str, rootfs: str, state_dir_fd: int, fifo_fd: int, lock_fd: int,
                 no_pivot: bool, preserve_fds: int, console: object | None,
                 stdio: tuple[int, int, int] | None) -> None:
        self.spec = spec
        self.bundle = bundle
        self.rootfs = rootfs
        self.state_dir_fd = state_dir_fd
        self.fifo_fd = fifo_fd  # an O_PATH handle on exec.fifo, for when the directory is out of reach
        self.lock_fd = lock_fd  # the runtime's locked handle: the children must not keep it
        self.no_pivot = no_pivot
        self.preserve_fds = preserve_fds
        self.console = console  # a connected socket.socket to send the pty master over, or None
        self.stdio = stdio
        # prestart and createRuntime hooks run in the runtime, between mounts and pivot_root:
        # only then do the runtime and the init take that turn.
        self.runtime_hooks = bool(spec.hooks.get("prestart") or spec.hooks.get("createRuntime"))
        self.seccomp: Filter | None = None  # compiled by the runtime, loaded last (seccomp_filter.install)
        self.idmapped: dict[int, int] = {}  # mount index -> detached id-mapped tree (idmapped_mounts)
        self.keyring: str | None = None  # the name of a session keyring of its own (runc's default), or None
        self.cgroup_entry: CgroupEntry  # how the intermediate and the init enter the cgroup (set by create)
