"""Case: the Python API. `nsbox.run("busybox", ["true"])` in this process, sequentially and
from 4 threads, against docker-py driving a private dockerd (--bridge none) the same way,
and against `subprocess.run(["nsbox", "run", "--rm", ...])`; and sequentially from a
program 300 MB bigger, with and without the API's fork server. A sample is a batch of
BATCH runs; the harness runs rounds until its budget is spent (at least 3); the table's
extras give runs per second. All run with --network none (dockerd has no bridge)."""
from __future__ import annotations

import statistics
import subprocess
import threading
import time

from benchmarks.bench import Bench
from benchmarks.harness import Case, Contender, Skip

BATCH = 8  # a multiple of THREADS; small enough that a round of five contenders stays near 10 s
THREADS = 4
BALLAST_MB = 300  # a big calling program (a notebook with its data, a test runner)


RATES: dict[str, list[float]] = {}


def rate(contender: Contender, elapsed: float) -> None:
    """Keep the median rate of the samples so far as the contender's runs_per_s."""
    rates = RATES.setdefault(contender.tool, [])
    rates.append(BATCH / elapsed)
    contender.extras["runs_per_s"] = round(statistics.median(rates), 1)


def batch(contender: Contender, one) -> None:
    """Make `contender` time BATCH calls of one() in a row."""
    def step(index: int) -> float:
        began = time.perf_counter()
        for _ in range(BATCH):
            one()
        elapsed = time.perf_counter() - began
        rate(contender, elapsed)
        return elapsed
    contender.step = step


def threaded(contender: Contender, one) -> None:
    """Make `contender` time BATCH calls of one() shared by THREADS threads."""
    def step(index: int) -> float:
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                for _ in range(BATCH // THREADS):
                    one()
            except BaseException as error:  # reported by the step
                errors.append(error)
        workers = [threading.Thread(target=worker) for _ in range(THREADS)]
        began = time.perf_counter()
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        elapsed = time.perf_counter() - began
        if errors:
            raise errors[0]
        rate(contender, elapsed)
        return elapsed
    contender.step = step


def contenders(bench: Bench) -> list[Contender]:
    import nsbox
    client = nsbox.Client(bench.nsbox[2])

    def api_run() -> None:
        result = client.run("busybox", ["true"], network="none")
        if result.exit_code != 0:
            raise RuntimeError(f"nsbox.run exited {result.exit_code}: {result.stderr!r}")

    sequential, parallel = Contender("nsbox.run"), Contender(f"nsbox.run, {THREADS} threads")
    batch(sequential, api_run)
    threaded(parallel, api_run)
    found = [sequential, parallel, *big_callers(bench, client)]
    command = [*bench.nsbox, "run", "--rm", "--network", "none", "busybox", "true"]
    subprocess_run = Contender("subprocess nsbox run --rm")
    batch(subprocess_run, lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL))
    found.append(subprocess_run)
    try:
        found += docker_py(bench)
    except Skip as why:
        bench.log(f"    docker-py: {why}")
    return found


def big_callers(bench: Bench, client) -> list[Contender]:
    """nsbox.run from a program of BALLAST_MB more (resident, allocated untimed around each
    batch), with its fork server (the default) and without (the runtime forks the caller)."""
    import nsbox
    in_process = nsbox.Client(bench.nsbox[2], fork_server=False)
    ballast: list[bytearray] = []
    found = []
    for tool, chosen in ((f"nsbox.run, {BALLAST_MB} MB caller", client),
                         (f"nsbox.run, {BALLAST_MB} MB caller, no fork server", in_process)):
        def one(chosen=chosen) -> None:
            result = chosen.run("busybox", ["true"], network="none")
            if result.exit_code != 0:
                raise RuntimeError(f"nsbox.run exited {result.exit_code}: {result.stderr!r}")
        contender = Contender(tool, before=lambda index: ballast.append(bytearray(b"\1") * (BALLAST_MB << 20)),
                              after=lambda index: ballast.clear())
        batch(contender, one)
        found.append(contender)
    return found


def docker_py(bench: Bench) -> list[Contender]:
    try:
        import docker
    except ImportError:
        raise Skip("docker-py is not installed (pip install -e '.[bench]')") from None
    socket = bench.docker[2]  # docker -H unix://PATH: the private dockerd's socket
    client = docker.DockerClient(base_url=socket, timeout=120)
    bench.on_close(client.close)

    def docker_run() -> None:
        client.containers.run("busybox:bench", ["true"], remove=True, network_mode="none")

    sequential, parallel = Contender("docker-py + dockerd"), Contender(f"docker-py + dockerd, {THREADS} threads")
    batch(sequential, docker_run)
    threaded(parallel, docker_run)
    return [sequential, parallel]


CASES = [Case("python-api", f"nsbox.run vs docker-py vs subprocess, batches of {BATCH} runs of busybox true",
              contenders, order=65, baseline="nsbox.run", runs=10, warmup=1, budget=0)]
