"""Start-up benchmark: `run` of a /bin/true bundle, nsbox-runtime against runc and crun.

    sudo .venv/bin/python benchmarks/bench_runtime.py [--runs N]

Every runtime runs the same bundle (busybox rootfs, the default namespaces, a cgroup
below this process's own), keeps its state on tmpfs under /run as each does by default,
and runs interleaved with the others, in one run; the table gives medians and ratios
to nsbox-runtime. crun refuses this machine's hybrid cgroup layout unless the cgroup2
`unified` mount is hidden, so it runs inside `unshare -m` with that mount detached
(the wrapper's own cost, ~2 ms, is measured and shown separately).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VENV_BIN = os.path.dirname(sys.executable)


def make_bundle(directory: str) -> str:
    sys.path.insert(0, os.path.join(HERE, "..", "src"))
    from nsbox.busybox import make_rootfs
    from nsbox.oci.default_spec import default_spec
    make_rootfs(os.path.join(directory, "rootfs"))
    spec = default_spec(args=["/bin/true"])
    spec["process"]["terminal"] = False
    with open(os.path.join(directory, "config.json"), "w") as config:
        json.dump(spec, config)
    return directory


def set_cgroup(bundle: str, path: str) -> None:
    config_path = os.path.join(bundle, "config.json")
    with open(config_path) as config:
        spec = json.load(config)
    spec["linux"]["cgroupsPath"] = path
    with open(config_path, "w") as config:
        json.dump(spec, config)


def commands(state: str) -> dict[str, list[str] | None]:
    crun = shutil.which("crun")
    runc = shutil.which("runc")
    return {
        "nsbox-runtime": [os.path.join(VENV_BIN, "nsbox-runtime"), "--root", f"{state}/nsbox", "run"],
        "runc": [runc, "--root", f"{state}/runc", "run"] if runc else None,
        "crun (unshare -m, unified hidden)": ["unshare", "-m", "sh", "-c",
                                               f'umount /sys/fs/cgroup/unified && exec {crun} --root {state}/crun run "$0"']
        if crun else None,
        "wrapper alone (unshare -m sh -c umount)": ["unshare", "-m", "sh", "-c", "umount /sys/fs/cgroup/unified; true"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    options = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root")
    work = tempfile.mkdtemp(prefix="nsbox-bench.", dir="/run")  # state on tmpfs, as /run/runc and /run/nsbox-runtime
    try:
        bundle = make_bundle(os.path.join(work, "bundle"))
        set_cgroup(bundle, f"nsbox-bench-{os.getpid()}/c")
        available = {name: argv for name, argv in commands(work).items() if argv}
        times: dict[str, list[float]] = {name: [] for name in available}
        cpu: dict[str, list[float]] = {name: [] for name in available}
        for run in range(options.runs + 2):
            for name, argv in available.items():
                container = f"bench-{run}"
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                result = subprocess.run([*argv, container], cwd=bundle, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                elapsed = time.perf_counter() - start
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                if result.returncode != 0:
                    sys.exit(f"{name} failed: {result.stderr.decode()}")
                if run >= 2:  # the first two are warm-up
                    times[name].append(elapsed)
                    cpu[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        base = statistics.median(times["nsbox-runtime"])
        cpu_base = statistics.median(cpu["nsbox-runtime"])
        print(f"run of a /bin/true bundle, {options.runs} runs each, interleaved; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"  {'':42s} {'wall median':>11s} {'ratio':>6s} {'CPU median':>11s} {'ratio':>6s}  (ratio = x / nsbox-runtime)")
        for name, samples in times.items():
            median = statistics.median(samples)
            cpu_median = statistics.median(cpu[name])
            print(f"  {name:42s} {median * 1000:8.1f} ms {median / base:6.2f} {cpu_median * 1000:8.1f} ms "
                  f"{cpu_median / cpu_base:6.2f}")
    finally:
        subprocess.run(["find", "/sys/fs/cgroup", "-depth", "-type", "d", "-name", f"nsbox-bench-{os.getpid()}*",
                        "-exec", "rmdir", "{}/c", "{}", ";"], stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
