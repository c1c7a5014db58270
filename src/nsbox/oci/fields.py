"""Typed reading of decoded JSON objects, with errors that name the field path.

Cheaper to import than dataclasses or typing (both cost 10-20 ms on this machine), and
every failure says where: "process.user.uid: must be an integer, got 'root'".
"""
from __future__ import annotations

from nsbox.errors import ConfigError

TYPE_CHECKING = False  # typing costs ~12 ms to import: only the type checker reads this
if TYPE_CHECKING:
    from typing import Any

# Fields has methods named str, int and bool: inside the class those names are the methods.
_str = str
_int = int
_bool = bool

_MISSING = object()
INT64_MAX = (1 << 63) - 1  # the default ceiling of every integer field: nothing wraps in a C long
UINT64_MAX = (1 << 64) - 1
ID_MAX = (1 << 32) - 2  # uids and gids: (uid_t)-1 means "unchanged" to the kernel


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "an array", dict: "an object"}.get(type(value), type(value).__name__)


class Fields:
    """A JSON object and its path in the document, read one typed field at a time."""

    __slots__ = ("data", "path")

    def __init__(self, data: object, path: _str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(path or "(document)", f"must be an object, got {_type_name(data)}")
        self.data = data
        self.path = path

    def where(self, key: _str) -> _str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: _str) -> _bool:
        return self.data.get(key) is not None

    def _get(self, key: _str, kinds: tuple, kind_name: _str, default: object, required: _bool) -> Any:
        value = self.data.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                raise ConfigError(self.where(key), "is required")
            return default
        if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
            raise ConfigError(self.where(key), f"must be {kind_name}, got {_type_name(value)} {value!r}")
        return value

    def str(self, key: _str, default: _str | None = None, required: _bool = False) -> _str | None:
        return self._get(key, (str,), "a string", default, required)

    def int(self, key: _str, default: _int | None = None, required: _bool = False,
            minimum: _int | None = None, maximum: _int = INT64_MAX) -> _int | None:
        value = self._get(key, (int,), "an integer", default, required)
        if value is not None and minimum is not None and value < minimum:
            raise ConfigError(self.where(key), f"must be at least {minimum}, got {value}")
        if value is not None and value > maximum:
            raise ConfigError(self.where(key), f"must be at most {maximum}, got {value}")
        if value is not None and value < -INT64_MAX - 1:
            raise ConfigError(self.where(key), f"must be at least {-INT64_MAX - 1}, got {value}")
        return value

    def bool(self, key: _str, default: _bool = False) -> _bool:
        return self._get(key, (bool,), "a boolean", default, False)

    def strs(self, key: _str, required: _bool = False) -> list[_str]:
        values = self._get(key, (list,), "an array of strings", [], required)
        for index, value in enumerate(values):
            if not isinstance(value, str):
                raise ConfigError(f"{self.where(key)}[{index}]", f"must be a string, got {_type_name(value)}")
        return values

    def str_map(self, key: _str) -> dict[_str, _str]:
        values = self._get(key, (dict,), "an object of strings", {}, False)
        for name, value in values.items():
            if not isinstance(value, str):
                raise ConfigError(f"{self.where(key)}.{name}", f"must be a string, got {_type_name(value)}")
        return values

    def obj(self, key: _str, required: _bool = False) -> Fields | None:
        value = self._get(key, (dict,), "an object", None, required)
        return None if value is None else Fields(value, self.where(key))

    def objs(self, key: _str) -> list[Fields]:
        values = self._get(key, (list,), "an array of objects", [], False)
        return [Fields(value, f"{self.where(key)}[{index}]") for index, value in enumerate(values)]

    def raw(self, key: _str) -> object:
        return self.data.get(key)
