"""Case 1: the OCI runtime lifecycle of a /bin/true bundle (`RUNTIME run`: create, start,
wait, delete), nsbox-runtime vs runc vs crun.

crun refuses this machine's hybrid cgroup layout unless the cgroup2 `unified` mount is
hidden, so every runtime alike runs inside `unshare -m` with that mount detached; the
wrapper alone is timed too, so that its cost can be read off.
"""
from __future__ import annotations

import os
import shutil

from benchmarks.bench import NSBOX_RUNTIME, Bench
from benchmarks.harness import Case, Contender, quiet

HIDE_UNIFIED = "umount /sys/fs/cgroup/unified 2>/dev/null; exec \"$@\""


def wrapped(argv: list[str]) -> list[str]:
    """argv run in a private mount namespace where cgroup2's `unified` mount is gone."""
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", HIDE_UNIFIED, "sh", *argv]


def runtime(bench: Bench, tool: str, binary: str) -> Contender:
    state = os.path.join(bench.work, f"state-{tool}")
    bundle = bench.bundle(f"true-{tool}", ["/bin/true"])

    def step(index: int) -> None:
        quiet(wrapped([binary, "--root", state, "run", "--bundle", bundle, f"{tool}-{index}"]))

    return Contender(tool, step=step)


def contenders(bench: Bench) -> list[Contender]:
    found = [runtime(bench, "nsbox-runtime", NSBOX_RUNTIME)]
    for tool in ("runc", "crun"):
        if shutil.which(tool):
            found.append(runtime(bench, tool, shutil.which(tool)))  # type: ignore[arg-type]
    found.append(Contender("wrapper alone (unshare -m, umount)", argv=wrapped(["true"])))
    return found


CASES = [Case("runtime", "OCI runtime: run a /bin/true bundle (create, start, wait, delete)", contenders,
              order=10, baseline="nsbox-runtime", runs=15, cpu_comparable=True, budget=25,
              note="Every runtime alike runs inside `unshare -m` with the cgroup2 `unified` mount detached "
                   "(crun refuses this hybrid layout otherwise); the wrapper alone is the last row.")]
