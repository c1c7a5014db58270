"""Pull speed and container root filesystem cost (a benchmark, not a test).

Starts Debian's docker-registry on loopback, puts a ~50 MiB image of 5 gzip layers there
with skopeo, then times, in one run, on the same machine:
  - `nsbox pull` into an empty store (download, verify, unpack every layer),
  - `skopeo copy docker://... oci:DIR` (download and verify only; no unpacking),
  - `podman pull` where podman is installed,
  - `skopeo copy` followed by GNU tar unpacking each layer (the same work as a pull),
and prints the ratios of wall time and of CPU time (user + system of each tool's own
processes: steadier than wall time on a loaded machine; the registry's is not counted);
then the cost of prepare_rootfs/remove_rootfs for the pulled image.

    .venv/bin/python benchmarks/bench_pull.py [--runs N]
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.image import layers as L  # noqa: E402
from tests.image.conftest import Registry  # noqa: E402

NSBOX = os.path.join(os.path.dirname(sys.executable), "nsbox")
LAYERS = 5
FILES_PER_LAYER = 40
FILE_SIZE = 256 * 1024  # 5 layers x 40 files x 256 KiB = 50 MiB of incompressible data


def build_image(directory: str) -> int:
    layout = L.Layout(directory)
    layers = []
    for number in range(LAYERS):
        entries = [L.directory(f"layer{number}")]
        entries += [L.file(f"layer{number}/file{index}", os.urandom(FILE_SIZE)) for index in range(FILES_PER_LAYER)]
        layers.append(L.layer(entries))
    layout.name(layout.image(layers), "bench")
    return sum(len(data) for data in layers)


def timed(command, before=None) -> tuple[float, float]:
    """(wall, CPU) seconds that `command` (an argv, or a function running several) takes, after
    `before`; CPU is user + system time of the processes it ran (steadier than wall time on
    a loaded machine)."""
    import resource
    if before:
        before()
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    if callable(command):
        command()
    else:
        subprocess.run(command, check=True, capture_output=True, timeout=600)
    wall = time.perf_counter() - started
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime


def skopeo_then_tar(reference: str, directory: str) -> None:
    """The same work as a pull in two C/Go tools: skopeo copies, GNU tar unpacks each layer."""
    import json
    os.makedirs(directory)
    subprocess.run(["skopeo", "copy", "--quiet", "--src-tls-verify=false", f"docker://{reference}",
                    f"oci:{directory}/oci:bench"], check=True, capture_output=True, timeout=600)
    with open(f"{directory}/oci/index.json") as index:
        manifest_digest = json.load(index)["manifests"][0]["digest"]
    with open(f"{directory}/oci/blobs/sha256/{manifest_digest[7:]}") as manifest:
        layers = [layer["digest"] for layer in json.load(manifest)["layers"]]
    for number, digest in enumerate(layers):
        target = f"{directory}/layer{number}"
        os.makedirs(target)
        subprocess.run(["tar", "-xzf", f"{directory}/oci/blobs/sha256/{digest[7:]}", "-C", target], check=True)


def main() -> int:
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5
    work = tempfile.mkdtemp(prefix="nsbox-bench-pull.")
    registry = None
    try:
        size = build_image(os.path.join(work, "layout"))
        registry = Registry(os.path.join(work, "registry"), None)
        registry.skopeo_push(os.path.join(work, "layout"), "bench", "bench/image")
        reference = f"{registry.host}/bench/image:bench"
        nsbox_root = os.path.join(work, "nsbox")
        oci_dir = os.path.join(work, "oci")
        tar_dir = os.path.join(work, "tar")

        def fresh(path: str):
            return lambda: shutil.rmtree(path, ignore_errors=True)

        tools = {
            "nsbox pull": ([NSBOX, "--root", nsbox_root, "pull", reference], fresh(nsbox_root)),
            "skopeo copy (oci dir)": (["skopeo", "copy", "--quiet", "--src-tls-verify=false",
                                       f"docker://{reference}", f"oci:{oci_dir}:bench"], fresh(oci_dir)),
            "skopeo copy + tar -x": (lambda: skopeo_then_tar(reference, tar_dir), fresh(tar_dir)),
        }
        if shutil.which("podman"):
            # its own storage under the work directory: the machine's podman store is left alone
            podman_dir = os.path.join(work, "podman")

            def fresh_podman() -> None:
                if os.path.isdir(podman_dir):
                    subprocess.run(["podman", "--root", f"{podman_dir}/root", "--runroot", f"{podman_dir}/run",
                                    "system", "reset", "--force"], capture_output=True)
                shutil.rmtree(podman_dir, ignore_errors=True)

            tools["podman pull"] = (["podman", "--root", f"{podman_dir}/root", "--runroot", f"{podman_dir}/run",
                                     "pull", "--quiet", "--tls-verify=false", reference], fresh_podman)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in tools}
        for _ in range(runs):  # interleaved, so that a burst of load elsewhere hits every tool alike
            for name, (command, before) in tools.items():
                times[name].append(timed(command, before))
        print(f"pull of a {size / 2**20:.0f} MiB image ({LAYERS} gzip layers) from docker-registry on loopback, "
              f"median of {runs} runs (CPU: user + system time of the tool's processes, not the registry's):")
        walls = {name: statistics.median(wall for wall, _ in values) for name, values in times.items()}
        cpus = {name: statistics.median(cpu for _, cpu in values) for name, values in times.items()}
        baseline = "skopeo copy (oci dir)"
        for name in times:
            print(f"  {name:<24} {walls[name] * 1000:7.0f} ms  {size / 2**20 / walls[name]:6.0f} MiB/s  "
                  f"{walls[name] / walls[baseline]:5.2f}x skopeo's time   "
                  f"CPU {cpus[name] * 1000:5.0f} ms {cpus[name] / cpus[baseline]:5.2f}x skopeo's")

        # nsbox's store still holds the image from its last run
        from nsbox.image.rootfs import prepare_rootfs, remove_rootfs
        costs = []
        for index in range(50):
            started = time.perf_counter()
            prepare_rootfs(nsbox_root, reference, f"bench{index}")
            costs.append(time.perf_counter() - started)
            remove_rootfs(nsbox_root, f"bench{index}")
        print(f"prepare_rootfs (overlayfs over {LAYERS} layers, nothing copied): median "
              f"{statistics.median(costs) * 1000:.2f} ms, first {costs[0] * 1000:.2f} ms (in one process, 50 runs)")
        code = ("import time; t=time.perf_counter(); from nsbox.image.rootfs import prepare_rootfs, remove_rootfs; "
                f"m=time.perf_counter(); prepare_rootfs({nsbox_root!r}, {reference!r}, 'cold'); "
                "e=time.perf_counter(); remove_rootfs(" + repr(nsbox_root) + ", 'cold'); "
                "print(f'{(m-t)*1000:.2f} {(e-m)*1000:.2f}')")
        cold = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
        print(f"prepare_rootfs in a fresh process: import {cold[0]} ms + prepare {cold[1]} ms")
    finally:
        if registry is not None:
            registry.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
