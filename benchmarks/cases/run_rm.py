"""Case 2: `run --rm --network none IMAGE /bin/true`: nsbox vs podman vs docker vs
`ctr run --rm` (containerd), all from the same busybox root filesystem; plus `runc run`
of a ready bundle, the floor under any engine that uses runc."""
from __future__ import annotations

from benchmarks.bench import Bench
from benchmarks.harness import Case, Contender, Skip, quiet


def contenders(bench: Bench) -> list[Contender]:
    found = [Contender("nsbox", argv=[*bench.nsbox, "run", "--rm", "--network", "none", "busybox", "/bin/true"])]
    try:
        found.append(Contender("podman", argv=[*bench.podman, "run", "--rm", "--network", "none",
                                               *bench.podman_run_flags, "localhost/busybox", "/bin/true"]))
    except Skip as why:
        bench.log(f"    podman: {why}")
    try:
        found.append(Contender("docker", argv=[*bench.docker, "run", "--rm", "--network", "none",
                                               "busybox:bench", "/bin/true"]))
    except Skip as why:
        bench.log(f"    docker: {why}")
    try:
        ctr = bench.ctr

        def ctr_run(index: int) -> None:
            name = bench.unique("ctr")
            quiet([*ctr, "run", "--rm", "--cgroup", f"{bench.parent}/ctr/{name}", "docker.io/library/busybox:bench",
                   name, "/bin/true"])

        found.append(Contender("ctr (containerd)", step=ctr_run))
    except Skip as why:
        bench.log(f"    ctr: {why}")
    bundle = bench.bundle("runc-true", ["/bin/true"])
    found.append(Contender("runc (ready bundle)", step=lambda index: quiet(
        ["runc", "--root", f"{bench.work}/state-runc-rm", "run", "--bundle", bundle, bench.unique("runc")])))
    return found


CASES = [Case("run-rm", "run --rm --network none busybox /bin/true", contenders, order=20, runs=15, budget=45,
              note="podman: own root/runroot/tmpdir, cgroupfs, runc, --cgroups=no-conmon; docker: a private "
                   "dockerd (--bridge none --iptables=false); ctr: a private containerd with runc.")]
