"""Case: containerd's runc shim driving nsbox-runtime vs runc (`ctr run --rm --runc-binary`):
the whole Kubernetes-side path of one short container (shim, create, start, wait, delete)
with only the OCI runtime binary swapped."""
from __future__ import annotations

from benchmarks.bench import NSBOX_RUNTIME, Bench
from benchmarks.harness import Case, Contender, quiet


def contenders(bench: Bench) -> list[Contender]:
    ctr = bench.ctr  # raises Skip where containerd is missing: the case is skipped
    found = []
    for tool, binary in (("ctr + nsbox-runtime", NSBOX_RUNTIME), ("ctr + runc", "runc")):
        def run(index: int, binary: str = binary) -> None:
            name = bench.unique("ctrrt")
            quiet([*ctr, "run", "--rm", "--runc-binary", binary, "--runc-root", f"{bench.work}/state-{name}",
                   "--cgroup", f"{bench.parent}/ctr/{name}", "docker.io/library/busybox:bench", name, "/bin/true"])
        found.append(Contender(tool, step=run))
    return found


CASES = [Case("ctr-runtime", "ctr run --rm busybox /bin/true: containerd with nsbox-runtime or runc", contenders,
              order=25, baseline="ctr + nsbox-runtime", runs=10, budget=10,
              note="a private containerd; the same shim and image, only --runc-binary differs.")]
