"""Case 4: 10 detached `sleep` containers: the time to start them all, and the memory of
the helper process each keeps per container (nsbox's monitor, podman's conmon,
containerd's shim under docker and ctr), as PSS and RSS from /proc/PID/smaps_rollup."""
from __future__ import annotations

import subprocess
import time
from typing import Callable

from benchmarks.bench import Bench
from benchmarks.harness import Case, Contender, Skip, memory_kib, pids_matching, quiet

COUNT = 10


def detached(tool: str, start: Callable[[int], list[str]], helpers: Callable[[], list[int]],
             remove: Callable[[], None]) -> Contender:
    contender = Contender(tool)

    def step(index: int) -> float:
        began = time.perf_counter()
        for number in range(COUNT):
            # never a pipe: a detached container may hold it open
            quiet(start(number), stdout=subprocess.DEVNULL)
        return time.perf_counter() - began

    def after(index: int) -> None:
        pids = helpers()
        deadline = time.monotonic() + 2  # nsbox run -d returns before its last monitor has exec'd its loop
        while len(pids) < COUNT and time.monotonic() < deadline:
            time.sleep(0.02)
            pids = helpers()
        pss, rss = memory_kib(pids)
        contender.extras.update({"helpers": len(pids), "helper_pss_kib": pss, "helper_rss_kib": rss})
        remove()

    contender.step, contender.after, contender.teardown = step, after, remove
    return contender


def contenders(bench: Bench) -> list[Contender]:
    nsbox = bench.nsbox
    found = [detached("nsbox", lambda n: [*nsbox, "run", "-d", "--network", "none", "busybox", "sleep", "1000"],
                      lambda: pids_matching("monitor_loop", nsbox[2]),
                      lambda: bench._nsbox_cleanup(nsbox))]
    try:
        podman = bench.podman
        found.append(detached(
            "podman", lambda n: [*podman, "run", "-d", "--network", "none", *bench.podman_run_flags,
                                 "localhost/busybox", "sleep", "1000"],
            lambda: pids_matching("conmon", podman[2]),
            lambda: subprocess.run([*podman, "rm", "-af", "-t", "0"], capture_output=True)))
    except Skip as why:
        bench.log(f"    podman: {why}")
    try:
        docker = bench.docker
        found.append(detached(
            "docker", lambda n: [*docker, "run", "-d", "--network", "none", "busybox:bench", "sleep", "1000"],
            lambda: pids_matching("containerd-shim", bench.parent),
            lambda: docker_remove(docker)))
    except Skip as why:
        bench.log(f"    docker: {why}")
    try:
        ctr = bench.ctr
        found.append(detached(
            "ctr (containerd)", lambda n: [*ctr, "run", "-d", "--cgroup", f"{bench.parent}/ctr/sleep-{n}",
                                           "docker.io/library/busybox:bench", f"sleep-{n}", "sleep", "1000"],
            lambda: pids_matching("containerd-shim", ctr[2]),
            lambda: ctr_remove(ctr)))
    except Skip as why:
        bench.log(f"    ctr: {why}")
    return found


def docker_remove(docker: list[str]) -> None:
    ids = subprocess.run([*docker, "ps", "-aq"], capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run([*docker, "rm", "-f", *ids], capture_output=True)


def ctr_remove(ctr: list[str]) -> None:
    for name in subprocess.run([*ctr, "containers", "ls", "-q"], capture_output=True, text=True).stdout.split():
        subprocess.run([*ctr, "tasks", "kill", "-s", "KILL", name], capture_output=True)
        for _ in range(50):
            if subprocess.run([*ctr, "tasks", "delete", name], capture_output=True).returncode != 0:
                time.sleep(0.05)
            else:
                break
        subprocess.run([*ctr, "containers", "delete", name], capture_output=True)


CASES = [Case("detached", f"{COUNT} detached sleep containers: time to start them all", contenders,
              order=40, runs=3, warmup=0, budget=0,  # (run-rm, just before, warmed every tool)
              note="Helper per container: nsbox's monitor, podman's conmon, containerd's shim (docker, ctr); "
                   "PSS and RSS from /proc/PID/smaps_rollup with all 10 running.")]
