"""cgroup commands benchmark: `events --stats`, `update`, `pause`+`resume` of a running
container, nsbox-runtime against runc, interleaved in one run; plus the in-process cost of
Cgroup.stats() (what `nsbox stats` pays per container per second).

    sudo .venv/bin/python benchmarks/bench_cgroups.py [--runs N]

Both runtimes run the same busybox bundle (`sleep`) in a cgroup below this process's own.
The table gives medians and each runtime's ratio to nsbox-runtime.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VENV_BIN = os.path.dirname(sys.executable)


def make_bundle(directory: str, cgroups_path: str) -> str:
    from nsbox.busybox import make_rootfs
    from nsbox.oci.default_spec import default_spec
    make_rootfs(os.path.join(directory, "rootfs"))
    spec = default_spec(args=["sleep", "1000"])
    spec["process"]["terminal"] = False
    spec["linux"]["cgroupsPath"] = cgroups_path
    spec["linux"]["resources"] = {"memory": {"limit": 256 << 20}, "pids": {"limit": 100}}
    with open(os.path.join(directory, "config.json"), "w") as config:
        json.dump(spec, config)
    return directory


def runtimes(state: str) -> dict[str, list[str]]:
    found = {"nsbox-runtime": [os.path.join(VENV_BIN, "nsbox-runtime"), "--root", f"{state}/nsbox"]}
    if shutil.which("runc"):
        found["runc"] = [shutil.which("runc"), "--root", f"{state}/runc"]  # type: ignore[list-item]
    return found


OPERATIONS = {
    "events --stats": lambda cid, n: [["events", "--stats", cid]],
    "update --pids-limit": lambda cid, n: [["update", "--pids-limit", str(200 + n), cid]],
    "pause + resume": lambda cid, n: [["pause", cid], ["resume", cid]],
}


def quiet(argv: list[str], **kwargs) -> None:
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, **kwargs)


def main() -> int:
    sys.path.insert(0, os.path.join(HERE, "..", "src"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    options = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root")
    work = tempfile.mkdtemp(prefix="nsbox-bench.")
    available = runtimes(work)
    started = []
    try:
        for name, argv in available.items():
            bundle = make_bundle(os.path.join(work, f"bundle-{len(started)}"), f"nsbox-bench-{os.getpid()}/{len(started)}")
            quiet([*argv, "run", "--detach", "--bundle", bundle, f"bench{len(started)}"], stderr=subprocess.DEVNULL)
            started.append((name, argv, f"bench{len(started)}"))
        times: dict[tuple[str, str], list[float]] = {}
        for run in range(options.runs + 2):
            for operation, steps in OPERATIONS.items():
                for name, argv, container in started:
                    start = time.perf_counter()
                    for step in steps(container, run):
                        quiet([*argv, *step])
                    if run >= 2:  # the first two warm the caches
                        times.setdefault((operation, name), []).append(time.perf_counter() - start)
        print(f"{'operation':24} {'runtime':16} {'median ms':>10} {'ratio':>7}")
        for operation in OPERATIONS:
            base = statistics.median(times[(operation, "nsbox-runtime")])
            for name, _, _ in started:
                median = statistics.median(times[(operation, name)])
                print(f"{operation:24} {name:16} {median * 1000:10.2f} {median / base:7.2f}")
        from nsbox.cgroups import open_cgroup
        cgroup = open_cgroup(f"nsbox-bench-{os.getpid()}/0", "bench0")
        start = time.perf_counter()
        for _ in range(1000):
            cgroup.stats()
        print(f"Cgroup.stats() in process: {(time.perf_counter() - start):.3f} ms per call "
              f"({cgroup.mode} host)")
    finally:
        for _, argv, container in started:
            subprocess.run([*argv, "delete", "--force", container], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
        from nsbox.cgroups import open_cgroup
        open_cgroup(f"nsbox-bench-{os.getpid()}", "parent").remove()  # the parent the runtimes made
    return 0


if __name__ == "__main__":
    sys.exit(main())
