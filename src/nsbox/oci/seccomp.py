"""The OCI runtime spec's `linux.seccomp` object as validated data.

Every refusal names the field ("linux.seccomp.syscalls[2].action: unknown action ...").
Turning it into a kernel filter is linux/seccomp.py's work.
"""
from __future__ import annotations

from nsbox.errors import ConfigError
from nsbox.oci.fields import Fields

ACTIONS = ("SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO",
           "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY")
OPERATORS = ("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
             "SCMP_CMP_MASKED_EQ")
FLAGS = ("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
         "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")
UINT64_MAX = (1 << 64) - 1
EPERM = 1


class Arg:
    __slots__ = ("index", "value", "value_two", "op")

    def __init__(self, f: Fields) -> None:
        self.index: int = f.int("index", required=True, minimum=0)  # type: ignore[assignment]
        if self.index > 5:
            raise ConfigError(f.where("index"), f"a system call has arguments 0 to 5, got {self.index}")
        self.value: int = f.int("value", required=True, minimum=0)  # type: ignore[assignment]
        self.value_two: int = f.int("valueTwo", 0, minimum=0)  # type: ignore[assignment]
        for key, number in (("value", self.value), ("valueTwo", self.value_two)):
            if number > UINT64_MAX:
                raise ConfigError(f.where(key), f"must fit in 64 bits, got {number}")
        self.op: str = f.str("op", required=True)  # type: ignore[assignment]
        if self.op not in OPERATORS:
            raise ConfigError(f.where("op"), f"unknown operator {self.op!r}; expected one of {', '.join(OPERATORS)}")


def _action(f: Fields, key: str) -> str:
    action: str = f.str(key, required=True)  # type: ignore[assignment]
    if action not in ACTIONS:
        raise ConfigError(f.where(key), f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
    return action


class Syscall:
    __slots__ = ("names", "action", "errno_ret", "args")

    def __init__(self, f: Fields) -> None:
        self.names = f.strs("names", required=True)
        if not self.names:
            raise ConfigError(f.where("names"), "must name at least one system call")
        self.action = _action(f, "action")
        self.errno_ret: int | None = f.int("errnoRet", minimum=0)
        if self.errno_ret is not None and self.action not in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"):
            raise ConfigError(f.where("errnoRet"), f"only SCMP_ACT_ERRNO and SCMP_ACT_TRACE return a value, "
                                                   f"not {self.action}")
        self.args = [Arg(a) for a in f.objs("args")]


class Seccomp:
    """A whole linux.seccomp object; `raw` is the decoded JSON (hashed for the filter cache)."""

    __slots__ = ("default_action", "default_errno_ret", "architectures", "flags", "listener_path",
                 "listener_metadata", "syscalls", "raw")

    def __init__(self, f: Fields) -> None:
        self.raw = f.data
        self.default_action = _action(f, "defaultAction")
        self.default_errno_ret: int | None = f.int("defaultErrnoRet", minimum=0)
        if self.default_errno_ret is not None and self.default_action not in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"):
            raise ConfigError(f.where("defaultErrnoRet"), f"only SCMP_ACT_ERRNO and SCMP_ACT_TRACE return a "
                                                          f"value, not {self.default_action}")
        self.architectures = f.strs("architectures")
        for index, arch in enumerate(self.architectures):
            if not arch.startswith("SCMP_ARCH_"):
                raise ConfigError(f"{f.where('architectures')}[{index}]",
                                  f"must be an architecture like SCMP_ARCH_X86_64, got {arch!r}")
        self.flags = f.strs("flags")
        for index, flag in enumerate(self.flags):
            if flag not in FLAGS:
                raise ConfigError(f"{f.where('flags')}[{index}]", f"unknown flag {flag!r}; expected one of "
                                                                  f"{', '.join(FLAGS)}")
        self.listener_path: str = f.str("listenerPath", "")  # type: ignore[assignment]
        self.listener_metadata: str = f.str("listenerMetadata", "")  # type: ignore[assignment]
        self.syscalls = [Syscall(s) for s in f.objs("syscalls")]
        notifies = self.default_action == "SCMP_ACT_NOTIFY" or any(s.action == "SCMP_ACT_NOTIFY" for s in self.syscalls)
        if notifies and not self.listener_path:
            raise ConfigError(f.where("listenerPath"), "SCMP_ACT_NOTIFY needs a listenerPath (the unix socket of "
                                                       "the agent that answers the notifications)")
        if self.listener_path and not self.listener_path.startswith("/"):
            raise ConfigError(f.where("listenerPath"), f"must be an absolute path, got {self.listener_path!r}")
        if self.default_action == "SCMP_ACT_NOTIFY":
            raise ConfigError(f.where("defaultAction"), "SCMP_ACT_NOTIFY cannot be the default action (the "
                                                        "runtime's own last calls would wait on the agent)")

    @property
    def notifies(self) -> bool:
        return any(s.action == "SCMP_ACT_NOTIFY" for s in self.syscalls)
