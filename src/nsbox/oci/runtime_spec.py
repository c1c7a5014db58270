"""The OCI runtime specification (v1.1) config.json as typed, validated data.

`parse_config(bytes)` decodes and validates; every refusal names the JSON field and the
rule it broke. Parts that belong to another layer (linux.resources for cgroups/) are
kept as decoded JSON and validated there.
"""
from __future__ import annotations

from nsbox.oci import jsonio

from nsbox.errors import ConfigError
from nsbox.oci.fields import ID_MAX, UINT64_MAX, Fields

OCI_VERSION = "1.1.0"

NAMESPACE_TYPES = ("pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time")

CAPABILITY_SETS = ("bounding", "effective", "inheritable", "permitted", "ambient")

HOOK_KINDS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")

RLIMIT_NAMES = ("RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS",
                "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS",
                "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME")

PROPAGATIONS = ("shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable")


class User:
    __slots__ = ("uid", "gid", "umask", "additional_gids")

    def __init__(self, f: Fields) -> None:
        self.uid: int = f.int("uid", 0, minimum=0, maximum=ID_MAX)  # type: ignore[assignment]
        self.gid: int = f.int("gid", 0, minimum=0, maximum=ID_MAX)  # type: ignore[assignment]
        self.umask: int | None = f.int("umask", minimum=0, maximum=0o777)
        gids = f._get("additionalGids", (list,), "an array of integers", [], False)
        for index, gid in enumerate(gids):
            if not isinstance(gid, int) or isinstance(gid, bool) or not 0 <= gid <= ID_MAX:
                raise ConfigError(f"{f.where('additionalGids')}[{index}]", f"must be an integer from 0 to {ID_MAX}")
        self.additional_gids: list[int] = gids
        if f.has("username"):
            raise ConfigError(f.where("username"), "is for Windows containers; use uid and gid")


class Rlimit:
    __slots__ = ("type", "soft", "hard")

    def __init__(self, f: Fields) -> None:
        self.type: str = f.str("type", required=True)  # type: ignore[assignment]
        if self.type not in RLIMIT_NAMES:
            raise ConfigError(f.where("type"), f"unknown rlimit {self.type!r}; expected one of {', '.join(RLIMIT_NAMES)}")
        # uint64, as the kernel's rlim_t: 2^64-1 is RLIM_INFINITY
        self.soft: int = f.int("soft", required=True, minimum=0, maximum=UINT64_MAX)  # type: ignore[assignment]
        self.hard: int = f.int("hard", required=True, minimum=0, maximum=UINT64_MAX)  # type: ignore[assignment]
        if self.soft > self.hard:
            raise ConfigError(f.where("soft"), f"must not exceed hard ({self.soft} > {self.hard})")


class Process:
    """What to run: args, env, cwd, user, capabilities, rlimits and the rest of `process`."""

    __slots__ = ("terminal", "console_size", "args", "env", "cwd", "user", "capabilities", "rlimits",
                 "no_new_privileges", "oom_score_adj", "apparmor_profile", "selinux_label")

    def __init__(self, f: Fields) -> None:
        self.terminal = f.bool("terminal")
        size = f.obj("consoleSize")
        self.console_size = None if size is None else (size.int("height", 0, minimum=0, maximum=0xFFFF),
                                                          size.int("width", 0, minimum=0, maximum=0xFFFF))
        self.args = f.strs("args", required=True)
        if not self.args:
            raise ConfigError(f.where("args"), "must name the program to run (an empty array was given)")
        if f.has("commandLine"):
            raise ConfigError(f.where("commandLine"), "is for Windows containers; use args")
        self.env = f.strs("env")
        for index, item in enumerate(self.env):
            if "=" not in item:
                raise ConfigError(f"{f.where('env')}[{index}]", f"must be NAME=VALUE, got {item!r}")
        self.cwd: str = f.str("cwd", required=True)  # type: ignore[assignment]
        if not self.cwd.startswith("/"):
            raise ConfigError(f.where("cwd"), f"must be an absolute path, got {self.cwd!r}")
        user = f.obj("user")
        self.user = User(user if user is not None else Fields({}, f.where("user")))
        caps = f.obj("capabilities")
        self.capabilities: dict[str, list[str]] | None = None
        if caps is not None:
            self.capabilities = {}
            for name in CAPABILITY_SETS:
                values = caps.strs(name)
                for index, cap in enumerate(values):
                    if not cap.startswith("CAP_"):
                        raise ConfigError(f"{caps.where(name)}[{index}]", f"must be a capability name like CAP_CHOWN, got {cap!r}")
                self.capabilities[name] = values
        self.rlimits = [Rlimit(item) for item in f.objs("rlimits")]
        self.no_new_privileges = f.bool("noNewPrivileges")
        self.oom_score_adj = f.int("oomScoreAdj")
        if self.oom_score_adj is not None and not -1000 <= self.oom_score_adj <= 1000:
            raise ConfigError(f.where("oomScoreAdj"), f"must be between -1000 and 1000, got {self.oom_score_adj}")
        self.apparmor_profile = f.str("apparmorProfile", "")
        self.selinux_label = f.str("selinuxLabel", "")


