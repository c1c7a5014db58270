"""The C monitor loop (monitor_loop.c), compiled per version of its source with the host's C
compiler into __pycache__ beside it, as Python caches bytecode there.

A monitor per detached container is what keeps one container's exit code safe from a
kill -9 of another's monitor; in C that monitor holds ~0.2 MiB where a Python interpreter
holds ~3. It is built ahead of time (scripts/setup.sh and scripts/test.sh run this module),
never by `nsbox run`; where it was not built (no C compiler), or with NSBOX_MONITOR=python,
detached containers get the Python loop (monitor_loop.py), which does the same work.

    python -m nsbox.engine.monitor_build     # compile it now
"""
from __future__ import annotations

import os

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "monitor_loop.c")
COMPILERS = ("cc", "gcc", "clang")


def binary_path() -> str:
    """Where the binary of this version of the source lives (the source's CRC-32 in its name:
    a checkout that only touches the file's time keeps it)."""
    import binascii
    with open(SOURCE, "rb") as source:
        digest = binascii.crc32(source.read())
    return os.path.join(HERE, "__pycache__", f"monitor_loop-{digest:08x}")


def built_loop() -> str | None:
    """The binary for detached containers' monitors: None where it was not built, or when
    NSBOX_MONITOR=python asks for the Python loop."""
    if os.environ.get("NSBOX_MONITOR") == "python":
        return None
    try:
        binary = binary_path()
    except OSError:
        return None
    return binary if os.access(binary, os.X_OK) else None


def compiled_loop() -> str | None:
    """The binary, compiled now if it is missing; None where it cannot be made."""
    try:
        binary = binary_path()
    except OSError:
        return None
    if os.access(binary, os.X_OK):
        return binary
    compiler = _find_compiler()
    if compiler is None:
        return None
    partial = f"{binary}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(binary), exist_ok=True)
        with open(os.devnull, "wb") as quiet:
            pid = os.posix_spawn(compiler, [compiler, "-O2", "-o", partial, SOURCE], os.environ,
                                 file_actions=[(os.POSIX_SPAWN_DUP2, quiet.fileno(), 1),
                                               (os.POSIX_SPAWN_DUP2, quiet.fileno(), 2)])
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            return None
        os.rename(partial, binary)  # atomic: a monitor starting meanwhile sees none or all of it
        _remove_older(binary)
        return binary
    except OSError:
        return None
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def _remove_older(binary: str) -> None:
    """Binaries of earlier versions of the source (a running monitor keeps its own open)."""
    directory = os.path.dirname(binary)
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if name.startswith("monitor_loop-") and path != binary and not name.endswith(".tmp"):
            try:
                os.unlink(path)
            except OSError:
                pass


def _find_compiler() -> str | None:
    for directory in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep):
        for name in COMPILERS:
            candidate = os.path.join(directory, name)
            if os.access(candidate, os.X_OK):
                return candidate
    return None


if __name__ == "__main__":
    import sys
    sys.exit(0 if compiled_loop() else "nsbox: no C compiler: detached containers use the Python monitor loop")
