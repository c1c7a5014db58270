"""nsbox's exception hierarchy.

Every layer raises these (or OSError from linux/); only the CLI edges turn them into
messages and exit codes.
"""
from __future__ import annotations

ENGINE_EXIT = 125
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
    """No container has that name or ID (prefix)."""


class ImageNotFound(NotFound):
    """No image in the store has that name or ID."""


class AlreadyExists(NsboxError):
    """An object with that name or ID exists already."""


class NameInUse(AlreadyExists):
    """Another container has the name already."""


class StateError(NsboxError):
    """The object is in the wrong state for the operation (e.g. start of a running container)."""


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


class ContainerStartError(NsboxError):
    """The container's process could not be started; exit_code is 126 or 127 where Docker uses them."""

    def __init__(self, message: str, exit_code: int = ENGINE_EXIT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class RuntimeFailed(NsboxError):
    """A container's program (with check=True) or an OCI runtime binary exited non-zero."""

    def __init__(self, message: str, exit_code: int, stderr: bytes | str = b"") -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.stderr = stderr
