"""The build context: a directory on the host (or a tar unpacked into one), minus what
.dockerignore excludes; the sources a COPY/ADD names in it, never outside it; and the
content digest of those sources for the layer cache."""
from __future__ import annotations

import hashlib
import os
import re
import stat

from nsbox.build.ignore import IgnoreRules, _regex
from nsbox.errors import ConfigError, NotFound

_WILDCARD = re.compile(r"[*?\[]")


class Context:
    __slots__ = ("directory", "ignore")

    def __init__(self, directory: str | None) -> None:
        self.directory = directory  # None: a Dockerfile from stdin, no context
        self.ignore = IgnoreRules.from_context(directory) if directory else IgnoreRules([])

    def sources(self, patterns: list[str], where: str) -> list[tuple[str, str]]:
        """(path relative to the context, host path) of each source; wildcards expanded."""
        if self.directory is None:
            raise ConfigError(where, "there is no build context (the Dockerfile came from stdin): nothing to copy")
        found: list[tuple[str, str]] = []
        for pattern in patterns:
            relative = _relative(pattern, where)
            if _WILDCARD.search(relative):
                matcher = re.compile(_regex(relative))
                matched = [path for path in self.paths() if matcher.fullmatch(path)]
                if not matched:
                    raise NotFound(f"{where}: no file in the build context matches {pattern!r}")
                found += [(path, os.path.join(self.directory, path)) for path in matched]
                continue
            host = os.path.join(self.directory, relative) if relative != "." else self.directory
            if not os.path.lexists(host) or (relative != "." and self.ignore.excluded(relative)):
                raise NotFound(f"{where}: {pattern!r} is not in the build context"
                               + (" (.dockerignore excludes it)" if os.path.lexists(host) else ""))
            found.append((relative, host))
        return found

    def paths(self) -> list[str]:
        """Every path in the context that .dockerignore keeps, relative, / separated."""
        kept: list[str] = []
        if self.directory is None:
            return kept
        for directory, dirnames, filenames in os.walk(self.directory):
            base = os.path.relpath(directory, self.directory)
            for name in sorted(dirnames + filenames):
                path = name if base == "." else f"{base}/{name}"
                if not self.ignore.excluded(path):
                    kept.append(path)
        return kept

    def digest(self, sources: list[tuple[str, str]]) -> str:
        """One digest of the sources' names, modes, link targets and contents (what the cache keys on)."""
        sha = hashlib.sha256()
        for relative, host in sources:
            for path, full in self._walk(relative, host):
                info = os.lstat(full)
                sha.update(f"{path}\0{stat.S_IMODE(info.st_mode):o}\0{stat.S_IFMT(info.st_mode)}\0".encode())
                if stat.S_ISLNK(info.st_mode):
                    sha.update(os.readlink(full).encode())
                elif stat.S_ISREG(info.st_mode):
                    with open(full, "rb") as f:
                        while chunk := f.read(1 << 20):
                            sha.update(chunk)
        return "sha256:" + sha.hexdigest()

    def _walk(self, relative: str, host: str):
        yield relative, host
        if os.path.isdir(host) and not os.path.islink(host):
            for directory, dirnames, filenames in os.walk(host):
                dirnames.sort()
                for name in sorted(dirnames + filenames):
                    full = os.path.join(directory, name)
                    path = os.path.normpath(os.path.join(relative, os.path.relpath(full, host)))
                    if self.directory is None or not self.ignore.excluded(path):
                        yield path, full


def _relative(pattern: str, where: str) -> str:
    """A source path as the context sees it: absolute paths start at the context; '..' may not leave it."""
    normal = os.path.normpath("/" + pattern).lstrip("/") or "."
    if os.path.normpath(pattern.lstrip("/")).startswith(".."):
        raise ConfigError(where, f"{pattern!r} is outside the build context: COPY and ADD read only from "
                          "the context directory (move the file into it)")
    return normal
