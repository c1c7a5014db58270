"""`build` of a 5-step Dockerfile (COPY + 3 RUN + CMD), cold (no cache) and warm (every
step cached: the harness's warm-up rounds fill each tool's cache): nsbox build vs podman build (buildah) vs docker build (the legacy builder of
the private dockerd), in one run."""
from __future__ import annotations

import os
import subprocess

from benchmarks.bench import Bench
from benchmarks.harness import Case, Contender, Skip

DOCKERFILE = """FROM {base}
COPY data.txt /data.txt
RUN cat /data.txt > /one
RUN echo two > /two
RUN ls / > /three
CMD ["cat", "/one"]
"""


def _context(bench: Bench, tool: str, base: str) -> str:
    directory = os.path.join(bench.work, f"build-{tool}")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "Dockerfile"), "w") as f:
        f.write(DOCKERFILE.format(base=base))
    with open(os.path.join(directory, "data.txt"), "w") as f:
        f.write("data\n" * 1000)
    return directory


def _run(argv: list[str], env: dict | None = None) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def _tools(bench: Bench, cold: bool) -> list[Contender]:
    no_cache = ["--no-cache"] if cold else []
    found = []
    ctx = _context(bench, "nsbox", "busybox")
    nsbox = [*bench.nsbox, "build", "--network", "none", *no_cache, "-t", "bench-built", ctx]
    found.append(Contender("nsbox", argv=nsbox))
    try:
        ctx = _context(bench, "podman", "localhost/busybox")
        podman = [*bench.podman, "build", "--network", "none", "--cgroup-parent", f"{bench.parent}/podman-build",
                  *no_cache, "-t", "bench-built", ctx]
        found.append(Contender("podman (buildah)", argv=podman))
    except Skip as why:
        bench.log(f"    podman: {why}")
    try:
        ctx = _context(bench, "docker", "busybox:bench")
        docker = [*bench.docker, "build", "--network", "none", *no_cache, "-t", "bench-built", ctx]
        env = dict(os.environ, DOCKER_BUILDKIT="0")
        found.append(Contender("docker (legacy builder)", step=lambda i: _run(docker, env)))
    except Skip as why:
        bench.log(f"    docker: {why}")
    return found


CASES = [Case("build-cold", "build a 5-step Dockerfile, no cache", lambda bench: _tools(bench, True),
              order=70, runs=5, budget=0),
         Case("build-warm", "build the same Dockerfile again, every step cached", lambda bench: _tools(bench, False),
              order=71, runs=8, budget=10)]
