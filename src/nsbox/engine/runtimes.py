"""The OCI runtimes the engine drives: nsbox's own in process, or a runtime binary
(runc, crun, or a path) through its command line, as podman does.

Both kinds make the caller a child subreaper and return the container init's host PID,
so the caller (the foreground CLI, or a detached container's monitor) waits for it
with os.waitpid whichever runtime created it.
"""
from __future__ import annotations

import os

from nsbox.errors import ContainerStartError, NotFound, NsboxError


class NsboxRuntime:
    """nsbox's own runtime, called in process (no fork/exec of a runtime binary)."""

    __slots__ = ("name", "state_root")

    def __init__(self, state_root: str) -> None:
        self.name = "nsbox"
        self.state_root = state_root

    def create(self, container_id: str, bundle: str, stdio: tuple[int, int, int],
               console_socket: str | None = None, spec: dict | None = None, while_waiting=None) -> int:
        """`spec`: the bundle's config.json as data, when the caller has it (not read back);
        `while_waiting()`: the caller's own work, done while the init builds its root filesystem."""
        from nsbox.runtime.create import create
        parsed = None
        if spec is not None:
            from nsbox.oci.fields import Fields
            from nsbox.oci.runtime_spec import Spec
            parsed = Spec(Fields(spec, ""))
        return create(self.state_root, container_id, bundle, stdio=stdio, console_socket=console_socket, spec=parsed,
                      while_waiting=while_waiting)

    def start(self, container_id: str) -> None:
        from nsbox.runtime.start import start
        start(self.state_root, container_id)

    def status(self, container_id: str) -> str | None:
        """created, running, paused or stopped; None if the runtime has no such container."""
        from nsbox.runtime.state import state
        try:
            return state(self.state_root, container_id)["status"]
        except NotFound:
            return None

    def kill(self, container_id: str, signal: int, all_processes: bool = False) -> None:
        from nsbox.runtime.kill import kill
        kill(self.state_root, container_id, signal, all_processes)

    def delete(self, container_id: str, force: bool = False) -> None:
        from nsbox.runtime.delete import delete
        delete(self.state_root, container_id, force=force)

    def pause(self, container_id: str) -> None:
        from nsbox.runtime.pause import pause
        pause(self.state_root, container_id)

    def resume(self, container_id: str) -> None:
        from nsbox.runtime.pause import resume
        resume(self.state_root, container_id)

    def exec_process(self, container_id: str, process: dict, stdio: tuple[int, int, int],
                     console_socket: str | None = None) -> int:
        from nsbox.runtime.exec_process import exec_process
        return exec_process(self.state_root, container_id, process, stdio=stdio, console_socket=console_socket)

    def update(self, container_id: str, resources: dict) -> None:
        from nsbox.runtime.state import live_cgroup
        live_cgroup(self.state_root, container_id, "update")[1].update(resources)


