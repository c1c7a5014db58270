"""Case: what the default seccomp profile costs a start, with and without it, in one run.

`nsbox run --rm` with Docker's default profile (the engine's default) against
`--security-opt seccomp=unconfined`; and the OCI runtime alone: nsbox-runtime running a
ready bundle that carries that profile (compiled once, then loaded from the cache by its
digest) against the same bundle without `linux.seccomp`, with runc on the profiled bundle
as the anchor.
"""
from __future__ import annotations

import json
import os
import shutil

from benchmarks.bench import NSBOX_RUNTIME, Bench
from benchmarks.cases.runtime_lifecycle import wrapped
from benchmarks.harness import Case, Contender, quiet


def engine(bench: Bench) -> list[Contender]:
    run = [*bench.nsbox, "run", "--rm", "--network", "none"]
    return [Contender("nsbox (default seccomp)", argv=[*run, "busybox", "/bin/true"]),
            Contender("nsbox (seccomp=unconfined)", argv=[*run, "--security-opt", "seccomp=unconfined", "busybox",
                                                          "/bin/true"])]


def profiled_bundle(bench: Bench, name: str) -> str:
    from nsbox.engine import seccomp_profile
    bundle = bench.bundle(name, ["/bin/true"])
    path = os.path.join(bundle, "config.json")
    with open(path) as f:
        spec = json.load(f)
    profile = seccomp_profile.read_profile(seccomp_profile.DEFAULT_PROFILE)
    spec["linux"]["seccomp"] = seccomp_profile.to_oci(profile, spec["process"]["capabilities"]["bounding"])
    with open(path, "w") as f:
        json.dump(spec, f)
    return bundle


def runtime(bench: Bench) -> list[Contender]:
    found = []
    for tool, binary, bundle in (
            ("nsbox-runtime (default profile)", NSBOX_RUNTIME, profiled_bundle(bench, "seccomp-nsbox")),
            ("nsbox-runtime (no seccomp)", NSBOX_RUNTIME, bench.bundle("seccomp-none", ["/bin/true"])),
            ("runc (default profile)", shutil.which("runc"), profiled_bundle(bench, "seccomp-runc"))):
        if binary is None:
            continue
        state = os.path.join(bench.work, f"state-seccomp-{len(found)}")

        def step(index: int, binary: str = binary, bundle: str = bundle, state: str = state) -> None:
            quiet(wrapped([binary, "--root", state, "run", "--bundle", bundle, f"s{index}"]))

        found.append(Contender(tool, step=step))
    return found


CASES = [
    Case("seccomp-run", "run --rm busybox /bin/true with Docker's default seccomp profile and without", engine,
         order=25, baseline="nsbox (default seccomp)", runs=15, budget=10,
         note="the default profile's BPF is compiled at the first start and cached by digest"),
    Case("seccomp-runtime", "OCI runtime: a /bin/true bundle with the default profile and without", runtime,
         order=12, baseline="nsbox-runtime (default profile)", runs=15, cpu_comparable=True, budget=10,
         note="runtimes inside `unshare -m` with cgroup2's unified mount detached, as the runtime case"),
]
