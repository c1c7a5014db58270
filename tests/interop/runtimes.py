"""The OCI runtimes the daemons are pointed at: nsbox-runtime, and runc for comparison.

Every interop test runs once with each. A daemon is given the runtime's binary and a
state root of the test's own; while a container runs, the runtime's own `state` command
must know it there, with the PID the daemon reports. That is the proof that the runtime
under test ran the container: a daemon that silently used another runtime leaves that
root empty (or holds a state the runtime cannot read), and the test fails.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

from tests.conftest import VENV_BIN

RUNC = shutil.which("runc") or "/usr/sbin/runc"


class OciRuntime:
    """One runtime binary with a state root under the test's temporary directory."""

    def __init__(self, name: str, binary: str, root: str) -> None:
        self.name = name
        self.binary = binary
        self.root = root

    def __repr__(self) -> str:
        return f"OciRuntime({self.name}, root={self.root})"

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([self.binary, "--root", self.root, *args], capture_output=True, text=True,
                                timeout=30, stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            raise AssertionError(f"{self.name} {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    def failed(self, command: str) -> str:
        """How the runtime's --log names a failed command (containerd passes it on)."""
        return f"{os.path.basename(self.binary)} {command} failed: "

    def state_dirs(self) -> dict[str, str]:
        """container id -> the state root holding it: this runtime's root, or a directory below
        it (containerd's shim nests one per namespace, <root>/<namespace>/<id>)."""
        found = {}
        for dirpath, _, filenames in os.walk(self.root):
            if "state.json" in filenames:
                found[os.path.basename(dirpath)] = os.path.dirname(dirpath)
        return found

    def ids(self) -> list[str]:
        return sorted(self.state_dirs())

    def assert_deleted(self, timeout: float = 15) -> None:
        """No container is left in the runtime's state (a shim deletes it once it has seen
        the exit, which may be just after the daemon's own answer)."""
        deadline = time.monotonic() + timeout
        while self.ids() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.ids() == [], f"{self.name} still holds {self.ids()} in {self.root}"

    def assert_runs(self, container_id: str, pid: int | None = None, timeout: float = 0) -> dict:
        """This runtime's `state` says the container runs (with `pid`, when the daemon told it);
        with a timeout, waits that long for it to get there (a daemon that is starting it)."""
        deadline = time.monotonic() + timeout
        while True:
            roots = self.state_dirs()
            if container_id in roots:
                runtime = OciRuntime(self.name, self.binary, roots[container_id])
                state = json.loads(runtime.run("state", container_id).stdout)
                if state["status"] == "running" or time.monotonic() > deadline:
                    break
            assert time.monotonic() < deadline, (
                f"{self.name} has no state for {container_id} below {self.root} (holds {sorted(roots)}): "
                f"the daemon did not run it with {self.binary}")
            time.sleep(0.02)
        assert state["status"] == "running", state
        if pid is not None:
            assert state["pid"] == pid, (state, pid)
        return state


def make_runtime(name: str, base: str) -> OciRuntime:
    root = os.path.join(base, f"{name}-state")
    if name == "nsbox":
        return OciRuntime(name, os.path.join(VENV_BIN, "nsbox-runtime"), root)
    return OciRuntime(name, RUNC, root)


def replay(daemon_runtime: OciRuntime, container_id: str, base: str, cgroups_path: str) -> subprocess.CompletedProcess:
    """Run the config.json a daemon wrote for a live container again, with nsbox-runtime.

    The bundle is found through the runtime's own state. Changed are only what cannot be
    shared with the live container: its id, its cgroup (a sibling's), a relative root.path
    made absolute, and the program (one that prints and ends, with no terminal). Namespace
    paths, mounts of the daemon's files, hooks, seccomp and the rest are replayed as written."""
    root = daemon_runtime.state_dirs()[container_id]
    state = json.loads(OciRuntime(daemon_runtime.name, daemon_runtime.binary, root).run("state", container_id).stdout)
    with open(os.path.join(state["bundle"], "config.json")) as config:
        spec = json.load(config)
    if not spec["root"]["path"].startswith("/"):
        spec["root"]["path"] = os.path.join(state["bundle"], spec["root"]["path"])
    spec["process"]["terminal"] = False
    spec["process"]["args"] = ["sh", "-c", "echo replayed as pid $$"]
    spec["linux"]["cgroupsPath"] = cgroups_path
    bundle = os.path.join(base, f"replay-{container_id[:12]}")
    os.makedirs(bundle)
    with open(os.path.join(bundle, "config.json"), "w") as config:
        json.dump(spec, config)
    nsbox = make_runtime("nsbox", base)
    return subprocess.run([nsbox.binary, "--root", os.path.join(base, "replay-state"), "run", "--bundle", bundle,
                           f"replay-{container_id[:12]}"], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
