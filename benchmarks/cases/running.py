"""Cases on running containers: (5) `exec` latency into a running container, and (6)
`stats --no-stream` with 20 running containers; nsbox vs podman vs docker (and ctr for
exec). Each tool's containers are started untimed, before the first round."""
from __future__ import annotations

import subprocess
from typing import Callable

from benchmarks.bench import Bench
from benchmarks.harness import Case, Contender, Skip, quiet
from benchmarks.cases.detached import ctr_remove, docker_remove

STATS_CONTAINERS = 20


def engines(bench: Bench) -> dict[str, tuple[Callable[[str], list[str]], list[str], Callable[[], None]]]:
    """tool -> (argv that starts a detached sleep named NAME, its command prefix, how to remove all)."""
    found = {"nsbox": (lambda name: [*bench.nsbox, "run", "-d", "--name", name, "--network", "none", "busybox",
                                     "sleep", "1000"], bench.nsbox, lambda: bench._nsbox_cleanup(bench.nsbox))}
    for tool in ("podman", "docker"):
        try:
            base = getattr(bench, tool)
        except Skip as why:
            bench.log(f"    {tool}: {why}")
            continue
        if tool == "podman":
            found[tool] = (lambda name, base=base: [*base, "run", "-d", "--name", name, "--network", "none",
                                                    *bench.podman_run_flags, "localhost/busybox", "sleep", "1000"],
                           base, lambda base=base: subprocess.run([*base, "rm", "-af", "-t", "0"], capture_output=True))
        else:
            found[tool] = (lambda name, base=base: [*base, "run", "-d", "--name", name, "--network", "none",
                                                    "busybox:bench", "sleep", "1000"],
                           base, lambda base=base: docker_remove(base))
    return found


def exec_contenders(bench: Bench) -> list[Contender]:
    found = []
    for tool, (start, base, remove) in engines(bench).items():
        quiet(start("bench-exec"), stdout=subprocess.DEVNULL)
        found.append(Contender(tool, argv=[*base, "exec", "bench-exec", "/bin/true"], teardown=remove))
    try:
        ctr = bench.ctr
        quiet([*ctr, "run", "-d", "--cgroup", f"{bench.parent}/ctr/exec", "docker.io/library/busybox:bench",
               "bench-exec", "sleep", "1000"], stdout=subprocess.DEVNULL)
        found.append(Contender("ctr (containerd)", step=lambda index: quiet(
            [*ctr, "tasks", "exec", "--exec-id", bench.unique("exec"), "bench-exec", "/bin/true"]),
            teardown=lambda: ctr_remove(ctr)))
    except Skip as why:
        bench.log(f"    ctr: {why}")
    return found


def stats_contenders(bench: Bench) -> list[Contender]:
    from concurrent.futures import ThreadPoolExecutor
    found = []
    for tool, (start, base, remove) in engines(bench).items():
        with ThreadPoolExecutor(4) as starters:  # untimed set-up: 4 at a time, as every tool allows
            list(starters.map(lambda number: quiet(start(f"bench-stats-{number}"), stdout=subprocess.DEVNULL),
                              range(STATS_CONTAINERS)))
        found.append(Contender(tool, argv=[*base, "stats", "--no-stream"], teardown=remove))
    return found


CASES = [Case("exec", "exec /bin/true in a running container", exec_contenders, order=50, runs=10, budget=15),
         Case("stats", f"stats --no-stream with {STATS_CONTAINERS} running containers", stats_contenders,
              order=55, runs=3, warmup=1, budget=0,
              note="One reading each: nsbox and podman give a container's first CPU % as its average since it "
                   "started; docker's CLI waits for the daemon's second sample.")]
