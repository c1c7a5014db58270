"""The cgroup commands of a running container, nsbox-runtime vs runc: `events --stats`,
`update --pids-limit`, `pause` + `resume` (each its own case, one container per runtime)."""
from __future__ import annotations

import os
import shutil
import subprocess

from benchmarks.bench import NSBOX_RUNTIME, Bench
from benchmarks.harness import Case, Contender, quiet

OPERATIONS = {
    "events-stats": ("events --stats of a running container", lambda cid, n: [["events", "--stats", cid]]),
    "update": ("update --pids-limit of a running container", lambda cid, n: [["update", "--pids-limit", str(200 + n), cid]]),
    "pause-resume": ("pause + resume of a running container", lambda cid, n: [["pause", cid], ["resume", cid]]),
}


def started(bench: Bench) -> list[tuple[str, list[str], str]]:
    """One running `sleep` container per runtime, made once and shared by the three cases."""
    if not hasattr(bench, "cgroup_ops_containers"):
        containers = []
        runtimes = {"nsbox-runtime": NSBOX_RUNTIME, "runc": shutil.which("runc")}
        for name, binary in runtimes.items():
            if not binary:
                continue
            argv = [binary, "--root", os.path.join(bench.work, f"ops-{name}")]
            bundle = bench.bundle(f"ops-{name}", ["sleep", "1000"])
            quiet([*argv, "run", "--detach", "--bundle", bundle, "ops"], stdout=subprocess.DEVNULL)
            containers.append((name, argv, "ops"))
            bench.on_close(lambda argv=argv: subprocess.run([*argv, "delete", "--force", "ops"], capture_output=True))
        bench.cgroup_ops_containers = containers  # type: ignore[attr-defined]
    return bench.cgroup_ops_containers  # type: ignore[attr-defined]


def operation(key: str):
    def contenders(bench: Bench) -> list[Contender]:
        steps = OPERATIONS[key][1]

        def step_of(argv: list[str], container: str):
            return lambda index: [quiet([*argv, *step]) for step in steps(container, index)]

        return [Contender(name, step=step_of(argv, container)) for name, argv, container in started(bench)]
    return contenders


CASES = [Case(key, title, operation(key), order=70, baseline="nsbox-runtime", runs=10, cpu_comparable=True, budget=5)
         for key, (title, _) in OPERATIONS.items()]