class Mount:
    __slots__ = ("destination", "type", "source", "options", "uid_mappings", "gid_mappings", "where")

    def __init__(self, f: Fields) -> None:
        self.where = f.path
        self.destination: str = f.str("destination", required=True)  # type: ignore[assignment]
        if not self.destination.startswith("/"):
            raise ConfigError(f.where("destination"), f"must be an absolute path, got {self.destination!r}")
        self.type: str = f.str("type", "")  # type: ignore[assignment]
        self.source: str = f.str("source", "")  # type: ignore[assignment]
        self.options = f.strs("options")
        self.uid_mappings = [IdMapping(m) for m in f.objs("uidMappings")]
        self.gid_mappings = [IdMapping(m) for m in f.objs("gidMappings")]
        if bool(self.uid_mappings) != bool(self.gid_mappings):
            raise ConfigError(f.where("gidMappings" if self.uid_mappings else "uidMappings"),
                              "an id-mapped mount needs both uidMappings and gidMappings")
        if self.uid_mappings and not ("bind" in self.options or "rbind" in self.options or self.type == "bind"):
            raise ConfigError(f.where("uidMappings"), "only bind mounts can be id-mapped")


class IdMapping:
    __slots__ = ("container_id", "host_id", "size")

    def __init__(self, f: Fields) -> None:
        self.container_id: int = f.int("containerID", required=True, minimum=0, maximum=ID_MAX)  # type: ignore[assignment]
        self.host_id: int = f.int("hostID", required=True, minimum=0, maximum=ID_MAX)  # type: ignore[assignment]
        self.size: int = f.int("size", required=True, minimum=1, maximum=ID_MAX + 1)  # type: ignore[assignment]

    def line(self) -> str:
        return f"{self.container_id} {self.host_id} {self.size}\n"


class Namespace:
    __slots__ = ("type", "path")

    def __init__(self, f: Fields) -> None:
        self.type: str = f.str("type", required=True)  # type: ignore[assignment]
        if self.type not in NAMESPACE_TYPES:
            raise ConfigError(f.where("type"), f"unknown namespace {self.type!r}; expected one of {', '.join(NAMESPACE_TYPES)}")
        self.path: str = f.str("path", "")  # type: ignore[assignment]


class Device:
    __slots__ = ("type", "path", "major", "minor", "file_mode", "uid", "gid")

    def __init__(self, f: Fields) -> None:
        self.type: str = f.str("type", required=True)  # type: ignore[assignment]
        if self.type not in ("c", "b", "u", "p"):
            raise ConfigError(f.where("type"), f"must be c, b, u or p, got {self.type!r}")
        self.path: str = f.str("path", required=True)  # type: ignore[assignment]
        if not self.path.startswith("/"):
            raise ConfigError(f.where("path"), f"must be an absolute path, got {self.path!r}")
        need_numbers = self.type != "p"
        # the kernel's dev_t: 12 bits of major, 20 of minor
        self.major: int = f.int("major", 0, required=need_numbers, minimum=0, maximum=0xFFF)  # type: ignore[assignment]
        self.minor: int = f.int("minor", 0, required=need_numbers, minimum=0, maximum=0xFFFFF)  # type: ignore[assignment]
        self.file_mode: int = f.int("fileMode", 0o666, minimum=0, maximum=0o7777)  # type: ignore[assignment]
        self.uid: int = f.int("uid", 0, minimum=0, maximum=ID_MAX)  # type: ignore[assignment]
        self.gid: int = f.int("gid", 0, minimum=0, maximum=ID_MAX)  # type: ignore[assignment]


