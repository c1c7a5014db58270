"""What a finished container (or exec) gives back: like subprocess.CompletedProcess,
with what the kernel knows about the run."""
from __future__ import annotations

from nsbox.errors import RuntimeFailed


class Result:
    """The outcome of nsbox.run or Container.exec.

    `exit_code` is the program's exit code (128+N after signal N, as a shell shows it);
    `stdout`/`stderr` are bytes, or str with text=True; `oom_killed` says the kernel's OOM
    killer ended it; `timed_out` that nsbox killed it at the `timeout`; `wall_time` and
    `cpu_time` are seconds; `peak_memory` is the cgroup's high-water mark in bytes (None
    where the kernel does not report one, and for an exec).
    """

    __slots__ = ("args", "exit_code", "stdout", "stderr", "oom_killed", "timed_out", "wall_time", "cpu_time",
                 "peak_memory", "container_id", "name")

    def __init__(self, args: list[str], exit_code: int, stdout: bytes | str, stderr: bytes | str, *,
                 oom_killed: bool = False, timed_out: bool = False, wall_time: float = 0.0,
                 cpu_time: float | None = None, peak_memory: int | None = None, container_id: str = "",
                 name: str = "") -> None:
        self.args = args
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr
        self.oom_killed = oom_killed
        self.timed_out = timed_out
        self.wall_time = wall_time
        self.cpu_time = cpu_time
        self.peak_memory = peak_memory
        self.container_id = container_id
        self.name = name

    @property
    def returncode(self) -> int:
        """subprocess's name for exit_code."""
        return self.exit_code

    @property
    def output(self) -> bytes | str:
        """docker-py's name (exec_run(...).output) for stdout."""
        return self.stdout

    def check_returncode(self) -> None:
        """Raise RuntimeFailed if the program did not exit 0 (or was killed)."""
        if self.exit_code != 0 or self.timed_out:
            reason = ("timed out" if self.timed_out else "was OOM-killed" if self.oom_killed
                      else f"exited {self.exit_code}")
            raise RuntimeFailed(f"{self.args!r} in container {self.name or self.container_id[:12]} {reason}",
                                self.exit_code, self.stderr)

    def __repr__(self) -> str:
        flags = "".join((", oom_killed=True" if self.oom_killed else "", ", timed_out=True" if self.timed_out else ""))
        return (f"Result(args={self.args!r}, exit_code={self.exit_code}{flags}, stdout={self.stdout!r}, "
                f"stderr={self.stderr!r}, wall_time={self.wall_time:.3f})")