class BinaryRuntime:
    """An OCI runtime binary (runc, crun, ...) driven through its CLI."""

    __slots__ = ("name", "binary", "state_root")

    def __init__(self, name: str, binary: str, state_root: str) -> None:
        self.name = name
        self.binary = binary
        self.state_root = state_root

    def _run(self, args: list[str], stdio: tuple[int, int, int] | None = None, input: bytes | None = None) -> str:
        import subprocess
        log = os.path.join(self.state_root, f"log-{os.getpid()}.json")
        command = [self.binary, "--root", self.state_root, "--log", log, "--log-format", "json", *args]
        try:
            if stdio is None:
                result = subprocess.run(command, input=input, capture_output=True)
            else:
                result = subprocess.run(command, stdin=stdio[0], stdout=stdio[1], stderr=stdio[2])
        except OSError as error:
            raise NsboxError(f"cannot run the OCI runtime {self.binary}: {error.strerror}") from None
        message = ""
        try:
            with open(log) as lines:
                message = _last_error(lines.read())
            os.unlink(log)
        except OSError:
            pass
        if result.returncode != 0:
            detail = message or (result.stderr.decode(errors="replace").strip() if stdio is None else "")
            raise _runtime_error(self.name, args[0], detail)
        return result.stdout.decode() if stdio is None else ""

    def create(self, container_id: str, bundle: str, stdio: tuple[int, int, int],
               console_socket: str | None = None, spec: dict | None = None, while_waiting=None) -> int:
        """(`spec` and `while_waiting` are ignored: the binary reads the bundle's config.json,
        and its create is one call.)"""
        os.makedirs(self.state_root, exist_ok=True)
        from nsbox.linux.libc import set_child_subreaper
        set_child_subreaper()
        pid_file = os.path.join(bundle, "init.pid")
        args = ["create", "--bundle", bundle, "--pid-file", pid_file]
        if console_socket:
            args += ["--console-socket", console_socket]
        self._run(args + [container_id], stdio)
        with open(pid_file) as pid:
            return int(pid.read())

    def start(self, container_id: str) -> None:
        self._run(["start", container_id])

    def status(self, container_id: str) -> str | None:
        import json
        try:
            return json.loads(self._run(["state", container_id]))["status"]
        except NsboxError:
            return None

    def kill(self, container_id: str, signal: int, all_processes: bool = False) -> None:
        self._run(["kill"] + (["--all"] if all_processes else []) + [container_id, str(signal)])

    def delete(self, container_id: str, force: bool = False) -> None:
        self._run(["delete"] + (["--force"] if force else []) + [container_id])

    def pause(self, container_id: str) -> None:
        self._run(["pause", container_id])

    def resume(self, container_id: str) -> None:
        self._run(["resume", container_id])

    def exec_process(self, container_id: str, process: dict, stdio: tuple[int, int, int],
                     console_socket: str | None = None) -> int:
        import json
        import tempfile
        from nsbox.linux.libc import set_child_subreaper
        set_child_subreaper()
        with tempfile.TemporaryDirectory(prefix="nsbox-exec.") as scratch:
            process_file = os.path.join(scratch, "process.json")
            with open(process_file, "w") as out:
                json.dump(process, out)
            pid_file = os.path.join(scratch, "pid")
            args = ["exec", "--detach", "--process", process_file, "--pid-file", pid_file]
            if console_socket:
                args += ["--console-socket", console_socket]
            self._run(args + [container_id], stdio)
            with open(pid_file) as pid:
                return int(pid.read())

    def update(self, container_id: str, resources: dict) -> None:
        import json
        self._run(["update", "--resources", "-", container_id], input=json.dumps(resources).encode())


def _last_error(log_text: str) -> str:
    import json
    message = ""
    for line in log_text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") in ("error", "fatal"):
            message = entry.get("msg", "")
    return message


def _runtime_error(name: str, verb: str, message: str) -> NsboxError:
    """The runtime's failure with Docker's exit codes for a missing or unexecutable program."""
    text = f"{name} {verb} failed: {message or 'no message'}"
    lowered = message.lower()
    if verb in ("create", "exec") and ("executable file not found" in lowered or "no such file" in lowered):
        return ContainerStartError(text, 127)
    if verb in ("create", "exec") and "permission denied" in lowered:
        return ContainerStartError(text, 126)
    return NsboxError(text)


def runtime_for(name: str, run_dir: str) -> NsboxRuntime | BinaryRuntime:
    """The runtime called `name`: "nsbox", a binary on PATH (runc, crun) or an absolute path."""
    if name == "nsbox":
        return NsboxRuntime(os.path.join(run_dir, "runtime"))
    import shutil
    binary = name if name.startswith("/") else shutil.which(name)
    if not binary or not os.access(binary, os.X_OK):
        raise NotFound(f"OCI runtime {name!r} not found: install it (e.g. apt-get install {name}) or give a path")
    return BinaryRuntime(os.path.basename(name), binary, os.path.join(run_dir, os.path.basename(name)))