class Hook:
    __slots__ = ("path", "args", "env", "timeout", "where")

    def __init__(self, f: Fields) -> None:
        self.where = f.path
        self.path: str = f.str("path", required=True)  # type: ignore[assignment]
        if not self.path.startswith("/"):
            raise ConfigError(f.where("path"), f"must be an absolute path, got {self.path!r}")
        self.args = f.strs("args")
        self.env = f.strs("env")
        self.timeout: int | None = f.int("timeout", minimum=1, maximum=(1 << 31) - 1)


class Linux:
    __slots__ = ("namespaces", "uid_mappings", "gid_mappings", "time_offsets", "devices", "cgroups_path",
                 "resources", "sysctl", "masked_paths", "readonly_paths", "rootfs_propagation", "mount_label",
                 "seccomp", "personality", "intel_rdt")

    def __init__(self, f: Fields) -> None:
        self.namespaces = [Namespace(n) for n in f.objs("namespaces")]
        seen: set[str] = set()
        for index, ns in enumerate(self.namespaces):
            if ns.type in seen:
                raise ConfigError(f"{f.where('namespaces')}[{index}].type", f"namespace {ns.type!r} is listed twice")
            seen.add(ns.type)
        self.uid_mappings = [IdMapping(m) for m in f.objs("uidMappings")]
        self.gid_mappings = [IdMapping(m) for m in f.objs("gidMappings")]
        self.time_offsets: dict[str, tuple[int, int]] = {}
        offsets = f.obj("timeOffsets")
        if offsets is not None:
            for clock in offsets.data:
                if clock not in ("monotonic", "boottime"):
                    raise ConfigError(offsets.where(clock), "only the monotonic and boottime clocks have offsets")
                item = offsets.obj(clock, required=True)
                self.time_offsets[clock] = (item.int("secs", 0), item.int("nanosecs", 0, minimum=0))  # type: ignore[union-attr,assignment]
        self.devices = [Device(d) for d in f.objs("devices")]
        self.cgroups_path: str = f.str("cgroupsPath", "")  # type: ignore[assignment]
        self.resources: dict | None = f.raw("resources")  # type: ignore[assignment]
        if self.resources is not None:
            Fields(self.resources, f.where("resources"))
        self.sysctl = f.str_map("sysctl")
        self.masked_paths = f.strs("maskedPaths")
        self.readonly_paths = f.strs("readonlyPaths")
        self.rootfs_propagation: str = f.str("rootfsPropagation", "")  # type: ignore[assignment]
        if self.rootfs_propagation and self.rootfs_propagation not in PROPAGATIONS:
            raise ConfigError(f.where("rootfsPropagation"), f"must be one of {', '.join(PROPAGATIONS)}, got {self.rootfs_propagation!r}")
        self.mount_label: str = f.str("mountLabel", "")  # type: ignore[assignment]
        seccomp = f.obj("seccomp")
        self.seccomp = None
        if seccomp is not None:
            from nsbox.oci.seccomp import Seccomp
            self.seccomp = Seccomp(seccomp)
        personality = f.obj("personality")
        self.personality: int | None = None  # the persona for personality(2)
        if personality is not None:
            self.personality = parse_personality(personality)
        self.intel_rdt = f.raw("intelRdt")

    def namespace(self, kind: str) -> Namespace | None:
        for ns in self.namespaces:
            if ns.type == kind:
                return ns
        return None


