"""The configs other tools write run unchanged: `runc spec` (a terminal, `sh`, ambient
capabilities it cannot raise) and `runc spec --rootless`, as root.

Only what this shared machine requires is changed: root.path points at the test's busybox
root filesystem, and linux.cgroupsPath goes below the tests' relative cgroup parent (runc's
default, /<id>, is at the root of every hierarchy).
"""
from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import time

import pytest

from tests.interop.conftest import cgroup_parent

pytestmark = pytest.mark.skipif(shutil.which("runc") is None, reason="runc is not installed (apt-get install runc)")


def runc_spec(bundle, busybox_rootfs, *flags: str) -> dict:
    subprocess.run(["runc", "spec", "--bundle", str(bundle), *flags], check=True)
    shutil.copytree(busybox_rootfs, bundle / "rootfs", symlinks=True)  # runc refuses a symlinked root
    spec = json.loads((bundle / "config.json").read_text())
    spec["linux"]["cgroupsPath"] = cgroup_parent(f"{bundle.name}-{os.getpid()}")
    (bundle / "config.json").write_text(json.dumps(spec))
    return spec


def run_on_a_terminal(command: list[str], typed: bytes, timeout: float = 30) -> tuple[int, bytes]:
    """Run `command` with a pty as its stdio, as from a user's shell, and type `typed` at the
    container shell's prompt."""
    pid, master = pty.fork()
    if pid == 0:
        os.execv(command[0], command)
    output = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        readable, _, _ = select.select([master], [], [], 0.5)
        if readable:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every slave descriptor is closed
                break
            if not chunk:
                break
            output += chunk
            if typed and b"# " in output:
                os.write(master, typed)
                typed = b""
    else:
        os.kill(pid, 9)
    os.close(master)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output


@pytest.mark.parametrize("binary", ["nsbox", "runc"])
def test_runc_spec_runs_unchanged(tmp_path, busybox_rootfs, runtime, binary):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    spec = runc_spec(bundle, busybox_rootfs)
    assert spec["process"]["terminal"] is True and spec["process"]["args"] == ["sh"]
    assert "CAP_KILL" in spec["process"]["capabilities"]["ambient"]  # not inheritable: cannot be raised
    program = runtime.binary if binary == "nsbox" else shutil.which("runc")
    code, output = run_on_a_terminal(
        [program, "--root", str(tmp_path / f"{binary}-state"), "run", "--bundle", str(bundle), "spec-default"],
        b"echo pid $$ on $(tty) cap $(grep CapAmb /proc/self/status | cut -f2); exit 3\n")
    text = output.decode(errors="replace")
    assert code == 3, text
    assert "pid 1 on /dev/pts/0 cap 0000000000000000" in text
    if binary == "nsbox":
        assert "ambient: CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE not both permitted and inheritable" in text


def test_runc_spec_rootless_runs_as_root(tmp_path, busybox_rootfs, runtime):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    spec = runc_spec(bundle, busybox_rootfs, "--rootless")
    assert {"type": "user"} in spec["linux"]["namespaces"] and spec["linux"]["uidMappings"][0]["hostID"] == 0
    spec["process"]["terminal"] = False  # the one change: the test reads its output from a pipe
    spec["process"]["args"] = ["sh", "-c", "echo pid $$ uid $(id -u); cat /proc/self/uid_map"]
    (bundle / "config.json").write_text(json.dumps(spec))
    result = runtime("run", "--bundle", str(bundle), "spec-rootless")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "pid 1 uid 0"
    assert lines[1].split() == ["0", "0", "1"]  # the rootless spec maps the caller's uid only


def test_warnings_go_to_the_log_file_only_when_there_is_one(tmp_path, busybox_rootfs, runtime):
    """As runc: a shim hands `create` the container's own stdio, so with --log a warning
    must not reach stderr (it would be in the container's log)."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    spec = runc_spec(bundle, busybox_rootfs)
    spec["process"]["terminal"] = False
    spec["process"]["args"] = ["true"]
    (bundle / "config.json").write_text(json.dumps(spec))
    log = tmp_path / "runtime.log"
    result = runtime("--log", str(log), "--log-format", "json", "run", "--bundle", str(bundle), "logged")
    assert (result.returncode, result.stderr) == (0, "")
    record = json.loads(log.read_text().splitlines()[-1])
    assert record["level"] == "warning" and "not both permitted and inheritable" in record["msg"]
    result = runtime("run", "--bundle", str(bundle), "unlogged")
    assert "warning: process.capabilities.ambient" in result.stderr
