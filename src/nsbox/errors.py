"""nsbox's exception hierarchy.

Every layer raises these (or OSError from linux/); only the CLI edges turn them into
messages and exit codes.
"""
from __future__ import annotations

ENGINE_EXIT = 125
NO_SUCH_OBJECT_EXIT = 1  # docker's code for "No such container" outside run/create
CANNOT_EXECUTE_EXIT = 126
NOT_FOUND_EXIT = 127


class NsboxError(Exception):
    """Base of every error nsbox raises on purpose; exit_code is what a CLI exits with."""

    exit_code = ENGINE_EXIT


class ConfigError(NsboxError):
    """A configuration (config.json, an image config, run options) broke a rule.

    The message starts with the JSON field path, e.g. "process.args: must not be empty".
    """

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class InvalidOption(ConfigError):
    """A run option (a flag of `nsbox run`, a keyword of nsbox.run) has a value nsbox refuses."""

    def __init__(self, option: str, reason: str) -> None:
        super().__init__(option, reason)
        self.option = option
        self.reason = reason


class NotFound(NsboxError):
    """A container, image, network or file the user named does not exist."""


class ContainerNotFound(NotFound):
    """No container has that name or ID (prefix): "No such container: REF", exit 1, as Docker."""

    exit_code = NO_SUCH_OBJECT_EXIT


class ImageNotFound(NotFound):
    """No image in the store has that name or ID (exit 1 as Docker's, but 125 from run/create)."""

    exit_code = NO_SUCH_OBJECT_EXIT


class VolumeNotFound(NotFound):
    """No volume has that name: "No such volume: NAME", exit 1, as Docker."""

    exit_code = NO_SUCH_OBJECT_EXIT


class NetworkNotFound(NotFound):
    """No network has that name or ID (prefix)."""


class ObjectNotFound(NotFound):
    """`inspect` found neither a container nor an image: "No such object: REF", exit 1, as Docker."""

    exit_code = NO_SUCH_OBJECT_EXIT


class UsageError(NsboxError):
    """The command line itself is wrong (an unknown flag, a missing value); the CLI adds
    a hint pointing at the command's --help."""


class DamagedRecord(NsboxError):
    """A stored record (container.json, state.json) cannot be read: torn, truncated or not ours."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"damaged record {path}: {problem}")
        self.path = path


class AlreadyExists(NsboxError):
    """An object with that name or ID exists already."""


class NameInUse(AlreadyExists):
    """Another container has the name already."""


class StateError(NsboxError):
    """The object is in the wrong state for the operation (e.g. start of a running container)."""


class WaitTimeout(StateError, TimeoutError):
    """A wait for a container ran out of time; the container still runs."""


class CgroupError(NsboxError):
    """A cgroup could not be made, limited, read or removed."""


class LimitUnsupported(CgroupError):
    """A resource limit this host's kernel or cgroup setup cannot enforce (`limit` names it)."""

    def __init__(self, limit: str, reason: str) -> None:
        super().__init__(f"{limit}: {reason}")
        self.limit = limit
        self.reason = reason


class ImageError(NsboxError):
    """An image, layer, manifest or archive is missing, invalid or hostile."""


class RegistryError(ImageError):
    """A registry refused or failed a request."""


class NetworkError(NsboxError):
    """A network could not be set up or torn down."""


class RuntimeFailed(NsboxError):
    """A container's program failed: it exited non-zero (with check=True), or could not start
    (ContainerStartError). exit_code is its exit code (the CLI exits with it), stderr its error output."""

    def __init__(self, message: str, exit_code: int, stderr: bytes | str = b"") -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.stderr = stderr


class ContainerStartError(RuntimeFailed):
    """The container's process could not be started; exit_code is 126 or 127 where Docker
    uses them (the program is not executable, or not found), and stderr says why."""

    def __init__(self, message: str, exit_code: int = ENGINE_EXIT) -> None:
        super().__init__(message, exit_code, message)


def user_message(error: BaseException) -> str:
    """One line for a user, whatever was raised: nsbox's own errors say what was wrong;
    the kernel's name the call's errno text and file; anything else is an internal error
    described without a Python exception name (--debug shows the traceback)."""
    if isinstance(error, NsboxError):
        return str(error)
    if isinstance(error, OSError):
        text = error.strerror or str(error)
        for name in (error.filename, error.filename2):
            if name is not None:
                text += f": {name}"
        return text
    if isinstance(error, RecursionError):
        return "input nested too deeply to read"
    if isinstance(error, OverflowError):
        return f"a number is out of range ({error})"
    if isinstance(error, MemoryError):
        return "out of memory"
    detail = f": {error}" if str(error) else ""
    return f"internal error{detail} (run with --debug for the details)"