class Spec:
    """A whole config.json."""

    __slots__ = ("oci_version", "root_path", "root_readonly", "process", "hostname", "domainname", "mounts",
                 "hooks", "annotations", "linux", "raw")

    def __init__(self, f: Fields) -> None:
        self.raw = f.data
        self.oci_version: str = f.str("ociVersion", required=True)  # type: ignore[assignment]
        if not self.oci_version.startswith("1."):
            raise ConfigError("ociVersion", f"must be a 1.x version of the OCI runtime spec, got {self.oci_version!r}")
        root = f.obj("root", required=True)
        self.root_path: str = root.str("path", required=True)  # type: ignore[union-attr,assignment]
        self.root_readonly = root.bool("readonly")  # type: ignore[union-attr]
        process = f.obj("process")
        self.process = None if process is None else Process(process)
        self.hostname: str = f.str("hostname", "")  # type: ignore[assignment]
        self.domainname: str = f.str("domainname", "")  # type: ignore[assignment]
        self.mounts = [Mount(m) for m in f.objs("mounts")]
        self.hooks: dict[str, list[Hook]] = {}
        hooks = f.obj("hooks")
        if hooks is not None:
            for kind in hooks.data:
                if kind not in HOOK_KINDS:
                    raise ConfigError(hooks.where(kind), f"unknown hook kind; expected one of {', '.join(HOOK_KINDS)}")
                self.hooks[kind] = [Hook(h) for h in hooks.objs(kind)]
        self.annotations = f.str_map("annotations")
        linux = f.obj("linux")
        if linux is None:
            raise ConfigError("linux", "is required: nsbox runs Linux containers")
        self.linux = Linux(linux)
        self._check_supported(f)

    def _check_supported(self, f: Fields) -> None:
        """Refuse, by field, what this runtime cannot honour (rather than silently ignoring it)."""
        linux = self.linux
        if linux.intel_rdt is not None:
            raise ConfigError("linux.intelRdt", "Intel RDT is not supported; remove the field")
        if linux.mount_label:
            raise ConfigError("linux.mountLabel", "SELinux labels are not supported on this host; remove the field")
        if self.process is not None:
            if self.process.apparmor_profile:
                raise ConfigError("process.apparmorProfile", "AppArmor is not supported by nsbox-runtime; remove the field")
            if self.process.selinux_label:
                raise ConfigError("process.selinuxLabel", "SELinux labels are not supported on this host; remove the field")
        mount_ns = linux.namespace("mount")
        if mount_ns is None:
            # runc goes on in the caller's mount namespace: its rootfs bind and propagation
            # change land in the host's mount table (and its bind stays there).
            raise ConfigError("linux.namespaces", "a mount namespace is required (add {\"type\": \"mount\"}): "
                              "without one the root filesystem would be set up in the host's own mount table")
        if linux.uid_mappings or linux.gid_mappings:
            user_ns = linux.namespace("user")
            if user_ns is None or user_ns.path:
                raise ConfigError("linux.uidMappings", "mappings need a new user namespace in linux.namespaces")
            if not linux.uid_mappings or not linux.gid_mappings:
                raise ConfigError("linux.uidMappings" if not linux.uid_mappings else "linux.gidMappings",
                                  "a new user namespace needs both uidMappings and gidMappings")
        elif (user_ns := linux.namespace("user")) is not None and not user_ns.path:
            raise ConfigError("linux.uidMappings", "a new user namespace needs uidMappings and gidMappings")
        if linux.time_offsets and (linux.namespace("time") is None or linux.namespace("time").path):  # type: ignore[union-attr]
            raise ConfigError("linux.timeOffsets", "offsets need a new time namespace in linux.namespaces")
        if (self.hostname or self.domainname) and linux.namespace("uts") is None:
            # a UTS namespace joined by path takes the name too (as runc): never the host's
            raise ConfigError("hostname", "setting the hostname needs a uts namespace in linux.namespaces")


PERSONALITY_DOMAINS = {"LINUX": 0x0000, "LINUX32": 0x0008}  # PER_LINUX, PER_LINUX32 of <linux/personality.h>


def parse_personality(personality: Fields) -> int:
    domain = personality.str("domain", required=True)
    if domain not in PERSONALITY_DOMAINS:
        raise ConfigError(personality.where("domain"), f"must be LINUX or LINUX32, got {domain!r}")
    if personality.strs("flags"):
        raise ConfigError(personality.where("flags"), "the runtime spec defines no flags yet; leave the list empty")
    return PERSONALITY_DOMAINS[domain]


def parse_config(data: bytes, source: str = "config.json") -> Spec:
    try:
        document = jsonio.loads(data)
    except ValueError as error:
        raise ConfigError(source, f"is not valid JSON: {error}") from None
    return Spec(Fields(document, ""))


def state_document(container_id: str, status: str, pid: int, bundle: str, annotations: dict[str, str]) -> dict:
    """The state of a container as the OCI runtime spec defines it (`runtime state`, hooks' stdin)."""
    state: dict = {"ociVersion": OCI_VERSION, "id": container_id, "status": status, "bundle": bundle}
    if status in ("created", "running", "paused", "creating") and pid:
        state["pid"] = pid
    if annotations:
        state["annotations"] = annotations
    return state
