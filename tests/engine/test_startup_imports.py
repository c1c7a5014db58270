"""The start-up paths import only what they use: a structural guard, not a timing.

`nsbox run`, `nsbox ps` and `nsbox-runtime create/start/state/kill/delete` run for real
with PYTHONPROFILEIMPORTTIME=1 (`python -X importtime`), which makes every process of the
command (the CLI, and the container's init until it execs) list each module it imports;
none of them may be on the deny-list below. Times cost a shared machine nothing to read
wrongly; a module name on a list cannot be misread.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import VENV_BIN

# module (and its submodules) -> why the start path must not pay for it
DENIED = {
    "rich": "tables and progress bars (~80 ms)",
    "nsbox.image.registry": "the registry client",
    "nsbox.image.pull": "pulling",
    "http": "HTTP", "urllib": "URLs and HTTP", "ssl": "TLS", "email": "HTTP headers",
    "json": "json's pure-Python decoder (and re, enum): nsbox.oci.jsonio uses the C scanner",
    "re": "regular expressions (~5 ms)",
    "subprocess": "~22 ms with signal, threading, selectors",
    "argparse": "~15 ms; nsbox.flags parses both command lines",
    "typing": "typing at run time (~12 ms): annotations are strings (from __future__ import annotations)",
    "dataclasses": "~20 ms with inspect",
    "enum": "~7 ms (the signal module imports it: use nsbox.linux.signals)",
    "signal": "its enum: _signal has the same numbers",
    "inspect": "~10 ms", "threading": "threads (and the runtime must stay single-threaded to unshare)",
    "logging": "~10 ms", "tempfile": "random, shutil", "shutil": "~12 ms with bz2, lzma, fnmatch",
    "tarfile": "archives", "zstandard": "layer decompression", "zlib_ng": "layer decompression",
    "pyroute2": "netlink (~290 ms)", "asyncio": "an event loop", "socket": "sockets",
    "ctypes": "~4 ms of C types built at import: nsbox.linux.libc calls libc through _ctypes alone",
    "nsbox.engine.userns": "user-namespace remapping: only with --userns/--uidmap",
    "nsbox.linux.terminal": "terminal handling: only with -t",
    "_socket": "a shared library of its own (~0.5 ms for the init to load): libc's socket() serves lo's ioctls",
}


# what a container whose config has no linux.seccomp must not import (its init imports
# runtime.seccomp_filter, for the compiled filter it may be given, and no more)
WITHOUT_SECCOMP = ("nsbox.oci.seccomp", "nsbox.linux.seccomp", "nsbox.linux.seccomp_call")


def imported_modules(stderr: str) -> list[tuple[str, str]]:
    """(module, the module that imported it) for each line of -X importtime output."""
    rows = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "self [us]" not in line:
            name_column = line.rsplit("|", 1)[1]
            rows.append((len(name_column) - len(name_column.lstrip()), name_column.strip()))
    found = []
    for index, (depth, name) in enumerate(rows):
        # importtime prints a module after the modules it imported, one level less indented
        parent = next((other for level, other in rows[index + 1:] if level < depth), "the command itself")
        found.append((name, parent))
    return found


def denied_imports(stderr: str) -> list[str]:
    return sorted({f"{name} (imported by {parent}): {DENIED[root]}"
                   for name, parent in imported_modules(stderr)
                   for root in DENIED if name == root or name.startswith(root + ".")})


def traced(argv: list[str], tmp_path, **kwargs) -> subprocess.CompletedProcess:
    """Run argv with import tracing; output to files (a created container keeps its stdio)."""
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, timeout=60,
                                env=dict(os.environ, PYTHONPROFILEIMPORTTIME="1"), **kwargs)
    return subprocess.CompletedProcess(argv, result.returncode, out.read_text(), err.read_text())


def test_the_guard_sees_a_denied_import(tmp_path):
    """The parsing is checked on a command that does import subprocess (through json too)."""
    result = traced([sys.executable, "-c", "import subprocess, json"], tmp_path)
    denied = denied_imports(result.stderr)
    assert any(line.startswith("subprocess (imported by the command itself)") for line in denied), denied
    assert any(line.startswith("json.decoder (imported by json)") for line in denied), denied


@pytest.mark.parametrize("command", [["run", "--rm", "--network", "none", "busybox", "/bin/true"], ["ps", "-a"]])
def test_nsbox_start_up_imports_nothing_denied(nsbox, tmp_path, command):
    # the first run of a seccomp profile compiles it (libseccomp through ctypes); every
    # later one reads the compiled program from the runtime's cache
    subprocess.run(nsbox.command(*command), stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    result = traced(nsbox.command(*command), tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "nsbox.cli.main" in {name for name, _ in imported_modules(result.stderr)}  # the trace worked
    assert denied_imports(result.stderr) == []


def test_runtime_lifecycle_imports_nothing_denied(make_bundle, runtime_root, tmp_path):
    bundle = make_bundle(["sleep", "30"])
    binary = os.path.join(VENV_BIN, "nsbox-runtime")
    steps = [["create", "--bundle", bundle, "guard"], ["start", "guard"], ["state", "guard"],
             ["kill", "guard", "KILL"], ["delete", "--force", "guard"]]
    problems = {}
    try:
        for step in steps:
            result = traced([binary, "--root", runtime_root, *step], tmp_path)
            assert result.returncode == 0, f"{step[0]}: {result.stderr[-2000:]}"
            assert f"nsbox.runtime.commands.{step[0]}" in {name for name, _ in imported_modules(result.stderr)}
            if denied_imports(result.stderr):
                problems[step[0]] = denied_imports(result.stderr)
            if step[0] == "create":  # no linux.seccomp in the bundle: nothing of seccomp's but the loader
                assert [name for name, _ in imported_modules(result.stderr) if name in WITHOUT_SECCOMP] == []
    finally:
        subprocess.run([binary, "--root", runtime_root, "delete", "--force", "guard"], capture_output=True)
    assert problems == {}
