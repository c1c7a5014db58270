"""`docker run --rm --network none busybox /bin/true` through the same docker CLI, answered by
`nsbox serve` and by a private dockerd, and docker-py's containers.run rate both ways."""
from __future__ import annotations

import os
import shutil
import subprocess
import time

from benchmarks.bench import Bench
from benchmarks.harness import Case, Contender, Skip


def _nsbox_socket(bench: Bench) -> str:
    """A `nsbox serve` on the benchmark's nsbox root (started once, stopped at the end)."""
    socket = os.path.join(bench.work, "nsbox-serve.sock")
    if not os.path.exists(socket):
        server = subprocess.Popen([*bench.nsbox, "serve", "-H", f"unix://{socket}"], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bench.on_close(lambda: (server.terminate(), server.wait(30)))
        deadline = time.monotonic() + 30
        while not os.path.exists(socket):
            if time.monotonic() > deadline:
                raise Skip("nsbox serve did not start")
            time.sleep(0.05)
    return socket


def _docker_cli(bench: Bench) -> list[Contender]:
    docker = shutil.which("docker")
    if docker is None:
        raise Skip("no docker CLI")
    env = dict(os.environ, DOCKER_HOST=f"unix://{_nsbox_socket(bench)}")
    found = [Contender("docker CLI -> nsbox serve", step=lambda i: subprocess.run(
        [docker, "run", "--rm", "--network", "none", "busybox", "/bin/true"], env=env, check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) and None)]
    try:
        found.append(Contender("docker CLI -> dockerd", argv=[*bench.docker, "run", "--rm", "--network", "none",
                                                               "busybox:bench", "/bin/true"]))
    except Skip as why:
        bench.log(f"    dockerd: {why}")
    return found


def _docker_py(bench: Bench) -> list[Contender]:
    try:
        import docker
    except ImportError:
        raise Skip("docker-py is not installed (pip install -e '.[bench]')") from None
    ours = docker.DockerClient(base_url=f"unix://{_nsbox_socket(bench)}", version="auto")
    bench.on_close(ours.close)
    found = [Contender("docker-py -> nsbox serve", step=lambda i: ours.containers.run(
        "busybox", ["/bin/true"], remove=True, network_mode="none") and None)]
    try:
        socket = bench.docker[2].removeprefix("unix://")
        theirs = docker.DockerClient(base_url=f"unix://{socket}", version="auto")
        bench.on_close(theirs.close)
        found.append(Contender("docker-py -> dockerd", step=lambda i: theirs.containers.run(
            "busybox:bench", ["/bin/true"], remove=True, network_mode="none") and None))
    except Skip as why:
        bench.log(f"    dockerd: {why}")
    return found


CASES = [Case("serve-docker-cli", "docker run --rm through nsbox serve vs dockerd", _docker_cli, order=80, runs=10,
              baseline="docker CLI -> nsbox serve", budget=10),
         Case("serve-docker-py", "docker-py containers.run through nsbox serve vs dockerd", _docker_py, order=81,
              runs=10, baseline="docker-py -> nsbox serve", budget=10)]
